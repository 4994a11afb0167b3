// A process that starts while Postgres is away (restarting, not up yet) waits for it in its
// migrations instead of dying: the run is tried again until Postgres answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { migrate } from '../db/migrate';
import { freePort, freshDatabase, type TestDatabase } from './harness';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase();
});
after(() => db?.close());

test('migrations wait for a Postgres that comes up late, and give up with its error after their time', async () => {
  const target = new URL(db.url);
  const port = await freePort();
  const late = new URL(db.url);
  late.port = String(port);
  // Nothing listens on `port` for the first 1.5 s; then it forwards to the real Postgres.
  let proxy: net.Server | undefined;
  const opens = setTimeout(() => {
    proxy = net.createServer((socket) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    proxy.listen(port, '127.0.0.1');
  }, 1_500);
  try {
    const started = Date.now();
    assert.deepEqual(await migrate(late.toString(), { retryForMs: 20_000 }), [], 'nothing left to run on a migrated database');
    assert.ok(Date.now() - started >= 1_500, 'it waited for Postgres');
  } finally {
    clearTimeout(opens);
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  }
  const away = new URL(db.url);
  away.port = String(await freePort());
  await assert.rejects(migrate(away.toString(), { retryForMs: 1_000 }), /ECONNREFUSED/);
});
