// The PAYPAL-* headers of a webhook delivery and the string PayPal signs:
// <transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body, unsigned decimal>.
import { crc32 } from 'node:zlib';

export interface Transmission {
  id: string;
  time: string;
  signature: string;
  certUrl: string;
  authAlgo: string;
}

/** Header names are matched case-insensitively (the samples have both spellings). */
export function readTransmission(headers: Record<string, string | undefined>): Transmission | { missing: string[] } {
  const lower: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  const wanted = {
    id: 'paypal-transmission-id',
    time: 'paypal-transmission-time',
    signature: 'paypal-transmission-sig',
    certUrl: 'paypal-cert-url',
    authAlgo: 'paypal-auth-algo',
  } as const;
  const missing = Object.values(wanted).filter((name) => !lower[name]);
  if (missing.length > 0) return { missing };
  return {
    id: lower[wanted.id] ?? '',
    time: lower[wanted.time] ?? '',
    signature: lower[wanted.signature] ?? '',
    certUrl: lower[wanted.certUrl] ?? '',
    authAlgo: lower[wanted.authAlgo] ?? '',
  };
}

export function bodyCrc32(raw: Uint8Array): number {
  // zlib's crc32 is the same CRC-32 (IEEE) PayPal uses, returned unsigned.
  return crc32(raw) >>> 0;
}

export function signedString(transmission: Pick<Transmission, 'id' | 'time'>, webhookId: string, raw: Uint8Array): string {
  return `${transmission.id}|${transmission.time}|${webhookId}|${bodyCrc32(raw)}`;
}
