// The demo package `npm start` seeds so a newcomer can buy something at once: one real file,
// checksummed into FILES_DIR. Running it again changes nothing.
import path from 'node:path';
import type { Pool } from '../db/pool';
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
  const inserted = await pool.query<{ id: number }>(
    `INSERT INTO packages (item_number, name, currency, price, support_text)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (item_number) DO NOTHING RETURNING id`,
    [demoPackage.itemNumber, demoPackage.name, demoPackage.currency, demoPackage.price, demoPackage.supportText],
  );
  if (inserted.rows[0]) {
    await addPackageFile(pool, filesDir, {
      packageId: inserted.rows[0].id,
      itemNumber: demoPackage.itemNumber,
      source: demoPackage.file,
      contentType: 'text/markdown; charset=utf-8',
    });
    return { packageId: inserted.rows[0].id, created: true };
  }
  const { rows } = await pool.query<{ id: number; files: number }>(
    'SELECT id, (SELECT count(*)::int FROM package_files f WHERE f.package_id = p.id) AS files FROM packages p WHERE item_number = $1',
    [demoPackage.itemNumber],
  );
  const existing = rows[0]!;
  // A start that stopped between the package and its file (FILES_DIR not writable) finishes here.
  if (existing.files === 0) {
    await addPackageFile(pool, filesDir, { packageId: existing.id, itemNumber: demoPackage.itemNumber, source: demoPackage.file, contentType: 'text/markdown; charset=utf-8' });
  }
  return { packageId: existing.id, created: false };
}
