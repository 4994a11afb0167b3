// The package kinds the delivery calls, in the order their parts appear (kinds/kind.ts says when).
import type { Queryable } from '../db/pool';
import type { InvoiceSettings } from '../domain/invoice-settings';
import { invoiceKindItems } from '../db/package-kinds';
import { restoreInvoiceRows, revokeInvoiceRows, type RevokeReason } from '../db/revocations';
import type { DeliveryContext, DeliveryPart, KindDelivery } from './kind';
import { access } from './access';
import { eventSeats } from './event-seats';
import { supportCredentials } from './support-credentials';
import { licenseKeys } from './license-keys';
import { signedChecksums } from './signed-checksums';

export type { DeliveryContext, DeliveryLine, DeliveryPart, EditorField, KindDelivery, KindItem, KindSettings, PackageKind } from './kind';
export { packageKinds } from './kind';

// Each kind's module adds itself here (files need none: activities/keys.ts delivers them).
// Signed checksums come last: their section follows what the files and the kinds delivered.
export const kindDeliveries: KindDelivery[] = [access, eventSeats, supportCredentials, licenseKeys, signedChecksums];

/** The sentences every kind that has `hook` gives about the invoice, in order (its items read once; none without such a kind). */
async function kindSentences(db: Queryable, invoiceId: number, hook: 'reserve' | 'waiting' | 'blockers'): Promise<string[]> {
  const asked = kindDeliveries.filter((k) => k[hook]);
  if (asked.length === 0) return [];
  const items = await invoiceKindItems(db, invoiceId);
  const sentences: string[] = [];
  for (const k of asked) sentences.push(...(await k[hook]!(db, invoiceId, items)));
  return sentences;
}

/** Claims what is scarce for a cleared payment; one sentence per shortfall (the invoice is then held for review). */
export const reserveKinds = (db: Queryable, invoiceId: number) => kindSentences(db, invoiceId, 'reserve');

/** Issues every kind's rows for the context's generation (in the delivery's transaction). */
export async function issueKinds(ctx: DeliveryContext): Promise<void> {
  for (const k of kindDeliveries) await k.issue?.(ctx);
}

/** What the buyer is shown, every kind in order. */
export async function kindParts(ctx: DeliveryContext): Promise<DeliveryPart[]> {
  const parts: DeliveryPart[] = [];
  for (const k of kindDeliveries) if (k.parts) parts.push(...(await k.parts(ctx)));
  return parts;
}

/** What the buyer is shown of an invoice already delivered (the thank-you page, the library): its newest generation, read back. */
export async function deliveredParts(
  db: Queryable,
  settings: InvoiceSettings,
  invoice: { id: number; number: string; payerEmail: string; generation: number; salt: Buffer; keysExpireAt: Date | null },
): Promise<DeliveryPart[]> {
  return kindParts({
    db,
    settings,
    invoiceId: invoice.id,
    invoiceNumber: invoice.number,
    payerEmail: invoice.payerEmail,
    buyerName: '',
    generation: invoice.generation,
    salt: invoice.salt,
    expiresAt: (invoice.keysExpireAt ?? new Date(0)).toISOString(),
    items: await invoiceKindItems(db, invoice.id),
  });
}

/** A refund or reversal: every kind's rows of the invoice revoked; how many were live. */
export async function revokeKinds(db: Queryable, invoiceId: number, reason: RevokeReason): Promise<number> {
  let revoked = 0;
  for (const k of kindDeliveries) if (k.revocable) revoked += await revokeInvoiceRows(db, k.revocable.table, invoiceId, reason);
  return revoked;
}

/** A cancelled reversal: every kind's rows the reversal took, given back. */
export async function restoreKinds(db: Queryable, invoiceId: number): Promise<number> {
  let restored = 0;
  for (const k of kindDeliveries) if (k.revocable) restored += await restoreInvoiceRows(db, k.revocable.table, invoiceId, k.revocable);
  return restored;
}

/** What the buyer of an invoice held for review is told is on its way (empty: nothing; the hold is for another reason). */
export const waitingKinds = (db: Queryable, invoiceId: number) => kindSentences(db, invoiceId, 'waiting');

/** What the invoice's delivery waits for the seller to provide, every kind in order (empty: nothing). */
export const deliveryBlockers = (db: Queryable, invoiceId: number) => kindSentences(db, invoiceId, 'blockers');

export { invoiceKindItems };

