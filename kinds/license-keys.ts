// License keys for software: any package may have them (packages.license_settings; NULL = none).
// One key per purchased unit, issued with the delivery and shown in its e-mail and on the
// thank-you page; a program checks a key at POST /api/licenses/verify (random keys) or offline
// with the package's public key (signed keys). domain/license-keys.ts makes and reads the keys,
// db/license-keys.ts keeps their hashes.
//
// A license is the product, not a link: resend shows the same keys, and so do extend and
// regenerate. Regenerate replaces the download links (a leaked link stops working) but must not
// change a key the buyer has already typed into the software; so keys ignore the generation and
// its salt, and are derived from their own row (invoice, package, unit, serial). Only an operator's
// reissue (api/admin/licenses-*.ts) makes a new key for a unit, and revokes the old one.
import { z } from 'zod';
import { parseDurationSeconds } from '../config/env';
import { formatTime } from '../domain/buyer-formats';
import { deriveRandomKey, keyTail, licenseFormats, licenseKeyHash, payloadText, signKey, type LicenseFormat } from '../domain/license-keys';
import { insertLicenseKeys, issuedUnits, liveLicenseKeys, purchaseTime, type LicenseKeyRow, type NewLicenseKey } from '../db/license-keys';
import type { DeliveryContext, DeliveryPart, KindDelivery } from './kind';

const blank = (v: unknown) => v === '' || v === null || v === undefined;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;

/** What a seller sets (the editor's `license.<name>` fields or the API's `license` object); empty fields take the defaults. */
export const licenseSettingsSchema = z.object({
  format: z.preprocess((v) => (blank(v) ? 'random' : v), z.enum(licenseFormats, { error: 'must be random (checked online) or signed (checked offline)' })),
  version: z.preprocess(
    (v) => (blank(v) ? '1' : typeof v === 'number' ? String(v) : v),
    z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9.+_-]{0,39}$/, 'must be a version such as 2 or 2.x (letters, digits, dot, plus, dash; up to 40)'),
  ),
  /** Empty: perpetual; a duration from the purchase ("365d"); or a last day ("2027-12-31", valid through it, UTC). */
  validity: z.preprocess(
    (v) => (blank(v) ? '' : String(v).trim()),
    z
      .string()
      .refine(
        (v) => v === '' || parseDurationSeconds(v) !== undefined || (datePattern.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))),
        'must be empty (perpetual), a duration from the purchase such as 365d, or a last day such as 2027-12-31',
      ),
  ),
});
export type LicenseSettings = z.output<typeof licenseSettingsSchema>;

/** When a key bought at `purchasedAt` expires under `validity`; null when perpetual. */
export function licenseExpiry(validity: string, purchasedAt: Date): Date | null {
  if (validity === '') return null;
  if (datePattern.test(validity)) return new Date(Date.parse(`${validity}T00:00:00Z`) + 86400_000);
  return new Date(purchasedAt.getTime() + parseDurationSeconds(validity)! * 1000);
}

/** The facts a new key is made from; its row's id is not needed (random keys use the row's other columns). */
export interface KeyFacts {
  invoiceId: number;
  invoiceNumber: string;
  packageId: number;
  itemNumber: string;
  buyer: string;
  unit: number;
  serial: number;
  format: LicenseFormat;
  version: string;
  expiresAt: Date | null;
}

/** A new key and the row that keeps its hash. */
export function makeLicenseKey(secret: Buffer, facts: KeyFacts): { key: string; row: NewLicenseKey } {
  const payload =
    facts.format === 'signed'
      ? payloadText({ id: `${facts.invoiceNumber}/${facts.unit}/${facts.serial}`, b: facts.buyer, p: facts.itemNumber, v: facts.version, e: facts.expiresAt?.toISOString() ?? null })
      : null;
  const key = licenseKeyOf(secret, { invoice_id: facts.invoiceId, package_id: facts.packageId, unit: facts.unit, serial: facts.serial, payload });
  return {
    key,
    row: {
      invoiceId: facts.invoiceId,
      packageId: facts.packageId,
      unit: facts.unit,
      serial: facts.serial,
      format: facts.format,
      version: facts.version,
      payload,
      keyHash: licenseKeyHash(key),
      keyTail: keyTail(key),
      expiresAt: facts.expiresAt?.toISOString() ?? null,
    },
  };
}

/** The key a stored row stands for, made again from KEY_SECRET (random) or by signing its payload (signed). */
export function licenseKeyOf(secret: Buffer, row: Pick<LicenseKeyRow, 'invoice_id' | 'package_id' | 'unit' | 'serial' | 'payload'>): string {
  return row.payload !== null
    ? signKey(secret, row.package_id, row.payload)
    : deriveRandomKey(secret, { invoiceId: row.invoice_id, packageId: row.package_id, unit: row.unit, serial: row.serial });
}

function settingsOf(license: Record<string, unknown>, itemNumber: string): LicenseSettings {
  const parsed = licenseSettingsSchema.safeParse(license);
  if (!parsed.success) throw new Error(`package ${itemNumber} has license settings Keyship cannot read (${parsed.error.issues[0]?.message}); fix them in the package editor, then resend the keys`);
  return parsed.data;
}

function requireSecret(ctx: DeliveryContext): Buffer {
  if (!ctx.settings.keySecret) throw new Error('license keys are derived from KEY_SECRET, which is not set; set it for the worker and the api');
  return ctx.settings.keySecret;
}

export const licenseKeys: KindDelivery = {
  name: 'license keys',
  settings: {
    column: 'license_settings',
    schema: licenseSettingsSchema,
    fields: [
      {
        name: 'format',
        label: 'Key format',
        type: 'select',
        options: [
          { value: 'random', label: 'Random (KS-XXXXX-…, checked online at /api/licenses/verify)' },
          { value: 'signed', label: 'Signed (Ed25519, checked offline with the public key)' },
        ],
      },
      { name: 'version', label: 'Licensed version', type: 'text', help: 'What the key is for, e.g. 2 or 2.x; keys already sold keep theirs.' },
      { name: 'validity', label: 'Valid for', type: 'text', help: 'Empty: perpetual. A duration from the purchase (365d) or a last day (2027-12-31).' },
    ],
  },

  async issue(ctx) {
    const licensed = ctx.items.filter((item) => item.license !== null);
    if (licensed.length === 0) return;
    const secret = requireSecret(ctx);
    const purchasedAt = await purchaseTime(ctx.db, ctx.invoiceId);
    const keys: NewLicenseKey[] = [];
    for (const item of licensed) {
      const settings = settingsOf(item.license!, item.itemNumber);
      // Units with a key (of any serial) keep it: a retry, a resend or a regenerate issues nothing new.
      const issued = await issuedUnits(ctx.db, ctx.invoiceId, item.packageId);
      for (let unit = 1; unit <= item.quantity; unit++) {
        if (issued.has(unit)) continue;
        const facts: KeyFacts = {
          invoiceId: ctx.invoiceId,
          invoiceNumber: ctx.invoiceNumber,
          packageId: item.packageId,
          itemNumber: item.itemNumber,
          buyer: ctx.payerEmail,
          unit,
          serial: 1,
          format: settings.format,
          version: settings.version,
          expiresAt: licenseExpiry(settings.validity, purchasedAt),
        };
        keys.push(makeLicenseKey(secret, facts).row);
      }
    }
    await insertLicenseKeys(ctx.db, keys);
  },

  async parts(ctx) {
    const rows = await liveLicenseKeys(ctx.db, ctx.invoiceId);
    if (rows.length === 0) return [];
    const secret = requireSecret(ctx);
    const parts: DeliveryPart[] = [];
    for (const packageId of [...new Set(rows.map((r) => r.package_id))]) {
      const keys = rows.filter((r) => r.package_id === packageId);
      const item = ctx.items.find((i) => i.packageId === packageId);
      const first = keys[0]!;
      const expiry = first.expires_at ? `valid until ${formatTime(first.expires_at.toISOString())}` : 'perpetual (it does not expire)';
      const check = first.format === 'signed' ? 'the program checks it by itself, offline' : 'the program checks it online';
      parts.push({
        kind: 'license',
        packageName: item?.packageName ?? '',
        title: keys.length === 1 ? 'Your license key' : `Your ${keys.length} license keys`,
        lines: keys.map((k) => ({ label: keys.length === 1 ? 'License key' : `Key ${k.unit}`, value: licenseKeyOf(secret, k), secret: true })),
        note: `${keys.length === 1 ? 'The key is' : 'Each key is'} for version ${first.version}, ${expiry}; enter it in the program, where ${check}. Keep it: it is your license.`,
      });
    }
    return parts;
  },

  // A cancelled reversal gives back the keys the reversal took, not those an operator revoked or reissued.
  revocable: { table: 'license_keys' },
};
