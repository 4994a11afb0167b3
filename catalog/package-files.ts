// Adds a file to a package: copies it into FILES_DIR and records its size, MD5 and SHA-256, which
// the delivery e-mail shows so buyers can check what they downloaded.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../db/pool';
import { upsertPackageFile } from '../db/packages';

export interface FileChecksums {
  size: number;
  md5: string;
  sha256: string;
}

export async function checksumFile(file: string): Promise<FileChecksums> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    md5.update(bytes);
    sha256.update(bytes);
    size += bytes.length;
  }
  return { size, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/** Folder names inside FILES_DIR must stay inside it. */
export function storagePathFor(packageItemNumber: string, fileName: string): string {
  const safe = (part: string) => part.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return path.posix.join(safe(packageItemNumber), safe(fileName));
}

export async function addPackageFile(
  pool: Pool,
  filesDir: string,
  input: { packageId: number; itemNumber: string; source: string; name?: string; contentType?: string },
): Promise<{ id: number } & FileChecksums> {
  const name = input.name ?? path.basename(input.source);
  const storagePath = storagePathFor(input.itemNumber, name);
  const target = path.join(filesDir, storagePath);
  await mkdir(path.dirname(target), { recursive: true });
  if (path.resolve(input.source) !== path.resolve(target)) await copyFile(input.source, target);
  const sums = await checksumFile(target);
  const id = await upsertPackageFile(pool, {
    packageId: input.packageId,
    name,
    storagePath,
    size: sums.size,
    md5: sums.md5,
    sha256: sums.sha256,
    contentType: input.contentType ?? 'application/octet-stream',
  });
  return { id, ...sums };
}
