// The simulator's PayPal REST API: OAuth2 client-credentials tokens, Orders v2 (create, show,
// capture), Payments v2 (show capture, refund, show refund) and Disputes (show), with PayPal's
// bearer-token check, PayPal-Request-Id idempotency, `Prefer: return=representation`, and faults a
// test injects (a 500 before, or after, the work was done).
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { CheckoutFlow } from './checkout-flow';
import type { Ledger } from './ledger';
import { captureResource, disputeResource, minimalOrder, orderResource, refundResource } from './orders';
import { RestError, oauthErrors, type Operation } from './rest-errors';

export interface FaultSpec {
  /** HTTP method to fail (any when unset). */
  method?: string;
  /** A regular expression tested against the request path, e.g. `/capture$`. */
  pathPattern: string;
  status?: 500 | 503;
  /** How many matching requests fail (1 when unset). */
  times?: number;
  /** Do the work first, then answer the fault: a retry with the same PayPal-Request-Id gets the real answer. */
  after?: boolean;
}

export interface RestApiDeps {
  ledger: Ledger;
  flow: CheckoutFlow;
  api: () => string;
  clientId: string;
  clientSecret: string;
  tokenLifetimeSeconds: number;
  log: (line: string) => void;
}

/** PayPal's REST app scopes, as its token endpoint lists them for a seller's app. */
const scope = [
  'https://uri.paypal.com/services/payments/payment/authcapture',
  'https://uri.paypal.com/services/payments/refund',
  'https://uri.paypal.com/services/disputes/read-seller',
  'https://uri.paypal.com/services/disputes/update-seller',
  'https://uri.paypal.com/services/applications/webhooks',
  'openid',
].join(' ');

export function createRestApi(deps: RestApiDeps) {
  const { ledger, flow } = deps;
  const faults: (FaultSpec & { left: number; pattern: RegExp })[] = [];
  // PayPal rate-limits token requests, so tests count them: issued or refused, each one is a request.
  let tokenRequests = 0;
  const app = new Hono();

  const tokenValid = (authorization: string | undefined): boolean => {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const expiresAt = token ? ledger.tokens.get(token) : undefined;
    return expiresAt !== undefined && expiresAt > Date.now();
  };

  app.post('/v1/oauth2/token', async (c) => {
    tokenRequests += 1;
    const basic = /^Basic (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    const [id, ...rest] = Buffer.from(basic ?? '', 'base64').toString('utf8').split(':');
    if (id !== deps.clientId || rest.join(':') !== deps.clientSecret) return c.json(oauthErrors.invalidClient, 401);
    const form = new URLSearchParams(await c.req.text());
    if (form.get('grant_type') !== 'client_credentials') return c.json(oauthErrors.unsupportedGrant, 400);
    const token = `A21AA${randomBytes(66).toString('base64url')}`;
    ledger.saveToken(token, Date.now() + deps.tokenLifetimeSeconds * 1000);
    return c.json({
      scope,
      access_token: token,
      token_type: 'Bearer',
      app_id: 'APP-80W284485P519543T',
      expires_in: deps.tokenLifetimeSeconds,
      nonce: `${new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')}${randomBytes(32).toString('base64url')}`,
    });
  });

  // Every REST call but the token's: a fault a test asked for, then the bearer token.
  const guarded = async (c: Context, next: () => Promise<void>) => {
    const fault = faults.find((f) => f.left > 0 && (!f.method || f.method.toUpperCase() === c.req.method) && f.pattern.test(c.req.path));
    if (fault) fault.left -= 1;
    const faultAnswer = () => c.json(new RestError(fault?.status ?? 500).body(), fault?.status ?? 500);
    if (fault && !fault.after) return faultAnswer();
    // No token at all is PayPal's AUTHENTICATION_FAILURE body; an unknown or expired one its OAuth invalid_token.
    if (!/^Bearer ./.test(c.req.header('authorization') ?? '')) return c.json(new RestError(401).body(), 401);
    if (!tokenValid(c.req.header('authorization'))) return c.json(oauthErrors.invalidToken, 401);
    await next();
    if (fault?.after) {
      deps.log(`answered ${c.req.method} ${c.req.path} with HTTP ${fault.status ?? 500} after doing it (injected fault)`);
      c.res = undefined;
      c.res = faultAnswer();
    }
  };
  app.use('/v2/*', guarded);
  app.use('/v1/customer/*', guarded);
  app.use('/v1/notifications/verify-webhook-signature', guarded);

  /** Which of PayPal's operations a route is, for the wording of its errors. */
  const operations: [string, RegExp, Operation][] = [
    ['POST', /^\/v2\/checkout\/orders$/, 'orders.create'],
    ['GET', /^\/v2\/checkout\/orders\/[^/]+$/, 'orders.get'],
    ['POST', /^\/v2\/checkout\/orders\/[^/]+\/capture$/, 'orders.capture'],
    ['GET', /^\/v2\/payments\/captures\/[^/]+$/, 'captures.get'],
    ['POST', /^\/v2\/payments\/captures\/[^/]+\/refund$/, 'captures.refund'],
    ['GET', /^\/v2\/payments\/refunds\/[^/]+$/, 'refunds.get'],
    ['GET', /^\/v1\/customer\/disputes\/[^/]+$/, 'disputes.get'],
  ];
  const operationOf = (c: Context) => operations.find(([method, pattern]) => method === c.req.method && pattern.test(c.req.path))?.[2];

  app.onError((error, c) => {
    if (error instanceof RestError) return c.json(error.body(operationOf(c)), error.status);
    deps.log(`REST ${c.req.method} ${c.req.path} failed: ${error.message}`);
    return c.json(new RestError(500).body(), 500);
  });

  /** The same PayPal-Request-Id on the same path answers the first successful answer again, status and all. */
  async function idempotent(c: Context, run: () => { status: 200 | 201; body: unknown }) {
    const requestId = c.req.header('paypal-request-id');
    const key = requestId ? `${c.req.method} ${c.req.path} ${requestId}` : undefined;
    const kept = key ? ledger.answers.get(key) : undefined;
    if (kept) return c.body(kept.body, kept.status as 200 | 201, { 'content-type': 'application/json' });
    const answer = run();
    const body = JSON.stringify(answer.body);
    if (key) ledger.keepAnswer({ key, status: answer.status, body });
    return c.body(body, answer.status, { 'content-type': 'application/json' });
  }

  const representation = (c: Context) => /return=representation/i.test(c.req.header('prefer') ?? '');

  /** A body that is empty, or JSON; anything else is PayPal's MALFORMED_REQUEST_JSON. */
  async function jsonBody(c: Context, api: 'orders' | 'payments'): Promise<unknown> {
    const text = await c.req.text();
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new RestError(400, [{ issue: 'MALFORMED_REQUEST_JSON', location: 'body' }], api);
    }
  }

  /** The order's announcement runs on after the answer, as PayPal's webhooks do. */
  const inBackground = (what: string, announced: Promise<unknown>) => void announced.catch((error: Error) => deps.log(`${what}: ${error.message}`));

  app.post('/v2/checkout/orders', async (c) => {
    const body = await jsonBody(c, 'orders');
    return idempotent(c, () => {
      const order = flow.createOrder(body);
      return { status: 201, body: representation(c) ? orderResource(order, undefined, deps.api()) : minimalOrder(order, undefined, deps.api()) };
    });
  });

  app.get('/v2/checkout/orders/:id', (c) => {
    const order = flow.order(c.req.param('id'));
    const capture = order.captureId ? ledger.payments.get(order.captureId) : undefined;
    return c.json(orderResource(order, capture, deps.api()));
  });

  app.post('/v2/checkout/orders/:id/capture', async (c) => {
    await jsonBody(c, 'orders');
    return idempotent(c, () => {
      const { order, payment, announced } = flow.captureOrder(c.req.param('id'));
      inBackground(`announcing capture ${payment.txnId}`, announced);
      return { status: 201, body: representation(c) ? orderResource(order, payment, deps.api()) : minimalOrder(order, payment, deps.api()) };
    });
  });

  app.get('/v2/payments/captures/:id', (c) => c.json(captureResource(flow.capture(c.req.param('id')), deps.api(), 'payments')));

  app.post('/v2/payments/captures/:id/refund', async (c) => {
    const body = (await jsonBody(c, 'payments')) as { amount?: { currency_code?: string; value?: string }; note_to_payer?: string } | undefined;
    return idempotent(c, () => {
      const { payment, refundId, announced } = flow.refundCapture(c.req.param('id'), body?.amount, body?.note_to_payer);
      inBackground(`announcing refund ${refundId}`, announced);
      const child = payment.children.find((entry) => entry.txnId === refundId);
      if (!child) throw new Error(`refund ${refundId} was not recorded`);
      return { status: 201, body: refundResource(payment, child, deps.api()) };
    });
  });

  app.get('/v2/payments/refunds/:id', (c) => {
    const payment = ledger.findPayment(c.req.param('id'));
    const child = payment?.children.find((entry) => entry.txnId === c.req.param('id'));
    if (!payment || !child) throw new RestError(404, [{ issue: 'INVALID_RESOURCE_ID', field: 'refund_id', value: c.req.param('id'), location: 'path' }], 'payments');
    return c.json(refundResource(payment, child, deps.api()));
  });

  app.get('/v1/customer/disputes/:id', (c) => {
    const dispute = flow.dispute(c.req.param('id'));
    return c.json(disputeResource(dispute, flow.capture(dispute.captureId), deps.api()));
  });

  return {
    app,
    tokenValid,
    /** The next `times` requests matching the spec answer PayPal's 500 (or 503) body. */
    failNext(spec: FaultSpec): void {
      if (spec.status !== undefined && spec.status !== 500 && spec.status !== 503) throw new Error(`A fault answers 500 or 503, not ${String(spec.status)}.`);
      faults.push({ ...spec, left: spec.times ?? 1, pattern: new RegExp(spec.pathPattern) });
    },
    /** POST /v1/oauth2/token requests since the simulator started, issued or refused. */
    tokenRequests: () => tokenRequests,
    /** Every token issued so far stops working at once. */
    expireTokens(): void {
      for (const token of ledger.tokens.keys()) ledger.saveToken(token, 0);
    },
  };
}

export type RestApi = ReturnType<typeof createRestApi>;
