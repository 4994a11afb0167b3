// The simulator as its own process (what `npm start` runs) driven by `npm run simulate -- ...`
// (paypal/simulate.ts), against Keyship's intake over real HTTP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import { devTemporal, freePort, freshDatabase, type DevTemporal, type TestDatabase } from './harness';

const root = path.join(__dirname, '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, args, { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run simulate against the simulator process', () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let server: ServerType;
  let simulator: ChildProcess;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    [db, temporal] = await Promise.all([freshDatabase(), devTemporal()]);
    const simPort = await freePort();
    const late: { app?: ReturnType<typeof createApp> } = {};
    server = await new Promise((resolve) => {
      const s = serve({ fetch: (request) => (late.app ? late.app.fetch(request) : new Response('starting', { status: 503 })), port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    env = { PAYPAL_MODE: 'simulator', PAYPAL_SIMULATOR_URL: `http://127.0.0.1:${simPort}`, PUBLIC_URL: apiUrl, DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: `paypal-cli-${randomUUID()}` };
    late.app = createApp({ config: loadConfig(env), pool: db.pool, temporal: temporal.client });
    simulator = spawn(tsx, [path.join('paypal', 'simulator', 'main.ts')], { cwd: root, env: { ...process.env, ...env } });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      simulator.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('listening on')) resolve();
      });
      simulator.on('exit', (code) => reject(new Error(`simulator exited with ${code}: ${out}`)));
    });
  });

  after(async () => {
    if (simulator && simulator.exitCode === null) {
      const exited = new Promise((resolve) => simulator.once('exit', resolve));
      simulator.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await temporal?.close();
    await db?.close();
  });

  test('card, refund, duplicate and forged, each answered by Keyship', async () => {
    const card = await run(['paypal/simulate.ts', 'card', '--item', 'GUIDE-1:19.95', '--first-name', 'Zoë'], env);
    assert.equal(card.code, 0, card.out);
    assert.match(card.out, /IPN #1 Completed: Keyship answered 200/);
    assert.match(card.out, /webhook #1 PAYMENT\.CAPTURE\.COMPLETED: Keyship answered 200/);
    const txnId = /transaction (\w+)/.exec(card.out)?.[1] ?? '';
    const refund = await run(['paypal/simulate.ts', 'refund', txnId], env);
    assert.match(refund.out, /IPN #2 Refunded: Keyship answered 200/);
    const duplicate = await run(['paypal/simulate.ts', 'duplicate', '1'], env);
    assert.match(duplicate.out, /IPN #1 resend: Keyship answered 200/);
    const forged = await run(['paypal/simulate.ts', 'forged', '--item', 'GUIDE-1:19.95'], env);
    assert.match(forged.out, /forged Completed: Keyship answered 200/);
    const { rows } = await db.pool.query<{ payment_status: string; outcome: string }>("SELECT payment_status, outcome FROM paypal_messages WHERE channel = 'ipn' ORDER BY id");
    assert.deepEqual(rows.map((r) => [r.payment_status, r.outcome]), [['Completed', 'routed'], ['Refunded', 'routed'], ['Completed', 'duplicate'], ['Completed', 'rejected']]);
    const unknown = await run(['paypal/simulate.ts', 'refund', 'NOSUCHTXN'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.out, /made no payment NOSUCHTXN/);
  });
});
