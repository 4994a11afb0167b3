// Operator actions from the admin (pages and JSON): each runs as the invoice workflow's update of
// the same name and returns the workflow's answer, or a sentence saying why not.
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { queryInvoiceState, runInvoiceAction } from '../../domain/invoice-client';
import { maxExtendDays, minExtendDays, type OperatorAction, type OperatorActionKind } from '../../domain/operator-actions';
import type { InvoiceStateView } from '../../workflows/invoice-state';

export const actionLabels: Record<OperatorActionKind, string> = {
  resendKeys: 'Resend keys',
  extendKeys: 'Extend keys',
  regenerateKeys: 'Regenerate keys',
  approve: 'Approve',
  reject: 'Reject',
  refund: 'Mark refunded',
};

export const actionInputSchema = z.object({
  days: z.coerce.number().int().min(minExtendDays).max(maxExtendDays).optional(),
  reason: z.string().trim().max(500).optional(),
});

export type ActionAnswer = { ok: true; state: InvoiceStateView; message: string } | { ok: false; status: 400 | 409 | 503 | 504; error: string };

const answerWithin = 30_000;

export async function performAction(
  temporal: Client,
  taskQueue: string,
  txnId: string,
  kind: OperatorActionKind,
  input: z.output<typeof actionInputSchema>,
  by: string,
): Promise<ActionAnswer> {
  let action: OperatorAction;
  if (kind === 'extendKeys') {
    if (input.days === undefined) return { ok: false, status: 400, error: `Extend needs a number of days from ${minExtendDays} to ${maxExtendDays}.` };
    action = { kind, input: { days: input.days, by } };
  } else if (kind === 'reject' || kind === 'refund') action = { kind, input: { reason: input.reason || undefined, by } };
  else action = { kind, input: { by } };
  try {
    const state = await temporal.withDeadline(Date.now() + answerWithin, () => runInvoiceAction(temporal, taskQueue, txnId, action));
    const expiry = state.keys ? ` Keys ${state.keys.revoked ? 'revoked' : `live until ${state.keys.expiresAt}`}.` : '';
    return { ok: true, state, message: `${actionLabels[kind]}: done; the invoice is ${state.status}.${expiry}` };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) return { ok: false, status: 409, error: `${actionLabels[kind]} refused: ${error.cause?.message ?? error.message}.` };
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (/deadline|timed? ?out|cancel/i.test(text)) {
      return { ok: false, status: 504, error: `${actionLabels[kind]}: the invoice workflow did not answer within ${answerWithin / 1000} s; check that the worker runs (it may still act).` };
    }
    return { ok: false, status: 503, error: `${actionLabels[kind]}: Temporal could not be asked (${text}); check TEMPORAL_ADDRESS and try again.` };
  }
}

/** The workflow's own view (with its event list), or undefined when Temporal does not answer quickly. */
export async function workflowView(temporal: Client, txnId: string): Promise<InvoiceStateView | undefined> {
  try {
    return await temporal.withDeadline(Date.now() + 3_000, () => queryInvoiceState(temporal, txnId));
  } catch {
    return undefined;
  }
}
