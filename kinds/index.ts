// The package kinds the delivery calls, in the order their parts appear (kinds/kind.ts says when).
import type { Queryable } from '../db/pool';
import { invoiceKindItems } from '../db/package-kinds';
import type { DeliveryContext, DeliveryPart, KindDelivery, RevokeReason } from './kind';
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

/** Claims what is scarce for a cleared payment; one sentence per shortfall (the invoice is then held for review). */
export async function reserveKinds(db: Queryable, invoiceId: number): Promise<string[]> {
  const items = await invoiceKindItems(db, invoiceId);
  const problems: string[] = [];
  for (const k of kindDeliveries) if (k.reserve) problems.push(...(await k.reserve(db, invoiceId, items)));
  return problems;
}

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

export async function revokeKinds(db: Queryable, invoiceId: number, reason: RevokeReason): Promise<number> {
  let revoked = 0;
  for (const k of kindDeliveries) revoked += (await k.revoke?.(db, invoiceId, reason)) ?? 0;
  return revoked;
}

export async function restoreKinds(db: Queryable, invoiceId: number): Promise<number> {
  let restored = 0;
  for (const k of kindDeliveries) restored += (await k.restore?.(db, invoiceId)) ?? 0;
  return restored;
}

/** What the buyer of an invoice held for review is told is on its way (empty: nothing; the hold is for another reason). */
export async function waitingKinds(db: Queryable, invoiceId: number): Promise<string[]> {
  const waiting = kindDeliveries.filter((k) => k.waiting);
  if (waiting.length === 0) return [];
  const items = await invoiceKindItems(db, invoiceId);
  const sentences: string[] = [];
  for (const k of waiting) sentences.push(...(await k.waiting!(db, invoiceId, items)));
  return sentences;
}

export { invoiceKindItems };
