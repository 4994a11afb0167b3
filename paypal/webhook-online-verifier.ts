// PayPal's online alternative: POST /v1/notifications/verify-webhook-signature through the
// process's REST client (its cached OAuth token). The event goes in as the raw bytes received,
// spliced into the JSON, because PayPal checks the signature over its own serialisation of what we
// send and a re-serialised copy can differ.
import { readTransmission } from './webhook-transmission';
import { PayPalApiError, PayPalTokenRefusedError, type PayPalRestClient } from './rest/client';
import { PayPalUnavailableError } from './unavailable-error';
import type { WebhookVerifier } from './webhook-verifier';

const verifyPath = '/v1/notifications/verify-webhook-signature';

export function createOnlineWebhookVerifier(options: {
  rest: PayPalRestClient;
  webhookId: string;
  /** One attempt of at most this long: PayPal resends a webhook answered 503, so the intake never waits on retries. */
  timeoutMs?: number;
}): WebhookVerifier {
  const timeoutMs = options.timeoutMs ?? 10_000;

  /** PayPal's verdict; every way PayPal cannot give one is PayPalUnavailableError, so the intake answers 503 and PayPal resends. */
  async function askPayPal(body: Buffer): Promise<string | undefined> {
    try {
      const answer = await options.rest.request<{ verification_status?: string } | undefined>({ method: 'POST', path: verifyPath, body, attempts: 1, timeoutMs });
      return answer?.verification_status;
    } catch (error) {
      if (error instanceof PayPalTokenRefusedError) {
        throw new PayPalUnavailableError(`PayPal refused the API credentials (HTTP ${error.status}); check PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET.`);
      }
      if (error instanceof PayPalApiError) throw new PayPalUnavailableError(`PayPal's verify-webhook-signature answered HTTP ${error.status}; PayPal will resend.`);
      throw new PayPalUnavailableError(`PayPal's API at ${options.rest.baseUrl} could not be used (${(error as Error).message}); PayPal will resend.`);
    }
  }

  return {
    async verify({ headers, raw }) {
      const t = readTransmission(headers);
      if ('missing' in t) return { ok: false, reason: `missing header(s) ${t.missing.join(', ')}` };
      try {
        JSON.parse(raw.toString('utf8'));
      } catch {
        return { ok: false, reason: 'body is not JSON' };
      }
      const head = JSON.stringify({
        auth_algo: t.authAlgo,
        cert_url: t.certUrl,
        transmission_id: t.id,
        transmission_sig: t.signature,
        transmission_time: t.time,
        webhook_id: options.webhookId,
      });
      const verdict = await askPayPal(Buffer.concat([Buffer.from(`${head.slice(0, -1)},"webhook_event":`), raw, Buffer.from('}')]));
      if (verdict === 'SUCCESS') return { ok: true };
      if (verdict === 'FAILURE') return { ok: false, reason: 'PayPal answered verification_status FAILURE' };
      throw new PayPalUnavailableError(`PayPal's verify-webhook-signature answered HTTP 200 ${verdict ?? ''}; PayPal will resend.`);
    },
  };
}
