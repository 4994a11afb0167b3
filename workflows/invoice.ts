// The invoice workflow: one per PayPal transaction, from the first notification to the end of
// PayPal's dispute window.
//
// Start contract
//   - Workflow type 'invoice' (invoiceWorkflowType), id invoiceWorkflowId(txnId), the worker's
//     task queue. Argument: none, or `{}`; `{ resume }` is only used by continueAsNew.
//   - Started by signalWithStart with the `paypalNotification` signal (the PayPal intake), or with
//     an operator action: signalWithStart of an action signal, or updateWithStart of an action
//     update (conflict policy USE_EXISTING). domain/invoice-client.ts wraps all three.
//   - Every run first reads the invoice from Postgres (loadInvoice), so a run started after an
//     earlier one closed takes the invoice up where it was: status, keys, expiry, generation.
//
// Lifetime
//   - Awaiting payment: until it clears, fails, or the pending limit (PENDING_LIMIT, 30 days).
//   - Failed, or nothing to act on: closes as soon as its messages are handled.
//   - Money taken: open until max(keys' expiry, payment + INVOICE_RETENTION, default 180 days,
//     PayPal's dispute window), so refunds, reversals and chargebacks reach a live run with its
//     timers. Anything later (an action, a late reversal) starts a new run with the same id
//     (WorkflowIdReusePolicy ALLOW_DUPLICATE, the default), which reads Postgres again.
//   - History stays small (a handful of events a day at most); continueAsNew carries the whole
//     state when the server suggests it.
//
// All messages go through one queue handled by the main loop, one at a time, so a signal, an
// update, a timer and a PayPal message never interleave half-way through an activity sequence.
// Keys never pass through here: activities derive and e-mail them; history holds only ids,
// generations and expiry times.
//
// What a message, an action, a timer or an activity's answer does is decided in
// invoice-decisions.ts; this file keeps the run's state, runs the commands those decisions answer
// and hands the activities' answers back to them.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair, SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type { InvoiceActivities } from '../activities';
import { actionInputProblem, type OperatorAction, type OperatorActionKind } from '../domain/operator-actions';
import type { PaymentNotification } from './notification';
import { txnIdFromWorkflowId } from '../domain/invoice-ids';
import * as messages from './messages';
import { invoiceAttributePairs, startedWithAttributes } from './search-attributes';
import { emptyState, stateDetails, stateView, withEvent, type InvoiceState, type InvoiceStateView, type InvoiceTimings } from './invoice-state';
import * as decide from './invoice-decisions';

export interface InvoiceWorkflowInput {
  /** Set only by continueAsNew: the state to carry on with. */
  resume?: { state: InvoiceState; timings: InvoiceTimings };
}

const retry = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' };
// Steps that only read or write Postgres run as local activities: in the worker, inside the
// workflow task, their results recorded as markers, without the server scheduling a task, a worker
// polling it and a new workflow task after it. Each is idempotent, as a local activity may run
// again after a crash. Runs begun before local activities (no `localDatabaseSteps` marker) keep
// them on `queued`.
const databaseLocal = proxyLocalActivities<InvoiceActivities>({ startToCloseTimeout: '1 minute', retry });
const localDatabaseSteps = 'local-database-steps';
// The first delivery's sendKeys also sends the packages' own notifications, in one activity task;
// runs past that point before (no marker) send them with an activity of their own.
const packageNotesWithKeys = 'package-notes-with-keys';
// Refunds and disputes follow the packages' policies (a partial refund keeps access, a dispute
// suspends it); runs that handled one before (no marker) keep revoking on every refund.
const moneyPolicy = 'money-policy';
// Through the task queue: e-mails (an SMTP outage is retried by the server, with backoff), and the
// database steps of runs begun before local activities.
const queued = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '1 minute', retry });
// Sending keys heartbeats, so a worker killed mid-delivery is noticed in seconds.
const delivery = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 seconds', retry });
// A status poll that fails is simply tried again at the next poll.
const paypal = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 3 } });

/** An update's wait for the main loop to handle its action; `error` is the refusal's sentence. */
interface Ticket {
  done: boolean;
  error?: string;
}
type QueueItem = { kind: 'notification'; notification: PaymentNotification } | { kind: 'action'; action: OperatorAction; ticket?: Ticket };

// For comparing two sets of attributes, whatever their order.
const attributesText = (pairs: SearchAttributePair[]) => JSON.stringify(pairs.map((p) => [p.key.name, p.value]).sort(([a], [b]) => String(a).localeCompare(String(b))));
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function invoice(input: InvoiceWorkflowInput = {}): Promise<InvoiceStateView> {
  const run = new InvoiceRun(input);
  registerHandlers(run);
  return run.run();
}

/** Every handler only enqueues (or, for an update, waits for the main loop to handle its action). */
function registerHandlers(run: InvoiceRun): void {
  setHandler(messages.paypalNotification, (notification) => {
    run.queue.push({ kind: 'notification', notification });
  });
  registerAction(run, 'resendKeys', messages.resendKeysSignal, messages.resendKeys);
  registerAction(run, 'extendKeys', messages.extendKeysSignal, messages.extendKeys);
  registerAction(run, 'regenerateKeys', messages.regenerateKeysSignal, messages.regenerateKeys);
  registerAction(run, 'refund', messages.refundSignal, messages.refund);
  registerAction(run, 'approve', messages.approveSignal, messages.approve);
  registerAction(run, 'reject', messages.rejectSignal, messages.reject);
  setHandler(messages.state, () => stateView(run.state));
}

/** One action as a signal (fire and forget) and as an update (answers the state after it, or why not). */
function registerAction<I extends object>(run: InvoiceRun, kind: OperatorActionKind, signal: SignalDefinition<[I]>, update: UpdateDefinition<InvoiceStateView, [I]>): void {
  const action = (input: I | undefined) => ({ kind, input: input ?? {} }) as OperatorAction;
  setHandler(signal, (input) => {
    run.queue.push({ kind: 'action', action: action(input) });
  });
  setHandler(
    update,
    async (input) => {
      const ticket: Ticket = { done: false };
      run.queue.push({ kind: 'action', action: action(input), ticket });
      await condition(() => ticket.done);
      if (ticket.error) throw ApplicationFailure.nonRetryable(ticket.error, 'InvalidInvoiceAction');
      return stateView(run.state);
    },
    {
      validator: (input) => {
        // Before the first read of Postgres only the input's shape can be judged; the body
        // checks the rest once the invoice is known.
        const problem = run.state.loaded ? decide.actionProblem(run.state, action(input)) : actionInputProblem(action(input));
        if (problem) throw new Error(problem);
      },
    },
  );
}

/** One run of the invoice workflow: its state, its queue, and the commands its decisions answer. */
class InvoiceRun {
  state: InvoiceState;
  readonly queue: QueueItem[] = [];
  private timings?: InvoiceTimings;
  /** Why the action being handled failed part-way (PayPal refused a refund), for its update's answer. */
  private actionProblem?: string;
  private readonly info = workflowInfo();
  private readonly database = patched(localDatabaseSteps) ? databaseLocal : queued;
  // The attributes last upserted, or started with. A run the intake started carries a new
  // invoice's attributes (newInvoiceAttributes), so its first publish upserts nothing. Runs started
  // without them (an operator action, a run begun before the intake set them) and continued runs
  // (whose inherited attributes are not compared) upsert on their first publish.
  private lastAttributes: string;

  constructor(input: InvoiceWorkflowInput) {
    this.state = input.resume?.state ?? emptyState(txnIdFromWorkflowId(this.info.workflowId) ?? this.info.workflowId);
    this.timings = input.resume?.timings;
    const continued = this.info.continuedFromExecutionRunId !== undefined;
    this.lastAttributes = continued ? '' : attributesText(startedWithAttributes(this.info.typedSearchAttributes));
  }

  /** The main loop: messages first, one at a time; then continueAsNew if suggested; else the next deadline. */
  async run(): Promise<InvoiceStateView> {
    await this.start();
    for (;;) {
      this.publish();
      const item = this.queue.shift();
      if (item) {
        await this.handle(item);
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        if (this.queue.length === 0) await continueAsNew<typeof invoice>({ resume: { state: this.state, timings: this.timings! } });
        continue;
      }
      const { deadline, closesAt } = decide.nextDeadline(this.state, this.context());
      this.state = { ...this.state, closesAt };
      this.publish();
      if (!deadline) {
        await condition(() => this.queue.length > 0);
        continue;
      }
      const wait = deadline.at - Date.now();
      if (wait > 0 && (await condition(() => this.queue.length > 0, wait))) continue;
      const step = decide.deadlineReached(this.state, deadline.what, this.context());
      await this.apply(step);
      if (step.closed) {
        this.publish();
        await condition(allHandlersFinished);
        if (this.queue.length === 0) return stateView(this.state);
      }
    }
  }

  /** Every run first reads Postgres (unless continued), then finishes a delivery left half-way. */
  private async start(): Promise<void> {
    if (!this.state.loaded) {
      const loaded = await this.database.loadInvoice({ txnId: this.state.txnId });
      this.timings = loaded.timings;
      await this.apply(decide.invoiceLoaded(this.state, loaded.invoice, this.context()));
    }
    await this.apply(decide.runStarted(this.state, this.context()));
  }

  private async handle(item: QueueItem): Promise<void> {
    if (item.kind === 'notification') {
      await this.apply(decide.notificationReceived(this.state, item.notification, this.notificationContext(item.notification)));
      return;
    }
    const step = decide.actionTaken(this.state, item.action, this.context());
    this.actionProblem = undefined;
    await this.apply(step);
    if (item.ticket) Object.assign(item.ticket, { done: true, error: step.problem ?? this.actionProblem });
  }

  private context(): decide.Context {
    return { now: Date.now(), timings: this.timings!, firstRunId: this.info.firstExecutionRunId, workflowId: this.info.workflowId };
  }

  /** The patch is asked when a refund, reversal or dispute arrives, where its commands differ. */
  private notificationContext(n: PaymentNotification): decide.Context {
    return { ...this.context(), moneyPolicy: decide.isMoneyMessage(n) && patched(moneyPolicy) };
  }

  /** Takes a step: its state, then its commands in order (an answer's next step runs within). */
  private async apply(step: decide.Step): Promise<void> {
    this.state = step.state;
    for (const command of step.commands) await this.execute(command);
  }

  private async execute(c: decide.Command): Promise<void> {
    const database = this.database;
    switch (c.kind) {
      case 'note':
        return this.note(c.event, c.detail);
      case 'setInvoiceStatus':
        return database.setInvoiceStatus(c.input);
      case 'sendInvoiceNotice':
        await queued.sendInvoiceNotice(c.input);
        return;
      case 'sendPackageNotifications':
        await queued.sendPackageNotifications(c.input);
        return;
      case 'ensureAccount': {
        const { accountId } = await database.ensureAccount(c.input);
        return this.apply(decide.accountEnsured(this.state, accountId, c.then, this.context()));
      }
      case 'recordInvoice': {
        const recorded = await database.recordInvoice(c.input);
        return this.apply(decide.invoiceRecorded(this.state, recorded, c.then, this.context()));
      }
      case 'checkPayment': {
        const check = await database.checkPayment(c.input);
        return this.apply(decide.paymentChecked(this.state, check, this.context()));
      }
      case 'sendKeys':
        return this.sendKeys(c);
      case 'revokeKeys': {
        const { revoked } = await database.revokeKeys(c.input);
        return this.apply(decide.keysRevoked(this.state, revoked, c.then, this.context()));
      }
      case 'restoreKeys': {
        const { restored } = await database.restoreKeys(c.input);
        return this.apply(decide.keysRestored(this.state, restored, this.context()));
      }
      case 'askPayPal':
        return this.askPayPal(c);
      case 'refundAtPayPal': {
        const answer = await paypal.refundAtPayPal(c.input).catch((error: unknown) => ({ error: errorText(error) }));
        const step = decide.refundAnswered(this.state, answer, this.context());
        this.actionProblem ??= step.problem;
        return this.apply(step);
      }
      case 'notification':
        return this.apply(decide.notificationReceived(this.state, c.notification, this.notificationContext(c.notification)));
    }
  }

  private async sendKeys(c: Extract<decide.Command, { kind: 'sendKeys' }>): Promise<void> {
    // The patch is asked right before the first delivery's activity, where its marker always was.
    const packageNotesSent = c.packageNotes === true && patched(packageNotesWithKeys);
    const { keyCount } = await delivery.sendKeys(c.packageNotes ? { ...c.input, packageNotifications: packageNotesSent } : c.input);
    if (c.then) await this.apply(decide.keysSent(this.state, c.then, { keyCount, packageNotesSent }, this.context()));
  }

  private async askPayPal(c: Extract<decide.Command, { kind: 'askPayPal' }>): Promise<void> {
    let answer: { notification?: PaymentNotification; error?: string };
    try {
      answer = await paypal.askPayPalForStatus(c.input);
    } catch (error) {
      answer = { error: errorText(error) };
    }
    await this.apply(decide.statusAnswered(this.state, c.then, answer, this.context()));
  }

  /** One line of the invoice's history (the `state` query shows it) and of the worker's log. */
  private note(kind: string, detail: string): void {
    const s = this.state;
    this.state = withEvent(s, { at: new Date(Date.now()).toISOString(), kind, detail });
    log.info(`invoice ${s.invoiceNumber ?? s.txnId}: ${kind}: ${detail}`, s.invoiceNumber ? { invoiceNumber: s.invoiceNumber } : {});
  }

  /** Search attributes (upserted only when changed) and the run's summary in the Temporal UI. */
  private publish(): void {
    const pairs = invoiceAttributePairs(this.state);
    const text = attributesText(pairs);
    if (text !== this.lastAttributes) {
      upsertSearchAttributes(pairs);
      this.lastAttributes = text;
    }
    setCurrentDetails(stateDetails(this.state));
  }
}
