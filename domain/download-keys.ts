// Download keys: how a key is made, what it is looked up by, and whether it may download now.
// The worker derives keys when it e-mails them, the api derives them again for the thank-you page
// and judges them on every download; both import this. Not workflow code: it uses node:crypto.
//
// A key is HMAC-SHA256(KEY_SECRET, salt of the invoice's generation, file, generation), 256 bits,
// base64url. Postgres keeps the salt and each key's SHA-256, never a key.
import { createHash, createHmac } from 'node:crypto';
import { invoiceStanding } from './invoice-status';

/**
 * Every keyed link of an invoice's generation (a download, an access link, a ticket, the signed
 * checksums) is derived here, each under a label of its own, so a key of one kind never opens another.
 */
export type LinkLabel = 'download key' | 'access link' | 'event ticket' | 'checksums link';

export function deriveLinkKey(label: LinkLabel, secret: Buffer, salt: Buffer, id: number, generation: number): string {
  return createHmac('sha256', secret).update(`keyship ${label} v1\0${salt.toString('hex')}\0${id}\0${generation}`).digest('base64url');
}

export function deriveKey(secret: Buffer, salt: Buffer, packageFileId: number, generation: number): string {
  return deriveLinkKey('download key', secret, salt, packageFileId, generation);
}

/** The expiry reminder's single-use "more time" link, derived from the reminder's own e-mail key (a retry derives the same link). */
export function moreTimeToken(secret: Buffer, reminderKey: string): string {
  return createHmac('sha256', secret).update(`keyship more-time link v1\0${reminderKey}`).digest('base64url');
}

/** What a key is stored and looked up by. */
export function keyHash(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** What a key looks like (base64url of 32 bytes is 43 characters); anything else is not looked up. */
export const keyShape = /^[A-Za-z0-9_-]{16,128}$/;

/** Why a key may not download: its invoice's standing (withdrawn is 'revoked', like a revoked row) or its own expiry and limit. */
export type KeyProblem = 'expired' | 'exhausted' | 'revoked' | 'suspended' | 'unpaid';

/** What judging a key needs: its row's rules and its invoice's status. */
export interface KeyFacts {
  invoice_status: string;
  expired: boolean;
  revoked_at: Date | null;
  download_limit: number | null;
  bytes_charged: number;
  size_bytes: number;
}

/** The unit a download is counted in: the file's size (an empty file counts requests). */
export function downloadUnit(key: Pick<KeyFacts, 'size_bytes'>): number {
  return Math.max(key.size_bytes, 1);
}

/** Bytes a key may be short-changed by broken connections without losing a download. */
export function lossAllowance(key: Pick<KeyFacts, 'size_bytes'>): number {
  return Math.min(Math.floor(key.size_bytes / 2), 16 * 1024 * 1024);
}

/** Nothing left at all: not even a resume is served. */
export function isExhausted(key: Pick<KeyFacts, 'download_limit' | 'bytes_charged' | 'size_bytes'>): boolean {
  return key.download_limit !== null && key.bytes_charged >= key.download_limit * downloadUnit(key) + lossAllowance(key);
}

/** Why this key may not download now, or undefined when it may. Revoked wins over everything. */
export function keyProblem(key: KeyFacts): KeyProblem | undefined {
  const { standing } = invoiceStanding(key.invoice_status);
  if (key.revoked_at !== null || standing === 'withdrawn') return 'revoked';
  if (standing === 'suspended') return 'suspended';
  if (standing === 'unpaid') return 'unpaid';
  if (key.expired) return 'expired';
  if (isExhausted(key)) return 'exhausted';
  return undefined;
}
