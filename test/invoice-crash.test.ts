// Kills the worker (SIGKILL, no goodbye) while it is sending the delivery e-mail, starts another,
// and checks that the buyer ends up with exactly one delivery e-mail and one set of keys.
// The SMTP server here holds the first message's DATA unanswered, so the kill lands inside the
// delivery activity every time, after the keys were written and before any e-mail was accepted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { devTemporal, freePort, freshDatabase, type DevTemporal, type TestDatabase } from './harness';
import { queryInvoiceState, signalInvoice } from '../domain/invoice-client';
import { buyerEmail, keysInMail, newTxnId, notification, seedPackages } from './invoice-fixtures';

let db: TestDatabase;
let temporal: DevTemporal;
const children: ChildProcess[] = [];

before(async () => {
  [db, temporal] = await Promise.all([freshDatabase(), devTemporal()]);
  await seedPackages(db.pool);
});
after(async () => {
  const alive = children.filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(alive.map((child) => new Promise((resolve) => child.once('exit', resolve).kill('SIGKILL'))));
  await Promise.all([db.close(), temporal.close()]);
});

/** An SMTP server that never answers the first message's DATA (the kill comes meanwhile). */
async function stallingSmtp() {
  const accepted: { to: string[]; parsed: ParsedMail }[] = [];
  let stalledOnce = false;
  let onStall: () => void = () => undefined;
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (!stalledOnce) {
          stalledOnce = true;
          onStall();
          return; // no answer: the sender waits until it dies
        }
        simpleParser(Buffer.concat(chunks)).then((parsed) => {
          accepted.push({ to: session.envelope.rcptTo.map((r) => r.address), parsed });
          callback();
        }, callback);
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return { url: `smtp://127.0.0.1:${port}`, accepted, stalled, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'invoice-crash-worker.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the crash-test worker did not start within 60 s')), 60_000);
    child.stdout!.on('data', (data: Buffer) => {
      if (data.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`the crash-test worker exited with ${code} before it was ready`)));
  });
}

test('a worker killed mid-delivery leaves one delivery e-mail and one set of keys', { timeout: 120_000 }, async () => {
  const smtp = await stallingSmtp();
  try {
    const taskQueue = `invoice-crash-${randomUUID()}`;
    const env = { CRASH_DATABASE_URL: db.url, CRASH_TEMPORAL_ADDRESS: temporal.address, CRASH_TASK_QUEUE: taskQueue, CRASH_SMTP_URL: smtp.url };
    const first = await startWorker(env);
    const txnId = newTxnId();
    const email = buyerEmail('crash');
    await signalInvoice(temporal.client, taskQueue, notification(txnId, email, 'Completed'));
    await smtp.stalled;
    const keysBefore = await db.pool.query('SELECT count(*)::int AS n FROM download_keys k JOIN invoices i ON i.id = k.invoice_id WHERE i.txn_id = $1', [txnId]);
    assert.equal(keysBefore.rows[0].n, 2, 'the keys were written before the e-mail');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    await startWorker(env);
    const deadline = Date.now() + 60_000;
    let status: string | undefined;
    while (Date.now() < deadline && status !== 'fulfilled') {
      status = (await queryInvoiceState(temporal.client, txnId).catch(() => undefined))?.status;
      if (status !== 'fulfilled') await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(status, 'fulfilled', 'the second worker finished the delivery');

    const deliveries = smtp.accepted.filter((m) => m.to.includes(email) && /^Your download:/.test(m.parsed.subject ?? ''));
    assert.equal(deliveries.length, 1, 'exactly one delivery e-mail');
    const keys = keysInMail(deliveries[0]!);
    const { rows } = await db.pool.query<{ key_hash: Buffer; generation: number }>(
      'SELECT k.key_hash, k.generation FROM download_keys k JOIN invoices i ON i.id = k.invoice_id WHERE i.txn_id = $1',
      [txnId],
    );
    assert.equal(rows.length, 2, 'one set of keys');
    assert.deepEqual(rows.map((r) => r.key_hash.toString('hex')).sort(), keys.map((k) => createHash('sha256').update(k).digest('hex')).sort(), 'the e-mailed keys are the stored ones');
    const sent = await db.pool.query("SELECT status, attempts FROM notifications WHERE kind = 'delivery' AND to_address = $1", [email]);
    assert.deepEqual(sent.rows, [{ status: 'sent', attempts: 2 }], 'one e-mail record, sent on the second attempt');
  } finally {
    await smtp.close();
  }
});
