// GET/HEAD /d/:key over real HTTP against the real app and a fresh Postgres database: statuses,
// headers, Range and If-Range, the counting rule, the download log, traversal and symlink escapes,
// and the per-address rate limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdir, mkdtemp, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase, type TestDatabase } from './harness';
import { insertPurchase, type Purchase } from './fixtures/downloads';
import { startTestApi, type TestApi } from './fixtures/api-server';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

interface KeyState {
  download_count: number;
  bytes_charged: number;
}

interface EventRow {
  status_code: number;
  bytes_sent: string;
  completed: boolean;
  counted: boolean;
  finished_at: Date | null;
  remote_addr: string;
  user_agent: string | null;
  range_header: string | null;
  served_by: string;
  refused: string | null;
}

describe('keyed downloads over HTTP', () => {
  let db: TestDatabase;
  let api: TestApi;

  before(async () => {
    db = await freshDatabase();
    api = await startTestApi({ pool: db.pool, env: { DOWNLOAD_RATE_LIMIT: '0' } });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  const buy = (options: Parameters<typeof insertPurchase>[2] = {}) => insertPurchase(db.pool, api.filesDir, options);
  const get = (urlPath: string, headers: Record<string, string> = {}, method = 'GET') => fetch(api.url + urlPath, { method, headers });
  const keyState = async (keyId: number) => (await db.pool.query<KeyState>('SELECT download_count, bytes_charged FROM download_keys WHERE id = $1', [keyId])).rows[0]!;
  /** The log entries of a key once every transfer has been settled (the api settles after the response). */
  const settledEvents = async (keyId: number, count: number): Promise<EventRow[]> => {
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.pool.query<EventRow>('SELECT * FROM download_events WHERE download_key_id = $1 ORDER BY id', [keyId]);
      if (rows.length >= count && rows.every((r) => r.finished_at !== null)) return rows;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`key ${keyId} did not get ${count} settled download events`);
  };

  test('a paid key gets the file with its name, type, length and validators, and the download is logged', async () => {
    const purchase = await buy({ files: [{ name: 'Ünïcode report "2026"; final.pdf', contentType: 'application/pdf' }] });
    const file = purchase.files[0]!;
    const response = await get(file.url, { 'user-agent': 'keyship-test/1' });
    assert.equal(response.status, 200);
    const body = Buffer.from(await response.arrayBuffer());
    assert.equal(md5(body), file.md5);
    assert.equal(response.headers.get('content-length'), String(file.content.length));
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    assert.equal(response.headers.get('accept-ranges'), 'bytes');
    assert.equal(
      response.headers.get('content-disposition'),
      `attachment; filename="_n_code report _2026__ final.pdf"; filename*=UTF-8''%C3%9Cn%C3%AFcode%20report%20%222026%22%3B%20final.pdf`,
    );
    assert.match(response.headers.get('etag') ?? '', /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.ok(!Number.isNaN(Date.parse(response.headers.get('last-modified') ?? '')));
    const [event] = await settledEvents(file.keyId, 1);
    assert.equal(event!.status_code, 200);
    assert.equal(Number(event!.bytes_sent), file.content.length);
    assert.equal(event!.completed, true);
    assert.equal(event!.counted, true);
    assert.equal(event!.remote_addr, '127.0.0.1');
    assert.equal(event!.user_agent, 'keyship-test/1');
    assert.equal(event!.served_by, 'api');
    assert.equal((await keyState(file.keyId)).download_count, 1);
  });

  test('HEAD answers the same headers, no body, and neither counts nor logs', async () => {
    const file = (await buy({ downloadLimit: 1 })).files[0]!;
    const response = await get(file.url, {}, 'HEAD');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-length'), String(file.content.length));
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename=book.pdf', 'a plain ASCII name is a token, sent as is');
    assert.equal((await response.arrayBuffer()).byteLength, 0);
    const ranged = await get(file.url, { range: 'bytes=10-19' }, 'HEAD');
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 10-19/${file.content.length}`);
    assert.equal(ranged.headers.get('content-length'), '10');
    assert.deepEqual(await keyState(file.keyId), { download_count: 0, bytes_charged: 0 });
    const { rows } = await db.pool.query('SELECT 1 FROM download_events WHERE download_key_id = $1', [file.keyId]);
    assert.equal(rows.length, 0);
  });

  test('Range: one range is 206 with Content-Range; suffix and open ranges; past the end is 416; several ranges get the whole file', async () => {
    const file = (await buy()).files[0]!;
    const size = file.content.length;
    const cases: [string, number, [number, number] | undefined][] = [
      ['bytes=0-99', 206, [0, 99]],
      ['bytes=1000-', 206, [1000, size - 1]],
      ['bytes=-500', 206, [size - 500, size - 1]],
      ['bytes=100-99999999', 206, [100, size - 1]],
      ['bytes=0-0,10-20', 200, undefined],
      ['bytes=50-10', 200, undefined],
      ['items=0-10', 200, undefined],
    ];
    for (const [range, status, span] of cases) {
      const response = await get(file.url, { range });
      assert.equal(response.status, status, range);
      const body = Buffer.from(await response.arrayBuffer());
      if (span) {
        assert.equal(response.headers.get('content-range'), `bytes ${span[0]}-${span[1]}/${size}`, range);
        assert.ok(body.equals(file.content.subarray(span[0], span[1] + 1)), range);
      } else {
        assert.equal(response.headers.get('content-range'), null, range);
        assert.equal(body.length, size, range);
      }
    }
    const beyond = await get(file.url, { range: `bytes=${size}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${size}`);
  });

  test('If-Range: our ETag or Last-Modified keeps the Range; another validator sends the whole file', async () => {
    const file = (await buy()).files[0]!;
    const head = await get(file.url, {}, 'HEAD');
    const etag = head.headers.get('etag')!;
    const modified = head.headers.get('last-modified')!;
    for (const [ifRange, status] of [
      [etag, 206],
      [modified, 206],
      ['"0-0"', 200],
      [`W/${etag}`, 200],
      [new Date(Date.parse(modified) - 1000).toUTCString(), 200],
    ] as const) {
      const response = await get(file.url, { range: 'bytes=5-9', 'if-range': ifRange });
      assert.equal(response.status, status, ifRange);
      await response.arrayBuffer();
    }
  });

  test('an interrupted download resumed with Range gives a byte-identical file, and both together use one download', async () => {
    const content = randomBytes(40 * 1024 * 1024 + 7);
    const purchase = await buy({ downloadLimit: 1, files: [{ name: 'video.mp4', content }] });
    const file = purchase.files[0]!;
    // First attempt: the connection drops after about 5 MiB.
    const head = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const request = http.get(api.url + file.url, (response) => {
        assert.equal(response.statusCode, 200);
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (received >= 5 * 1024 * 1024) {
            response.pause();
            request.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
      });
      request.on('error', (error) => (received >= 5 * 1024 * 1024 ? undefined : reject(error)));
    });
    const [broken] = await settledEvents(file.keyId, 1);
    assert.equal(broken!.completed, false);
    assert.ok(Number(broken!.bytes_sent) >= head.length && Number(broken!.bytes_sent) < content.length, `bytes_sent ${broken!.bytes_sent}`);
    const afterBreak = await keyState(file.keyId);
    assert.equal(afterBreak.bytes_charged, Number(broken!.bytes_sent), 'only the bytes sent are charged');

    // The resume asks for the rest.
    const rest = await get(file.url, { range: `bytes=${head.length}-`, 'if-range': (await get(file.url, {}, 'HEAD')).headers.get('etag')! });
    assert.equal(rest.status, 206);
    const whole = Buffer.concat([head, Buffer.from(await rest.arrayBuffer())]);
    assert.equal(md5(whole), file.md5);
    const events = await settledEvents(file.keyId, 2);
    assert.equal(events[1]!.completed, true);
    assert.equal(events[1]!.range_header, `bytes=${head.length}-`);
    assert.equal((await keyState(file.keyId)).download_count, 1);

    // That was the one download this key allows: a new full download is refused.
    const again = await get(file.url);
    assert.equal(again.status, 410);
    assert.match(await again.text(), /used up/);
  });

  test('downloads are counted in bytes: two halves use one download; splitting into ranges does not get past the limit', async () => {
    const file = (await buy({ downloadLimit: 2 })).files[0]!;
    const size = file.content.length;
    const half = Math.floor(size / 2);
    for (const range of [`bytes=0-${half - 1}`, `bytes=${half}-`]) {
      const response = await get(file.url, { range });
      assert.equal(response.status, 206);
      await response.arrayBuffer();
    }
    await settledEvents(file.keyId, 2);
    assert.equal((await keyState(file.keyId)).download_count, 1);
    const second = await get(file.url);
    assert.equal(second.status, 200);
    await second.arrayBuffer();
    await settledEvents(file.keyId, 3);
    assert.equal((await keyState(file.keyId)).download_count, 2);
    // No more whole copies; ranges get at most what is left of the allowance, then nothing.
    assert.equal((await get(file.url)).status, 410);
    let extra = 0;
    for (let i = 0; i < 10; i++) {
      const response = await get(file.url, { range: 'bytes=1-' });
      if (response.status !== 206) {
        assert.equal(response.status, 410);
        break;
      }
      extra += (await response.arrayBuffer()).byteLength;
    }
    assert.ok(extra < size, `a key with a limit of 2 sent ${extra} bytes beyond two copies`);
    const refused = (await settledEvents(file.keyId, 4)).filter((e) => e.refused);
    assert.ok(refused.length >= 2 && refused.every((e) => e.refused === 'exhausted' && e.status_code === 410));
  });

  test('parallel requests cannot slip past the limit', async () => {
    const file = (await buy({ downloadLimit: 1 })).files[0]!;
    const responses = await Promise.all(Array.from({ length: 6 }, () => get(file.url)));
    const statuses = responses.map((r) => r.status).sort();
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    assert.deepEqual(statuses, [200, 410, 410, 410, 410, 410]);
  });

  test('a key revoked or refunded right after a download is refused at once, though the api keeps its row a few seconds', async () => {
    for (const [sql, status, text] of [
      ["UPDATE download_keys SET revoked_at = now(), revoked_reason = 'regenerated' WHERE id = $1", 403, /newer link/],
      ["UPDATE invoices SET status = 'refunded' WHERE id = (SELECT invoice_id FROM download_keys WHERE id = $1)", 403, /refunded/],
      ["UPDATE download_keys SET expires_at = now() - interval '1 second' WHERE id = $1", 410, /expired/],
    ] as const) {
      const file = (await buy()).files[0]!;
      const first = await get(file.url);
      assert.equal(first.status, 200);
      await first.arrayBuffer();
      await db.pool.query(sql, [file.keyId]);
      const again = await get(file.url);
      assert.equal(again.status, status, sql);
      assert.match(await again.text(), text);
    }
  });

  test('unknown, malformed, expired, revoked, replaced, refunded, disputed and unpaid keys get a page with the right status', async () => {
    const expired = (await buy({ expiresAt: new Date(Date.now() - 60_000), selfService: true })).files[0]!;
    const revoked = (await buy({ revokedReason: 'refunded', status: 'refunded' })).files[0]!;
    const replaced = (await buy({ revokedReason: 'regenerated' })).files[0]!;
    const unpaid = (await buy({ status: 'awaiting_payment', pendingReason: 'echeck' })).files[0]!;
    const review = (await buy({ status: 'needs_review' })).files[0]!;
    const disputed = (await buy({ status: 'disputed' })).files[0]!;
    const cases: [string, number, RegExp][] = [
      [`/d/${randomBytes(32).toString('base64url')}`, 404, /not valid/],
      ['/d/short', 404, /not valid/],
      [expired.url, 410, /expired[\s\S]*E-mail me a fresh link/],
      [revoked.url, 403, /refunded/],
      [replaced.url, 403, /newer link/],
      [unpaid.url, 403, /not yet told us that your payment cleared/],
      [review.url, 403, /checked by a person/],
      [disputed.url, 403, /This download is paused[\s\S]*A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it/],
    ];
    for (const [url, status, text] of cases) {
      const response = await get(url);
      assert.equal(response.status, status, url);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      const html = await response.text();
      assert.match(html, text, url);
      assert.match(html, /<form[^>]+action="\/d\/request"/, `${url} offers the request form`);
    }
    const { rows } = await db.pool.query<{ refused: string; status_code: number }>(
      'SELECT refused, status_code FROM download_events WHERE download_key_id = ANY($1) ORDER BY id',
      [[expired.keyId, revoked.keyId, unpaid.keyId, disputed.keyId]],
    );
    assert.deepEqual(rows, [
      { refused: 'expired', status_code: 410 },
      { refused: 'revoked', status_code: 403 },
      { refused: 'unpaid', status_code: 403 },
      { refused: 'suspended', status_code: 403 },
    ]);
  });

  test('files come only from the store: traversal, absolute paths and symlinks out of it are refused', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'keyship-outside-'));
    await writeFile(path.join(outside, 'secret.txt'), 'not for sale');
    await mkdir(path.join(api.filesDir, 'links'), { recursive: true });
    await symlink(path.join(outside, 'secret.txt'), path.join(api.filesDir, 'links', 'secret.txt'));
    await symlink(outside, path.join(api.filesDir, 'links', 'dir'));
    const storagePaths = [`../${path.basename(outside)}/secret.txt`, path.join(outside, 'secret.txt'), 'links/secret.txt', 'links/dir/secret.txt', 'missing/file.bin'];
    for (const storagePath of storagePaths) {
      const file = (await buy({ files: [{ name: 'x.bin', storagePath, write: false }] })).files[0]!;
      const response = await get(file.url);
      assert.equal(response.status, 500, storagePath);
      const html = await response.text();
      assert.doesNotMatch(html, /not for sale/);
      assert.match(html, /missing from our file store/);
      assert.equal((await keyState(file.keyId)).bytes_charged, 0, `${storagePath} costs nothing`);
    }
    // A link inside the store to a file inside the store is fine.
    const inside = (await buy()).files[0]!;
    const target = (await db.pool.query<{ storage_path: string }>('SELECT storage_path FROM package_files WHERE id = $1', [inside.fileId])).rows[0]!.storage_path;
    await symlink(path.join(api.filesDir, target), path.join(api.filesDir, 'links', 'inside.bin'));
    const linked = (await buy({ files: [{ name: 'inside.bin', storagePath: 'links/inside.bin', write: false }] })).files[0]!;
    const ok = await get(linked.url);
    assert.equal(ok.status, 200);
    assert.equal(md5(Buffer.from(await ok.arrayBuffer())), inside.md5);
    // And the key itself is never a path.
    for (const probe of ['/d/..%2F..%2Fetc%2Fpasswd', '/d/%2e%2e', '/d/....//....//etc/passwd']) {
      const response = await get(probe);
      assert.ok([404].includes(response.status), `${probe}: ${response.status}`);
      assert.doesNotMatch(await response.text(), /root:/);
    }
  });

  test('a file changed on disk gets new validators, so an old If-Range restarts from the beginning', async () => {
    const file = (await buy()).files[0]!;
    const etag = (await get(file.url, {}, 'HEAD')).headers.get('etag')!;
    const stored = (await db.pool.query<{ storage_path: string }>('SELECT storage_path FROM package_files WHERE id = $1', [file.fileId])).rows[0]!;
    const later = new Date(Date.now() + 10_000);
    await utimes(path.join(api.filesDir, stored.storage_path), later, later);
    const response = await get(file.url, { range: 'bytes=0-9', 'if-range': etag });
    assert.equal(response.status, 200);
    assert.notEqual(response.headers.get('etag'), etag, 'the changed file has a new ETag');
    assert.equal(response.headers.get('content-range'), null);
    const body = Buffer.from(await response.arrayBuffer());
    assert.equal(md5(body), file.md5, 'the whole file came back');
  });
});

describe('the per-address rate limit on /d/', () => {
  let db: TestDatabase;
  let api: TestApi;
  let purchase: Purchase;
  before(async () => {
    db = await freshDatabase();
    api = await startTestApi({ pool: db.pool, env: { DOWNLOAD_RATE_LIMIT: '20' } });
    purchase = await insertPurchase(db.pool, api.filesDir);
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  test('guessing keys runs out after a couple of tries a minute, and then even a real key waits', async () => {
    const guesses: number[] = [];
    for (let i = 0; i < 4; i++) guesses.push((await fetch(`${api.url}/d/${randomBytes(32).toString('base64url')}`)).status);
    // 20 a minute, a guess costs 10: two guesses, then 429.
    assert.deepEqual(guesses, [404, 404, 429, 429]);
    const blocked = await fetch(api.url + purchase.files[0]!.url);
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.match(await blocked.text(), /Too many requests/);
  });
});
