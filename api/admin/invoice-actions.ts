// Operator actions from the admin (pages and JSON): each runs as the invoice workflow's update of
// the same name and returns the workflow's answer, a sentence saying why not, or, when the action
// cannot finish at once, that it was accepted and what it waits for.
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowUpdateFailedError, type Client, type WorkflowUpdateHandle } from '@temporalio/client';
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { Queryable } from '../../db/pool';
import { queryInvoiceState, startInvoiceAction } from '../../domain/invoice-client';
import { maxExtendDays, minExtendDays, type OperatorAction, type OperatorActionKind } from '../../domain/operator-actions';
import { priceShape } from '../../domain/money';
import type { InvoiceStateView } from '../../workflows/invoice-state';
import { invoiceHoldup, type Holdup } from './action-holdup';

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

/**
 * `pending`: the workflow accepted the action but has not finished it (a delivery waiting for the
 * seller, a step being retried); the message says what it waits for and that it goes on by itself.
 */
export type ActionAnswer =
  | { ok: true; pending: false; state: InvoiceStateView; message: string }
  | { ok: true; pending: true; message: string }
  | { ok: false; status: 400 | 409 | 503 | 504; error: string };

/** The HTTP status of an answer, the same for the pages and the JSON API. */
export const answerStatus = (answer: ActionAnswer) => (answer.ok ? (answer.pending ? 202 : 200) : answer.status);

// Acceptance needs a worker; the action itself may then wait for hours (an empty support pool, an
// SMTP outage), so the operator is told what it waits for instead of being kept waiting.
const acceptWithin = 30_000;
const settleWithin = 10_000;
const firstLook = 300;
const lookEvery = 1_000;

export async function performAction(
  deps: { temporal: Client; pool: Queryable; taskQueue: string },
  invoice: { id: number; txnId: string },
  kind: OperatorActionKind,
  input: z.output<typeof actionInputSchema>,
  by: string,
  options: { refundsThroughPayPal: boolean },
): Promise<ActionAnswer> {
  const { temporal } = deps;
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
    const handle = await temporal.withDeadline(Date.now() + acceptWithin, () => startInvoiceAction(temporal, deps.taskQueue, invoice.txnId, action));
    const settled = await settle(deps, invoice, handle);
    if ('state' in settled) {
      const { state } = settled;
      const expiry = state.keys ? ` Keys ${state.keys.revoked ? 'revoked' : `live until ${state.keys.expiresAt}`}.` : '';
      return { ok: true, pending: false, state, message: `${actionLabels[kind]}: done; the invoice is ${state.status}.${expiry}` };
    }
    return { ok: true, pending: true, message: pendingMessage(kind, settled.holdup) };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) return { ok: false, status: 409, error: `${actionLabels[kind]} refused: ${error.cause?.message ?? error.message}.` };
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (/deadline|timed? ?out|cancel/i.test(text)) {
      return { ok: false, status: 504, error: `${actionLabels[kind]}: the invoice workflow did not take the action within ${acceptWithin / 1000} s; check that the worker runs (it may still act).` };
    }
    return { ok: false, status: 503, error: `${actionLabels[kind]}: Temporal could not be asked (${text}); check TEMPORAL_ADDRESS and try again.` };
  }
}

/**
 * The accepted action's answer, or what holds it up: looked for after `firstLook` ms, then every
 * `lookEvery` ms, so an action that cannot finish (a refused one throws at once) is answered in
 * well under a second, and one that is merely slow after `settleWithin`.
 */
async function settle(
  deps: { temporal: Client; pool: Queryable },
  invoice: { id: number; txnId: string },
  handle: WorkflowUpdateHandle<InvoiceStateView>,
): Promise<{ state: InvoiceStateView } | { holdup?: Holdup }> {
  const stop = new AbortController();
  const answer = deps.temporal.withAbortSignal(stop.signal, () => handle.result()).then((state) => ({ state }));
  answer.catch(() => undefined); // once stopped below, its cancellation concerns no one
  const until = Date.now() + settleWithin;
  try {
    for (let wait = firstLook; ; wait = lookEvery) {
      const answered = await Promise.race([answer, delay(wait, undefined)]);
      if (answered) return answered;
      // An answer that comes while we look is taken at once.
      const looked = await Promise.race([answer, invoiceHoldup(deps, invoice).then((holdup) => ({ holdup }), () => ({ holdup: undefined }))]);
      if ('state' in looked || looked.holdup || Date.now() >= until) return looked;
    }
  } finally {
    stop.abort();
  }
}

function pendingMessage(kind: OperatorActionKind, holdup: Holdup | undefined): string {
  const accepted = kind === 'approve' ? 'Approved' : `${actionLabels[kind]}: accepted`;
  if (!holdup) return `${accepted} and still running; the invoice page shows when it is done.`;
  if ('retrying' in holdup) return `${accepted}, not done yet: Temporal is retrying ${holdup.retrying}. It finishes by itself once that succeeds.`;
  const what = holdup.waitsFor.join(', and for ');
  return kind === 'approve'
    ? `Approved; the delivery waits for ${what}. It then finishes by itself and e-mails the buyer.`
    : `${accepted}; it runs once the invoice's delivery is done, which waits for ${what}.`;
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
