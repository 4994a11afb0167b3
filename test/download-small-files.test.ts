// Small files kept in memory for a moment (api/download-small-files.ts): read once for a burst of
// requests, served from memory only within the time allowed, re-read (new content and validators)
// after it; larger files left to the stream; the store's checks still apply; memory is bounded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSmallFileCache } from '../api/download-small-files';
import { StoreError } from '../api/file-store';

describe('small files in memory', () => {
  let dir: string;
  let outside: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'keyship-small-'));
    outside = await mkdtemp(path.join(os.tmpdir(), 'keyship-outside-'));
    await mkdir(path.join(dir, 'p'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  test('a burst reads the file once; within ttlMs it comes from memory, after it from disk again', async () => {
    await writeFile(path.join(dir, 'p', 'a.txt'), 'first version');
    let clock = 1_000;
    const cache = createSmallFileCache(dir, { ttlMs: 1_000, now: () => clock });
    const burst = await Promise.all(Array.from({ length: 5 }, () => cache.get('p/a.txt')));
    assert.ok(burst.every((f) => f === burst[0]), 'one read for the burst');
    assert.equal(burst[0]!.content.toString(), 'first version');
    await writeFile(path.join(dir, 'p', 'a.txt'), 'second version, longer');
    clock += 999;
    assert.equal((await cache.get('p/a.txt'))!.content.toString(), 'first version');
    clock += 1;
    const fresh = (await cache.get('p/a.txt'))!;
    assert.equal(fresh.content.toString(), 'second version, longer');
    assert.equal(fresh.file.size, fresh.content.length, 'validators come from the same read as the bytes');
  });

  test('files over the size limit are left to the stream; the store refuses escapes as before', async () => {
    await writeFile(path.join(dir, 'p', 'big.bin'), Buffer.alloc(2048));
    const cache = createSmallFileCache(dir, { maxFileBytes: 1024 });
    assert.equal(await cache.get('p/big.bin'), undefined);
    await writeFile(path.join(outside, 'secret.txt'), 'not for sale');
    await symlink(path.join(outside, 'secret.txt'), path.join(dir, 'p', 'link.txt'));
    for (const storagePath of ['p/link.txt', `../${path.basename(outside)}/secret.txt`, 'p/missing.txt']) {
      await assert.rejects(cache.get(storagePath), StoreError, storagePath);
    }
  });

  test('memory stays under maxTotalBytes: the oldest file goes first', async () => {
    for (const name of ['1', '2', '3']) await writeFile(path.join(dir, 'p', `${name}.bin`), Buffer.alloc(400, name));
    const cache = createSmallFileCache(dir, { maxTotalBytes: 1000, ttlMs: 60_000 });
    const [one, two, three] = [await cache.get('p/1.bin'), await cache.get('p/2.bin'), await cache.get('p/3.bin')];
    // 3 × 400 bytes do not fit in 1000: 1.bin went when 3.bin came.
    assert.equal(await cache.get('p/2.bin'), two);
    assert.equal(await cache.get('p/3.bin'), three);
    const reread = await cache.get('p/1.bin');
    assert.notEqual(reread, one);
    assert.ok(reread!.content.equals(one!.content));
  });
});
