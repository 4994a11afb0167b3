// What an operator action the invoice workflow accepted is waiting for, when its answer does not
// come at once: what a package kind lacks (an empty support pool: Postgres says how many to
// upload), or else the step Temporal is retrying (with its last failure). The admin answers the
// operator with it instead of holding the request until the delivery can finish.
import type { Client } from '@temporalio/client';
import type { Queryable } from '../../db/pool';
import { invoiceWorkflowId } from '../../domain/invoice-ids';
import { deliveryBlockers } from '../../kinds';

/** `waitsFor`: what the seller must provide (one phrase each); `retrying`: the failing step, said in a phrase. */
export type Holdup = { waitsFor: string[] } | { retrying: string };

// The invoice workflow's activities an operator's action can wait behind, as the operator knows them.
const stepNames: Record<string, string> = {
  sendKeys: "the keys' e-mail",
  sendInvoiceNotice: 'the e-mail to the buyer',
  sendPackageNotifications: "the package's e-mails",
  refundAtPayPal: 'the refund at PayPal',
};

/** What holds the invoice's workflow up now; undefined when nothing is known to (it is simply busy). */
export async function invoiceHoldup(deps: { temporal: Client; pool: Queryable }, invoice: { id: number; txnId: string }): Promise<Holdup | undefined> {
  const waitsFor = await deliveryBlockers(deps.pool, invoice.id);
  if (waitsFor.length > 0) return { waitsFor };
  const handle = deps.temporal.workflow.getHandle(invoiceWorkflowId(invoice.txnId));
  const { raw } = await deps.temporal.withDeadline(Date.now() + 2_000, () => handle.describe());
  const failing = raw.pendingActivities?.find((a) => a.lastFailure?.message);
  if (!failing) return undefined;
  const name = failing.activityType?.name ?? 'a step';
  return { retrying: `${stepNames[name] ?? name} (attempt ${failing.attempt ?? '?'}; the last one failed: ${failing.lastFailure!.message})` };
}
