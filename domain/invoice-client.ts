// The one code that sends messages to invoice workflows: the PayPal intake signals notifications,
// the admin api and the bulk actions run operator actions as updates, the api reads the state,
// tests do all three. Each call starts the workflow when no run is open (a closed invoice is taken
// up again from Postgres by the new run), so callers never need to know whether one is running.
// Not workflow code: it uses @temporalio/client.
import { WithStartWorkflowOperation, WorkflowUpdateStage, type Client, type WorkflowUpdateHandle } from '@temporalio/client';
import { invoiceWorkflowId, invoiceWorkflowType } from './invoice-ids';
import type { invoice } from '../workflows/invoice';
import type { OperatorAction } from '../domain/operator-actions';
import type { InvoiceStateView } from '../workflows/invoice-state';
import * as messages from '../workflows/messages';
import { newInvoiceAttributes } from '../workflows/search-attributes';
import type { PaymentNotification } from '../workflows/notification';

function summary(notification: PaymentNotification): string {
  const items = notification.items.map((i) => i.itemNumber).join(', ') || 'no item';
  return `PayPal ${notification.txnId}: ${items} for ${notification.payer.email}`;
}

/** Delivers a PayPal notification to the invoice workflow of its payment, starting it if needed. */
export async function signalInvoice(client: Client, taskQueue: string, notification: PaymentNotification): Promise<void> {
  await client.workflow.signalWithStart<typeof invoice, [PaymentNotification]>(invoiceWorkflowType, {
    workflowId: invoiceWorkflowId(notification.txnId),
    taskQueue,
    args: [{}],
    signal: messages.paypalNotification,
    signalArgs: [notification],
    staticSummary: summary(notification),
    // Ignored when the run exists; a new run starts with what its first publish would upsert.
    typedSearchAttributes: newInvoiceAttributes(),
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
}

const signals = {
  resendKeys: messages.resendKeysSignal,
  extendKeys: messages.extendKeysSignal,
  regenerateKeys: messages.regenerateKeysSignal,
  refund: messages.refundSignal,
  approve: messages.approveSignal,
  reject: messages.rejectSignal,
} as const;

const updates = {
  resendKeys: messages.resendKeys,
  extendKeys: messages.extendKeys,
  regenerateKeys: messages.regenerateKeys,
  refund: messages.refund,
  approve: messages.approve,
  reject: messages.reject,
} as const;

/** Fire-and-forget operator action (what the Temporal UI and `temporal workflow signal` do). */
export async function signalInvoiceAction(client: Client, taskQueue: string, txnId: string, action: OperatorAction): Promise<void> {
  await client.workflow.signalWithStart(invoiceWorkflowType, {
    workflowId: invoiceWorkflowId(txnId),
    taskQueue,
    args: [{}],
    signal: signals[action.kind] as typeof messages.resendKeysSignal,
    signalArgs: [action.input],
    staticSummary: `PayPal ${txnId}: operator ${action.kind}`,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
}

export interface RunActionOptions {
  /** Names the update so a retried caller (a bulk activity) never runs it twice. */
  updateId?: string;
  /** Who asks, for the run's summary in the Temporal UI (default "operator"). */
  by?: string;
}

function actionUpdate(taskQueue: string, txnId: string, action: OperatorAction, options: RunActionOptions) {
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof invoice>(invoiceWorkflowType, {
    workflowId: invoiceWorkflowId(txnId),
    taskQueue,
    args: [{}],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `PayPal ${txnId}: ${options.by ?? 'operator'} ${action.kind}`,
  });
  return { definition: updates[action.kind] as typeof messages.resendKeys, options: { args: [action.input] as [typeof action.input], updateId: options.updateId, startWorkflowOperation } };
}

/**
 * Runs an operator action and returns the invoice state after it. Throws a
 * WorkflowUpdateFailedError whose cause's message says why when the action makes no sense
 * (the validator or, for a run just started, the handler refused it).
 */
export async function runInvoiceAction(
  client: Client,
  taskQueue: string,
  txnId: string,
  action: OperatorAction,
  options: RunActionOptions = {},
): Promise<InvoiceStateView> {
  const update = actionUpdate(taskQueue, txnId, action, options);
  return client.workflow.executeUpdateWithStart(update.definition, update.options);
}

/**
 * Hands an operator action to the invoice workflow and returns as soon as the workflow has
 * accepted it (its validator passed), before the action has run: a delivery may wait for hours
 * (an empty support pool, an SMTP outage). The handle's result() is the state after it, or throws
 * the WorkflowUpdateFailedError that says why the action was refused.
 */
export async function startInvoiceAction(
  client: Client,
  taskQueue: string,
  txnId: string,
  action: OperatorAction,
  options: RunActionOptions = {},
): Promise<WorkflowUpdateHandle<InvoiceStateView>> {
  const update = actionUpdate(taskQueue, txnId, action, options);
  return client.workflow.startUpdateWithStart(update.definition, { ...update.options, waitForStage: WorkflowUpdateStage.ACCEPTED });
}

/** The invoice state of the newest run (open or closed); undefined when no run ever existed. */
export async function queryInvoiceState(client: Client, txnId: string): Promise<InvoiceStateView | undefined> {
  try {
    return await client.workflow.getHandle(invoiceWorkflowId(txnId)).query(messages.state);
  } catch (error) {
    if (error instanceof Error && error.name === 'WorkflowNotFoundError') return undefined;
    throw error;
  }
}
