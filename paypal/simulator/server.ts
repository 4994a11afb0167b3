// The local PayPal simulator: checkout pages for Buy Now and cart buttons, /cgi-bin/webscr with
// _notify-validate and _notify-synch, IPN and signed webhook deliveries with PayPal's retries, the
// webhook certificate and online verify endpoints, PayPal Checkout (Orders v2: REST API in
// rest-api.ts, the order's life in checkout-flow.ts, the approval page /checkoutnow), and a small
// JSON control API for `npm run simulate`.
import { createPrivateKey, randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { parseIpnBody } from '../ipn-form';
import { simulatorClientId, simulatorClientSecret, simulatorPdtToken } from '../../config/env';
import { approvalRoutes, checkoutPage } from './checkout-page';
import { createCheckoutFlow, type ApproveInput, type DisputeInput } from './checkout-flow';
import { Deliverer, defaultRetry, type RetrySchedule, type Waiting } from './delivery';
import { Journal, type JournalState } from './journal';
import { childIpn, paymentIpn, pdtSuccess } from './ipn-messages';
import { Ledger, newTxnId, type Environment, type IssuedIpn, type SentWebhook, type SimDispute, type SimItem, type SimOrder, type SimPayment } from './ledger';
import { captureStatus, iso, refundable, simulatorMerchantId } from './orders';
import { createRestApi, type FaultSpec } from './rest-api';
import { RestError } from './rest-errors';
import { createSigningIdentity } from './self-signed-cert';
import { jsSdkRoutes } from './js-sdk';
import { signDelivery, webhookEvents, type WebhookEvent } from './webhook-events';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Where IPNs go when the button or the command names no notify_url (Keyship's /paypal/ipn). */
  ipnUrl?: string;
  /** Where REST webhooks go (Keyship's /paypal/webhook); none are sent when unset. */
  webhookUrl?: string;
  /** The webhook id the simulator signs with (PayPal's own simulator uses the literal WEBHOOK_ID). */
  webhookId?: string;
  pdtToken?: string;
  /** The seller's PayPal address for payments made from the command line. */
  business?: string;
  retry?: RetrySchedule;
  /** Where the simulator keeps what it must not forget across a restart (see journal.ts); in memory when unset. */
  dataDir?: string;
  /** The REST app's credentials for POST /v1/oauth2/token (simulatorClientId / simulatorClientSecret when unset). */
  clientId?: string;
  clientSecret?: string;
  /** How long an access token works (PayPal's 32400 s, nine hours, when unset). */
  tokenLifetimeSeconds?: number;
  /** How long an order waits for the buyer's approval (PayPal's default, 3 hours, when unset). */
  orderLifetimeSeconds?: number;
  /** The seller also has IPN on: an Orders v2 capture, refund or reversal sends an IPN too (default off). */
  ordersIpn?: boolean;
  log?: (line: string) => void;
}

export interface PayInput {
  method?: 'card' | 'echeck';
  items: { itemNumber: string; itemName?: string; amount: string; quantity?: number }[];
  currency?: string;
  business?: string;
  payer?: { email?: string; firstName?: string; lastName?: string };
  charset?: string;
  custom?: string;
  invoice?: string;
  notifyUrl?: string;
  environment?: Environment;
  /** eCheck only: clear after this many ms (never, until `clear`, when unset). */
  clearAfterMs?: number;
  /** eCheck only: clear at once, and deliver the Completed IPN before the Pending one. */
  outOfOrder?: boolean;
  /** Also send REST webhooks (when a webhook URL is configured); default true. */
  webhooks?: boolean;
  /** Deliver the webhook before the IPN (PayPal gives no order between the two channels). */
  webhookFirst?: boolean;
}

export interface SentReport {
  txnId: string;
  ipns: { id: number; status: string; httpStatus: number }[];
  webhooks: { id: number; type: string; httpStatus: number }[];
}

export interface Simulator {
  url: string;
  port: number;
  ledger: Ledger;
  certificatePem: string;
  pay(input: PayInput): Promise<SentReport>;
  clear(txnId: string): Promise<SentReport>;
  refund(txnId: string, options?: { amount?: string }): Promise<SentReport>;
  reverse(txnId: string, options?: { reason?: string }): Promise<SentReport>;
  cancelReversal(txnId: string): Promise<SentReport>;
  /** Sends an IPN already sent once more, byte for byte, as PayPal's resends do. */
  resend(ipnId: number): Promise<SentReport>;
  /** Posts a message PayPal never sent (the postback answers INVALID). */
  forge(input: PayInput): Promise<SentReport>;
  /** Makes a payment and issues its IPN without delivering it (for load tests that post themselves). */
  prepare(input: PayInput): { txnId: string; raw: Buffer };
  /** Waits until no delivery attempt is running. */
  idle(): Promise<void>;
  /** Deliveries waiting for their next attempt. */
  waiting(): Waiting[];
  /** The REST app credentials the token endpoint accepts. */
  clientId: string;
  clientSecret: string;
  /** Approves an order as its buyer would on the approval page; `redirect` is return_url with token and PayerID (none with closeTab). */
  approveOrder(orderId: string, input?: ApproveInput): Promise<{ order: SimOrder; redirect?: string; report: SentReport }>;
  /** The buyer cancels on the approval page: `redirect` is cancel_url with token. */
  cancelOrder(orderId: string): Promise<{ order: SimOrder; redirect?: string }>;
  openDispute(captureId: string, input?: DisputeInput): Promise<{ dispute: SimDispute; report: SentReport }>;
  updateDispute(disputeId: string): Promise<{ dispute: SimDispute; report: SentReport }>;
  resolveDispute(disputeId: string, input: { outcome: 'seller' | 'buyer' }): Promise<{ dispute: SimDispute; report: SentReport }>;
  /** The next matching REST requests answer PayPal's 500 (or 503); with `after`, once the work is done. */
  failNext(spec: FaultSpec): void;
  /** Every access token issued so far stops working (the next REST call answers 401 invalid_token). */
  expireTokens(): void;
  /** POST /v1/oauth2/token requests since this start, issued or refused (PayPal rate-limits them). */
  tokenRequests(): number;
  close(): Promise<void>;
}

const money = (n: number) => n.toFixed(2);

function total(items: SimItem[]): string {
  return money(items.reduce((sum, item) => sum + Number(item.amount) * item.quantity, 0));
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const opened = options.dataDir ? Journal.open(options.dataDir) : undefined;
  const journal = opened?.journal;
  const restored: JournalState | undefined = opened?.state;
  const ledger = new Ledger(journal, restored);
  const deliverer = new Deliverer(options.retry ?? defaultRetry, journal);
  const webhookId = options.webhookId ?? 'WEBHOOK_ID';
  const pdtToken = options.pdtToken ?? simulatorPdtToken;
  const log = options.log ?? (() => undefined);
  const checkoutSessions = new Map<string, { fields: Record<string, string>; items: SimItem[]; environment: Environment }>();
  const clearTimers = new Set<NodeJS.Timeout>();
  let baseUrl = '';
  // A new key gets a new URL, as PayPal's certificates do, so no cache holds a stale one; a
  // simulator with a data folder keeps its key, so webhooks it still owes verify after a restart.
  const identity = restored?.identity
    ? { privateKey: createPrivateKey(restored.identity.privateKeyPem), certificatePem: restored.identity.certificatePem }
    : createSigningIdentity();
  const certName = restored?.identity?.certName ?? `CERT-keyship-simulator-${randomBytes(6).toString('hex')}`;
  if (journal && !restored?.identity) {
    journal.identity({ certName, certificatePem: identity.certificatePem, privateKeyPem: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  }
  const certUrl = () => `${baseUrl}/v1/notifications/certs/${certName}`;

  async function deliverIpn(ipn: IssuedIpn, status: string, key = `ipn:${ipn.id}`): Promise<SentReport['ipns'][number]> {
    const httpStatus = await deliverer.send({
      key,
      url: ipn.notifyUrl,
      body: ipn.raw,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'PayPal IPN ( https://www.paypal.com/ipn )', connection: 'close' },
      attempts: ipn.attempts,
    });
    log(`IPN #${ipn.id} ${status} ${ipn.txnId} -> ${ipn.notifyUrl}: HTTP ${httpStatus || 'no answer'}`);
    return { id: ipn.id, status, httpStatus };
  }

  async function deliverWebhook(event: WebhookEvent | undefined): Promise<SentReport['webhooks']> {
    if (!event || !options.webhookUrl) return [];
    const signed = signDelivery(event, { webhookId, certUrl: certUrl(), privateKey: identity.privateKey });
    const sent: SentWebhook = { id: ledger.webhooks.length + 1, eventId: signed.eventId, eventType: signed.eventType, transmissionId: signed.transmissionId, signature: signed.signature, raw: signed.raw, url: options.webhookUrl, attempts: [] };
    ledger.addWebhook(sent);
    const httpStatus = await deliverer.send({ key: `webhook:${sent.id}`, url: options.webhookUrl, body: signed.raw, headers: signed.headers, attempts: sent.attempts });
    log(`webhook #${sent.id} ${signed.eventType} -> ${options.webhookUrl}: HTTP ${httpStatus || 'no answer'}`);
    return [{ id: sent.id, type: signed.eventType, httpStatus }];
  }

  function notifyUrlOf(payment: SimPayment): string {
    const url = payment.notifyUrl ?? options.ipnUrl;
    if (!url) throw new Error('No notify_url: the button named none and the simulator was started without an IPN URL (set PAYPAL_SIMULATOR_IPN_URL).');
    return url;
  }

  /** Does this payment's news go out by IPN? Always for button payments; for Orders v2 captures when the seller has IPN on. */
  const sendsIpn = (payment: SimPayment) => !payment.orderId || (options.ordersIpn === true && options.ipnUrl !== undefined);

  /** Issues (remembers) and delivers the payment's IPN as it stands now, then its webhook. */
  async function announce(payment: SimPayment, report: SentReport, webhooks: boolean, webhookFirst = false): Promise<void> {
    // A declined capture moved no money: PayPal tells of it by webhook only.
    const ipn = sendsIpn(payment) && payment.status !== 'Declined' ? ledger.issueIpn(payment.txnId, payment.environment, paymentIpn(payment), notifyUrlOf(payment)) : undefined;
    const event = webhooks ? webhookEvents.captureEvent(payment, baseUrl, new Date()) : undefined;
    const hook = async () => {
      report.webhooks.push(...(await deliverWebhook(event)));
    };
    if (webhookFirst) await hook();
    if (ipn) report.ipns.push(await deliverIpn(ipn, payment.status));
    if (!webhookFirst) await hook();
  }

  function makePayment(input: PayInput): SimPayment {
    if (input.items.length === 0) throw new Error('A payment needs at least one item.');
    const items: SimItem[] = input.items.map((item) => ({
      itemNumber: item.itemNumber,
      itemName: item.itemName ?? item.itemNumber,
      amount: money(Number(item.amount)),
      quantity: item.quantity ?? 1,
    }));
    if (items.some((item) => !Number.isFinite(Number(item.amount)))) throw new Error('Every item needs a numeric amount, e.g. 19.95.');
    return {
      txnId: newTxnId(),
      method: input.method ?? 'card',
      environment: input.environment ?? 'live',
      status: input.method === 'echeck' ? 'Pending' : 'Completed',
      items,
      cart: items.length > 1,
      currency: input.currency ?? 'USD',
      gross: total(items),
      business: input.business ?? options.business ?? 'seller@keyship.localhost',
      receiverId: simulatorMerchantId,
      payer: {
        email: input.payer?.email ?? 'buyer@example.com',
        firstName: input.payer?.firstName ?? 'Zoë',
        lastName: input.payer?.lastName ?? 'Müller',
        payerId: `PAYER${randomBytes(4).toString('hex').toUpperCase()}`,
      },
      custom: input.custom,
      invoice: input.invoice,
      charset: input.charset ?? 'windows-1252',
      notifyUrl: input.notifyUrl,
      createdAt: new Date(),
      children: [],
    };
  }

  async function pay(input: PayInput): Promise<SentReport> {
    const payment = makePayment(input);
    if (payment.method === 'echeck' && input.clearAfterMs !== undefined && !input.outOfOrder) payment.clearsAt = new Date(Date.now() + input.clearAfterMs);
    ledger.save(payment);
    const webhooks = input.webhooks ?? true;
    const report: SentReport = { txnId: payment.txnId, ipns: [], webhooks: [] };
    if (payment.method === 'echeck' && input.outOfOrder) {
      // Both messages exist before either is delivered; the Completed one arrives first.
      const pendingRaw = paymentIpn(payment);
      payment.status = 'Completed';
      ledger.save(payment);
      const completed = ledger.issueIpn(payment.txnId, payment.environment, paymentIpn(payment), notifyUrlOf(payment));
      const pending = ledger.issueIpn(payment.txnId, payment.environment, pendingRaw, notifyUrlOf(payment));
      report.ipns.push(await deliverIpn(completed, 'Completed'));
      report.ipns.push(await deliverIpn(pending, 'Pending'));
      return report;
    }
    await announce(payment, report, webhooks, input.webhookFirst);
    scheduleClear(payment);
    return report;
  }

  /** A pending eCheck set to clear by itself does so at its time, also after a restart. */
  function scheduleClear(payment: SimPayment): void {
    if (payment.status !== 'Pending' || !payment.clearsAt) return;
    const timer = setTimeout(
      () => {
        clearTimers.delete(timer);
        void clear(payment.txnId).catch((error: Error) => log(`clearing ${payment.txnId} failed: ${error.message}`));
      },
      Math.max(0, payment.clearsAt.getTime() - Date.now()),
    );
    timer.unref();
    clearTimers.add(timer);
  }

  function payment(txnId: string): SimPayment {
    const found = ledger.findPayment(txnId);
    if (!found) throw new Error(`The simulator made no payment ${txnId}; list them with: npm run simulate -- list`);
    return found;
  }

  async function clear(txnId: string): Promise<SentReport> {
    const p = payment(txnId);
    const report: SentReport = { txnId: p.txnId, ipns: [], webhooks: [] };
    if (p.status !== 'Pending') return report;
    p.status = 'Completed';
    p.clearsAt = undefined;
    ledger.save(p);
    await announce(p, report, true);
    return report;
  }

  /**
   * A later transaction about a payment, recorded at once: a refund or reversal (of what remains when
   * no amount is given) or a cancelled reversal. Its IPN and webhook are delivered by `announced`.
   */
  function childNow(txnId: string, input: { status: 'Refunded' | 'Reversed' | 'Canceled_Reversal'; reasonCode: string; amount?: string; noteToPayer?: string }) {
    const p = payment(txnId);
    const { status } = input;
    const left = refundable(p);
    if (status !== 'Canceled_Reversal') {
      if (p.status === 'Pending' || p.status === 'Declined') throw new Error(`Payment ${txnId} is ${p.status}: only money received can be refunded or reversed.`);
      const asked = input.amount === undefined ? left : Math.round(Number(input.amount) * 100);
      if (!Number.isFinite(asked) || asked <= 0 || asked > left) throw new Error(`Payment ${txnId} has ${money(left / 100)} ${p.currency} left to give back; ${input.amount ?? 'the rest'} is not possible.`);
    }
    const gross = status === 'Canceled_Reversal' ? p.gross : `-${money(input.amount === undefined ? left / 100 : Number(input.amount))}`;
    const noteToPayer = input.noteToPayer ?? (status === 'Reversed' ? 'Payment reversed' : undefined);
    const entry = { txnId: newTxnId(), status, gross, reasonCode: input.reasonCode, at: iso(new Date()), ...(noteToPayer ? { noteToPayer } : {}) };
    p.children.push(entry);
    p.status = status === 'Canceled_Reversal' ? 'Completed' : status;
    ledger.save(p);
    const ipn = sendsIpn(p) ? ledger.issueIpn(entry.txnId, p.environment, childIpn(p, entry), notifyUrlOf(p)) : undefined;
    const event = webhookEvents.refundEvent(p, entry, baseUrl, new Date());
    const announced = (async (): Promise<SentReport> => {
      const report: SentReport = { txnId: entry.txnId, ipns: [], webhooks: [] };
      if (ipn) report.ipns.push(await deliverIpn(ipn, status));
      report.webhooks.push(...(await deliverWebhook(event)));
      return report;
    })();
    return { txnId: entry.txnId, announced };
  }

  const child = (txnId: string, status: 'Refunded' | 'Reversed' | 'Canceled_Reversal', reasonCode: string, amount?: string) => childNow(txnId, { status, reasonCode, amount }).announced;

  async function resend(ipnId: number): Promise<SentReport> {
    const ipn = ledger.ipns.find((i) => i.id === ipnId);
    if (!ipn) throw new Error(`The simulator sent no IPN #${ipnId}; list them with: npm run simulate -- list`);
    const again = { ...ipn, attempts: [] };
    const sent = await deliverIpn(again, 'resend', `ipn:${ipn.id}:resend:${randomUUID()}`);
    ipn.attempts.push(...again.attempts);
    return { txnId: ipn.txnId, ipns: [sent], webhooks: [] };
  }

  async function forge(input: PayInput): Promise<SentReport> {
    const p = makePayment(input);
    const ipn = ledger.issueIpn(p.txnId, p.environment, paymentIpn(p), notifyUrlOf(p), true);
    return { txnId: p.txnId, ipns: [await deliverIpn(ipn, `forged ${p.status}`)], webhooks: [] };
  }

  const clientId = options.clientId ?? simulatorClientId;
  const clientSecret = options.clientSecret ?? simulatorClientSecret;
  const flow = createCheckoutFlow({
    ledger,
    api: () => baseUrl,
    business: options.business ?? 'seller@keyship.localhost',
    // PayPal gives the buyer 3 hours to approve an order (its default; an account manager can make it 24-72).
    orderLifetimeMs: (options.orderLifetimeSeconds ?? 3 * 3600) * 1000,
    sendWebhook: deliverWebhook,
    announce(p) {
      const report: SentReport = { txnId: p.txnId, ipns: [], webhooks: [] };
      return announce(p, report, true).then(() => report);
    },
    reverse: (txnId, input) => childNow(txnId, input),
  });
  const rest = createRestApi({ ledger, flow, api: () => baseUrl, clientId, clientSecret, tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 32400, log });

  const app = new Hono();

  // /cgi-bin/webscr plays PayPal live; /sandbox/cgi-bin/webscr plays the sandbox.
  const webscr = (environment: Environment) => async (c: Context) => {
    const raw = Buffer.from(await c.req.arrayBuffer());
    const validatePrefix = Buffer.from('cmd=_notify-validate&');
    if (raw.subarray(0, validatePrefix.length).equals(validatePrefix)) {
      // PayPal answers 403 to a postback without a User-Agent.
      if (!c.req.header('user-agent')) return c.text('Forbidden', 403);
      const verified = ledger.knows(environment, raw.subarray(validatePrefix.length));
      return c.text(verified ? 'VERIFIED' : 'INVALID');
    }
    const form = parseIpnBody(raw);
    const fields = { ...form.fields, ...Object.fromEntries(new URL(c.req.url).searchParams) };
    if (fields.cmd === '_notify-synch') {
      if (fields.at !== pdtToken) return c.text('FAIL\nError: 4002\n');
      const p = fields.tx ? ledger.payments.get(fields.tx) : undefined;
      if (!p || p.environment !== environment) return c.text('FAIL\nError: 4003\n');
      return c.body(new Uint8Array(pdtSuccess(p)), 200, { 'content-type': `text/plain; charset=${p.charset}` });
    }
    if (fields.cmd === '_xclick' || fields.cmd === '_cart') return startCheckout(c, fields, environment);
    return c.text(`The PayPal simulator does not know cmd=${fields.cmd ?? '(none)'}; it handles _xclick, _cart, _notify-validate and _notify-synch.`, 400);
  };

  function startCheckout(c: Context, fields: Record<string, string>, environment: Environment) {
    const items: SimItem[] = [];
    if (fields.cmd === '_cart') {
      for (let i = 1; fields[`item_name_${i}`] !== undefined || fields[`item_number_${i}`] !== undefined; i++) {
        items.push({ itemNumber: fields[`item_number_${i}`] ?? '', itemName: fields[`item_name_${i}`] ?? '', amount: money(Number(fields[`amount_${i}`] ?? '0')), quantity: Number(fields[`quantity_${i}`] ?? '1') || 1 });
      }
    } else {
      items.push({ itemNumber: fields.item_number ?? '', itemName: fields.item_name ?? '', amount: money(Number(fields.amount ?? '0')), quantity: Number(fields.quantity ?? '1') || 1 });
    }
    if (!fields.business || items.length === 0) return c.text('This button names no business or no item; check the button form.', 400);
    const sessionId = randomUUID();
    checkoutSessions.set(sessionId, { fields, items, environment });
    return c.html(checkoutPage({ sessionId, business: fields.business, items, currency: fields.currency_code ?? 'USD', total: total(items), environment }));
  }

  app.post('/cgi-bin/webscr', webscr('live'));
  app.get('/cgi-bin/webscr', webscr('live'));
  app.post('/sandbox/cgi-bin/webscr', webscr('sandbox'));
  app.get('/sandbox/cgi-bin/webscr', webscr('sandbox'));

  app.post('/checkout/:id', async (c) => {
    const session = checkoutSessions.get(c.req.param('id'));
    if (!session) return c.text('This checkout has expired; go back to the store and press the button again.', 404);
    const form = await c.req.parseBody();
    const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);
    const { fields } = session;
    if (text('action') === 'cancel') {
      checkoutSessions.delete(c.req.param('id'));
      return c.redirect(fields.cancel_return ?? '/', 302);
    }
    const method = text('action') === 'echeck' ? 'echeck' : 'card';
    const report = await pay({
      method,
      items: session.items,
      currency: fields.currency_code,
      business: fields.business,
      payer: { email: text('email'), firstName: text('first_name'), lastName: text('last_name') },
      charset: fields.charset,
      custom: fields.custom,
      invoice: fields.invoice,
      notifyUrl: fields.notify_url,
      environment: session.environment,
      clearAfterMs: method === 'echeck' ? Number(text('clear_after') ?? '20') * 1000 : undefined,
    });
    checkoutSessions.delete(c.req.param('id'));
    const p = ledger.payments.get(report.txnId);
    if (!fields.return || !p) return c.text(`Paid: transaction ${report.txnId}. The button named no return URL.`);
    const back = new URL(fields.return);
    back.searchParams.set('tx', p.txnId);
    back.searchParams.set('st', p.status);
    back.searchParams.set('amt', p.gross);
    back.searchParams.set('cc', p.currency);
    if (p.custom) back.searchParams.set('cm', p.custom);
    if (!p.cart) back.searchParams.set('item_number', p.items[0]?.itemNumber ?? '');
    return c.redirect(back.toString(), 302);
  });

  app.get('/v1/notifications/certs/:name', (c) =>
    c.req.param('name') === certName ? c.body(identity.certificatePem, 200, { 'content-type': 'application/x-pem-file' }) : c.text('Not found', 404),
  );

  // The REST API (its token check guards the online verification below too).
  app.route('/', rest.app);
  app.route('/', jsSdkRoutes({ ledger, url: () => baseUrl }));

  // The online verification alternative, with the same answers PayPal gives.
  app.post('/v1/notifications/verify-webhook-signature', async (c) => {
    const body = (await c.req.json()) as Record<string, unknown>;
    const sent = ledger.webhooks.find((w) => w.transmissionId === body.transmission_id);
    const same =
      sent !== undefined &&
      body.transmission_sig === sent.signature &&
      body.webhook_id === webhookId &&
      JSON.stringify(body.webhook_event) === JSON.stringify(JSON.parse(sent.raw.toString('utf8')));
    return c.json({ verification_status: same ? 'SUCCESS' : 'FAILURE' });
  });

  // The Orders v2 approval page: the order's `rel: approve` link.
  app.route('/', approvalRoutes(flow, log));

  // The control API `npm run simulate` drives.
  const control = new Hono();
  control.onError((error, c) => (error instanceof RestError ? c.json({ error: error.message, ...error.body() }, error.status) : c.json({ error: error.message }, 400)));
  const jsonOf = async <T>(c: Context): Promise<T> => (await c.req.json().catch(() => ({}))) as T;
  control.post('/orders/:id/approve', async (c) => c.json(await approveOrder(c.req.param('id'), await jsonOf<ApproveInput>(c))));
  control.post('/orders/:id/cancel', async (c) => c.json(await cancelOrder(c.req.param('id'))));
  control.post('/captures/:id/disputes', async (c) => c.json(await openDispute(c.req.param('id'), await jsonOf<DisputeInput>(c))));
  control.post('/disputes/:id/update', async (c) => c.json(await updateDispute(c.req.param('id'))));
  control.post('/disputes/:id/resolve', async (c) => c.json(await resolveDispute(c.req.param('id'), await jsonOf<{ outcome: 'seller' | 'buyer' }>(c))));
  control.post('/faults', async (c) => {
    rest.failNext(await jsonOf<FaultSpec>(c));
    return c.json({ ok: true });
  });
  control.post('/tokens/expire', (c) => {
    rest.expireTokens();
    return c.json({ ok: true });
  });
  control.get('/orders', (c) => c.json({ orders: [...ledger.orders.values()], disputes: [...ledger.disputes.values()] }));
  control.get('/orders/:id', (c) => {
    const order = flow.order(c.req.param('id'));
    const capture = order.captureId ? ledger.payments.get(order.captureId) : undefined;
    return c.json({ order, capture: capture ? { id: capture.txnId, status: captureStatus(capture), amount: capture.gross, currency: capture.currency } : undefined });
  });
  control.post('/payments', async (c) => c.json(await pay((await c.req.json()) as PayInput)));
  control.post('/forged', async (c) => c.json(await forge((await c.req.json()) as PayInput)));
  control.post('/payments/:txn/clear', async (c) => c.json(await clear(c.req.param('txn'))));
  control.post('/payments/:txn/refund', async (c) => c.json(await refund(c.req.param('txn'), ((await c.req.json().catch(() => ({}))) as { amount?: string }))));
  control.post('/payments/:txn/reverse', async (c) => c.json(await reverse(c.req.param('txn'), ((await c.req.json().catch(() => ({}))) as { reason?: string }))));
  control.post('/payments/:txn/cancel-reversal', async (c) => c.json(await child(c.req.param('txn'), 'Canceled_Reversal', 'other')));
  control.post('/ipns/:id/resend', async (c) => c.json(await resend(Number(c.req.param('id')))));
  control.get('/payments', (c) =>
    c.json({
      payments: [...ledger.payments.values()].map((p) => ({ txnId: p.txnId, method: p.method, status: p.status, gross: p.gross, currency: p.currency, items: p.items, payer: p.payer.email, children: p.children })),
      ipns: ledger.ipns.map((i) => ({ id: i.id, txnId: i.txnId, attempts: i.attempts, forged: i.forged ?? false })),
      webhooks: ledger.webhooks.map((w) => ({ id: w.id, type: w.eventType, eventId: w.eventId, attempts: w.attempts })),
      waiting: deliverer.waiting(),
    }),
  );
  app.route('/sim', control);
  app.get('/', (c) => c.text('Keyship PayPal simulator. Buttons post to /cgi-bin/webscr; `npm run simulate -- help` drives it.'));

  function refund(txnId: string, opts: { amount?: string } = {}) {
    return child(txnId, 'Refunded', 'refund', opts.amount);
  }
  function reverse(txnId: string, opts: { reason?: string } = {}) {
    return child(txnId, 'Reversed', opts.reason ?? 'chargeback');
  }

  async function approveOrder(orderId: string, input: ApproveInput = {}) {
    const { announced, ...approved } = flow.approveOrder(orderId, input);
    return { ...approved, report: await announced };
  }
  async function cancelOrder(orderId: string) {
    return Promise.resolve(flow.cancelOrder(orderId));
  }
  const openDispute = (captureId: string, input: DisputeInput = {}) => flow.openDispute(captureId, input);
  const updateDispute = (disputeId: string) => flow.updateDispute(disputeId);
  const resolveDispute = (disputeId: string, input: { outcome: 'seller' | 'buyer' }) => flow.resolveDispute(disputeId, input);

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8090, hostname: options.host ?? '127.0.0.1' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;

  // What an earlier run still owed goes on where it stopped; its attempts count on the messages' own records.
  for (const stored of restored?.deliveries ?? []) {
    const [kind, id, resend] = stored.key.split(':');
    const message = resend ? undefined : kind === 'ipn' ? ledger.ipns[Number(id) - 1] : kind === 'webhook' ? ledger.webhooks[Number(id) - 1] : undefined;
    if (message) message.attempts = stored.attempts;
    deliverer.resume(stored);
  }
  for (const p of ledger.payments.values()) scheduleClear(p);
  const owed = deliverer.waiting().length;
  if (restored && (owed > 0 || ledger.payments.size > 0)) log(`restored ${ledger.payments.size} payments from ${options.dataDir}; ${owed} deliveries still owed`);

  return {
    url: baseUrl,
    port,
    ledger,
    certificatePem: identity.certificatePem,
    pay,
    clear,
    refund,
    reverse,
    cancelReversal: (txnId) => child(txnId, 'Canceled_Reversal', 'other'),
    resend,
    forge,
    prepare(input) {
      const p = makePayment(input);
      ledger.payments.set(p.txnId, p);
      const ipn = ledger.issueIpn(p.txnId, p.environment, paymentIpn(p), input.notifyUrl ?? options.ipnUrl ?? '');
      return { txnId: p.txnId, raw: ipn.raw };
    },
    idle: () => deliverer.idle(),
    waiting: () => deliverer.waiting(),
    clientId,
    clientSecret,
    approveOrder,
    cancelOrder,
    openDispute,
    updateDispute,
    resolveDispute,
    failNext: (spec) => rest.failNext(spec),
    expireTokens: () => rest.expireTokens(),
    tokenRequests: () => rest.tokenRequests(),
    async close() {
      deliverer.stop();
      journal?.close();
      for (const timer of clearTimers) clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}
