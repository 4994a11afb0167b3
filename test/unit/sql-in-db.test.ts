// Keyship's tables are queried only from db/: every other production folder calls a db/ module
// (tests, the chaos verdicts and the benchmarks keep their own verification SQL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const outsideDb = ['activities', 'api', 'catalog', 'config', 'domain', 'launcher', 'logging', 'paypal', 'worker', 'workflows'];
const tables = [
  'invoices',
  'invoice_items',
  'accounts',
  'packages',
  'package_files',
  'package_notifications',
  'paypal_messages',
  'download_keys',
  'download_events',
  'key_generations',
  'notifications',
  'link_requests',
  'bulk_actions',
  'checksum_links',
];
const statement = new RegExp(`\\b(?:FROM|JOIN|UPDATE|INTO)\\s+(${tables.join('|')})\\b`);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

test('no production code outside db/ names a table in SQL', () => {
  const found = outsideDb.flatMap((folder) =>
    sources(path.join(root, folder)).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => {
          const match = statement.exec(line);
          return match ? [`${path.relative(root, file)}:${i + 1} (${match[1]})`] : [];
        }),
    ),
  );
  assert.deepEqual(found, [], `move these statements into the table's db/ module: ${found.join(', ')}`);
});

test('the check sees a statement when there is one', () => {
  assert.match('  `SELECT id FROM invoices WHERE txn_id = $1`', statement);
  assert.match('UPDATE download_keys SET revoked_at = now()', statement);
  assert.doesNotMatch('// invoices.txn_id is unique, so recording the same payment twice finds the first', statement);
});
