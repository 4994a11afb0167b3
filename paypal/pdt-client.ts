// PDT: the buyer's return URL carries `tx`; POST `cmd=_notify-synch&tx=...&at=<identity token>`
// and read `SUCCESS` or `FAIL` on the first line, then `key=value` lines (form-escaped, in the
// charset the `charset` line names). The answer is the payment's status at that moment only.
import { decodePairs, splitForm, type IpnForm } from './ipn-form';
import { PayPalUnavailableError } from './unavailable-error';
import { keyshipUserAgent } from './user-agent';

export type PdtAnswer =
  | { status: 'SUCCESS'; raw: Buffer; form: IpnForm }
  | { status: 'FAIL'; raw: Buffer; reason: string };

export interface PdtClient {
  synch(tx: string): Promise<PdtAnswer>;
}

export interface PdtClientOptions {
  /** The webscr endpoint (www.paypal.com, www.sandbox.paypal.com, or the simulator). */
  url: string;
  identityToken: string;
  timeoutMs?: number;
}

export function parsePdtAnswer(raw: Buffer): PdtAnswer {
  const newline = raw.indexOf(0x0a);
  const first = (newline < 0 ? raw : raw.subarray(0, newline)).toString('latin1').trim();
  const rest = newline < 0 ? Buffer.alloc(0) : raw.subarray(newline + 1);
  if (first !== 'SUCCESS') {
    return { status: 'FAIL', raw, reason: first === 'FAIL' ? rest.toString('latin1').trim() || 'FAIL' : `unexpected answer "${first.slice(0, 40)}"` };
  }
  // The lines are key=value pairs like a form body, so the form codec reads them once rejoined.
  const lines = rest
    .toString('latin1')
    .split(/\r?\n/)
    .filter((line) => line.length > 0);
  return { status: 'SUCCESS', raw, form: decodePairs(splitForm(Buffer.from(lines.join('&'), 'latin1'))) };
}

export function createPdtClient(options: PdtClientOptions): PdtClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async synch(tx) {
      const body = new URLSearchParams({ cmd: '_notify-synch', tx, at: options.identityToken }).toString();
      let response: Response;
      let raw: Buffer;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': keyshipUserAgent },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        raw = Buffer.from(await response.arrayBuffer());
      } catch (error) {
        throw new PayPalUnavailableError(`PayPal's PDT endpoint at ${options.url} could not be reached (${(error as Error).message}); try again shortly.`);
      }
      if (response.status !== 200) {
        throw new PayPalUnavailableError(`PayPal's PDT endpoint at ${options.url} answered HTTP ${response.status}; try again shortly.`);
      }
      return parsePdtAnswer(raw);
    },
  };
}
