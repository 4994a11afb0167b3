// The demo package `npm start` seeds so a newcomer can buy something at once: one real file,
// checksummed into FILES_DIR. Running it again changes nothing.
import path from 'node:path';
import type { Pool } from '../db/pool';
import { insertPackageIfNew, packageFileCount } from '../db/packages';
import { addPackageFile } from './package-files';

export const demoPackage = {
  itemNumber: 'KS-DEMO-1',
  name: 'Keyship Field Guide (demo)',
  currency: 'USD',
  price: '9.00',
  supportText: 'Questions about your download? Reply to this e-mail and a person will answer within one business day.',
  file: path.join(__dirname, 'demo', 'keyship-field-guide.md'),
};

export async function seedDemoPackage(pool: Pool, filesDir: string): Promise<{ packageId: number; created: boolean }> {
  const insertedId = await insertPackageIfNew(pool, demoPackage);
  if (insertedId !== undefined) {
    await addPackageFile(pool, filesDir, {
      packageId: insertedId,
      itemNumber: demoPackage.itemNumber,
      source: demoPackage.file,
      contentType: 'text/markdown; charset=utf-8',
    });
    return { packageId: insertedId, created: true };
  }
  const existing = (await packageFileCount(pool, demoPackage.itemNumber))!;
  // A start that stopped between the package and its file (FILES_DIR not writable) finishes here.
  if (existing.files === 0) {
    await addPackageFile(pool, filesDir, { packageId: existing.id, itemNumber: demoPackage.itemNumber, source: demoPackage.file, contentType: 'text/markdown; charset=utf-8' });
  }
  return { packageId: existing.id, created: false };
}
