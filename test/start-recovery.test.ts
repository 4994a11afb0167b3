// The whole fault, as a user of `npm start` meets it: purchases under way, Postgres killed with
// SIGKILL, then the worker, then the whole stack stopped and started again. The launcher restarts
// what died, the simulator keeps resending what Keyship refused meanwhile (across the restart too),
// and every purchase ends fulfilled with exactly one delivery e-mail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import pg from 'pg';
import { demoPackage } from '../catalog/demo-seed';
import { launchStack, processesUnder, stackPorts } from './harness/launcher';

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The pid of the launcher's child whose command line matches. */
function childPid(dataDir: string, match: (cmdline: string) => boolean): number | undefined {
  return processesUnder(dataDir, match)[0]?.pid;
}

test('a SIGKILLed Postgres and worker and a full restart lose no purchase and deliver each once', { timeout: 600_000 }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'keyship-heal-'));
  chmodSync(dataDir, 0o755);
  const ports = await stackPorts();
  const simulator = `http://127.0.0.1:${ports.PAYPAL_SIMULATOR_PORT}`;
  const buyers: string[] = [];
  const txnOf = new Map<string, string>();
  const buy = async (label: string) => {
    const email = `buyer-${label}@example.com`;
    buyers.push(email);
    const response = await fetch(`${simulator}/sim/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'card', items: [{ itemNumber: demoPackage.itemNumber, amount: demoPackage.price }], payer: { email } }),
      signal: AbortSignal.timeout(60_000),
    });
    assert.equal(response.status, 200, `the simulator refused purchase ${label}`);
    const { txnId } = (await response.json()) as { txnId: string };
    txnOf.set(email, txnId);
  };
  const timings: Record<string, number> = {};
  let stack = launchStack(dataDir, ports);
  try {
    await until('the first start', 240_000, () => stack.output().includes('Keyship is running'));
    for (let i = 0; i < 4; i++) await buy(`a${i}`);

    const postgres = childPid(dataDir, (c) => /\bpostgres -D\b/.test(c));
    assert.ok(postgres, 'the launcher started no Postgres under the data folder');
    const killedAt = Date.now();
    process.kill(postgres, 'SIGKILL');
    for (let i = 0; i < 4; i++) await buy(`b${i}`); // answered 503 while Postgres is away, or queued
    await until('the launcher to notice and restart Postgres', 120_000, () => /postgres exited unexpectedly \(killed by SIGKILL\)[\s\S]*postgres is back/.test(stack.output()));
    assert.match(stack.output(), /services: postgres restarting, /, 'the launcher lists the services as they are');
    await until('the list to show Postgres running again', 30_000, () => /services: postgres running, [\s\S]*$/.test(stack.output().split('postgres is back')[1] ?? ''));
    await until('the api to be ready again', 120_000, async () => (await fetch(`http://127.0.0.1:${ports.API_PORT}/readyz`)).ok);
    timings.postgresBackMs = Date.now() - killedAt;

    const worker = childPid(dataDir, (c) => c.includes(path.join('worker', 'main.ts')));
    assert.ok(worker, 'no worker process found');
    process.kill(worker, 'SIGKILL');
    for (let i = 0; i < 4; i++) await buy(`c${i}`);
    await until('the launcher to restart the worker', 120_000, () => /worker exited unexpectedly \(killed by SIGKILL\)[\s\S]*worker is back/.test(stack.output()));

    // Postgres away again, purchases refused, and the stack stopped before the simulator's resends
    // get through: they are owed across the restart.
    process.kill(childPid(dataDir, (c) => /\bpostgres -D\b/.test(c))!, 'SIGKILL');
    for (let i = 0; i < 3; i++) await buy(`d${i}`);
    assert.equal(await stack.stop(), 0, `the launcher did not stop cleanly:\n${stack.output()}`);

    // A full restart: what the simulator still owes goes out again after it.
    const restartedAt = Date.now();
    stack = launchStack(dataDir, ports);
    await until('the second start', 240_000, () => stack.output().includes('Keyship is running'));
    assert.match(stack.output(), /\[paypal-simulator\] restored \d+ payments from .*; [1-9]\d* deliveries still owed/);

    const db = new pg.Client({ connectionString: `postgres://keyship@127.0.0.1:${ports.POSTGRES_PORT}/keyship` });
    await db.connect();
    try {
      await until('every purchase to be fulfilled', 300_000, async () => {
        const { rows } = await db.query<{ txn_id: string; status: string }>(
          `SELECT txn_id, status FROM invoices WHERE txn_id = ANY($1)`,
          [[...txnOf.values()]],
        );
        return rows.length === txnOf.size && rows.every((r) => r.status === 'fulfilled') ? rows : undefined;
      });
      timings.allFulfilledAfterRestartMs = Date.now() - restartedAt;
      // Give a late duplicate the chance to show itself before the e-mails are counted.
      await new Promise((r) => setTimeout(r, 5_000));

      const deliveries = await until('one delivery e-mail per buyer', 120_000, async () => {
        const mailDir = path.join(dataDir, 'mail');
        const counts = new Map<string, number>();
        for (const file of existsSync(mailDir) ? readdirSync(mailDir).filter((f) => f.endsWith('.eml')) : []) {
          const mail = await simpleParser(readFileSync(path.join(mailDir, file)));
          const to = (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));
          if (!/^Your download:/.test(mail.subject ?? '') || !(mail.text ?? '').includes('/d/')) continue;
          for (const address of to) counts.set(address, (counts.get(address) ?? 0) + 1);
        }
        return buyers.every((b) => counts.has(b)) ? counts : undefined;
      });
      for (const buyer of buyers) assert.equal(deliveries.get(buyer), 1, `${buyer} got ${deliveries.get(buyer)} delivery e-mails`);
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM invoices WHERE status = 'fulfilled'`);
      assert.equal(rows[0]!.n, buyers.length, 'one invoice per purchase');
    } finally {
      await db.end();
    }
    console.log(`recovery: Postgres ready again ${timings.postgresBackMs} ms after its SIGKILL; all ${buyers.length} purchases fulfilled ${timings.allFulfilledAfterRestartMs} ms after the full restart began`);
  } catch (error) {
    throw new Error(`${String(error)}\n--- launcher output (last 6000 characters) ---\n${stack.output().slice(-6000)}`);
  } finally {
    await stack.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
