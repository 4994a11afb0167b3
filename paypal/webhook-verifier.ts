// Is this webhook delivery really from PayPal? The common shape of the offline check (signature over
// the CRC32 signed string, certificate fetched and checked) and of PayPal's online endpoint.
import { verify as verifySignature } from 'node:crypto';
import { CertRefusedError, type CertFetcher } from './cert-fetcher';
import type { CertTrust } from './cert-trust';
import { readTransmission, signedString } from './webhook-transmission';

export type WebhookVerdict = { ok: true } | { ok: false; reason: string };

export interface WebhookDelivery {
  headers: Record<string, string | undefined>;
  raw: Buffer;
}

export interface WebhookVerifier {
  /** A verdict, or PayPalUnavailableError when the answer cannot be had now (PayPal will resend). */
  verify(delivery: WebhookDelivery): Promise<WebhookVerdict>;
}

export function createOfflineWebhookVerifier(options: {
  webhookId: string;
  trust: CertTrust;
  certs: CertFetcher;
  /** The certificates' validity is judged at this time; tests pin it inside an old certificate's life. */
  clock?: () => Date;
}): WebhookVerifier {
  const clock = options.clock ?? (() => new Date());
  return {
    async verify({ headers, raw }) {
      const transmission = readTransmission(headers);
      if ('missing' in transmission) return { ok: false, reason: `missing header(s) ${transmission.missing.join(', ')}` };
      if (transmission.authAlgo.toUpperCase() !== 'SHA256WITHRSA') {
        return { ok: false, reason: `PAYPAL-AUTH-ALGO ${transmission.authAlgo} is not SHA256withRSA` };
      }
      let pem: string;
      try {
        pem = await options.certs.get(transmission.certUrl);
      } catch (error) {
        if (error instanceof CertRefusedError) return { ok: false, reason: error.message };
        throw error;
      }
      const trusted = options.trust.check(pem, clock());
      if (!trusted.ok) return trusted;
      const signature = Buffer.from(transmission.signature, 'base64');
      const message = Buffer.from(signedString(transmission, options.webhookId, raw), 'utf8');
      const valid = verifySignature('sha256', message, trusted.leaf.publicKey, signature);
      return valid ? { ok: true } : { ok: false, reason: 'signature does not match the body, the webhook id and the transmission headers' };
    },
  };
}
