// GET and HEAD /d/:key: the keyed download. The key is looked up by its SHA-256; a paid, live,
// unrevoked key under its limit gets the file from the package store, with Range / If-Range for
// resuming, either streamed by the api (DOWNLOAD_OFFLOAD=stream) or handed to nginx with
// X-Accel-Redirect (x-accel). Every other case gets a page that says what happened and how to get
// a fresh link. How downloads are counted: see download-usage.ts (THE COUNTING RULE).
// An invoice's signed SHA256SUMS (/d/sums/, signed-checksums.ts) shares the /d/ rate limit.
import { Hono, type Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Readable } from 'node:stream';
import { keyHash, keyProblem, keyShape } from '../domain/download-keys';
import type { AppDeps } from './deps';
import { clientAddress } from './client-address';
import { contentDisposition, fileEtag, lastModified } from './download-headers';
import { ifRangeHolds, parseRange } from './download-range';
import { streamFileRange } from './download-stream';
import { createDownloadLedger, type DownloadLedger } from './download-ledger';
import { logRefusal, type KeyRow, type RequestFacts } from '../db/keys';
import { createSmallFileCache } from './download-small-files';
import { openStoredFile, statStoredFile, StoreError, type StoredFile } from './file-store';
import { linkRequestRoutes, selfServiceDays } from './link-requests';
import { keyPageStatus, renderKeyPage, type KeyPageProblem } from './pages/key-pages';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import { signedChecksumRoutes } from './signed-checksums';

/** A guessed key costs this many requests of the address's allowance. */
export const unknownKeyCost = 10;
/** Files up to this size are sent from memory (download-small-files.ts), larger ones streamed. */
const smallFileBytes = 1 << 20;

type Deps = Pick<AppDeps, 'config' | 'pool' | 'temporal' | 'shutdown'>;

export function downloadRoutes(
  deps: Deps,
  limiter: RateLimiter = createRateLimiter(deps.config.downloads.ratePerMinute),
  ledger: DownloadLedger = createDownloadLedger(deps.pool, { chargeCommit: deps.config.downloads.chargeCommit }),
) {
  const { config, pool } = deps;
  // Streams still finishing (closing their file) have not handed their settlement over yet.
  const streaming = new Set<Promise<unknown>>();
  deps.shutdown?.beforeClose?.push(async () => {
    await Promise.allSettled([...streaming]);
    await ledger.flush();
  });
  const smallFiles = createSmallFileCache(config.filesDir, { maxFileBytes: smallFileBytes });
  const app = new Hono<{ Bindings: Partial<HttpBindings> }>();

  const keyPage = (c: Context, problem: KeyPageProblem, key?: KeyRow, downloadKey?: string, extra: { retryAfterSeconds?: number } = {}) =>
    renderKeyPage(c, {
      problem,
      downloadKey: key ? downloadKey : undefined,
      fileName: key?.file_name,
      expiresAt: key?.expires_at.toISOString(),
      downloadLimit: key?.download_limit,
      revokedReason: key?.revoked_reason,
      invoiceStatus: key?.invoice_status,
      selfServiceDays: problem === 'expired' && key ? selfServiceDays(key, config.keyTtlSeconds) : undefined,
      retryAfterSeconds: extra.retryAfterSeconds,
    });

  // Every /d/ request spends from the address's allowance, the forms too.
  app.use('/d/*', async (c, next) => {
    const address = clientAddress(c, config.downloads.trustedProxies);
    if (!limiter.take(address)) {
      return keyPage(c, 'rate_limited', undefined, undefined, { retryAfterSeconds: limiter.retryAfterSeconds(address) });
    }
    await next();
  });

  app.route('/', linkRequestRoutes(deps));
  app.route('/', signedChecksumRoutes(deps, limiter, unknownKeyCost));

  app.on(['GET', 'HEAD'], '/d/:key', async (c) => {
    const downloadKey = c.req.param('key');
    const address = clientAddress(c, config.downloads.trustedProxies);
    if (!keyShape.test(downloadKey)) {
      limiter.penalise(address, unknownKeyCost - 1);
      return keyPage(c, 'unknown');
    }
    const head = c.req.method === 'HEAD';
    const hash = keyHash(downloadKey);
    // A GET is charged, and the charge checks the key's rules again: a recent copy of its row will do.
    let key = await ledger.find(hash, head ? 'fresh' : 'recent');
    if (key && !head && keyProblem(key)) key = await ledger.find(hash, 'fresh');
    if (!key) {
      limiter.penalise(address, unknownKeyCost - 1);
      return keyPage(c, 'unknown');
    }
    const facts: RequestFacts = { remoteAddr: address, userAgent: c.req.header('user-agent'), rangeHeader: c.req.header('range') };
    const refuse = async (problem: Exclude<KeyPageProblem, 'unknown' | 'rate_limited'>, row: KeyRow = key) => {
      if (!head) await logRefusal(pool, row, facts, keyPageStatus[problem], problem);
      return keyPage(c, problem, row, downloadKey);
    };
    const problem = keyProblem(key);
    if (problem) return refuse(problem);

    const offload = config.downloads.offload === 'x-accel';
    let file: StoredFile & { handle?: Awaited<ReturnType<typeof openStoredFile>>['handle'] };
    let content: Buffer | undefined;
    try {
      // Only a GET the api sends needs the bytes; HEAD and X-Accel only need the size.
      if (head || offload) file = await statStoredFile(config.filesDir, key.storage_path);
      else {
        const small = key.size_bytes <= smallFileBytes ? await smallFiles.get(key.storage_path) : undefined;
        if (small) ({ file, content } = small);
        else file = await openStoredFile(config.filesDir, key.storage_path);
      }
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      console.error(`download key ${key.id} (invoice ${key.invoice_number}): ${error.message}; fix the file or its storage_path.`);
      return refuse('missing_file');
    }
    const handle = file.handle;
    const etag = fileEtag(file.size, file.mtimeMs);
    const modified = lastModified(file.mtimeMs);
    const range = ifRangeHolds(c.req.header('if-range'), etag, modified) ? parseRange(facts.rangeHeader, file.size) : { kind: 'full' as const };
    const headers: Record<string, string> = {
      'Content-Type': key.content_type,
      'Content-Disposition': contentDisposition(key.file_name),
      'Cache-Control': 'private, no-transform',
      'X-Content-Type-Options': 'nosniff',
      ETag: etag,
      'Last-Modified': modified,
      'Accept-Ranges': 'bytes',
    };
    if (range.kind === 'unsatisfiable') {
      await handle?.close();
      return c.body(null, 416, { ...headers, 'Content-Range': `bytes */${file.size}` });
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const length = range.kind === 'partial' ? range.end - range.start + 1 : file.size;
    const status = range.kind === 'partial' ? 206 : 200;
    if (range.kind === 'partial') headers['Content-Range'] = `bytes ${range.start}-${range.end}/${file.size}`;
    headers['Content-Length'] = String(length);

    if (head) return c.body(null, status, headers);

    const charge = await ledger.charge({ key, start, length, facts, status, servedBy: offload ? 'nginx' : 'api' });
    if (!charge) {
      // Another request used the last of the allowance (or the key changed) since it was read.
      await handle?.close();
      const now = (await ledger.find(hash, 'fresh')) ?? key;
      return refuse(keyProblem(now) ?? 'exhausted', now);
    }

    if (offload) {
      // nginx serves the file itself, Range and validators included; these headers pass through.
      return c.body(null, 200, {
        'Content-Type': key.content_type,
        'Content-Disposition': headers['Content-Disposition']!,
        'Cache-Control': headers['Cache-Control']!,
        'X-Content-Type-Options': 'nosniff',
        'X-Accel-Redirect': config.downloads.xAccelPrefix + file.relativePath.split('/').map(encodeURIComponent).join('/'),
      });
    }

    const settle = (outcome: { bytesSent: number; completed: boolean }) => ledger.settle({ charge, ...outcome });
    const outgoing = c.env?.outgoing;
    if (content) {
      const body = content.subarray(start, start + length);
      if (!outgoing) {
        void settle({ bytesSent: length, completed: true });
        return c.body(new Uint8Array(body), status, headers);
      }
      outgoing.writeHead(status, headers);
      outgoing.end(body);
      // One write hands it all to the socket: sent, as download-stream.ts counts; completed once flushed.
      outgoing.once('close', () => void settle({ bytesSent: length, completed: outgoing.writableFinished }));
      return RESPONSE_ALREADY_SENT;
    }
    if (!outgoing) {
      // app.request() in a test: no Node response to write to, so a (slower) web stream.
      const stream = handle!.createReadStream({ start, end: start + length - 1, highWaterMark: 1 << 20 });
      let sent = 0;
      stream.on('data', (chunk: string | Buffer) => {
        sent += chunk.length;
      });
      stream.once('close', () => void settle({ bytesSent: sent, completed: sent === length }));
      return c.body(Readable.toWeb(stream) as ReadableStream, status, headers);
    }
    outgoing.writeHead(status, headers);
    const streamed = streamFileRange(handle!, outgoing, start, length).then(settle);
    streaming.add(streamed);
    void streamed.finally(() => streaming.delete(streamed));
    return RESPONSE_ALREADY_SENT;
  });

  return app;
}
