// What the thank-you page reads from Postgres about one payment: the invoice, and for each file
// of the newest key generation its checksums, its key's state, and (only when asked, and only if
// the key the secret derives matches the stored hash) the download link itself.
import { deriveKey, keyHash } from '../domain/download-keys';
import type { Pool } from '../db/pool';

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
}

interface InvoiceRow {
  id: number;
  number: string;
  status: string;
  pending_reason: string | null;
  payer_email: string;
  amount: string;
  currency: string;
  paid_at: Date | null;
  keys_expire_at: Date | null;
  recently_paid: boolean;
  generation: number | null;
  salt: Buffer | null;
}

interface FileRow {
  package_file_id: number;
  name: string;
  size_bytes: number;
  md5: string;
  sha256: string;
  key_hash: Buffer;
  download_limit: number | null;
  expired: boolean;
  revoked: boolean;
}

export async function thanksInvoice(pool: Pool, txnId: string, options: { keySecret?: Buffer; linksForSeconds: number }): Promise<ThanksInvoice | undefined> {
  const { rows } = await pool.query<InvoiceRow>(
    `SELECT i.id, i.number, i.status, i.pending_reason, i.payer_email, i.amount::text AS amount, i.currency, i.paid_at, i.keys_expire_at,
            coalesce(i.paid_at, i.fulfilled_at) > now() - make_interval(secs => $2) AS recently_paid, g.generation, g.salt
       FROM invoices i
       LEFT JOIN LATERAL (SELECT generation, salt FROM key_generations WHERE invoice_id = i.id ORDER BY generation DESC LIMIT 1) g ON true
      WHERE i.txn_id = $1`,
    [txnId, options.linksForSeconds],
  );
  const invoice = rows[0];
  if (!invoice) return undefined;
  const files = invoice.generation
    ? (
        await pool.query<FileRow>(
          `SELECT k.package_file_id, f.name, f.size_bytes, f.md5, f.sha256, k.key_hash, k.download_limit,
                  k.expires_at <= now() AS expired, k.revoked_at IS NOT NULL AS revoked
             FROM download_keys k JOIN package_files f ON f.id = k.package_file_id
            WHERE k.invoice_id = $1 AND k.generation = $2
            ORDER BY f.position, f.id`,
          [invoice.id, invoice.generation],
        )
      ).rows
    : [];
  const keysRevoked = files.some((f) => f.revoked);
  const keysExpired = files.length > 0 && files.every((f) => f.expired);
  const showLinks = Boolean(options.keySecret && invoice.salt && invoice.recently_paid && !keysRevoked);
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
    recentlyPaid: invoice.recently_paid,
    files: files.map((f) => {
      let downloadPath: string | undefined;
      if (showLinks && !f.expired) {
        const key = deriveKey(options.keySecret!, invoice.salt!, f.package_file_id, invoice.generation!);
        // A different KEY_SECRET here than in the worker would show links that do not work: show none.
        if (keyHash(key).equals(f.key_hash)) downloadPath = `/d/${key}`;
      }
      return { name: f.name, sizeBytes: f.size_bytes, md5: f.md5, sha256: f.sha256, downloadPath, downloadLimit: f.download_limit };
    }),
  };
}
