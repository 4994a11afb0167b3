// What the thank-you page reads from Postgres about one payment: the invoice, and for each file
// of the newest key generation its checksums, its key's state, and (only when asked, and only if
// the key the secret derives matches the stored hash) the download link itself.
import { deriveKey, keyHash } from '../domain/download-keys';
import type { Pool } from '../db/pool';
import { thanksInvoiceRow } from '../db/invoices';
import { generationKeys } from '../db/keys';
import { invoiceSupportTexts } from '../db/packages';
import type { InvoiceSettings } from '../domain/invoice-settings';
import { invoiceStatus } from '../domain/invoice-status';
import { deliveredParts, waitingKinds, type DeliveryPart } from '../kinds';

export interface ThanksFile {
  name: string;
  sizeBytes: number;
  md5: string;
  sha256: string;
  /** The keyed URL path (/d/<key>); absent when links are not shown on the page. */
  downloadPath?: string;
  downloadLimit: number | null;
}

export interface ThanksInvoice {
  number: string;
  status: string;
  pendingReason: string | null;
  payerEmail: string;
  amount: string;
  currency: string;
  paidAt: Date | null;
  keysExpireAt: Date | null;
  keysRevoked: boolean;
  keysExpired: boolean;
  /** Paid less than the configured time ago (the window in which the page shows links). */
  recentlyPaid: boolean;
  files: ThanksFile[];
  /** Keys were issued (a generation exists): the page shows the delivery, not "processing". */
  delivered: boolean;
  /** What the package kinds deliver (an access link, a ticket, a login, license keys); empty when links are not shown. */
  parts: DeliveryPart[];
  /** Held for review because a package ran short (a support-login pool is empty): what the buyer is told is on its way. */
  coming: string[];
  /** The packages' support texts (as in the delivery e-mail); empty when there are none. */
  supportText: string;
}

export async function thanksInvoice(pool: Pool, txnId: string, options: { settings?: InvoiceSettings; linksForSeconds: number }): Promise<ThanksInvoice | undefined> {
  const keySecret = options.settings?.keySecret;
  const invoice = await thanksInvoiceRow(pool, txnId, options.linksForSeconds);
  if (!invoice) return undefined;
  const files = invoice.generation ? await generationKeys(pool, invoice.id, invoice.generation) : [];
  const keysRevoked = files.some((f) => f.revoked);
  const keysExpired = files.length > 0 && files.every((f) => f.expired);
  const showLinks = Boolean(keySecret && invoice.salt && invoice.recently_paid && !keysRevoked);
  const parts =
    showLinks && options.settings
      ? await deliveredParts(pool, options.settings, {
          id: invoice.id,
          number: invoice.number,
          payerEmail: invoice.payer_email,
          generation: invoice.generation!,
          salt: invoice.salt!,
          keysExpireAt: invoice.keys_expire_at,
        })
      : [];
  return {
    number: invoice.number,
    status: invoice.status,
    pendingReason: invoice.pending_reason,
    payerEmail: invoice.payer_email,
    amount: invoice.amount,
    currency: invoice.currency.trim(),
    paidAt: invoice.paid_at,
    keysExpireAt: invoice.keys_expire_at,
    keysRevoked,
    keysExpired,
    delivered: invoice.generation !== null,
    parts,
    coming: invoice.status === invoiceStatus.needs_review ? await waitingKinds(pool, invoice.id) : [],
    supportText: (await invoiceSupportTexts(pool, invoice.id)).join('\n\n'),
    recentlyPaid: invoice.recently_paid,
    files: files.map((f) => {
      let downloadPath: string | undefined;
      if (showLinks && !f.expired) {
        const key = deriveKey(keySecret!, invoice.salt!, f.package_file_id, invoice.generation!);
        // A different KEY_SECRET here than in the worker would show links that do not work: show none.
        if (keyHash(key).equals(f.key_hash)) downloadPath = `/d/${key}`;
      }
      return { name: f.name, sizeBytes: f.size_bytes, md5: f.md5, sha256: f.sha256, downloadPath, downloadLimit: f.download_limit };
    }),
  };
}
