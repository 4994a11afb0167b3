// PayPal's online alternative: POST /v1/notifications/verify-webhook-signature with an OAuth token.
// The event goes in as the raw bytes received, spliced into the JSON, because PayPal checks the
// signature over its own serialisation of what we send and a re-serialised copy can differ.
import { readTransmission } from './webhook-transmission';
import { PayPalUnavailableError } from './unavailable-error';
import { keyshipUserAgent } from './user-agent';
import type { WebhookVerifier } from './webhook-verifier';

export function createOnlineWebhookVerifier(options: {
  /** https://api-m.paypal.com, https://api-m.sandbox.paypal.com or the simulator. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  webhookId: string;
  timeoutMs?: number;
}): WebhookVerifier {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let token: { value: string; expiresAt: number } | undefined;

  async function call(path: string, init: RequestInit): Promise<{ status: number; json: unknown }> {
    try {
      const response = await fetch(`${options.apiUrl}${path}`, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (response.status >= 500 || response.status === 429) throw new Error(`HTTP ${response.status}`);
      return { status: response.status, json };
    } catch (error) {
      throw new PayPalUnavailableError(`PayPal's API at ${options.apiUrl}${path} could not be used (${(error as Error).message}); PayPal will resend.`);
    }
  }

  async function accessToken(): Promise<string> {
    if (token && token.expiresAt > Date.now() + 60_000) return token.value;
    const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
    const { status, json } = await call('/v1/oauth2/token', {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', 'user-agent': keyshipUserAgent },
      body: 'grant_type=client_credentials',
    });
    const body = json as { access_token?: string; expires_in?: number } | undefined;
    if (status !== 200 || !body?.access_token) {
      throw new PayPalUnavailableError(`PayPal refused the API credentials (HTTP ${status}); check PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET.`);
    }
    token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 300) * 1000 };
    return token.value;
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
      const body = Buffer.concat([Buffer.from(`${head.slice(0, -1)},"webhook_event":`), raw, Buffer.from('}')]);
      const { status, json } = await call('/v1/notifications/verify-webhook-signature', {
        method: 'POST',
        headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json', 'user-agent': keyshipUserAgent },
        body,
      });
      const verdict = (json as { verification_status?: string } | undefined)?.verification_status;
      if (status === 200 && verdict === 'SUCCESS') return { ok: true };
      if (status === 200 && verdict === 'FAILURE') return { ok: false, reason: 'PayPal answered verification_status FAILURE' };
      throw new PayPalUnavailableError(`PayPal's verify-webhook-signature answered HTTP ${status} ${verdict ?? ''}; PayPal will resend.`);
    },
  };
}
