// PayPal's REST API (Orders v2, Payments v2) as Keyship uses it: OAuth2 client credentials with
// the token cached and renewed before it expires, PayPal-Request-Id on every write, 5xx and
// timeouts retried with the same request id, a 401 renewing the token once, 4xx never retried,
// and PayPal's debug_id in every error. Written here rather than with @paypal/paypal-server-sdk:
// that SDK's base URL is fixed to PayPal's two hosts (it throws for any other), so it cannot reach
// the local simulator the tests and `npm start` use.
import { keyshipUserAgent } from '../user-agent';
import { PayPalUnavailableError } from '../unavailable-error';

export interface RestClientOptions {
  /** https://api-m.paypal.com, https://api-m.sandbox.paypal.com, or the simulator. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Per attempt; PayPal answers within seconds or not at all. */
  timeoutMs?: number;
  /** Attempts for a 5xx or a timeout, each with the same PayPal-Request-Id (default 3). */
  attempts?: number;
  /** Pause before the second attempt, doubled after (default 500 ms). */
  backoffMs?: number;
  /** Renew the token this long before PayPal says it expires (default 5 minutes). */
  renewEarlySeconds?: number;
  log?: (line: string) => void;
  clock?: () => number;
}

/** PayPal refused the request (4xx): retrying it unchanged cannot help. */
export class PayPalApiError extends Error {
  override name = 'PayPalApiError';
  constructor(
    readonly status: number,
    /** PayPal's error name, e.g. UNPROCESSABLE_ENTITY. */
    readonly errorName: string,
    /** The first details[].issue, e.g. ORDER_ALREADY_CAPTURED. */
    readonly issue: string | undefined,
    readonly debugId: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** PayPal refused the token request: the REST app's credentials are wrong or revoked. */
export class PayPalTokenRefusedError extends PayPalApiError {
  override name = 'PayPalTokenRefusedError';
}

interface PayPalErrorBody {
  name?: string;
  message?: string;
  debug_id?: string;
  details?: { issue?: string; description?: string; field?: string }[];
  error?: string;
  error_description?: string;
}

export interface RestRequest {
  method: 'GET' | 'POST';
  path: string;
  /** Sent as JSON; a Buffer is sent as it is (bytes PayPal must see unchanged). */
  body?: unknown;
  /** Makes a write idempotent at PayPal: the same id answers the first result again. */
  requestId?: string;
  /** This request's attempts and per-attempt timeout, where they differ from the client's. */
  attempts?: number;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function describe(status: number, body: PayPalErrorBody | undefined, what: string): string {
  const detail = body?.details?.[0];
  const issue = detail?.issue ? ` ${detail.issue}${detail.description ? ` (${detail.description})` : ''}` : '';
  const text = body?.message ?? body?.error_description ?? '';
  return `PayPal answered ${status} ${body?.name ?? body?.error ?? ''} to ${what}:${issue} ${text}${body?.debug_id ? ` [debug_id ${body.debug_id}]` : ''}`.replace(/\s+/g, ' ').trim();
}

export class PayPalRestClient {
  private token?: { value: string; renewAt: number };
  private pendingToken?: Promise<string>;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly log: (line: string) => void;
  private readonly clock: () => number;

  constructor(private readonly options: RestClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.log = options.log ?? ((line) => console.warn(line));
    this.clock = options.clock ?? Date.now;
  }

  /** The JSON answer of a 2xx; PayPalApiError for a 4xx; PayPalUnavailableError when every attempt failed. */
  async request<T>(req: RestRequest): Promise<T> {
    const what = `${req.method} ${req.path}`;
    const attempts = req.attempts ?? this.attempts;
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    let renewed = false;
    let lastProblem = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs * 2 ** (attempt - 2));
      let response: Response;
      try {
        response = await this.send(req, await this.accessToken(timeoutMs), timeoutMs);
      } catch (error) {
        if (error instanceof PayPalApiError) throw error;
        lastProblem = `${what} failed (${(error as Error).message})`;
        this.log(`PayPal REST: ${lastProblem}; attempt ${attempt} of ${attempts}${req.requestId ? `, PayPal-Request-Id ${req.requestId}` : ''}`);
        continue;
      }
      const body = await this.readJson(response);
      if (response.ok) return body as T;
      if (response.status === 401 && !renewed) {
        // The token expired or was revoked early: renew once, and try again (not an attempt).
        this.log(`PayPal REST: ${what} answered 401 (the token expired or was revoked); renewing the token once`);
        renewed = true;
        this.token = undefined;
        attempt--;
        continue;
      }
      const errorBody = body as PayPalErrorBody | undefined;
      if (response.status >= 500 || response.status === 429) {
        lastProblem = describe(response.status, errorBody, what);
        this.log(`PayPal REST: ${lastProblem}; attempt ${attempt} of ${attempts}`);
        continue;
      }
      const error = new PayPalApiError(response.status, errorBody?.name ?? errorBody?.error ?? 'ERROR', errorBody?.details?.[0]?.issue, errorBody?.debug_id, describe(response.status, errorBody, what));
      this.log(`PayPal REST: ${error.message}`);
      throw error;
    }
    throw new PayPalUnavailableError(`${lastProblem}; gave up after ${attempts} attempts`);
  }

  /** The API's base URL, for callers' error sentences. */
  get baseUrl(): string {
    return this.options.baseUrl;
  }

  private async send(req: RestRequest, token: string, timeoutMs: number): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'user-agent': keyshipUserAgent,
      // The whole resource (payer, items, captures), not only its id and links.
      prefer: 'return=representation',
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.requestId) headers['paypal-request-id'] = req.requestId;
    return fetch(`${this.options.baseUrl}${req.path}`, {
      method: req.method,
      headers,
      body: req.body === undefined ? (req.method === 'POST' ? '{}' : undefined) : Buffer.isBuffer(req.body) ? req.body : JSON.stringify(req.body),
      // PayPal's API never redirects; following one would hand the token and the body to another host.
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  }

  private async readJson(response: Response): Promise<unknown> {
    const text = await response.text();
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return { message: text.slice(0, 200) };
    }
  }

  /** A cached token, renewed a few minutes before PayPal's expiry; concurrent callers share one renewal. */
  private async accessToken(timeoutMs: number): Promise<string> {
    if (this.token && this.clock() < this.token.renewAt) return this.token.value;
    this.pendingToken ??= this.fetchToken(timeoutMs).finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  private async fetchToken(timeoutMs: number): Promise<string> {
    const { baseUrl, clientId, clientSecret } = this.options;
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/v1/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'user-agent': keyshipUserAgent,
        },
        body: 'grant_type=client_credentials',
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new PayPalUnavailableError(`PayPal's token endpoint ${baseUrl}/v1/oauth2/token could not be reached (${(error as Error).message})`);
    }
    const body = (await this.readJson(response)) as { access_token?: string; expires_in?: number } & PayPalErrorBody;
    if (response.status >= 500) throw new PayPalUnavailableError(describe(response.status, body, 'the token request'));
    if (!response.ok || !body?.access_token) {
      throw new PayPalTokenRefusedError(
        response.status,
        body?.error ?? 'TOKEN',
        undefined,
        body?.debug_id,
        `${describe(response.status, body, 'the token request')}; check PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET (your REST app's credentials)`,
      );
    }
    const lifetimeMs = (body.expires_in ?? 0) * 1000;
    const early = (this.options.renewEarlySeconds ?? 300) * 1000;
    this.token = { value: body.access_token, renewAt: this.clock() + Math.max(lifetimeMs - early, lifetimeMs / 2) };
    return body.access_token;
  }
}

/**
 * The REST client the configuration allows: a REST app's credentials (the simulator's in simulator
 * mode). Build one per process and share it, so its cached token is asked for once, not per use.
 */
export function restClientFromConfig(config: { apiUrl: string; clientId?: string; clientSecret?: string }, log?: (line: string) => void): PayPalRestClient | undefined {
  if (!config.clientId || !config.clientSecret) return undefined;
  return new PayPalRestClient({ baseUrl: config.apiUrl, clientId: config.clientId, clientSecret: config.clientSecret, log });
}

/** Whether the configuration has a REST app (refunds through PayPal, PayPal Checkout). */
export function restConfigured(config: { paypal: { clientId?: string; clientSecret?: string } }): boolean {
  return Boolean(config.paypal.clientId && config.paypal.clientSecret);
}
