// The api and the worker as they run in production (their own processes, JSON logs on stdout):
// /healthz, /readyz with Postgres up and then unreachable, a full purchase through the PayPal
// simulator with one refused SMTP attempt, downloads, the api's and the worker's /metrics, and
// every log line searched for the issued keys and the secrets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import { devTemporal, freePort, freshDatabase, smtpCapture, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { buyerEmail, keysInMail, publicUrl, receiverEmail, seedPackages } from './invoice-fixtures';
import { startKeyship, tcpRelay, testSecrets, until, waitForHttp, writeGuideFiles, type KeyshipProcess, type TcpRelay } from './production-processes';

/** The value of one sample in Prometheus text, e.g. sample(text, 'x_total{a="b"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('production shape: health, metrics and logs of the real processes', () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let smtp: SmtpCapture;
  let sim: Simulator;
  let pgRelay: TcpRelay;
  let api: KeyshipProcess;
  let worker: KeyshipProcess;
  let apiUrl: string;
  let workerMetricsUrl: string;
  let filesDir: string;
  const secrets = testSecrets();
  const guideBytes = 1 << 20;

  before(async () => {
    [db, temporal, smtp] = await Promise.all([freshDatabase(), devTemporal(), smtpCapture()]);
    await seedPackages(db.pool);
    filesDir = mkdtempSync(path.join(os.tmpdir(), 'keyship-production-'));
    writeGuideFiles(filesDir, guideBytes);
    const [apiPort, metricsPort] = await Promise.all([freePort(), freePort()]);
    apiUrl = `http://127.0.0.1:${apiPort}`;
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    sim = await startSimulator({ port: 0, ipnUrl: `${apiUrl}/paypal/ipn`, webhookUrl: `${apiUrl}/paypal/webhook`, business: receiverEmail });
    // The api reaches Postgres through a relay the test can cut.
    const dbPort = Number(new URL(db.url).port);
    pgRelay = await tcpRelay(dbPort);
    const relayedUrl = new URL(db.url);
    relayedUrl.port = String(pgRelay.port);
    const env = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: `production-${randomUUID()}`,
      SMTP_URL: smtp.url,
      PUBLIC_URL: publicUrl,
      PAYPAL_MODE: 'simulator',
      PAYPAL_SIMULATOR_URL: sim.url,
      PAYPAL_RECEIVER_EMAIL: receiverEmail,
      FILES_DIR: filesDir,
      LOG_LEVEL: 'debug', // every line the processes can write is searched
      SHUTDOWN_GRACE: '10s',
      ...secrets,
    };
    api = startKeyship('api', { ...env, DATABASE_URL: relayedUrl.toString(), API_HOST: '127.0.0.1', API_PORT: String(apiPort) });
    worker = startKeyship('worker', { ...env, DATABASE_URL: db.url, WORKER_METRICS_PORT: String(metricsPort) });
    await Promise.all([waitForHttp(`${apiUrl}/healthz`, 30_000), worker.waitForLine((l) => l.includes('Keyship worker polling'), 60_000, 'that it polls')]);
  });

  after(async () => {
    api?.kill();
    worker?.kill();
    await Promise.allSettled([api?.exited, worker?.exited]);
    api?.saveLog('production-observability');
    worker?.saveLog('production-observability');
    await sim?.close();
    await pgRelay?.close();
    await Promise.all([temporal?.close(), smtp?.close()]);
    await db?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  test('a purchase, metrics, readiness, and logs that carry the invoice but never a key or a secret', async () => {
    // ---- health
    assert.equal((await fetch(`${apiUrl}/healthz`)).status, 200);
    const ready = await fetch(`${apiUrl}/readyz`);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready', postgres: 'ok', temporal: 'ok' }]);

    // ---- a purchase whose first delivery attempt the SMTP server refuses
    smtp.refusing = true;
    const email = buyerEmail('production');
    const paid = await sim.pay({ items: [{ itemNumber: 'GUIDE-1', itemName: 'Field Guide', amount: '19.95' }], payer: { email, firstName: 'Ada' } });
    const workflowId = invoiceWorkflowId(paid.txnId);
    await until(async () => ((await db.pool.query("SELECT 1 FROM notifications WHERE status = 'failed' AND to_address = $1", [email])).rowCount ? true : undefined), 20_000, 'a refused delivery e-mail');
    smtp.refusing = false;
    const [mail] = await smtp.waitForMessages(1, 20_000, (m) => m.envelope.to.includes(email) && /\/d\//.test(m.parsed.text ?? ''));
    const keys = keysInMail(mail!);
    assert.equal(keys.length, 2, 'two files, two keys');
    const { rows } = await db.pool.query<{ number: string }>('SELECT number FROM invoices WHERE txn_id = $1', [paid.txnId]);
    const invoiceNumber = rows[0]!.number;

    // ---- both files downloaded from the api
    let downloaded = 0;
    for (const key of keys) {
      const response = await fetch(`${apiUrl}/d/${key}`);
      assert.equal(response.status, 200);
      downloaded += (await response.arrayBuffer()).byteLength;
    }
    assert.equal(downloaded, guideBytes + 2048);

    // ---- the api's /metrics
    const apiMetrics = await until(
      async () => {
        const text = await (await fetch(`${apiUrl}/metrics`)).text();
        return sample(text, 'keyship_download_bytes_total') === downloaded ? text : undefined;
      },
      5_000,
      `keyship_download_bytes_total reaching ${downloaded}`,
    );
    assert.ok((sample(apiMetrics, 'keyship_http_requests_total{method="POST",route="/paypal/ipn",status="200"}') ?? 0) >= 1, apiMetrics);
    assert.equal(sample(apiMetrics, 'keyship_http_requests_total{method="GET",route="/d/:key",status="200"}'), 2);
    assert.ok((sample(apiMetrics, 'keyship_paypal_notifications_total{source="ipn",outcome="routed"}') ?? 0) >= 1);
    assert.ok((sample(apiMetrics, 'keyship_paypal_notifications_total{source="webhook",outcome="routed"}') ?? 0) >= 1);
    assert.equal(sample(apiMetrics, 'keyship_downloads_total{completed="true"}'), 2);
    assert.match(apiMetrics, /^keyship_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/healthz"\} \d+$/m);
    assert.match(apiMetrics, /^process_resident_memory_bytes \d+/m);

    // ---- the worker's /metrics: the Temporal SDK's and Keyship's own
    const workerMetrics = await (await fetch(workerMetricsUrl)).text();
    assert.equal(sample(workerMetrics, 'keyship_deliveries_total{purpose="delivery"}'), 1, workerMetrics);
    assert.ok((sample(workerMetrics, 'keyship_email_failures_total') ?? 0) >= 1, 'the refused attempt is counted');
    for (const series of ['temporal_worker_task_slots_available', 'temporal_activity_execution_latency_bucket', 'temporal_workflow_task_execution_latency_bucket']) {
      assert.match(workerMetrics, new RegExp(`^${series}\\{`, 'm'), `${series} missing`);
    }

    // ---- Postgres unreachable: not ready, and it says which
    await pgRelay.cut();
    const notReady = await fetch(`${apiUrl}/readyz`);
    const body = (await notReady.json()) as { status: string; down: string[]; postgres: string; temporal: string };
    assert.equal(notReady.status, 503);
    assert.deepEqual([body.status, body.down, body.temporal], ['not ready', ['Postgres'], 'ok']);
    assert.match(body.postgres, /^unreachable: /);

    // ---- stop both; then read every line they wrote
    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    const [apiExit, workerExit] = await Promise.all([api.exited, worker.exited]);
    assert.deepEqual([apiExit.code, workerExit.code], [0, 0]);

    const everything = [...api.lines, ...worker.lines];
    const notJson = everything.filter((l) => l.stream === 'stdout' && !/^\{.*\}$/.test(l.text));
    assert.deepEqual(notJson, [], 'every stdout line is a JSON object');
    const forbidden = { ...Object.fromEntries(keys.map((k, i) => [`download key ${i + 1}`, k])), ...secrets };
    for (const { text } of everything) {
      for (const [what, value] of Object.entries(forbidden)) assert.ok(!text.includes(value), `a log line holds the ${what}: ${text}`);
    }
    const logged = [...api.json(), ...worker.json()];
    // The download request lines were written with the key in their path, and redacted.
    assert.equal(logged.filter((l) => l.route === '/d/:key' && l.path === '/d/[redacted]').length, 2);

    const text = (l: Record<string, unknown>) => JSON.stringify(l);
    const aboutInvoice = logged.filter((l) => l.workflowId === workflowId || text(l).includes(paid.txnId) || text(l).includes(invoiceNumber));
    for (const line of aboutInvoice) assert.equal(line.workflowId, workflowId, `a line about the invoice without its workflow id: ${text(line)}`);
    for (const line of aboutInvoice.filter((l) => String(l.msg).includes(invoiceNumber))) {
      assert.equal(line.invoiceNumber, invoiceNumber, `a line naming the invoice without its number field: ${text(line)}`);
    }
    const withBoth = aboutInvoice.filter((l) => l.invoiceNumber === invoiceNumber);
    const sendKeysLines = aboutInvoice.filter((l) => l.activityType === 'sendKeys');
    assert.ok(sendKeysLines.length >= 2, 'the delivery activity logs (started, failed, completed)');
    for (const line of sendKeysLines) assert.equal(line.invoiceNumber, invoiceNumber, `an activity line without the invoice number: ${text(line)}`);
    assert.ok(withBoth.some((l) => l.component === 'workflow'), 'the workflow logs with the invoice number');
    assert.ok(aboutInvoice.some((l) => l.service === 'api' && l.route === '/paypal/ipn'), 'the api logs the IPN with the workflow id');
    assert.ok(sendKeysLines.some((l) => l.level === 'warn' && typeof l.err === 'object'), 'the refused attempt is logged as a warning with its error');
  });
});
