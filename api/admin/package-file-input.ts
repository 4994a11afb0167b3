// Adding a file to a package from the admin: an upload (written straight to its place in
// FILES_DIR) or a path inside FILES_DIR (for big files copied there by other means). Either way
// catalog/package-files.ts computes size, MD5 and SHA-256 and records the file.
import { realpath, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../../db/pool';
import { addPackageFile, storagePathFor, type FileChecksums } from '../../catalog/package-files';

export class FileInputError extends Error {
  override name = 'FileInputError';
}

/** A path typed by an operator, resolved inside FILES_DIR; throws a sentence otherwise. */
export async function fileInsideStore(filesDir: string, relative: string): Promise<string> {
  const root = await realpath(filesDir).catch(() => path.resolve(filesDir));
  const wanted = path.resolve(root, relative.replace(/^\/+/, ''));
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    throw new FileInputError(`There is no file ${relative} in FILES_DIR (${root}); copy it there first, or upload it.`);
  }
  if (real !== root && !real.startsWith(root + path.sep)) throw new FileInputError(`${relative} is outside FILES_DIR (${root}); only files inside it can be added.`);
  if (!(await stat(real)).isFile()) throw new FileInputError(`${relative} is not a regular file; name a file inside FILES_DIR.`);
  return real;
}

export function cleanFileName(name: string): string {
  const base = path.basename(name.replace(/\\/g, '/')).trim();
  if (!base || base === '.' || base === '..') throw new FileInputError('The file needs a name; give one in the name field.');
  return base.slice(0, 200);
}

export async function addFileFromStore(pool: Pool, filesDir: string, pkg: { id: number; itemNumber: string }, relative: string, name?: string) {
  const source = await fileInsideStore(filesDir, relative);
  return addPackageFile(pool, filesDir, { packageId: pkg.id, itemNumber: pkg.itemNumber, source, name: cleanFileName(name || path.basename(source)) });
}

export async function addUploadedFile(pool: Pool, filesDir: string, pkg: { id: number; itemNumber: string }, file: File, name?: string): Promise<{ id: number } & FileChecksums> {
  const fileName = cleanFileName(name || file.name);
  const target = path.join(filesDir, storagePathFor(pkg.itemNumber, fileName));
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, Buffer.from(await file.arrayBuffer()));
  return addPackageFile(pool, filesDir, { packageId: pkg.id, itemNumber: pkg.itemNumber, source: target, name: fileName, contentType: file.type || undefined });
}
