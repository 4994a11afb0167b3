// Graceful shutdown of the real processes. The worker, sent SIGTERM while a delivery e-mail is
// stuck mid-send, polls no more but lets that activity finish, then exits 0. The api, sent SIGTERM
// during a slow download, refuses new connections at once and lets the download finish within
// SHUTDOWN_GRACE; past the grace it cuts what is left.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { devTemporal, freePort, freshDatabase, smtpCapture, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { buyerEmail, keysInMail, publicUrl, receiverEmail, seedPackages } from './invoice-fixtures';
import { startKeyship, tcpRelay, testSecrets, until, waitForHttp, writeGuideFiles, type KeyshipProcess, type TcpRelay } from './production-processes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The live child processes of a process, with their command lines (from /proc). */
function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === pid ? [{ pid: Number(name), cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ') }] : [];
      } catch {
        return [];
      }
    });
}

/** ECONNREFUSED (or another connect error) for a new connection to the port, or undefined if it connects. */
function connectError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/**
 * Reads a download at about bytesPerSecond; calls onProgress with the bytes so far. Resolves with
 * what arrived and whether the response ended cleanly (false: the connection was cut).
 */
function throttledDownload(url: string, bytesPerSecond: number, onProgress: (received: number) => void): Promise<{ status: number; received: number; sha256: string; complete: boolean; endedAt: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const hash = createHash('sha256');
        let received = 0;
        let finished = false;
        const finish = (complete: boolean) => {
          if (finished) return;
          finished = true;
          resolve({ status: res.statusCode ?? 0, received, sha256: hash.digest('hex'), complete, endedAt: Date.now() });
        };
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          hash.update(chunk);
          onProgress(received);
          res.pause();
          setTimeout(() => res.resume(), (chunk.length / bytesPerSecond) * 1000);
        });
        res.once('end', () => finish(res.complete));
        res.once('aborted', () => finish(false));
        res.once('error', () => finish(false));
        res.once('close', () => finish(res.complete));
      })
      .once('error', reject);
  });
}

describe('production shape: graceful shutdown', () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let smtp: SmtpCapture;
  let smtpRelay: TcpRelay;
  let sim: Simulator;
  let filesDir: string;
  let env: Record<string, string>;
  let apiPort: number;
  let worker: KeyshipProcess | undefined;
  const apis: KeyshipProcess[] = [];
  const secrets = testSecrets();
  const guideBytes = 32 << 20;
  let guideSha256: string;
  let keys: string[] = [];

  before(async () => {
    [db, temporal, smtp] = await Promise.all([freshDatabase(), devTemporal(), smtpCapture()]);
    await seedPackages(db.pool);
    filesDir = mkdtempSync(path.join(os.tmpdir(), 'keyship-shutdown-'));
    writeGuideFiles(filesDir, guideBytes);
    guideSha256 = createHash('sha256').update(readFileSync(path.join(filesDir, 'guide', 'guide.pdf'))).digest('hex');
    smtpRelay = await tcpRelay(smtp.port);
    apiPort = await freePort();
    sim = await startSimulator({ port: 0, ipnUrl: `http://127.0.0.1:${apiPort}/paypal/ipn`, business: receiverEmail });
    env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: `shutdown-${randomUUID()}`,
      SMTP_URL: `smtp://127.0.0.1:${smtpRelay.port}`,
      PUBLIC_URL: publicUrl,
      PAYPAL_MODE: 'simulator',
      PAYPAL_SIMULATOR_URL: sim.url,
      PAYPAL_RECEIVER_EMAIL: receiverEmail,
      FILES_DIR: filesDir,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      WORKER_METRICS_PORT: '0',
      SHUTDOWN_GRACE: '20s',
      ...secrets,
    };
    apis.push(startKeyship('api', env));
    worker = startKeyship('worker', env);
    await Promise.all([waitForHttp(`http://127.0.0.1:${apiPort}/healthz`, 30_000), worker.waitForLine((l) => l.includes('Keyship worker polling'), 60_000, 'that it polls')]);
    // One purchase delivered normally: its keys are downloaded below.
    const email = buyerEmail('shutdown');
    await sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email } });
    // The delivery and the package's support e-mail: then no activity of it is left running.
    const mails = await smtp.waitForMessages(2, 20_000, (m) => m.envelope.to.includes(email));
    keys = mails.flatMap((m) => keysInMail(m));
    assert.equal(keys.length, 2);
  });

  after(async () => {
    for (const p of [...apis, worker]) p?.kill();
    await Promise.allSettled([...apis, worker].map((p) => p?.exited));
    apis.forEach((p, i) => p.saveLog(`production-shutdown-${i + 1}`));
    worker?.saveLog('production-shutdown');
    await sim?.close();
    await smtpRelay?.close();
    await Promise.all([temporal?.close(), smtp?.close()]);
    await db?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  test('a worker stopped while it bundles its workflows on a first start exits at once, and its bundler with it', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'keyship-bundle-'));
    const starting = startKeyship('worker', { ...env, WORKFLOW_BUNDLE_CACHE: cache });
    try {
      const bundler = await until(async () => childrenOf(starting.child.pid!).find((c) => c.cmdline.includes('workflow-bundle')), 60_000, 'the bundler to start');
      const signalledAt = Date.now();
      starting.child.kill('SIGTERM'); // the worker alone, as a container's runtime signals PID 1
      const exit = await Promise.race([starting.exited, sleep(10_000).then(() => undefined)]);
      assert.ok(exit, 'the worker did not exit within 10 s of SIGTERM while bundling');
      assert.equal(exit.code, 0);
      assert.ok(exit.at - signalledAt < 5_000, `the worker took ${exit.at - signalledAt} ms to stop`);
      await until(async () => (existsSync(`/proc/${bundler.pid}`) ? undefined : true), 10_000, 'the bundler to stop with the worker');
    } finally {
      starting.kill();
      await starting.exited;
      starting.saveLog('production-shutdown-bundling');
      rmSync(cache, { recursive: true, force: true });
    }
  });

  test('the worker drains on SIGTERM: a delivery stuck mid-send finishes once, then the worker exits 0', async () => {
    const w = worker!;
    smtpRelay.hold();
    const email = buyerEmail('drain');
    await sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email } });
    await until(async () => (smtpRelay.held() > 0 ? true : undefined), 20_000, 'the delivery e-mail reaching the SMTP relay');
    w.child.kill('SIGTERM');
    await w.waitForLine((l) => l.includes('"state":"DRAINING"'), 5_000, 'DRAINING');
    await sleep(1_500);
    assert.equal(w.child.exitCode, null, 'the worker waits for the running activity');
    const releasedAt = Date.now();
    smtpRelay.release();
    const exit = await w.exited;
    assert.equal(exit.code, 0, 'a drained worker exits 0');
    assert.ok(exit.at >= releasedAt, 'it exited only after the e-mail could go');
    await smtp.waitForMessages(1, 5_000, (m) => m.envelope.to.includes(email));
    const { rows } = await db.pool.query<{ status: string; attempts: number }>("SELECT status, attempts FROM notifications WHERE to_address = $1 AND kind = 'delivery'", [email]);
    assert.deepEqual(rows, [{ status: 'sent', attempts: 1 }], 'the in-flight attempt finished: not cancelled, not retried');
    assert.ok(w.lines.some((l) => l.text.includes('Keyship worker stopped: drained')));
  });

  test('the api on SIGTERM refuses new connections and lets a slow download finish within the grace period', async () => {
    const api = apis[0]!;
    let signalled = false;
    const download = throttledDownload(`http://127.0.0.1:${apiPort}/d/${keys[0]}`, 8 << 20, (received) => {
      if (!signalled && received > guideBytes / 8) {
        signalled = true;
        api.child.kill('SIGTERM');
      }
    });
    await api.waitForLine((l) => l.includes('SIGTERM: no new connections'), 10_000, 'that it drains');
    assert.equal(await connectError(apiPort), 'ECONNREFUSED', 'a new connection is refused while draining');
    const result = await download;
    assert.deepEqual([result.status, result.complete, result.received, result.sha256], [200, true, guideBytes, guideSha256], 'the whole file arrived intact');
    const exit = await api.exited;
    assert.equal(exit.code, 0);
    // The api is done once the last byte is with the kernel; the slow reader may still be reading.
    const lines = api.json();
    const served = lines.findIndex((l) => l.route === '/d/:key' && l.status === 200);
    assert.ok(served >= 0 && lines[served]!.aborted === undefined, 'the download request was served to its end');
    assert.ok(Number(lines[served]!.ms) > 1_000, 'it was slow: it spanned the SIGTERM');
    assert.ok(lines.findIndex((l) => l.msg === 'Keyship api stopped') > served, 'the api stopped after serving it');
    const { rows } = await db.pool.query<{ bytes_sent: string; completed: boolean }>('SELECT bytes_sent::text, completed FROM download_events WHERE status_code = 200 ORDER BY id DESC LIMIT 1');
    assert.deepEqual(rows, [{ bytes_sent: String(guideBytes), completed: true }], 'the download was recorded complete');
  });

  test('past SHUTDOWN_GRACE the api cuts a download that is still running, and exits', async () => {
    const api = startKeyship('api', { ...env, SHUTDOWN_GRACE: '1s' });
    apis.push(api);
    await waitForHttp(`http://127.0.0.1:${apiPort}/healthz`, 30_000);
    let signalledAt = 0;
    const download = throttledDownload(`http://127.0.0.1:${apiPort}/d/${keys[0]}`, 4 << 20, (received) => {
      if (!signalledAt && received > 2 << 20) {
        signalledAt = Date.now();
        api.child.kill('SIGTERM');
      }
    });
    const result = await download;
    const exit = await api.exited;
    assert.equal(result.complete, false, 'the download was cut');
    assert.ok(result.received < guideBytes);
    assert.equal(exit.code, 0);
    assert.ok(exit.at - signalledAt < 6_000, `the api stopped ${exit.at - signalledAt} ms after SIGTERM, with a grace of 1 s`);
    assert.ok(api.lines.some((l) => l.text.includes('grace period of 1 s over')));
  });
});
