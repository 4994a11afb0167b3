// Small package files kept in memory for a moment, like nginx's open_file_cache: for a 1 KiB file
// the six trips through libuv's thread pool (two realpaths, open, fstat, read, close) cost more
// than everything else the api does for the request. A file is read through openStoredFile, so it
// passes the store's checks (no traversal, no symlink escape) before it is kept, and it is kept for
// `ttlMs` only: a file replaced on disk is served, with its new validators, within that time.
import { openStoredFile, type StoredFile } from './file-store';

export interface SmallFile {
  file: StoredFile;
  content: Buffer;
}

export interface SmallFileCache {
  /** The whole file, or undefined when it is larger than the cache keeps (stream it instead). */
  get(storagePath: string): Promise<SmallFile | undefined>;
}

export interface SmallFileOptions {
  /** Largest file kept. */
  maxFileBytes?: number;
  /** All kept files together at most; the oldest go first. */
  maxTotalBytes?: number;
  ttlMs?: number;
  now?: () => number;
}

export function createSmallFileCache(filesDir: string, options: SmallFileOptions = {}): SmallFileCache {
  const maxFileBytes = options.maxFileBytes ?? 1 << 20;
  const maxTotalBytes = options.maxTotalBytes ?? 64 << 20;
  const ttlMs = options.ttlMs ?? 1_000;
  const now = options.now ?? Date.now;
  const kept = new Map<string, SmallFile & { at: number }>();
  /** Reads in progress, so that a burst of requests for one file reads it once. */
  const reading = new Map<string, Promise<SmallFile | undefined>>();
  let total = 0;

  const forget = (storagePath: string) => {
    const entry = kept.get(storagePath);
    if (!entry) return;
    kept.delete(storagePath);
    total -= entry.content.length;
  };

  const read = async (storagePath: string): Promise<SmallFile | undefined> => {
    const { handle, ...file } = await openStoredFile(filesDir, storagePath);
    try {
      if (file.size > maxFileBytes) return undefined;
      const content = Buffer.allocUnsafeSlow(file.size);
      let filled = 0;
      while (filled < file.size) {
        const { bytesRead } = await handle.read(content, filled, file.size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled !== file.size) return undefined; // it shrank while being read: let the stream path deal with it
      forget(storagePath);
      while (total + file.size > maxTotalBytes && kept.size > 0) forget(kept.keys().next().value!);
      const entry = { file, content, at: now() };
      if (file.size <= maxTotalBytes) {
        kept.set(storagePath, entry);
        total += file.size;
      }
      return entry;
    } finally {
      await handle.close().catch(() => undefined);
    }
  };

  return {
    get(storagePath) {
      const hit = kept.get(storagePath);
      if (hit && now() - hit.at < ttlMs) return Promise.resolve(hit);
      let pending = reading.get(storagePath);
      if (!pending) {
        pending = read(storagePath).finally(() => reading.delete(storagePath));
        reading.set(storagePath, pending);
      }
      return pending;
    },
  };
}
