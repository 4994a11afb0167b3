// The admin's packages: the form create and edit take, and one package's detail (the list and the
// buyers' CSV are read straight from db/). Files are added through catalog/package-files.ts.
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import { parseDurationSeconds } from '../../config/env';
import { inTransaction, type Pool, type Queryable } from '../../db/pool';
import { packageBulkActions, type BulkActionRow } from '../../db/bulk-actions';
import {
  createPackage as insertPackage,
  findPackage,
  packageFiles,
  packageNotifications,
  updatePackage as updatePackageRow,
  type NotificationRow,
  type PackageFileRow,
  type PackageRow,
  type PackageValues,
} from '../../db/packages';
import { priceShape } from '../../domain/money';
import { disputePolicies, refundPolicies } from '../../domain/money-policy';
import { kindDeliveries, packageKinds, type KindSettings, type PackageKind } from '../../kinds';

const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1', z.boolean());
const optionalInt = (what: string) =>
  z.preprocess((v) => (v === '' || v === null || v === undefined ? null : v), z.coerce.number({ error: `must be a whole number of ${what}` }).int().min(1).nullable());

/** What create and edit take, from a form or JSON (empty optional fields mean "none"). */
export const packageInputSchema = z.object({
  itemNumber: z.string().trim().regex(/^[A-Za-z0-9._-]{1,127}$/, 'must be letters, digits, dot, dash or underscore (what the PayPal button sends as item_number)'),
  name: storableText().trim().min(1, 'must not be empty').max(127),
  currency: z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as USD'),
  price: z.coerce.string().trim().regex(priceShape, 'must be an amount such as 19.95'),
  /** "3d", "72h"...; empty: KEY_TTL. */
  keyTtl: z.preprocess(
    (v) => (v === '' || v === null || v === undefined ? null : String(v)),
    z
      .string()
      .nullable()
      .refine((v) => v === null || parseDurationSeconds(v) !== undefined, 'must be a duration such as 3d, 72h or 90m, or empty for KEY_TTL'),
  ),
  downloadLimit: optionalInt('downloads'),
  reminderHours: optionalInt('hours'),
  selfService: checkbox,
  /** What a partial refund does (a full refund always revokes); absent: unchanged, or the default for a new package. */
  refundPolicy: z.enum(refundPolicies).optional(),
  /** What an open dispute does to downloads; absent: unchanged, or the default for a new package. */
  disputePolicy: z.enum(disputePolicies).optional(),
  supportText: storableText().max(10_000).default(''),
  active: checkbox,
  /** What the package delivers besides files; absent: unchanged, or files for a new package. */
  kind: z.enum(packageKinds).optional(),
  /** The kind's settings, checked by the kind's own schema (kinds/); absent: unchanged. */
  kindSettings: z.record(z.string(), z.unknown()).optional(),
  /** License-key settings; null turns them off; absent: unchanged. */
  license: z.record(z.string(), z.unknown()).nullable().optional(),
  description: storableText().max(20_000).optional(),
});
export type PackageInput = z.output<typeof packageInputSchema>;

export interface PackageDetail {
  pkg: PackageRow;
  files: PackageFileRow[];
  bulk: BulkActionRow[];
  notifications: NotificationRow[];
}

/** A package with its files, its own notifications and its newest bulk actions; undefined when no package has the item number. */
export async function packageDetail(pool: Pool, itemNumber: string): Promise<PackageDetail | undefined> {
  const pkg = await findPackage(pool, itemNumber);
  if (!pkg) return undefined;
  const [files, bulk, notifications] = await Promise.all([packageFiles(pool, pkg.id), packageBulkActions(pool, pkg.id), packageNotifications(pool, pkg.id)]);
  return { pkg, files, bulk, notifications };
}

/** Input that is well formed but cannot be saved (a kind's settings it refuses); the message says why. */
export class PackageInputError extends Error {
  override name = 'PackageInputError';
}

const kindSettingsFor = (kind: PackageKind): KindSettings | undefined => kindDeliveries.find((k) => k.kind === kind)?.settings;
const licenseSettings = (): KindSettings | undefined => kindDeliveries.find((k) => k.settings?.column === 'license_settings')?.settings;

async function checked(db: Queryable, packageId: number | undefined, what: string, settings: KindSettings | undefined, given: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (!settings) {
    if (Object.keys(given).length > 0) throw new PackageInputError(`${what} takes no settings here`);
    return {};
  }
  const parsed = settings.schema.safeParse(given);
  if (!parsed.success) throw new PackageInputError(`${what}: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'settings'} ${i.message}`).join('; ')}`);
  const problem = packageId === undefined ? undefined : await settings.problem?.(db, packageId, parsed.data);
  if (problem) throw new PackageInputError(`${what}: ${problem}`);
  return parsed.data;
}

/** The columns of a create or an update: the kind's and the license's settings checked by their modules. */
async function values(db: Queryable, input: PackageInput, existing?: PackageRow): Promise<PackageValues> {
  const kind = input.kind ?? existing?.kind ?? 'files';
  // A new kind is checked with the settings given (or none); an unchanged one only when settings are given.
  const kindSettings =
    input.kindSettings !== undefined || kind !== (existing?.kind ?? 'files')
      ? await checked(db, existing?.id, `kind ${kind}`, kindSettingsFor(kind), input.kindSettings ?? {})
      : undefined;
  const license = input.license ? await checked(db, existing?.id, 'license', licenseSettings(), input.license) : input.license;
  return { ...input, kind, kindSettings, license, keyTtlSeconds: input.keyTtl === null ? null : (parseDurationSeconds(input.keyTtl) ?? null) };
}

/** Creates a package; undefined when the item number is taken. Throws PackageInputError for settings a kind refuses. */
export async function createPackage(pool: Pool, input: PackageInput): Promise<number | undefined> {
  return insertPackage(pool, await values(pool, input));
}

/** Updates everything but the item number (PayPal buttons and invoices name the package by it); false when there is none. */
export async function updatePackage(pool: Pool, itemNumber: string, input: PackageInput): Promise<boolean> {
  // The package's row is locked while its settings are judged and written: a seat claimed meanwhile
  // (which takes the same lock) cannot slip under a capacity being lowered.
  return inTransaction(pool, async (tx) => {
    const existing = await findPackage(tx, itemNumber, true);
    return existing ? updatePackageRow(tx, itemNumber, await values(tx, input, existing)) : false;
  });
}
