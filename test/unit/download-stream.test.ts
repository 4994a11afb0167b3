// streamFileRange over real HTTP: pooled buffers are reused only after the socket wrote them, so
// concurrent downloads with slow readers still receive exactly the file's bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pooledBufferCount, readBufferBytes, streamFileRange } from '../../api/download-stream';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function withServer(files: Map<string, string>, run: (port: number) => Promise<void>): Promise<void> {
  const server = http.createServer((req, res) => {
    const [name, range] = (req.url ?? '/').slice(1).split('?');
    const file = files.get(name!)!;
    void open(file).then(async (handle) => {
      const size = (await handle.stat()).size;
      const [start, end] = range ? range.split('-').map(Number) : [0, size - 1];
      res.writeHead(200, { 'Content-Length': String(end! - start! + 1) });
      await streamFileRange(handle, res, start!, end! - start! + 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Reads the whole answer, pausing now and then so the server's writes back up. */
function slowGet(port: number, pathAndQuery: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathAndQuery, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (++n % 8 === 0) {
          res.pause();
          setTimeout(() => res.resume(), 5);
        }
      });
      res.once('end', () => resolve(Buffer.concat(chunks)));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${pathAndQuery} got no data for 30 s`)));
    req.once('error', reject);
  });
}

test('concurrent slow downloads get exactly their bytes while the read buffers are reused', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyship-stream-'));
  try {
    const contents = new Map<string, Buffer>();
    const files = new Map<string, string>();
    for (const name of ['a', 'b', 'c']) {
      const bytes = randomBytes(readBufferBytes * 6 + 12345);
      contents.set(name, bytes);
      files.set(name, path.join(dir, name));
      writeFileSync(files.get(name)!, bytes);
    }
    await withServer(files, async (port) => {
      for (let round = 0; round < 2; round++) {
        const got = await Promise.all([slowGet(port, '/a'), slowGet(port, '/b'), slowGet(port, '/c'), slowGet(port, `/a?${readBufferBytes - 7}-${readBufferBytes * 3 + 11}`)]);
        assert.equal(sha256(got[0]!), sha256(contents.get('a')!));
        assert.equal(sha256(got[1]!), sha256(contents.get('b')!));
        assert.equal(sha256(got[2]!), sha256(contents.get('c')!));
        assert.equal(sha256(got[3]!), sha256(contents.get('a')!.subarray(readBufferBytes - 7, readBufferBytes * 3 + 12)));
      }
    });
    assert.ok(pooledBufferCount() > 0, 'written buffers go back to the pool');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
