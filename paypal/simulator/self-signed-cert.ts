// The simulator's own webhook signing certificate: an RSA key and a self-signed X.509 certificate,
// made at start (Node can sign but not build certificates, hence the few lines of DER below).
import { generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { simulatorSubject } from '../cert-trust';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);

function oid(text: string): Buffer {
  const [a = 0, b = 0, ...rest] = text.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const part of rest) {
    const chunk: number[] = [];
    for (let v = part; ; v = Math.floor(v / 128)) {
      chunk.unshift((v & 0x7f) | (chunk.length ? 0x80 : 0));
      if (v < 128) break;
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const printable = (text: string) => tlv(0x13, Buffer.from(text, 'ascii'));
const generalizedTime = (date: Date) => tlv(0x18, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`, 'ascii'));

function name(): Buffer {
  const attr = (id: string, value: Buffer) => set(sequence(oid(id), value));
  return sequence(attr('2.5.4.6', printable('US')), attr('2.5.4.10', utf8('Keyship PayPal simulator')), attr('2.5.4.3', utf8(simulatorSubject)));
}

export interface SigningIdentity {
  privateKey: KeyObject;
  certificatePem: string;
}

export function createSigningIdentity(options: { now?: Date; validDays?: number } = {}): SigningIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = options.now ?? new Date();
  // Valid from a day back, so clocks a little apart still agree.
  const from = new Date(now.getTime() - 86400_000);
  const to = new Date(now.getTime() + (options.validDays ?? 3650) * 86400_000);
  const serial = randomBytes(16);
  // Positive (top bit clear) and minimal (first byte not zero): DER refuses a padded INTEGER.
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  const sha256WithRsa = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    sha256WithRsa,
    name(),
    sequence(generalizedTime(from), generalizedTime(to)),
    name(),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, sha256WithRsa, tlv(0x03, Buffer.from([0]), signature));
  const certificatePem = new X509Certificate(der).toString();
  return { privateKey, certificatePem };
}
