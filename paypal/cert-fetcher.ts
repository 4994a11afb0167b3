// Fetches webhook signing certificates from URLs the trust policy allows, and caches them: PayPal
// signs every delivery with the same few certificates.
import { PayPalUnavailableError } from './unavailable-error';
import { keyshipUserAgent } from './user-agent';

export class CertRefusedError extends Error {
  override name = 'CertRefusedError';
}

export interface CertFetcher {
  /** The PEM text at `url`; CertRefusedError when it must not or cannot be used, PayPalUnavailableError to retry later. */
  get(url: string): Promise<string>;
}

export function createCertFetcher(options: {
  refuseUrl: (url: string) => string | undefined;
  ttlMs?: number;
  maxEntries?: number;
  timeoutMs?: number;
}): CertFetcher {
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const maxEntries = options.maxEntries ?? 32;
  const cache = new Map<string, { pem: Promise<string>; fetchedAt: number }>();

  async function download(url: string): Promise<string> {
    let response: Response;
    let text: string;
    try {
      // No redirects: a redirect could leave paypal.com.
      response = await fetch(url, { headers: { 'user-agent': keyshipUserAgent }, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
      text = await response.text();
    } catch (error) {
      throw new PayPalUnavailableError(`The webhook certificate at ${url} could not be fetched (${(error as Error).message}); PayPal will resend.`);
    }
    if (response.status >= 500) throw new PayPalUnavailableError(`The webhook certificate at ${url} answered HTTP ${response.status}; PayPal will resend.`);
    if (response.status !== 200) throw new CertRefusedError(`certificate URL ${url} answered HTTP ${response.status}`);
    if (text.length > 64 * 1024) throw new CertRefusedError(`certificate at ${url} is larger than 64 KiB`);
    return text;
  }

  return {
    get(url) {
      const refused = options.refuseUrl(url);
      if (refused) return Promise.reject(new CertRefusedError(refused));
      const hit = cache.get(url);
      if (hit && Date.now() - hit.fetchedAt < ttlMs) return hit.pem;
      const pem = download(url);
      cache.set(url, { pem, fetchedAt: Date.now() });
      // A failed fetch is not cached: the next delivery tries again.
      pem.catch(() => cache.delete(url));
      if (cache.size > maxEntries) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      return pem;
    },
  };
}
