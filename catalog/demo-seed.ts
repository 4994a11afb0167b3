// The demo packages `npm start` seeds so a newcomer can buy something at once: a book (one real
// file, checksummed into FILES_DIR) and one package of each other kind (a web-cast's access link,
// an event seat, a support login, software with a license key). Running it again changes nothing.
import path from 'node:path';
import type { Pool } from '../db/pool';
import { createPackage, insertPackageIfNew, packageFileCount, type PackageValues } from '../db/packages';
import { kindDeliveries, type PackageKind } from '../kinds';
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

const day = 86_400_000;
/** The settings as the kind's own schema stores them, so the demo never drifts from what the editor saves. */
function stored(kind: PackageKind | 'license', given: Record<string, unknown>): Record<string, unknown> {
  const module = kindDeliveries.find((k) => (kind === 'license' ? k.settings?.column === 'license_settings' : k.kind === kind));
  return module!.settings!.schema.parse(given);
}

type DemoKindPackage = Omit<PackageValues, 'keyTtlSeconds' | 'downloadLimit' | 'reminderHours' | 'selfService' | 'active'> & { file?: string };

/** One package of each kind besides files; the event is a month after the first start. */
export function demoKindPackages(now = Date.now()): DemoKindPackage[] {
  const eventStarts = new Date(Math.ceil((now + 30 * day) / day) * day + 18 * 3_600_000);
  return [
    {
      itemNumber: 'KS-DEMO-WEBCAST',
      name: 'Selling software, a web-cast (demo recording)',
      currency: 'USD',
      price: '5.00',
      supportText: '',
      description: 'The recording of a one-hour web-cast. Your link opens it for as long as your keys live.',
      kind: 'access',
      kindSettings: stored('access', { targetUrl: 'https://example.com/keyship-demo-webcast', window: 'key' }),
    },
    {
      itemNumber: 'KS-DEMO-EVENT',
      name: 'Keyship meetup, one seat (demo event)',
      currency: 'USD',
      price: '12.00',
      supportText: '',
      description: 'An evening meetup. Each seat gets a ticket page with a QR code, checked in at the door.',
      kind: 'event',
      kindSettings: stored('event', {
        title: 'Keyship meetup',
        startsAt: eventStarts.toISOString(),
        endsAt: new Date(eventStarts.getTime() + 3 * 3_600_000).toISOString(),
        venue: 'Room 1, 1 Main Street',
        details: 'Doors open half an hour before the start.',
        capacity: 20,
      }),
    },
    {
      itemNumber: 'KS-DEMO-SUPPORT',
      name: 'Priority support, one month (demo)',
      currency: 'USD',
      price: '29.00',
      supportText: '',
      description: 'A login to the support desk, e-mailed at once.',
      kind: 'support',
      kindSettings: stored('support', { source: 'generated', loginPattern: 'demo-{invoice}-{unit}', passwordLength: 16, supportUrl: 'https://example.com/support' }),
    },
    {
      itemNumber: 'KS-DEMO-APP',
      name: 'Keyship demo app (software with a license key)',
      currency: 'USD',
      price: '19.00',
      supportText: '',
      description: 'A download and a signed license key the program checks offline.',
      kind: 'files',
      license: stored('license', { format: 'signed', version: '1', validity: '365d' }),
      file: path.join(__dirname, 'demo', 'keyship-demo-app.txt'),
    },
  ];
}

/** Seeds the book and the kinds' demo packages that are not there yet; answers the item numbers it created. */
export async function seedDemoPackages(pool: Pool, filesDir: string): Promise<string[]> {
  const created: string[] = [];
  if ((await seedDemoPackage(pool, filesDir)).created) created.push(demoPackage.itemNumber);
  for (const { file, ...pkg } of demoKindPackages()) {
    const id = await createPackage(pool, { ...pkg, keyTtlSeconds: null, downloadLimit: null, reminderHours: 24, selfService: true, active: true });
    if (id === undefined) continue; // there already (perhaps edited by the seller): left as it is
    if (file) await addPackageFile(pool, filesDir, { packageId: id, itemNumber: pkg.itemNumber, source: file, contentType: 'text/plain; charset=utf-8' });
    created.push(pkg.itemNumber);
  }
  return created;
}
