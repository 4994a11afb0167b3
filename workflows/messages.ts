// Every signal, update and query of the invoice workflow, defined once; the api, the worker, the
// tests and the README's CLI examples all use these names.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PaymentNotification } from './notification';
import type { ApproveInput, ExtendKeysInput, RefundInput, RegenerateKeysInput, RejectInput, ResendKeysInput } from '../domain/operator-actions';
import type { InvoiceStateView } from './invoice-state';

/** PayPal told us something about this payment (IPN, webhook, PDT or a poll). */
export const paypalNotification = defineSignal<[PaymentNotification]>('paypalNotification');

// ---- Operator actions ------------------------------------------------------------------------
// Each action is a signal (fire and forget: the Temporal UI, `temporal workflow signal`) and an
// update of the same name (the admin pages, which need an answer). One handler body serves both;
// the update's validator rejects nonsense before it reaches history, and its result is the state
// after the action. Examples:
//   temporal workflow signal --workflow-id invoice-<txn> --name extendKeys --input '{"days":7}'
//   temporal workflow update execute --workflow-id invoice-<txn> --name resendKeys --input '{}'

export const resendKeysSignal = defineSignal<[ResendKeysInput]>('resendKeys');
export const resendKeys = defineUpdate<InvoiceStateView, [ResendKeysInput]>('resendKeys');

export const extendKeysSignal = defineSignal<[ExtendKeysInput]>('extendKeys');
export const extendKeys = defineUpdate<InvoiceStateView, [ExtendKeysInput]>('extendKeys');

export const regenerateKeysSignal = defineSignal<[RegenerateKeysInput]>('regenerateKeys');
export const regenerateKeys = defineUpdate<InvoiceStateView, [RegenerateKeysInput]>('regenerateKeys');

/** Marks the invoice refunded and revokes its keys (the money itself is returned in PayPal). */
export const refundSignal = defineSignal<[RefundInput]>('refund');
export const refund = defineUpdate<InvoiceStateView, [RefundInput]>('refund');

/** Delivers an invoice that stopped at needs review. */
export const approveSignal = defineSignal<[ApproveInput]>('approve');
export const approve = defineUpdate<InvoiceStateView, [ApproveInput]>('approve');

export const rejectSignal = defineSignal<[RejectInput]>('reject');
export const reject = defineUpdate<InvoiceStateView, [RejectInput]>('reject');

/** The invoice as the thank-you page and operators see it (never a key). */
export const state = defineQuery<InvoiceStateView>('state');
