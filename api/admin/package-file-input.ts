// Adding a file to a package from the admin: an upload (written straight to its place in
// FILES_DIR) or a path inside FILES_DIR (for big files copied there by other means). Either way
// catalog/package-files.ts computes size, MD5 and SHA-256 and records the file.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../../db/pool';
import { addPackageFile, storagePathFor, type FileChecksums } from '../../catalog/package-files';
import { statStoredFile, StoreError } from '../file-store';

export class FileInputError extends Error {
  override name = 'FileInputError';
}

/** A path typed by an operator, resolved inside FILES_DIR by the download's own rules; throws a sentence otherwise. */
export async function fileInsideStore(filesDir: string, relative: string): Promise<string> {
  try {
    return (await statStoredFile(filesDir, relative.replace(/^\/+/, ''))).realPath;
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    if (error.reason === 'outside') throw new FileInputError(`${relative} is outside FILES_DIR (${filesDir}); only files inside it can be added.`);
    if (error.reason === 'not_a_file') throw new FileInputError(`${relative} is not a regular file; name a file inside FILES_DIR.`);
    throw new FileInputError(`There is no file ${relative} in FILES_DIR (${filesDir}); copy it there first, or upload it.`);
  }
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
