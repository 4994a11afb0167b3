// The PayPal intake over real HTTP, with a real Postgres, the Temporal dev server, and the local
// PayPal simulator as the real peer: it delivers the IPNs and signed webhooks and answers the
// postbacks. A switchable TCP proxy stands between Keyship and the verifier, and between Keyship
// and Temporal, to take each away and bring it back.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { createApp } from '../api/app';
import { paypalRoutes } from '../api/paypal';
import { loadConfig, simulatorClientId, simulatorClientSecret, type Config } from '../config/env';
import { invoiceSignaller } from '../paypal/invoice-signal';
import { createPayPalIntakes } from '../paypal/intakes';
import { createPdtStatusLookup } from '../paypal/status-lookup';
import { createPdtClient } from '../paypal/pdt-client';
import { restClientFromConfig } from '../paypal/rest/client';
import { createIpnVerifier } from '../paypal/ipn-postback';
import { ipnLoad } from '../paypal/simulator/ipn-load';
import { startSimulator, type SentReport, type Simulator } from '../paypal/simulator/server';
import { devTemporal, freshDatabase, type DevTemporal, type TestDatabase } from './harness';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import { notification as paymentNotification } from './invoice-fixtures';
import { createPool, type Pool } from '../db/pool';
import type { PoolClient } from 'pg';
import { insertRawMessage } from '../db/paypal-messages';
import { routeOnce } from '../paypal/message-store';
import type { PaymentNotification } from '../workflows/notification';

/** A TCP proxy that can be switched off (refusing and cutting connections) and on again. */
async function switchableProxy(target: () => { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const up = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const { host, port: targetPort } = target();
        const upstream = net.connect(targetPort, host);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as AddressInfo).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
    });
  await up();
  return { get port() { return port; }, up, down };
}

async function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<{ url: string; server: ServerType }> {
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const closeServer = (server: ServerType) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  });

interface MessageRow {
  id: number;
  channel: string;
  raw_body: Buffer;
  headers: Record<string, string>;
  charset: string | null;
  fields: Record<string, unknown> | null;
  txn_id: string | null;
  verification: string;
  verification_detail: string | null;
  outcome: string;
  outcome_detail: string | null;
  workflow_id: string | null;
  dedupe_key: string | null;
}

describe('PayPal intake', () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let sim: Simulator;
  let api: { url: string; server: ServerType };
  let verifierProxy: Awaited<ReturnType<typeof switchableProxy>>;
  let temporalProxy: Awaited<ReturnType<typeof switchableProxy>>;
  let proxiedConnection: Connection;
  let config: Config;
  const taskQueue = `paypal-intake-${randomUUID()}`;
  let app: ReturnType<typeof createApp> | undefined;

  before(async () => {
    [db, temporal] = await Promise.all([freshDatabase(), devTemporal()]);
    api = await listen((request) => (app ? app.fetch(request) : new Response('starting', { status: 503 })));
    sim = await startSimulator({
      port: 0,
      ipnUrl: `${api.url}/paypal/ipn`,
      webhookUrl: `${api.url}/paypal/webhook`,
      retry: { attempts: 6, firstDelayMs: 300, maxDelayMs: 1_000 },
    });
    const simPort = Number(new URL(sim.url).port);
    verifierProxy = await switchableProxy(() => ({ host: '127.0.0.1', port: simPort }));
    const [temporalHost = '127.0.0.1', temporalPort = '7233'] = temporal.address.split(':');
    temporalProxy = await switchableProxy(() => ({ host: temporalHost, port: Number(temporalPort) }));
    proxiedConnection = await Connection.connect({ address: `127.0.0.1:${temporalProxy.port}` });
    config = loadConfig({
      DATABASE_URL: db.url,
      PAYPAL_MODE: 'simulator',
      PAYPAL_SIMULATOR_URL: sim.url,
      PAYPAL_IPN_VERIFY_URL: `http://127.0.0.1:${verifierProxy.port}/cgi-bin/webscr`,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalProxy.port}`,
      TEMPORAL_TASK_QUEUE: taskQueue,
      PAYPAL_RECEIVER_EMAIL: 'seller@keyship.localhost',
      PUBLIC_URL: api.url,
    });
    app = createApp({ config, pool: db.pool, temporal: new Client({ connection: proxiedConnection, namespace: temporal.namespace }) });
  });

  after(async () => {
    await sim?.close();
    await closeServer(api.server);
    await verifierProxy?.down();
    await temporalProxy?.down();
    await proxiedConnection?.close();
    await temporal?.close();
    await db?.close();
  });

  const rows = async (where: string, params: unknown[]) =>
    (await db.pool.query<MessageRow>(`SELECT * FROM paypal_messages WHERE ${where} ORDER BY id`, params)).rows;

  /** The notifications the workflow received as signals, from its history. */
  async function signals(txnId: string): Promise<PaymentNotification[]> {
    const history = await temporal.client.workflow.getHandle(invoiceWorkflowId(txnId)).fetchHistory();
    return (history.events ?? [])
      .map((event) => event.workflowExecutionSignaledEventAttributes)
      .filter((attributes) => attributes?.signalName === 'paypalNotification')
      .map((attributes) => JSON.parse(Buffer.from(attributes?.input?.payloads?.[0]?.data ?? []).toString('utf8')) as PaymentNotification);
  }

  async function workflowExists(txnId: string): Promise<boolean> {
    try {
      await temporal.client.workflow.getHandle(invoiceWorkflowId(txnId)).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  test('a card payment in windows-1252 with non-ASCII names: stored raw, verified, routed by IPN and webhook', async () => {
    const sent = await sim.pay({ items: [{ itemNumber: 'BOOK-1', itemName: 'Café guide', amount: '19.95' }], payer: { email: 'zoe@example.com', firstName: 'Zoë', lastName: 'Müller' } });
    assert.deepEqual(sent.ipns.map((i) => i.httpStatus), [200]);
    assert.deepEqual(sent.webhooks.map((w) => [w.type, w.httpStatus]), [['PAYMENT.CAPTURE.COMPLETED', 200]]);
    const issued = sim.ledger.ipns.find((i) => i.id === sent.ipns[0]?.id);
    assert.ok(issued);
    // windows-1252: ë is one byte, 0xEB, escaped as %EB.
    assert.match(issued.raw.toString('latin1'), /first_name=Zo%EB&/);
    const [ipn] = await rows("channel = 'ipn' AND txn_id = $1", [sent.txnId]);
    assert.ok(ipn);
    assert.ok(ipn.raw_body.equals(issued.raw), 'raw body kept byte for byte');
    assert.equal(ipn.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual([ipn.charset, ipn.verification, ipn.outcome, ipn.workflow_id], ['windows-1252', 'verified', 'routed', invoiceWorkflowId(sent.txnId)]);
    assert.equal(ipn.fields?.first_name, 'Zoë');
    assert.equal(ipn.fields?.item_name, 'Café guide');
    const [hook] = await rows("channel = 'webhook' AND txn_id = $1", [sent.txnId]);
    assert.deepEqual([hook?.verification, hook?.outcome, hook?.workflow_id], ['verified', 'routed', invoiceWorkflowId(sent.txnId)]);
    const received = await signals(sent.txnId);
    assert.deepEqual(received.map((n) => [n.source, n.status, n.txnId]), [['ipn', 'Completed', sent.txnId], ['webhook', 'Completed', sent.txnId]]);
    assert.deepEqual(received[0]?.payer, { email: 'zoe@example.com', payerId: received[0]?.payer.payerId, firstName: 'Zoë', lastName: 'Müller' });
    assert.deepEqual(received[0]?.items, [{ itemNumber: 'BOOK-1', itemName: 'Café guide', quantity: 1, gross: '19.95' }]);
    assert.equal(received[0]?.messageId, ipn.id);
  });

  test('UTF-8 names (as the Buy Now button asks with charset=utf-8) are decoded with the charset the body names', async () => {
    const sent = await sim.pay({ charset: 'utf-8', items: [{ itemNumber: 'BOOK-1', itemName: 'Ĳssel — 東京', amount: '19.95' }], payer: { firstName: '山田', lastName: 'Łukasz' } });
    const issued = sim.ledger.ipns.find((i) => i.id === sent.ipns[0]?.id);
    assert.match(issued?.raw.toString('latin1') ?? '', /charset=utf-8/);
    assert.match(issued?.raw.toString('latin1') ?? '', /first_name=%E5%B1%B1%E7%94%B0&/);
    const [ipn] = await rows("channel = 'ipn' AND txn_id = $1", [sent.txnId]);
    assert.deepEqual([ipn?.charset, ipn?.verification, ipn?.outcome], ['utf-8', 'verified', 'routed']);
    const [n] = await signals(sent.txnId);
    assert.deepEqual([n?.payer.firstName, n?.payer.lastName, n?.items[0]?.itemName], ['山田', 'Łukasz', 'Ĳssel — 東京']);
  });

  test('a forged IPN is answered 200, recorded as rejected with the reason, and delivers nothing', async () => {
    const sent = await sim.forge({ items: [{ itemNumber: 'BOOK-1', amount: '19.95' }] });
    assert.deepEqual(sent.ipns.map((i) => i.httpStatus), [200]);
    const [ipn] = await rows("channel = 'ipn' AND txn_id = $1", [sent.txnId]);
    assert.deepEqual([ipn?.verification, ipn?.outcome], ['invalid', 'rejected']);
    assert.match(ipn?.outcome_detail ?? '', /INVALID/);
    assert.equal(await workflowExists(sent.txnId), false);
  });

  test('an altered copy of a real IPN (amount changed) is INVALID and delivers nothing', async () => {
    const sent = await sim.pay({ items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false });
    const issued = sim.ledger.ipns.find((i) => i.id === sent.ipns[0]?.id);
    const altered = Buffer.from((issued?.raw.toString('latin1') ?? '').replace('mc_gross=19.95', 'mc_gross=99.95').replace(sent.txnId, `${sent.txnId.slice(0, -1)}Z`), 'latin1');
    const response = await fetch(`${api.url}/paypal/ipn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: altered });
    assert.equal(response.status, 200);
    const [row] = await rows('id = $1', [Number(response.headers.get('x-keyship-message-id'))]);
    assert.deepEqual([row?.verification, row?.outcome], ['invalid', 'rejected']);
    assert.equal(await workflowExists(`${sent.txnId.slice(0, -1)}Z`), false);
  });

  test('garbage is kept raw and rejected: NUL bytes, a body that is no form, an empty body', async () => {
    const bodies = [Buffer.from('txn_id=AB%00CD&payment_status=Completed&first_name=Zo%00e', 'latin1'), Buffer.from([0x00, 0xff, 0x26, 0x3d]), Buffer.alloc(0)];
    for (const body of bodies) {
      const response = await fetch(`${api.url}/paypal/ipn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      assert.equal(response.status, 200);
      const [row] = await rows('id = $1', [Number(response.headers.get('x-keyship-message-id'))]);
      assert.ok(row?.raw_body.equals(body));
      assert.equal(row?.outcome, 'rejected');
    }
  });

  test('the same IPN twice (a PayPal resend, and two copies at once) has one effect', async () => {
    const sent = await sim.pay({ items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false });
    const ipnId = sent.ipns[0]?.id ?? 0;
    const again = await sim.resend(ipnId);
    assert.deepEqual(again.ipns.map((i) => i.httpStatus), [200]);
    const raw = sim.ledger.ipns.find((i) => i.id === ipnId)?.raw ?? Buffer.alloc(0);
    const post = () => fetch(`${api.url}/paypal/ipn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: raw });
    const both = await Promise.all([post(), post()]);
    assert.deepEqual(both.map((r) => r.status), [200, 200]);
    const stored = await rows("channel = 'ipn' AND txn_id = $1", [sent.txnId]);
    assert.deepEqual(stored.map((r) => r.outcome), ['routed', 'duplicate', 'duplicate', 'duplicate']);
    assert.ok(stored.every((r) => r.raw_body.equals(raw)));
    assert.equal((await signals(sent.txnId)).length, 1);
  });

  test('a cart payment routes every item; a refund and its webhook reach the same workflow', async () => {
    const sent = await sim.pay({ items: [{ itemNumber: 'BOOK-1', amount: '19.95' }, { itemNumber: 'VIDEO-2', amount: '5.00', quantity: 2 }] });
    const refund = await sim.refund(sent.txnId);
    assert.deepEqual([...refund.ipns, ...refund.webhooks].map((d) => d.httpStatus), [200, 200]);
    const received = await signals(sent.txnId);
    assert.deepEqual(
      received.map((n) => [n.source, n.status, n.gross]),
      [['ipn', 'Completed', '29.95'], ['webhook', 'Completed', '29.95'], ['ipn', 'Refunded', '-29.95'], ['webhook', 'Refunded', '-29.95']],
    );
    assert.deepEqual(received[0]?.items.map((i) => [i.itemNumber, i.quantity, i.gross]), [['BOOK-1', 1, '19.95'], ['VIDEO-2', 2, '10.00']]);
    assert.equal(received[2]?.eventTxnId, refund.txnId);
    assert.equal(received[2]?.reasonCode, 'refund');
  });

  test('out-of-order eCheck messages both reach the workflow, Completed first', async () => {
    const sent = await sim.pay({ method: 'echeck', outOfOrder: true, items: [{ itemNumber: 'BOOK-1', amount: '19.95' }] });
    assert.deepEqual(sent.ipns.map((i) => [i.status, i.httpStatus]), [['Completed', 200], ['Pending', 200]]);
    const received = await signals(sent.txnId);
    assert.deepEqual(received.map((n) => [n.status, n.pendingReason]), [['Completed', undefined], ['Pending', 'echeck']]);
  });

  test('verified but wrong (tampered amount, wrong currency, unknown item, wrong receiver) is routed with what the workflow needs to refuse it', async () => {
    const cases = [
      { items: [{ itemNumber: 'BOOK-1', amount: '0.01' }] },
      { items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], currency: 'EUR' },
      { items: [{ itemNumber: 'NO-SUCH-ITEM', amount: '19.95' }] },
      { items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], business: 'someone-else@example.com' },
    ];
    const seen = [];
    for (const input of cases) {
      const sent = await sim.pay({ ...input, webhooks: false });
      const [n] = await signals(sent.txnId);
      seen.push([n?.gross, n?.currency, n?.items[0]?.itemNumber, n?.receiverEmail]);
      const [row] = await rows("channel = 'ipn' AND txn_id = $1", [sent.txnId]);
      assert.equal(row?.outcome, 'routed');
      if (input.business) assert.match(row?.outcome_detail ?? '', /receiver someone-else@example\.com is not PAYPAL_RECEIVER_EMAIL/);
    }
    assert.deepEqual(seen, [
      ['0.01', 'USD', 'BOOK-1', 'seller@keyship.localhost'],
      ['19.95', 'EUR', 'BOOK-1', 'seller@keyship.localhost'],
      ['19.95', 'USD', 'NO-SUCH-ITEM', 'seller@keyship.localhost'],
      ['19.95', 'USD', 'BOOK-1', 'someone-else@example.com'],
    ]);
  });

  test('a sandbox message sent to a live listener delivers nothing', async () => {
    const live = (verifyPath: string) => {
      const liveConfig = loadConfig({ DATABASE_URL: db.url, PAYPAL_MODE: 'live', PAYPAL_IPN_VERIFY_URL: `${sim.url}${verifyPath}`, TEMPORAL_TASK_QUEUE: taskQueue });
      return listen(paypalRoutes({ config: liveConfig, pool: db.pool, temporal: temporal.client }).fetch);
    };
    const liveApi = await live('/cgi-bin/webscr');
    const misconfigured = await live('/sandbox/cgi-bin/webscr');
    try {
      // Posted back to (the simulator's) live PayPal, which never saw this sandbox message.
      const sandbox = await sim.pay({ environment: 'sandbox', notifyUrl: `${liveApi.url}/paypal/ipn`, items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false });
      const [first] = await rows("channel = 'ipn' AND txn_id = $1", [sandbox.txnId]);
      assert.deepEqual([first?.verification, first?.outcome], ['invalid', 'rejected']);
      // A live listener whose verify URL was (wrongly) pointed at the sandbox still refuses test_ipn=1.
      const again = await sim.pay({ environment: 'sandbox', notifyUrl: `${misconfigured.url}/paypal/ipn`, items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false });
      const [second] = await rows("channel = 'ipn' AND txn_id = $1", [again.txnId]);
      assert.deepEqual([second?.verification, second?.outcome], ['verified', 'rejected']);
      assert.match(second?.outcome_detail ?? '', /sandbox message \(test_ipn=1\) at a live listener/);
      assert.equal(await workflowExists(sandbox.txnId), false);
      assert.equal(await workflowExists(again.txnId), false);
    } finally {
      await closeServer(liveApi.server);
      await closeServer(misconfigured.server);
    }
  });

  test('503 while the verifier is unreachable, raw copy kept; PayPal\'s resend is routed once it is back', async () => {
    await verifierProxy.down();
    let sent: SentReport;
    try {
      sent = await sim.pay({ items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false });
      assert.deepEqual(sent.ipns.map((i) => i.httpStatus), [503]);
      const [kept] = await rows("channel = 'ipn' AND txn_id = $1", [sent.txnId]);
      assert.deepEqual([kept?.verification, kept?.outcome], ['error', 'retry']);
      assert.ok(kept?.raw_body.length);
      assert.equal(await workflowExists(sent.txnId), false);
    } finally {
      await verifierProxy.up();
    }
    const routed = await eventually(async () => (await rows("channel = 'ipn' AND txn_id = $1 AND outcome = 'routed'", [sent.txnId]))[0]);
    assert.equal(routed.verification, 'verified');
    assert.equal((await signals(sent.txnId)).length, 1);
  });

  test('503 while Temporal is unreachable, raw copy kept; PayPal\'s resend is routed once it is back', async (t) => {
    // The same routes as the app's, with a shorter Temporal deadline than production's 8 s, to keep the test quick.
    const proxied = new Client({ connection: proxiedConnection, namespace: temporal.namespace });
    const quick = await listen(paypalRoutes({ config, pool: db.pool, temporal: proxied }, { signal: invoiceSignaller(proxied, taskQueue, { timeoutMs: 2_000 }) }).fetch);
    t.after(() => closeServer(quick.server));
    await temporalProxy.down();
    let sent: SentReport;
    try {
      sent = await sim.pay({ notifyUrl: `${quick.url}/paypal/ipn`, items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false });
      assert.deepEqual(sent.ipns.map((i) => i.httpStatus), [503]);
      const [kept] = await rows("channel = 'ipn' AND txn_id = $1", [sent.txnId]);
      assert.deepEqual([kept?.verification, kept?.outcome], ['verified', 'retry']);
      assert.match(kept?.outcome_detail ?? '', /Temporal could not be reached/);
    } finally {
      await temporalProxy.up();
    }
    const routed = await eventually(async () => (await rows("channel = 'ipn' AND txn_id = $1 AND outcome = 'routed'", [sent.txnId]))[0], 20_000);
    assert.ok(routed);
    assert.equal((await signals(sent.txnId)).length, 1);
  });

  test('503 while Postgres is unreachable, nothing acted on; PayPal\'s resend is stored and routed once it is back', async () => {
    const restore = await db.cut();
    let sent: SentReport;
    try {
      sent = await sim.pay({ notifyUrl: `${api.url}/paypal/ipn`, items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false });
    } finally {
      await restore();
    }
    assert.deepEqual(sent.ipns.map((i) => i.httpStatus), [503], 'not 500: the message was fine, the database was away');
    await eventually(async () => (await rows("channel = 'ipn' AND txn_id = $1 AND outcome = 'routed'", [sent.txnId]))[0], 20_000);
    assert.equal((await signals(sent.txnId)).length, 1);
  });

  test('past PAYPAL_MAX_IN_FLIGHT a message is stored and answered 503 at once; PayPal\'s resends route every one', async (t) => {
    // One message in the works at a time, each held 400 ms by a slow (real) postback.
    const real = createIpnVerifier({ url: config.paypal.ipnVerifyUrl });
    const slow = {
      verify: async (raw: Buffer) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return real.verify(raw);
      },
    };
    const narrow = await listen(paypalRoutes({ config, pool: db.pool, temporal: new Client({ connection: proxiedConnection, namespace: temporal.namespace }) }, { ipnVerifier: slow, maxInFlight: 1 }).fetch);
    t.after(() => closeServer(narrow.server));
    const started = Date.now();
    const sent = await Promise.all([1, 2, 3].map(() => sim.pay({ notifyUrl: `${narrow.url}/paypal/ipn`, items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false })));
    const answers = sent.map((s) => s.ipns[0]!.httpStatus).sort();
    assert.deepEqual(answers, [200, 503, 503], 'one worked on, two shed');
    assert.ok(Date.now() - started < 2_000, 'the shed ones were answered without waiting for the first');
    const txnIds = sent.map((s) => s.txnId);
    const shed = await rows("channel = 'ipn' AND txn_id = ANY($1) AND outcome = 'retry'", [txnIds]);
    // The two shed, and any resend that came while the first was still in the works.
    assert.ok(shed.length >= 2, `${shed.length} shed`);
    for (const row of shed) assert.match(row.outcome_detail ?? '', /^shed: 1 PayPal messages already in the works/);
    for (const txnId of txnIds) {
      assert.ok(await eventually(async () => (await rows("channel = 'ipn' AND txn_id = $1 AND outcome = 'routed'", [txnId]))[0], 20_000), `${txnId} routed after PayPal's resend`);
      assert.equal((await signals(txnId)).length, 1);
    }
  });

  test('a body over 64 KiB is refused with 413 and not stored', async () => {
    const before = (await rows('true', [])).length;
    const response = await fetch(`${api.url}/paypal/ipn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `payment_status=Completed&junk=${'x'.repeat(70 * 1024)}` });
    assert.equal(response.status, 413);
    const hook = await fetch(`${api.url}/paypal/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ junk: 'x'.repeat(70 * 1024) }) });
    assert.equal(hook.status, 413);
    assert.equal((await rows('true', [])).length, before);
  });

  test('the answer says where its time went (Server-Timing), phase by phase', async () => {
    const { txnId, raw } = sim.prepare({ items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], notifyUrl: `${api.url}/paypal/ipn`, webhooks: false });
    const response = await fetch(`${api.url}/paypal/ipn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: raw });
    assert.equal(response.status, 200);
    const entries = (response.headers.get('server-timing') ?? '').split(', ').map((entry) => entry.split(';dur='));
    assert.deepEqual(entries.map(([phase]) => phase), ['read', 'store', 'verify', 'dedupe', 'signal', 'commit']);
    for (const [phase, ms] of entries) assert.match(ms ?? '', /^\d+\.\d$/, `${phase} has a duration in ms`);
    assert.equal((await rows("channel = 'ipn' AND txn_id = $1", [txnId]))[0]?.outcome, 'routed');
  });

  test('the routed mark commits without waiting for the disk, and only in its own transaction', async () => {
    // The test cluster runs with synchronous_commit off for speed; this session asks for it on, as production has it.
    const single = createPool(db.url, { max: 1 });
    try {
      await single.query('SET synchronous_commit = on');
      const txnId = `SYNC${randomUUID().slice(0, 8).toUpperCase()}`;
      const id = await insertRawMessage(single, { channel: 'ipn', raw: Buffer.from(`txn_id=${txnId}`), headers: {}, txnId, dedupeKey: `ipn:${txnId}` });
      // The routing transaction's own connection, to read the setting inside it while the signal is sent.
      let transaction: PoolClient | undefined;
      const watched = Object.assign(Object.create(single) as Pool, { connect: async () => (transaction = await single.connect()) });
      let inside: string | undefined;
      const notification = paymentNotification(txnId, 'sync@example.com', 'Completed', { messageId: id, dedupeKey: `ipn:${txnId}` });
      const routed = await routeOnce(watched, id, notification, invoiceWorkflowId(txnId), async () => {
        inside = (await transaction!.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit;
      }, { verification: 'verified', detail: 'test' });
      assert.deepEqual([routed.outcome, inside], ['routed', 'off'], 'routed, and its commit does not wait for the disk');
      assert.equal((await rows('id = $1', [id]))[0]?.outcome, 'routed');
      // set_config(..., true) lasts until the transaction's end: the pooled session is as it was.
      assert.equal((await single.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit, 'on');
    } finally {
      await single.end();
    }
  });

  test('under load (the bench\'s IPN measurement), every IPN is acknowledged 200 and routed once', async () => {
    const result = await ipnLoad(sim, { notifyUrl: `${api.url}/paypal/ipn`, count: 40, concurrency: 4, itemNumber: 'BOOK-1', amount: '19.95' });
    assert.deepEqual(result.statuses, { 200: 40 });
    assert.ok(result.p50Ms > 0 && result.p99Ms >= result.p50Ms && result.perSecond > 0);
    const { rows: routed } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM paypal_messages WHERE channel = 'ipn' AND outcome = 'routed' AND txn_id = ANY($1)", [result.txnIds]);
    assert.equal(routed[0]?.n, 40);
  });

  describe('webhooks', () => {
    async function deliveredWebhook() {
      const sent = await sim.pay({ items: [{ itemNumber: 'BOOK-1', amount: '19.95' }] });
      const [row] = await rows("channel = 'webhook' AND txn_id = $1", [sent.txnId]);
      assert.ok(row);
      return { sent, row };
    }
    const post = (body: Buffer, headers: Record<string, string>, base = api.url) =>
      fetch(`${base}/paypal/webhook`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    const paypalHeaders = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('paypal-')));

    test('a repeat of the same event id changes nothing', async () => {
      const { sent, row } = await deliveredWebhook();
      const response = await post(row.raw_body, paypalHeaders(row.headers));
      assert.equal(response.status, 200);
      const stored = await rows("channel = 'webhook' AND txn_id = $1", [sent.txnId]);
      assert.deepEqual(stored.map((r) => r.outcome), ['routed', 'duplicate']);
      assert.equal((await signals(sent.txnId)).filter((n) => n.source === 'webhook').length, 1);
    });

    test('one byte changed in the body, or a certificate from elsewhere, is rejected and delivers nothing', async () => {
      const { row } = await deliveredWebhook();
      const forgedTxn = 'FORGEDCAPTURE0001';
      const changed = Buffer.from(row.raw_body.toString('utf8').replaceAll(String(row.txn_id), forgedTxn));
      const ids: number[] = [];
      for (const headers of [paypalHeaders(row.headers), { ...paypalHeaders(row.headers), 'paypal-cert-url': 'https://example.com/cert.pem' }]) {
        const response = await post(changed, headers);
        assert.equal(response.status, 200);
        ids.push(Number(response.headers.get('x-keyship-message-id')));
      }
      const stored = await rows('id = ANY($1)', [ids]);
      assert.deepEqual(stored.map((r) => [r.verification, r.outcome]), [['invalid', 'rejected'], ['invalid', 'rejected']]);
      assert.match(stored[0]?.verification_detail ?? '', /signature does not match/);
      assert.match(stored[1]?.verification_detail ?? '', /not on the PayPal simulator/);
      assert.equal(await workflowExists(forgedTxn), false);
    });

    test('a genuine delivery replayed after the replay window is refused', async () => {
      const { row } = await deliveredWebhook();
      const later = paypalRoutes({ config, pool: db.pool, temporal: temporal.client }, { clock: () => new Date(Date.now() + 4 * 86400_000) });
      const response = await later.request('/paypal/webhook', { method: 'POST', headers: { ...paypalHeaders(row.headers), 'content-type': 'application/json' }, body: row.raw_body });
      assert.equal(response.status, 200);
      const [stored] = await rows('id = $1', [Number(response.headers.get('x-keyship-message-id'))]);
      assert.deepEqual([stored?.verification, stored?.outcome], ['verified', 'rejected']);
      assert.match(stored?.outcome_detail ?? '', /replay refused/);
    });

    test('PayPal\'s online verification endpoint as the alternative', async () => {
      const { row } = await deliveredWebhook();
      const online = loadConfig({ ...configEnv(), PAYPAL_WEBHOOK_VERIFY: 'online', PAYPAL_CLIENT_ID: simulatorClientId, PAYPAL_CLIENT_SECRET: simulatorClientSecret });
      const routes = paypalRoutes({ config: online, pool: db.pool, temporal: temporal.client, paypalRest: restClientFromConfig(online.paypal, () => undefined) });
      const genuine = await routes.request('/paypal/webhook', { method: 'POST', headers: paypalHeaders(row.headers), body: row.raw_body });
      const forged = await routes.request('/paypal/webhook', { method: 'POST', headers: paypalHeaders(row.headers), body: Buffer.from(row.raw_body.toString('utf8').replace('"19.95"', '"0.01"')) });
      const stored = await rows('id = ANY($1)', [[genuine, forged].map((r) => Number(r.headers.get('x-keyship-message-id')))]);
      // The genuine copy verifies and is a duplicate of the delivery already routed.
      assert.deepEqual(stored.map((r) => [r.verification, r.outcome]), [['verified', 'duplicate'], ['invalid', 'rejected']]);
    });
  });

  describe('PDT', () => {
    test('the return page\'s tx is confirmed with _notify-synch and routed; an unknown tx is not', async () => {
      const intakes = createPayPalIntakes({ config, pool: db.pool, temporal: temporal.client }, { signal: invoiceSignaller(temporal.client, taskQueue) });
      assert.ok(intakes.pdt);
      const sent = await sim.pay({ items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], payer: { firstName: 'Zoë' }, webhooks: false });
      const confirmed = await intakes.pdt.confirm(sent.txnId);
      assert.deepEqual([confirmed?.outcome, confirmed?.notification?.source, confirmed?.notification?.payer.firstName], ['routed', 'pdt', 'Zoë']);
      const sources = (await signals(sent.txnId)).map((n) => n.source);
      assert.deepEqual(sources, ['ipn', 'pdt']);
      const unknown = await intakes.pdt.confirm('UNKNOWNTXN000001');
      assert.equal(unknown?.outcome, 'rejected');
      assert.match(unknown?.detail ?? '', /FAIL/);
      assert.equal(await intakes.pdt.confirm('not a txn id!'), undefined);
    });

    test('the status lookup answers a silent pending payment\'s state now, and undefined for an unknown one', async () => {
      const lookup = createPdtStatusLookup({ pdt: createPdtClient({ url: `${sim.url}/cgi-bin/webscr`, identityToken: config.paypal.pdtToken ?? '' }), pool: db.pool });
      const sent = await sim.pay({ method: 'echeck', items: [{ itemNumber: 'BOOK-1', amount: '19.95' }], webhooks: false });
      assert.deepEqual([(await lookup.lookup(sent.txnId))?.status, (await lookup.lookup(sent.txnId))?.pendingReason], ['Pending', 'echeck']);
      await sim.clear(sent.txnId);
      const cleared = await lookup.lookup(sent.txnId);
      assert.deepEqual([cleared?.source, cleared?.status, cleared?.txnId], ['poll', 'Completed', sent.txnId]);
      assert.equal(await lookup.lookup('UNKNOWNTXN000002'), undefined);
      const badToken = createPdtStatusLookup({ pdt: createPdtClient({ url: `${sim.url}/cgi-bin/webscr`, identityToken: 'wrong' }) });
      assert.equal(await badToken.lookup(sent.txnId), undefined);
    });
  });

  function configEnv() {
    return {
      DATABASE_URL: db.url,
      PAYPAL_MODE: 'simulator',
      PAYPAL_SIMULATOR_URL: sim.url,
      TEMPORAL_TASK_QUEUE: taskQueue,
      PAYPAL_RECEIVER_EMAIL: 'seller@keyship.localhost',
    };
  }
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
