// What a buyer's library shows for each invoice of their address: the invoice's date, packages and
// status, and what the buyer can do with it now. A purchase that is not live (domain/invoice-status.ts)
// says its standing's sentence, as every link of it does; a live one is judged by the same rules as a
// download (domain/download-keys.ts): live keys give their links (derived again from the key secret,
// and shown only when they match the stored hash), expired ones the self-service renewal where the
// package allows it, a request to a person otherwise.
// What the package kinds delivered (a ticket, a login, license keys, an access link) shows as on
// the thank-you page; once the keys expired, only what does not stop with them.
import { deriveKey, keyHash, keyProblem, type KeyProblem } from '../domain/download-keys';
import { invoiceStanding, isInvoiceStatus, revokedSentence, type InvoiceStatus } from '../domain/invoice-status';
import type { InvoiceSettings } from '../domain/invoice-settings';
import { deliveredParts, type DeliveryPart } from '../kinds';
import type { Pool } from '../db/pool';
import { libraryInvoices, libraryKeys, type LibraryInvoiceRow, type LibraryKeyRow } from '../db/library-links';
import { selfServiceDays } from './link-requests';

/** What the buyer can do now; suspended, withdrawn and unpaid are the invoice's standing (its sentence in `notice`). */
export type LibraryEntryState = 'live' | 'renewable' | 'ask' | 'preparing' | 'suspended' | 'withdrawn' | 'unpaid';

export interface LibraryFile {
  name: string;
  sizeBytes: number;
  /** /d/<key>, for a key that may download now. */
  downloadPath?: string;
  /** Why this file has no link, when it has none. */
  problem?: KeyProblem;
  downloadLimit: number | null;
}

export interface LibraryEntry {
  number: string;
  createdAt: Date;
  packages: string;
  status: InvoiceStatus | 'unknown';
  amount: string;
  currency: string;
  state: LibraryEntryState;
  files: LibraryFile[];
  /** Why nothing of it works now, for suspended, withdrawn and unpaid: the standing's sentence. */
  notice?: string;
  /** What the package kinds delivered, shown while the invoice is live; empty otherwise. */
  parts: DeliveryPart[];
  keysExpireAt?: Date;
  /** For 'renewable': a key of the invoice the renewal form names, and the days it adds. */
  renewKey?: string;
  renewDays?: number;
  /** For 'ask' (and 'live' with a file used up): what the request to a person says was wrong; 'unknown' when links exist but cannot be shown here. */
  problem?: KeyProblem | 'unknown';
}

function entryFor(invoice: LibraryInvoiceRow, keys: LibraryKeyRow[], allParts: DeliveryPart[], keySecret: Buffer | undefined, defaultTtlSeconds: number): LibraryEntry {
  const parts = allParts.filter((part) => !part.expiresWithKeys);
  const base = {
    number: invoice.number,
    createdAt: invoice.created_at,
    packages: invoice.package_names.join(', '),
    status: isInvoiceStatus(invoice.status) ? invoice.status : ('unknown' as const),
    amount: invoice.amount,
    currency: invoice.currency.trim(),
    parts: [] as DeliveryPart[],
  };
  const judged = keys.map((k) => ({ row: k, problem: keyProblem({ ...k, invoice_status: invoice.status }) }));
  const keyOf = (k: LibraryKeyRow): string | undefined => {
    if (!keySecret || !invoice.salt || invoice.generation === null) return undefined;
    const key = deriveKey(keySecret, invoice.salt, k.package_file_id, invoice.generation);
    // A different KEY_SECRET here than in the worker would show links that do not work: show none.
    return keyHash(key).equals(k.key_hash) ? key : undefined;
  };
  const files: LibraryFile[] = judged.map(({ row, problem }) => {
    const key = problem === undefined ? keyOf(row) : undefined;
    return { name: row.name, sizeBytes: row.size_bytes, downloadPath: key && `/d/${key}`, problem, downloadLimit: row.download_limit };
  });
  const keysExpireAt = keys[0]?.expires_at;

  const standing = invoiceStanding(invoice.status);
  const revoked = judged.find((j) => j.row.revoked_at !== null);
  if (standing.standing === 'withdrawn' || revoked) {
    const notice = revokedSentence(revoked?.row.revoked_reason, invoice.status);
    return { ...base, state: 'withdrawn', notice, files: files.map(({ downloadPath: _, ...f }) => f) };
  }
  if (standing.standing !== 'live') return { ...base, state: standing.standing, notice: standing.sentence, files: [] };
  if (invoice.generation === null) return { ...base, state: 'preparing', files: [] };
  // Delivered without files (a ticket, a login): what the kinds gave is the purchase.
  if (keys.length === 0) return { ...base, state: 'live', files: [], parts: allParts, keysExpireAt: invoice.keys_expire_at ?? undefined };
  if (files.some((f) => f.downloadPath)) {
    return { ...base, state: 'live', files, parts: allParts, keysExpireAt, problem: files.some((f) => f.problem === 'exhausted') ? 'exhausted' : undefined };
  }
  const expired = judged.find((j) => j.problem === 'expired');
  const renewDays = expired ? selfServiceDays({ ...expired.row, invoice_status: invoice.status }, defaultTtlSeconds) : undefined;
  const renewKey = expired && renewDays !== undefined ? keyOf(expired.row) : undefined;
  if (renewKey) return { ...base, state: 'renewable', files, parts, keysExpireAt, renewKey, renewDays };
  // Live keys whose links cannot be shown here (another KEY_SECRET) also go to a person.
  return { ...base, state: 'ask', files, parts, keysExpireAt, problem: judged.find((j) => j.problem)?.problem ?? 'unknown' };
}

/** What the kinds delivered for a live, delivered invoice; none without the settings (no KEY_SECRET here). */
async function partsOf(pool: Pool, invoice: LibraryInvoiceRow, email: string, settings: InvoiceSettings | undefined): Promise<DeliveryPart[]> {
  if (!settings || invoice.generation === null || !invoice.salt || invoiceStanding(invoice.status).standing !== 'live') return [];
  return deliveredParts(pool, settings, {
    id: invoice.id,
    number: invoice.number,
    payerEmail: email,
    generation: invoice.generation,
    salt: invoice.salt,
    keysExpireAt: invoice.keys_expire_at,
  });
}

/** The library of one address: every invoice its payer e-mail names, newest first. */
export async function libraryEntries(pool: Pool, email: string, options: { settings: InvoiceSettings | undefined; defaultTtlSeconds: number }): Promise<LibraryEntry[]> {
  const invoices = await libraryInvoices(pool, email);
  const generations = invoices.flatMap((i) => (i.generation === null ? [] : [{ invoiceId: i.id, generation: i.generation }]));
  const keys = await libraryKeys(pool, generations);
  const parts = await Promise.all(invoices.map((invoice) => partsOf(pool, invoice, email, options.settings)));
  return invoices.map((invoice, i) =>
    entryFor(
      invoice,
      keys.filter((k) => k.invoice_id === invoice.id),
      parts[i]!,
      options.settings?.keySecret,
      options.defaultTtlSeconds,
    ),
  );
}
