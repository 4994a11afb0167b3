// DOWNLOAD_OFFLOAD=x-accel with Debian's nginx in front of the api: the api checks and charges the
// key and answers X-Accel-Redirect; nginx sends the file itself (sendfile), Range included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { freshDatabase, type TestDatabase } from './harness';
import { insertPurchase } from './fixtures/downloads';
import { startTestApi, type TestApi } from './fixtures/api-server';
import { nginx as nginxProgram, startNginx, type RunningNginx } from './fixtures/nginx';
import { skipWithout } from './harness/programs';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

describe('X-Accel-Redirect through nginx', { skip: skipWithout(nginxProgram) }, () => {
  let db: TestDatabase;
  let api: TestApi;
  let nginx: RunningNginx;

  before(async () => {
    db = await freshDatabase();
    api = await startTestApi({ pool: db.pool, env: { DOWNLOAD_OFFLOAD: 'x-accel', DOWNLOAD_RATE_LIMIT: '0', TRUSTED_PROXIES: '127.0.0.1' } });
    nginx = await startNginx({ apiPort: api.port, filesDir: api.filesDir });
  });
  after(async () => {
    await nginx?.stop();
    await api?.close();
    await db?.close();
  });

  test('nginx sends the file the api allowed, with the api’s name and type; Range works; the download is logged and charged', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 11);
    const purchase = await insertPurchase(db.pool, api.filesDir, {
      downloadLimit: 2,
      files: [{ name: 'Großes Handbuch.pdf', storagePath: 'handbuch 2026/Großes Handbuch.pdf', content, contentType: 'application/pdf' }],
    });
    const file = purchase.files[0]!;
    const response = await fetch(nginx.url + file.url, { headers: { 'user-agent': 'keyship-nginx-test' } });
    assert.equal(response.status, 200, await nginx.errorLog());
    assert.equal(md5(Buffer.from(await response.arrayBuffer())), file.md5);
    assert.equal(response.headers.get('content-length'), String(content.length));
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    assert.match(response.headers.get('content-disposition') ?? '', /filename\*=UTF-8''Gro%C3%9Fes%20Handbuch\.pdf/);
    assert.equal(response.headers.get('x-accel-redirect'), null, 'the internal path does not leak');
    const etag = response.headers.get('etag')!;
    // The api's own validators use nginx's format, so a download can resume across modes.
    const direct = await fetch(`${api.url}${file.url}`, { method: 'HEAD' });
    assert.equal(direct.headers.get('etag'), etag);

    const ranged = await fetch(nginx.url + file.url, { headers: { range: 'bytes=1000-1999', 'if-range': etag, 'user-agent': 'keyship-nginx-test' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 1000-1999/${content.length}`);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(content.subarray(1000, 2000)));

    const { rows } = await db.pool.query<{ served_by: string; bytes_sent: number; status_code: number; remote_addr: string; user_agent: string; counted: boolean }>(
      'SELECT served_by, bytes_sent, status_code, remote_addr, user_agent, counted FROM download_events WHERE download_key_id = $1 ORDER BY id',
      [file.keyId],
    );
    assert.deepEqual(rows, [
      { served_by: 'nginx', bytes_sent: content.length, status_code: 200, remote_addr: '127.0.0.1', user_agent: 'keyship-nginx-test', counted: true },
      { served_by: 'nginx', bytes_sent: 1000, status_code: 206, remote_addr: '127.0.0.1', user_agent: 'keyship-nginx-test', counted: false },
    ]);
  });

  test('without nginx the api hands out no bytes, only the redirect; refusals pass through nginx as pages', async () => {
    const purchase = await insertPurchase(db.pool, api.filesDir, { downloadLimit: 1 });
    const file = purchase.files[0]!;
    const direct = await fetch(api.url + file.url);
    assert.equal(direct.status, 200);
    assert.match(direct.headers.get('x-accel-redirect') ?? '', /^\/_keyship_files\/T-[0-9a-f]+\/book\.pdf$/);
    assert.equal((await direct.arrayBuffer()).byteLength, 0);
    // That used the one download: through nginx the key is now used up.
    const used = await fetch(nginx.url + file.url);
    assert.equal(used.status, 410);
    assert.match(await used.text(), /used up/);
    const unknown = await fetch(`${nginx.url}/d/${randomBytes(32).toString('base64url')}`);
    assert.equal(unknown.status, 404);
    // The store is reachable only through the api's redirect.
    const internal = await fetch(`${nginx.url}/_keyship_files/${encodeURIComponent('x')}`);
    assert.equal(internal.status, 404);
  });
});
