// License keys: how a key is made, how it is read back from what a person typed, and what it is
// stored and looked up by. The worker makes keys when it e-mails them, the api makes them again
// when an operator reissues one and reads them when a program asks /api/licenses/verify; both
// import this. Not workflow code: it uses node:crypto.
//
// Two formats, chosen per package:
//
//  random  `KS-XXXXX-XXXXX-XXXXX-XXXXX`: 19 Crockford base32 characters (95 bits) and a check
//          character, checked online. The bits are an HMAC of KEY_SECRET over the key's row
//          (invoice, package, unit, serial), not random bytes: like download keys, the worker can
//          derive the same key again for a resend, and Postgres keeps only the key's SHA-256. A
//          plain SHA-256 is enough for the lookup (no HMAC needed) because the key itself holds 95
//          secret bits: a copy of the table cannot be searched back to keys.
//  signed  `KSL1.<payload>.<signature>` (base64url): the payload is compact JSON naming the buyer,
//          the package, the version and the expiry; the signature is Ed25519 with the package's
//          own key, so a program checks it offline with the package's public key. The private key
//          is never stored: its seed is HKDF(KEY_SECRET, label + package id). Ed25519 signs
//          deterministically, so the same payload gives the same key again.
import { createHash, createHmac, createPrivateKey, createPublicKey, hkdfSync, sign, type KeyObject } from 'node:crypto';
import { licenseStanding } from './invoice-status';

export const licenseFormats = ['random', 'signed'] as const;
export type LicenseFormat = (typeof licenseFormats)[number];

// Crockford's base32: no I, L, O or U, so a key read aloud or typed from paper is not misread.
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const dataChars = 19;
const randomPrefix = 'KS';
const signedPrefix = 'KSL1';

/**
 * The check character: Luhn mod 32 over the data characters. Hand-written (a dozen lines) because
 * Crockford's own check symbols (* ~ $ = U) are awkward in a key; Luhn mod N keeps the check inside
 * the alphabet and catches every single mistyped character and every swap of two neighbours.
 */
export function checkCharacter(data: string): string {
  let sum = 0;
  let factor = 2;
  for (let i = data.length - 1; i >= 0; i--) {
    const value = alphabet.indexOf(data[i]!);
    if (value < 0) throw new Error(`"${data[i]}" is not a Crockford base32 character`);
    const addend = factor * value;
    sum += Math.floor(addend / 32) + (addend % 32);
    factor = factor === 2 ? 1 : 2;
  }
  return alphabet[(32 - (sum % 32)) % 32]!;
}

/** 95 bits as 19 base32 characters, the check character appended, in groups of five behind `KS-`. */
function formatRandomKey(bits: Buffer): string {
  let value = 0n;
  for (const byte of bits.subarray(0, 12)) value = (value << 8n) | BigInt(byte);
  value >>= 1n; // 96 bits read, 95 kept
  let data = '';
  for (let i = 0; i < dataChars; i++) {
    data = alphabet[Number(value & 31n)]! + data;
    value >>= 5n;
  }
  const body = data + checkCharacter(data);
  return `${randomPrefix}-${body.match(/.{5}/g)!.join('-')}`;
}

/** Where a license key sits among an invoice's: the row it belongs to. */
export interface LicenseKeyRef {
  invoiceId: number;
  packageId: number;
  unit: number;
  serial: number;
}

export function deriveRandomKey(secret: Buffer, ref: LicenseKeyRef): string {
  const bits = createHmac('sha256', secret).update(`keyship license key v1\0${ref.invoiceId}\0${ref.packageId}\0${ref.unit}\0${ref.serial}`).digest();
  return formatRandomKey(bits);
}

/** What a signed key says: short names keep the key short enough to paste. */
export interface LicensePayload {
  /** The key's id (invoice number, unit, serial): two units of one purchase get different keys. */
  id: string;
  /** The buyer's e-mail address. */
  b: string;
  /** The package's item number. */
  p: string;
  /** The version the license is for, as the seller wrote it ("2", "2.x"). */
  v: string;
  /** ISO 8601 expiry, or null for a perpetual license. */
  e: string | null;
}

/** The package's Ed25519 seed: derived, never stored, so KEY_SECRET is all there is to configure and back up. */
function signingSeed(secret: Buffer, packageId: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `keyship license signing key v1\0${packageId}`, 32));
}

// PKCS#8 for an Ed25519 private key is this fixed prefix and the 32-byte seed (RFC 8410).
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

export function signingKey(secret: Buffer, packageId: number): KeyObject {
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, signingSeed(secret, packageId)]), format: 'der', type: 'pkcs8' });
}

/** The package's public key as a program embeds it: PEM (SPKI) and the raw 32 bytes in base64. */
export function licensePublicKey(secret: Buffer, packageId: number): { pem: string; raw: string } {
  const publicKey = createPublicKey(signingKey(secret, packageId));
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return { pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(), raw: spki.subarray(spki.length - 32).toString('base64') };
}

/** The payload as it is signed and stored: compact JSON, keys in a fixed order. */
export function payloadText(payload: LicensePayload): string {
  return JSON.stringify({ id: payload.id, b: payload.b, p: payload.p, v: payload.v, e: payload.e });
}

/** A signed key for a stored payload text (the same text always gives the same key). */
export function signKey(secret: Buffer, packageId: number, text: string): string {
  const data = Buffer.from(text, 'utf8');
  const signature = sign(null, data, signingKey(secret, packageId));
  return `${signedPrefix}.${data.toString('base64url')}.${signature.toString('base64url')}`;
}

/** What a key is stored and looked up by: the SHA-256 of its canonical form. */
export function licenseKeyHash(canonical: string): Buffer {
  return createHash('sha256').update(canonical, 'utf8').digest();
}

/** The end of a key an operator sees next to the mask: its last group (random) or signature characters (signed). */
export function keyTail(key: string): string {
  return key.startsWith(`${signedPrefix}.`) ? key.slice(-6) : key.slice(-5);
}

/** A key with all but its tail hidden, for the admin's lists. */
export function maskedKey(format: LicenseFormat, tail: string): string {
  return format === 'signed' ? `${signedPrefix}.…${tail}` : `${randomPrefix}-•••••-•••••-•••••-${tail}`;
}

export type ParsedKey = { ok: true; format: LicenseFormat; canonical: string; payload?: LicensePayload } | { ok: false; problem: string };

const signedShape = /^KSL1\.([A-Za-z0-9_-]{16,1400})\.([A-Za-z0-9_-]{86})$/;

/**
 * Reads a key as a person or a program sent it. Random keys forgive what people do when typing:
 * lower case, spaces or no dashes, O for 0 and I or L for 1; the check character then catches a
 * mistyped character before any lookup. Signed keys are taken as they are. Says, in a sentence,
 * why a key is malformed; never looks anything up (so it cannot tell which keys exist).
 */
export function parseLicenseKey(input: string): ParsedKey {
  const text = input.trim();
  if (text.startsWith(`${signedPrefix}.`)) {
    const match = signedShape.exec(text);
    if (!match) return { ok: false, problem: 'This signed license key is cut short or has characters that do not belong; paste it again in full, as it was e-mailed.' };
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, problem: 'This signed license key is damaged (its payload cannot be read); paste it again in full, as it was e-mailed.' };
    }
    const p = payload as Partial<LicensePayload> | null;
    if (!p || typeof p.id !== 'string' || typeof p.b !== 'string' || typeof p.p !== 'string' || typeof p.v !== 'string' || (p.e !== null && typeof p.e !== 'string')) {
      return { ok: false, problem: 'This signed license key is damaged (its payload lacks the buyer, package, version or expiry); paste it again in full, as it was e-mailed.' };
    }
    return { ok: true, format: 'signed', canonical: text, payload: p as LicensePayload };
  }
  let body = text.toUpperCase().replace(/[\s-]/g, '');
  if (body.length === dataChars + 1 + randomPrefix.length && body.startsWith(randomPrefix)) body = body.slice(randomPrefix.length);
  body = body.replace(/O/g, '0').replace(/[IL]/g, '1');
  if (body.length !== dataChars + 1 || ![...body].every((c) => alphabet.includes(c))) {
    return { ok: false, problem: 'This is not a license key: a key looks like KS-XXXXX-XXXXX-XXXXX-XXXXX (20 letters and digits after KS-); check it and send it again.' };
  }
  if (checkCharacter(body.slice(0, dataChars)) !== body[dataChars]) {
    return { ok: false, problem: 'This license key has a typing mistake (its check character does not match); compare it with the e-mail character by character.' };
  }
  return { ok: true, format: 'random', canonical: `${randomPrefix}-${body.match(/.{5}/g)!.join('-')}` };
}

export type LicenseStatus = 'valid' | 'revoked' | 'expired';

/**
 * Whether a key holds now, judged on every check from its row and its invoice's standing (with the
 * licenses' exception: a dispute alone changes nothing), so a refund takes effect at once (even
 * before the worker marks the rows). Revoked wins over expired; an invoice not paid (yet) answers
 * revoked too. The download links' own expiry (keys_expired) is not the license's.
 */
export function licenseStatus(key: { revoked_at: Date | null; expires_at: Date | null; invoice_status: string }, now = new Date()): LicenseStatus {
  if (key.revoked_at !== null || licenseStanding(key.invoice_status).standing !== 'live') return 'revoked';
  if (key.expires_at !== null && key.expires_at.getTime() <= now.getTime()) return 'expired';
  return 'valid';
}
