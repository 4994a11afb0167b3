// IPN verification: post `cmd=_notify-validate&` and the body exactly as received back to PayPal;
// the answer is one word. The endpoint comes from configuration, never from the message.
import { PayPalUnavailableError } from './unavailable-error';
import { keyshipUserAgent } from './user-agent';

export type IpnVerdict = 'VERIFIED' | 'INVALID';

export interface IpnVerifier {
  verify(raw: Buffer): Promise<IpnVerdict>;
}

export interface IpnVerifierOptions {
  url: string;
  /** PayPal closes the connection after ~30 s; answer 503 well before our own caller gives up. */
  timeoutMs?: number;
  userAgent?: string;
}

export function postbackBody(raw: Buffer): Buffer {
  return Buffer.concat([Buffer.from('cmd=_notify-validate&', 'latin1'), raw]);
}

export function createIpnVerifier(options: IpnVerifierOptions): IpnVerifier {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async verify(raw) {
      let response: Response;
      let text: string;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'user-agent': options.userAgent ?? keyshipUserAgent,
          },
          body: postbackBody(raw),
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = (await response.text()).trim();
      } catch (error) {
        throw new PayPalUnavailableError(`PayPal's IPN verifier at ${options.url} could not be reached (${(error as Error).message}); PayPal will resend.`);
      }
      if (response.status !== 200) {
        throw new PayPalUnavailableError(`PayPal's IPN verifier at ${options.url} answered HTTP ${response.status}; PayPal will resend.`);
      }
      if (text === 'VERIFIED' || text === 'INVALID') return text;
      throw new PayPalUnavailableError(`PayPal's IPN verifier at ${options.url} answered "${text.slice(0, 80)}" instead of VERIFIED or INVALID; PayPal will resend.`);
    },
  };
}
