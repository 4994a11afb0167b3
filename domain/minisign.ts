// minisign's key and signature files (https://jedisct1.github.io/minisign/), written with
// node:crypto's Ed25519: no well-kept npm package writes minisign signatures, and the format is
// three fixed byte layouts. Keyship reads an unencrypted secret key (`minisign -G -W`) and writes
// prehashed ("ED") signatures, which every minisign since 0.8 and rsign2 verify:
//
//   secret key  "Ed" | kdf "\0\0" (none) | "B2" | salt 32 | opslimit 8 | memlimit 8
//               | key id 8 | seed 32 | public key 32 | checksum 32          (158 bytes, base64)
//   public key  "Ed" | key id 8 | public key 32                             (42 bytes, base64)
//   signature   "ED" | key id 8 | Ed25519(BLAKE2b-512(file))               (74 bytes, base64)
//               then the trusted comment, and Ed25519(signature || trusted comment) over both.
//
// Each file is an "untrusted comment:" line and a base64 line (a signature adds a second pair).
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';

const secretKeyBytes = 158;
const keyIdAt = 54;
const seedAt = keyIdAt + 8;
const publicKeyAt = seedAt + 32;
/** PKCS#8 for an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

export class MinisignFormatError extends Error {
  override name = 'MinisignFormatError';
}

/** A minisign key pair Keyship signs with. */
export interface MinisignKey {
  /** The 8 bytes that tie a signature to its key. */
  keyId: Buffer;
  /** The key id as minisign prints it (hex of the little-endian number, upper case): the key's fingerprint. */
  keyIdText: string;
  /** The public key's base64 line: what `minisign -V -P` takes. */
  publicKey: string;
  /** The public key file (`minisign.pub`), as `minisign -G` writes it: what `minisign -V -p` takes. */
  publicKeyFile: string;
  /** A `.minisig` file for `data`; the trusted comment is signed too and printed by `minisign -V`. */
  sign(data: Buffer | string, trustedComment: string, untrustedComment?: string): string;
}

function keyIdText(keyId: Buffer): string {
  return keyId.readBigUInt64LE().toString(16).toUpperCase();
}

function oneLine(comment: string, what: string): string {
  if (/[\r\n]/.test(comment)) throw new MinisignFormatError(`a minisign ${what} comment must be one line`);
  return comment;
}

function keyFrom(keyId: Buffer, privateKey: KeyObject, publicKey: Buffer): MinisignKey {
  const publicLine = Buffer.concat([Buffer.from('Ed'), keyId, publicKey]).toString('base64');
  const id = keyIdText(keyId);
  return {
    keyId,
    keyIdText: id,
    publicKey: publicLine,
    publicKeyFile: `untrusted comment: minisign public key ${id}\n${publicLine}\n`,
    sign(data, trustedComment, untrustedComment = `signature from minisign secret key ${id}`) {
      const prehashed = createHash('blake2b512').update(data).digest();
      const signature = sign(null, prehashed, privateKey);
      const globalSignature = sign(null, Buffer.concat([signature, Buffer.from(oneLine(trustedComment, 'trusted'), 'utf8')]), privateKey);
      return [
        `untrusted comment: ${oneLine(untrustedComment, 'untrusted')}`,
        Buffer.concat([Buffer.from('ED'), keyId, signature]).toString('base64'),
        `trusted comment: ${trustedComment}`,
        globalSignature.toString('base64'),
        '',
      ].join('\n');
    },
  };
}

function privateKeyOf(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  return Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
}

/** Reads a secret key file; throws MinisignFormatError saying what is wrong with it. */
export function parseSecretKey(text: string): MinisignKey {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (!lines[0]?.startsWith('untrusted comment:')) throw new MinisignFormatError('its first line is not "untrusted comment: ..."');
  const line = lines[1] ?? '';
  const bytes = Buffer.from(line, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(line) || bytes.length !== secretKeyBytes) {
    throw new MinisignFormatError(`its second line is not the base64 of a ${secretKeyBytes}-byte minisign secret key`);
  }
  if (bytes.toString('latin1', 0, 2) !== 'Ed') throw new MinisignFormatError('it is not an Ed25519 minisign key');
  const kdf = bytes.toString('latin1', 2, 4);
  if (kdf === 'Sc') throw new MinisignFormatError('it is password-protected');
  if (kdf !== '\0\0') throw new MinisignFormatError('its key derivation is one minisign does not write');
  const keyId = Buffer.from(bytes.subarray(keyIdAt, keyIdAt + 8));
  const seed = bytes.subarray(seedAt, seedAt + 32);
  const publicKey = Buffer.from(bytes.subarray(publicKeyAt, publicKeyAt + 32));
  const privateKey = privateKeyOf(seed);
  // The stored public half must be the seed's: a damaged file would otherwise sign what nobody can verify.
  if (!rawPublicKey(privateKey).equals(publicKey)) throw new MinisignFormatError('its public half does not match its secret half (the file is damaged)');
  return keyFrom(keyId, privateKey, publicKey);
}

/** A new unencrypted secret key file, as `minisign -G -W` writes it (its checksum left zero, as minisign does without a password). */
export function generateSecretKeyFile(): string {
  const seed = randomBytes(32);
  const keyId = randomBytes(8);
  const publicKey = rawPublicKey(privateKeyOf(seed));
  const bytes = Buffer.alloc(secretKeyBytes);
  bytes.write('Ed', 0, 'latin1');
  bytes.write('B2', 4, 'latin1');
  keyId.copy(bytes, keyIdAt);
  seed.copy(bytes, seedAt);
  publicKey.copy(bytes, publicKeyAt);
  return `untrusted comment: minisign encrypted secret key\n${bytes.toString('base64')}\n`;
}
