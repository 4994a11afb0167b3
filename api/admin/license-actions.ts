// License keys in the admin (pages and JSON): the lists on a package and an invoice, the package's
// public key, and the two operator actions. Revoke stops one key at once (verify answers
// 'revoked'). Reissue revokes one key and makes the next serial for the same unit, with the same
// version and expiry (a replacement, not a new license), then asks the invoice workflow to resend
// the keys' e-mail, whose license part shows the buyer's keys as they now are.
import type { Client } from '@temporalio/client';
import type { Config } from '../../config/env';
import type { Pool } from '../../db/pool';
import { findInvoice } from '../../db/invoices';
import { findPackage } from '../../db/packages';
import {
  findLicenseKeyById,
  insertLicenseKeys,
  invoiceLicenseKeys,
  newestSerial,
  packageLicenseKeys,
  revokeLicenseKey,
  type LicenseKeyListRow,
} from '../../db/license-keys';
import { optionalInvoiceSettings } from '../../domain/invoice-settings';
import { licensePublicKey, licenseStatus, maskedKey, type LicenseStatus } from '../../domain/license-keys';
import { makeLicenseKey } from '../../kinds/license-keys';
import { performAction } from './invoice-actions';
import { restConfigured } from '../../paypal/rest/client';
import type { LicenseSectionProps } from './license-views';

/** One key as the admin shows it: masked but for its tail, with where it came from and how it stands. */
export interface LicenseKeyView {
  id: number;
  invoice: string;
  txnId: string;
  buyer: string;
  package: string;
  unit: number;
  serial: number;
  format: string;
  version: string;
  masked: string;
  issuedAt: string;
  expiresAt: string | null;
  status: LicenseStatus;
  revokedAt: string | null;
  revokedReason: string | null;
  /** Reissue may replace it: the unit's newest key, its payment not given back. */
  replaceable: boolean;
}

export function licenseKeyView(row: LicenseKeyListRow): LicenseKeyView {
  return {
    id: row.id,
    invoice: row.invoice_number,
    txnId: row.txn_id,
    buyer: row.payer_email,
    package: row.item_number,
    unit: row.unit,
    serial: row.serial,
    format: row.format,
    version: row.version,
    masked: maskedKey(row.format, row.key_tail),
    issuedAt: row.issued_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    status: licenseStatus(row),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revokedReason: row.revoked_reason,
    replaceable: !['reissued', 'refunded', 'reversed'].includes(row.revoked_reason ?? '') && licenseStatus({ ...row, revoked_at: null }) !== 'revoked',
  };
}

/** KEY_SECRET as the worker uses it (in simulator mode its stand-in); undefined when it is not set. */
export function licenseSecret(config: Config): Buffer | undefined {
  return optionalInvoiceSettings(config)?.keySecret;
}

export interface PackageLicenses {
  package: string;
  /** The package's license settings; null when it issues no keys (keys sold before may still be listed). */
  settings: Record<string, unknown> | null;
  /** The public key that checks the package's signed keys offline; null without KEY_SECRET. */
  publicKey: { pem: string; raw: string } | null;
  keys: LicenseKeyView[];
}

export async function packageLicenses(pool: Pool, config: Config, itemNumber: string): Promise<PackageLicenses | undefined> {
  const pkg = await findPackage(pool, itemNumber);
  if (!pkg) return undefined;
  const secret = licenseSecret(config);
  return {
    package: pkg.itemNumber,
    settings: pkg.license,
    publicKey: secret ? licensePublicKey(secret, pkg.id) : null,
    keys: (await packageLicenseKeys(pool, pkg.id)).map(licenseKeyView),
  };
}

export async function invoiceLicenses(pool: Pool, ref: string): Promise<LicenseKeyView[] | undefined> {
  const invoice = await findInvoice(pool, ref);
  if (!invoice) return undefined;
  return (await invoiceLicenseKeys(pool, invoice.id)).map(licenseKeyView);
}

export type LicenseAnswer = { ok: true; message: string; key: LicenseKeyView; replacement?: LicenseKeyView } | { ok: false; status: 404 | 409 | 503; error: string };

const noKey = (id: number): LicenseAnswer => ({ ok: false, status: 404, error: `There is no license key ${id}; see the package's or the invoice's list of keys.` });

export async function revokeLicense(pool: Pool, id: number): Promise<LicenseAnswer> {
  const row = await findLicenseKeyById(pool, id);
  if (!row) return noKey(id);
  const revoked = await revokeLicenseKey(pool, id, 'admin');
  const key = licenseKeyView((await findLicenseKeyById(pool, id))!);
  return { ok: true, key, message: revoked ? `Key ${key.masked} of invoice ${key.invoice} is revoked; a check of it now answers revoked.` : `Key ${key.masked} was revoked already.` };
}

export async function reissueLicense(deps: { pool: Pool; config: Config; temporal: Client }, id: number, by: string): Promise<LicenseAnswer> {
  const secret = licenseSecret(deps.config);
  if (!secret) return { ok: false, status: 503, error: 'Reissue needs KEY_SECRET (keys are derived from it); set it for the api as for the worker.' };
  const client = await deps.pool.connect();
  let replacementId: number;
  let old: LicenseKeyListRow;
  try {
    await client.query('BEGIN');
    const row = await findLicenseKeyById(client, id, { lock: true });
    if (!row) {
      await client.query('ROLLBACK');
      return noKey(id);
    }
    old = row;
    const refusal =
      (await newestSerial(client, row.invoice_id, row.package_id, row.unit)) !== row.serial
        ? `key ${maskedKey(row.format, row.key_tail)} was already replaced by a newer one; reissue that one instead`
        : row.revoked_reason === 'refunded' || row.revoked_reason === 'reversed' || licenseStatus({ ...row, revoked_at: null }) === 'revoked'
          ? `invoice ${row.invoice_number} is ${row.invoice_status}: its payment was given back, so it gets no new key`
          : undefined;
    if (refusal) {
      await client.query('ROLLBACK');
      return { ok: false, status: 409, error: `Not reissued: ${refusal}.` };
    }
    await revokeLicenseKey(client, row.id, 'reissued');
    const made = makeLicenseKey(secret, {
      invoiceId: row.invoice_id,
      invoiceNumber: row.invoice_number,
      packageId: row.package_id,
      itemNumber: row.item_number,
      buyer: row.payer_email,
      unit: row.unit,
      serial: row.serial + 1,
      format: row.format,
      version: row.version,
      expiresAt: row.expires_at,
    });
    await insertLicenseKeys(client, [made.row]);
    await client.query('COMMIT');
    const rows = await invoiceLicenseKeys(deps.pool, row.invoice_id);
    replacementId = rows.find((r) => r.package_id === row.package_id && r.unit === row.unit && r.serial === row.serial + 1)!.id;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  const key = licenseKeyView((await findLicenseKeyById(deps.pool, id))!);
  const replacement = licenseKeyView((await findLicenseKeyById(deps.pool, replacementId))!);
  // The e-mail goes out through the invoice workflow's resend, like every keys' e-mail; the new
  // key is committed first, so the resend's license part shows it.
  const resend = await performAction(
    { temporal: deps.temporal, pool: deps.pool, taskQueue: deps.config.temporal.taskQueue },
    { id: old.invoice_id, txnId: old.txn_id },
    'resendKeys',
    {},
    by,
    { refundsThroughPayPal: restConfigured(deps.config) },
  );
  const mailed = !resend.ok
    ? `not e-mailed (${resend.error}); resend the invoice's keys once that is mended`
    : resend.pending
      ? `to be e-mailed to ${old.payer_email} (${resend.message})`
      : `e-mailed to ${old.payer_email}`;
  return { ok: true, key, replacement, message: `Key ${key.masked} is revoked and replaced by ${replacement.masked}, ${mailed}.` };
}

/** What the package page's license section shows; undefined when the package has no license settings and no keys. */
export async function packageLicenseSection(pool: Pool, config: Config, csrf: string, itemNumber: string, query: Record<string, string | undefined>): Promise<LicenseSectionProps | undefined> {
  const found = await packageLicenses(pool, config, itemNumber);
  if (!found || (found.settings === null && found.keys.length === 0)) return undefined;
  const s = found.settings;
  const settings = s
    ? `Issues one ${String(s.format)} key per unit sold, for version ${String(s.version)}, ${s.validity ? `valid ${String(s.validity).endsWith('d') ? `for ${String(s.validity)} from the purchase` : `through ${String(s.validity)}`}` : 'perpetual'}.`
    : 'Issues no license keys now; the keys sold before are listed.';
  return { csrf, keys: found.keys, back: `/admin/packages/${encodeURIComponent(found.package)}`, on: 'package', publicKey: s?.format === 'signed' || found.keys.some((k) => k.format === 'signed') ? found.publicKey : null, signed: s?.format === 'signed', settings, flash: query.licenseFlash, error: query.licenseError };
}

/** What the invoice page's license section shows; undefined when the invoice has no keys. */
export async function invoiceLicenseSection(pool: Pool, csrf: string, ref: string, query: Record<string, string | undefined>): Promise<LicenseSectionProps | undefined> {
  const invoice = await findInvoice(pool, ref);
  if (!invoice) return undefined;
  const keys = (await invoiceLicenseKeys(pool, invoice.id)).map(licenseKeyView);
  if (keys.length === 0) return undefined;
  return { csrf, keys, back: `/admin/invoices/${encodeURIComponent(invoice.number)}`, on: 'invoice', flash: query.licenseFlash, error: query.licenseError };
}
