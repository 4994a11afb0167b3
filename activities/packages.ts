// What was bought: checks a cleared payment against the packages in Postgres (receiver, items,
// quantities, amount, currency) and reads an invoice's files and delivery terms.
import type { ActivityDeps } from './deps';
import { reserveKinds } from '../kinds';
import { invoiceItems } from '../db/invoices';
import { activeFiles, invoicePackageTerms, packagesByItemNumber, type PackageTermsRow } from '../db/packages';
import { formatCents, toCents } from '../domain/money';
import { strictestPolicies, type DisputePolicy, type RefundPolicy } from '../domain/money-policy';
import type { InvoiceFileView } from '../workflows/invoice-state';
import type { NotificationItem } from '../workflows/notification';

export interface CheckPaymentInput {
  receiverEmail?: string;
  items: NotificationItem[];
  /** The invoice already recorded: its items stand in when this message names none (a REST capture). */
  invoiceId?: number;
  /** Decimal string as PayPal wrote it. */
  gross: string;
  currency: string;
}

export interface DeliveryTerms {
  files: InvoiceFileView[];
  /** The shortest key lifetime among the packages (KEY_TTL where a package names none). */
  keyTtlSeconds: number;
  /** Hours before expiry for the reminder; null when every package turned it off. */
  reminderHours: number | null;
  /** The strictest of the packages' refund and dispute policies (absent in answers recorded before policies). */
  refundPolicy?: RefundPolicy;
  disputePolicy?: DisputePolicy;
}

export interface CheckPaymentResult extends DeliveryTerms {
  /** Empty when the payment matches; otherwise one sentence per mismatch, for the operator. */
  problems: string[];
}

type PackageRow = PackageTermsRow;

export async function checkPayment(deps: ActivityDeps, given: CheckPaymentInput): Promise<CheckPaymentResult> {
  const input = given.items.length === 0 && given.invoiceId ? { ...given, items: await invoiceItems(deps.pool, given.invoiceId) } : given;
  const problems: string[] = [];
  const expectedReceiver = deps.settings.receiverEmail.toLowerCase();
  // REST captures may name no receiver e-mail; when one is named it must be ours.
  if (input.receiverEmail && input.receiverEmail.trim().toLowerCase() !== expectedReceiver) {
    problems.push(`the payment went to ${input.receiverEmail}, not to ${deps.settings.receiverEmail}`);
  }
  if (input.items.length === 0) problems.push('the payment names no item number');
  const numbers = input.items.map((i) => i.itemNumber);
  const rows = await packagesByItemNumber(deps.pool, numbers);
  const byNumber = new Map(rows.map((r) => [r.item_number, r]));
  let expectedCents = 0;
  const matched: PackageRow[] = [];
  for (const item of input.items) {
    const pkg = byNumber.get(item.itemNumber);
    if (!pkg) {
      problems.push(`item number "${item.itemNumber}" is not a package`);
      continue;
    }
    if (!pkg.active) problems.push(`package "${pkg.item_number}" is not for sale (inactive)`);
    if (!Number.isInteger(item.quantity) || item.quantity < 1) problems.push(`quantity ${item.quantity} of "${pkg.item_number}" is not a whole number of at least 1`);
    if (pkg.currency.trim() !== input.currency.trim().toUpperCase()) problems.push(`"${pkg.item_number}" is sold in ${pkg.currency}, the payment is in ${input.currency}`);
    expectedCents += (toCents(pkg.price) ?? 0) * item.quantity;
    matched.push(pkg);
  }
  const paidCents = toCents(input.gross);
  if (paidCents === undefined) problems.push(`the amount "${input.gross}" is not a decimal amount`);
  else if (matched.length === input.items.length && paidCents !== expectedCents) {
    problems.push(`the payment is ${input.gross} ${input.currency}, the packages cost ${formatCents(expectedCents)} ${input.currency}`);
  }
  // What is scarce (a seat, a credential) is claimed only for a payment that is otherwise right; an
  // invoice held for another reason gets it when an operator approves it (its delivery issues it).
  if (problems.length === 0 && input.invoiceId !== undefined) problems.push(...(await reserveKinds(deps.pool, input.invoiceId)));
  return { problems, ...(await termsOf(deps, matched)) };
}

async function termsOf(deps: ActivityDeps, packages: Pick<PackageRow, 'id' | 'key_ttl_seconds' | 'reminder_hours' | 'refund_policy' | 'dispute_policy'>[]): Promise<DeliveryTerms> {
  const rows = await activeFiles(deps.pool, packages.map((p) => p.id));
  const ttls = packages.map((p) => p.key_ttl_seconds ?? deps.settings.timings.defaultKeyTtlSeconds);
  const reminders = packages.map((p) => p.reminder_hours).filter((h): h is number => h !== null);
  return {
    files: rows.map((r) => ({ name: r.name, sizeBytes: Number(r.size_bytes), md5: r.md5, sha256: r.sha256 })),
    keyTtlSeconds: ttls.length ? Math.min(...ttls) : deps.settings.timings.defaultKeyTtlSeconds,
    reminderHours: reminders.length ? Math.min(...reminders) : null,
    ...strictestPolicies(packages.map((p) => ({ refundPolicy: p.refund_policy, disputePolicy: p.dispute_policy }))),
  };
}

/** The delivery terms of an invoice's recorded items. */
export async function invoiceTerms(deps: ActivityDeps, invoiceId: number): Promise<DeliveryTerms> {
  return termsOf(deps, await invoicePackageTerms(deps.pool, invoiceId));
}
