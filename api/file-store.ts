// Opens a file of the package store (FILES_DIR) by the storage path Postgres holds, and refuses
// anything that would leave the store: absolute paths, "..", and symbolic links (anywhere on the
// way) that point outside. The check runs on the resolved real path, and the file is opened by
// that path with O_NOFOLLOW, so a link swapped in after the check is not followed either.
import { constants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    message: string,
    readonly reason: 'outside' | 'missing' | 'not_a_file',
  ) {
    super(message);
  }
}

export interface StoredFile {
  size: number;
  mtimeMs: number;
  /** Relative to the store's real root, with forward slashes (what X-Accel-Redirect names). */
  relativePath: string;
  realPath: string;
}

async function resolveInside(filesDir: string, storagePath: string): Promise<{ root: string; real: string }> {
  if (storagePath.includes('\0') || path.isAbsolute(storagePath) || path.win32.isAbsolute(storagePath)) {
    throw new StoreError(`storage path "${storagePath}" is not relative to FILES_DIR`, 'outside');
  }
  let root: string;
  try {
    root = await realpath(filesDir);
  } catch {
    throw new StoreError(`FILES_DIR ${filesDir} does not exist`, 'missing');
  }
  const inside = (p: string) => p.startsWith(root + path.sep);
  const candidate = path.resolve(root, storagePath);
  if (!inside(candidate)) throw new StoreError(`storage path "${storagePath}" leads outside FILES_DIR`, 'outside');
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new StoreError(`${candidate} is not in the package store`, 'missing');
  }
  if (!inside(real)) throw new StoreError(`storage path "${storagePath}" is a link that leads outside FILES_DIR`, 'outside');
  return { root, real };
}

function describe(root: string, real: string, size: number, mtimeMs: number): StoredFile {
  return { size, mtimeMs, realPath: real, relativePath: path.relative(root, real).split(path.sep).join('/') };
}

/** Size and dates only (X-Accel mode: nginx opens the file itself). */
export async function statStoredFile(filesDir: string, storagePath: string): Promise<StoredFile> {
  const { root, real } = await resolveInside(filesDir, storagePath);
  const info = await stat(real);
  if (!info.isFile()) throw new StoreError(`${real} is not a regular file`, 'not_a_file');
  return describe(root, real, info.size, info.mtimeMs);
}

/** Opens the file for reading; the caller closes the handle. */
export async function openStoredFile(filesDir: string, storagePath: string): Promise<StoredFile & { handle: FileHandle }> {
  const { root, real } = await resolveInside(filesDir, storagePath);
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    throw new StoreError(`${real} could not be opened`, 'missing');
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new StoreError(`${real} is not a regular file`, 'not_a_file');
  }
  return { ...describe(root, real, info.size, info.mtimeMs), handle };
}
