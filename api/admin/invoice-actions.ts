// Operator actions from the admin (pages and JSON): each runs as the invoice workflow's update of
// the same name and returns the workflow's answer, or a sentence saying why not.
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import { queryInvoiceState, runInvoiceAction } from '../../domain/invoice-client';
import { maxExtendDays, minExtendDays, type OperatorAction, type OperatorActionKind } from '../../domain/operator-actions';
import { priceShape } from '../../domain/money';
import type { InvoiceStateView } from '../../workflows/invoice-state';

export const actionLabels: Record<OperatorActionKind, string> = {
  resendKeys: 'Resend keys',
  extendKeys: 'Extend keys',
  regenerateKeys: 'Regenerate keys',
  approve: 'Approve',
  reject: 'Reject',
  refund: 'Refund',
};

const blankIsUnset = (value: unknown) => (value === '' ? undefined : value);

export const actionInputSchema = z.object({
  days: z.coerce.number().int().min(minExtendDays).max(maxExtendDays).optional(),
  reason: storableText().trim().max(500).optional(),
  /** Refund: part of the payment (empty: all of what is left). */
  amount: z.preprocess(blankIsUnset, z.string().trim().regex(priceShape, 'must be an amount such as 2.00').optional()),
  /** Refund: the confirmation form's id, so a second submit never refunds twice. */
  requestId: z.preprocess(blankIsUnset, z.string().regex(/^[A-Za-z0-9:_-]{1,100}$/).optional()),
  /** Refund: `record` only marks the invoice (the money was returned in PayPal by hand). */
  through: z.enum(['paypal', 'record']).optional(),
  confirm: z.literal('yes').optional(),
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
  options: { refundsThroughPayPal: boolean },
): Promise<ActionAnswer> {
  let action: OperatorAction;
  if (kind === 'extendKeys') {
    if (input.days === undefined) return { ok: false, status: 400, error: `Extend needs a number of days from ${minExtendDays} to ${maxExtendDays}.` };
    action = { kind, input: { days: input.days, by } };
  } else if (kind === 'refund') {
    const viaPayPal = refundsThroughPayPal(input, options);
    if (!viaPayPal && input.amount) return { ok: false, status: 400, error: 'A partial refund goes through PayPal; without a REST app (PAYPAL_CLIENT_ID) refund in PayPal and record the whole refund here.' };
    action = { kind, input: { reason: input.reason || undefined, by, ...(viaPayPal ? { viaPayPal, amount: input.amount, requestId: input.requestId } : {}) } };
  } else if (kind === 'reject') action = { kind, input: { reason: input.reason || undefined, by } };
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

/** A refund returns the money through PayPal where a REST app is configured, unless asked only to record one. */
export function refundsThroughPayPal(input: { through?: 'paypal' | 'record' }, options: { refundsThroughPayPal: boolean }): boolean {
  return options.refundsThroughPayPal && input.through !== 'record';
}

/** The workflow's own view (with its event list), or undefined when Temporal does not answer quickly. */
export async function workflowView(temporal: Client, txnId: string): Promise<InvoiceStateView | undefined> {
  try {
    return await temporal.withDeadline(Date.now() + 3_000, () => queryInvoiceState(temporal, txnId));
  } catch {
    return undefined;
  }
}
