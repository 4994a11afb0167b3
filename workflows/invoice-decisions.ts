// Every decision of the invoice workflow, as pure functions of (state, event, context): what a
// PayPal notification, an operator action, a timer or an activity's answer does to an invoice in
// each status. Each answers a Step: the new state and the commands the workflow runs for it, in
// order (activities and history notes). No I/O and no clock (the workflow passes the time in), so
// every rule is tested table-driven in milliseconds.
//
// A command whose answer matters (an account id, a payment check, a key count, PayPal's status)
// is the last of its step and names what comes next (`then`); the workflow hands the answer to
// the matching decision below, which answers the next step.
import type { InvoiceActivities } from '../activities';
import type { StoredInvoice } from '../activities/invoices';
import type { CheckPaymentResult } from '../activities/packages';
import type { RefundAnswer } from '../activities/checkout';
import { awaitingStatuses, invoiceStatus, keysHeldStatuses, keysLiveStatuses, moneyTaken, paidStatuses, type InvoiceStatus } from '../domain/invoice-status';
import { actionInputProblem, type OperatorAction } from '../domain/operator-actions';
import { addRefund, formatCents, refundProblem, toCents } from '../domain/money';
import { defaultDisputePolicy, defaultRefundPolicy } from '../domain/money-policy';
import type { DisputeFacts, PaymentNotification, PaymentStatus } from './notification';
import { maxSeenMessages, type InvoiceState, type InvoiceTimings } from './invoice-state';

type Input<K extends keyof InvoiceActivities> = Parameters<InvoiceActivities[K]>[0];

/** What a decision knows besides the state: the workflow's clock, settings and ids. */
export interface Context {
  /** Workflow time, ms since the epoch. */
  now: number;
  timings: InvoiceTimings;
  /** The first run id of this chain of runs: keys operator e-mails uniquely across runs. */
  firstRunId: string;
  workflowId: string;
  /**
   * Refunds and disputes follow the packages' policies (partial refunds keep access, disputes
   * suspend). False on runs begun before the policies, which keep revoking on any refund.
   */
  moneyPolicy?: boolean;
}

/** A PayPal message that changes something, on its way to being recorded. */
export interface Accepted {
  notification: PaymentNotification;
  effect: NotificationEffect;
}

/** What follows a sendKeys. */
export type AfterKeys =
  | { kind: 'delivered'; generation: number; expiresAt: number }
  | { kind: 'changed'; generation: number; expiresAt: number; event: string; detail: string }
  | { kind: 'reminded' };

/** What PayPal's status answer was asked for: the details a message lacked, or a pending payment's poll. */
export type AfterAsking = { kind: 'details'; notification: PaymentNotification } | { kind: 'poll' };

export type Command =
  | { kind: 'note'; event: string; detail: string }
  | { kind: 'setInvoiceStatus'; input: Input<'setInvoiceStatus'> }
  | { kind: 'sendInvoiceNotice'; input: Input<'sendInvoiceNotice'> }
  | { kind: 'sendPackageNotifications'; input: Input<'sendPackageNotifications'> }
  | { kind: 'ensureAccount'; input: Input<'ensureAccount'>; then: Accepted }
  | { kind: 'recordInvoice'; input: Input<'recordInvoice'>; then: Accepted }
  | { kind: 'checkPayment'; input: Input<'checkPayment'> }
  /** packageNotes: the first delivery, which also sends the packages' own notifications. */
  | { kind: 'sendKeys'; input: Omit<Input<'sendKeys'>, 'packageNotifications'>; packageNotes?: true; then?: AfterKeys }
  | { kind: 'revokeKeys'; input: Input<'revokeKeys'>; then: { as: 'refunded' | 'reversed'; why: string } }
  | { kind: 'restoreKeys'; input: Input<'restoreKeys'> }
  | { kind: 'askPayPal'; input: Input<'askPayPalForStatus'>; then: AfterAsking }
  /** An operator's refund through PayPal's REST API; its answer is applied like PayPal's message. */
  | { kind: 'refundAtPayPal'; input: Input<'refundAtPayPal'> }
  /** Handle this message as if PayPal had sent it (PayPal's answer to a status question). */
  | { kind: 'notification'; notification: PaymentNotification };

export interface Step {
  state: InvoiceState;
  commands: Command[];
}

const day = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const ms = (text: string | undefined) => (text ? Date.parse(text) : NaN);

/** Builds one step: state changes and, in between, the commands, in the order they run. */
class Plan {
  readonly commands: Command[] = [];
  constructor(
    public state: InvoiceState,
    readonly ctx: Context,
  ) {}

  set(change: Partial<InvoiceState>): void {
    this.state = { ...this.state, ...change };
  }
  run(command: Command): void {
    this.commands.push(command);
  }
  note(event: string, detail: string): void {
    this.run({ kind: 'note', event, detail });
  }
  get invoiceId(): number {
    return this.state.invoiceId!;
  }
  get step(): Step {
    return { state: this.state, commands: this.commands };
  }

  /** The new status, written to Postgres once the invoice is recorded. */
  save(status: InvoiceStatus, extra: { pendingReason?: string | null; closed?: boolean } = {}): void {
    this.set({ status });
    const s = this.state;
    if (!s.invoiceId) return;
    this.run({
      kind: 'setInvoiceStatus',
      input: {
        invoiceId: s.invoiceId,
        status,
        paymentStatus: s.paymentStatus,
        pendingReason: extra.pendingReason,
        paidAt: s.paidAt,
        keysExpireAt: s.keys?.expiresAt,
        closed: extra.closed,
        ...(s.refunded !== undefined ? { refundedAmount: s.refunded } : {}),
        ...(s.disputed !== undefined ? { disputedAmount: s.disputed } : {}),
        ...(s.dispute ? { disputeCaseId: s.dispute.caseId, disputeState: s.dispute.state } : {}),
      },
    });
  }

  /** An operator e-mail's key, unique across runs: a closed run's never shadow a new run's. */
  actionKey(kind: string): string {
    this.set({ actionSeq: this.state.actionSeq + 1 });
    return `${kind}:${this.state.invoiceId}:${this.ctx.firstRunId}:${this.state.actionSeq}`;
  }

  /** Sets the live keys' expiry; a reminder whose time has already passed is not sent. */
  setKeys(generation: number, expiresAt: number, revoked = false): void {
    const { now } = this.ctx;
    const reminderAt = this.state.reminderHours == null ? undefined : expiresAt - this.state.reminderHours * 3_600_000;
    this.set({
      keys: {
        generation,
        expiresAt: iso(expiresAt),
        expired: expiresAt <= now,
        revoked,
        reminderSentFor: reminderAt !== undefined && reminderAt <= now ? iso(expiresAt) : undefined,
      },
    });
  }
}

// ---- taking up an invoice ------------------------------------------------------------------------

/** A new run read Postgres: it takes up the invoice where it was (status, keys, expiry, generation). */
export function invoiceLoaded(s: InvoiceState, stored: StoredInvoice | undefined, ctx: Context): Step {
  const p = new Plan({ ...s, loaded: true }, ctx);
  if (!stored) return p.step;
  p.set({
    invoiceId: stored.invoiceId,
    invoiceNumber: stored.number,
    accountId: stored.accountId,
    status: stored.status,
    paymentStatus: stored.paymentStatus,
    pendingReason: stored.pendingReason,
    customerEmail: stored.payerEmail,
    itemNumbers: stored.itemNumbers,
    amount: stored.amount,
    currency: stored.currency,
    paidAt: stored.paidAt,
    files: stored.files,
    keyTtlSeconds: stored.keyTtlSeconds,
    reminderHours: stored.reminderHours,
    refundPolicy: stored.refundPolicy,
    disputePolicy: stored.disputePolicy,
    refunded: stored.refunded,
    disputed: stored.disputed,
    dispute: stored.dispute,
  });
  if (stored.status === invoiceStatus.awaiting_payment) p.set({ pendingSince: stored.createdAt });
  if (stored.generation > 0 && stored.keysExpireAt) p.setKeys(stored.generation, ms(stored.keysExpireAt), stored.keysRevoked);
  p.note('resumed', `a new run took up invoice ${stored.number} (${stored.status}) from the database`);
  return p.step;
}

/** Every run's start: a delivery an earlier run left half-way (terminated while paid) is finished. */
export function runStarted(s: InvoiceState, ctx: Context): Step {
  const p = new Plan(s, ctx);
  if (s.status === invoiceStatus.paid) fulfil(p);
  return p.step;
}

// ---- PayPal notifications -----------------------------------------------------------------------

export type NotificationEffect =
  | { kind: 'pending' }
  | { kind: 'cleared' }
  | { kind: 'failed' }
  | { kind: 'revoke'; as: 'refunded' | 'reversed' }
  | { kind: 'reinstate' }
  /** A refund short of what is left, on a package that keeps access: the total grows. */
  | { kind: 'partialRefund'; refunded: string }
  /** A refund that revokes (the total reached, or the package revokes on any refund). */
  | { kind: 'refundRevokes'; refunded: string; why: string }
  | { kind: 'disputeOpened'; dispute: DisputeFacts; suspend: boolean }
  | { kind: 'disputeUpdated'; dispute: DisputeFacts }
  | { kind: 'disputeResolved'; dispute: DisputeFacts; outcome: 'seller' | 'buyer' | 'other' }
  | { kind: 'ignore'; why: string };

const failureStatuses: PaymentStatus[] = ['Denied', 'Declined', 'Failed', 'Expired', 'Voided'];

/**
 * What a PayPal status does to an invoice in `status`. A message never moves an invoice backwards:
 * a Pending after Completed, a Completed after a refund, are recorded and ignored.
 */
export function notificationEffect(s: InvoiceState, n: PaymentNotification, moneyPolicy = false): NotificationEffect {
  if (moneyPolicy && isMoneyMessage(n)) return moneyEffect(s, n);
  const late = (what: string): NotificationEffect => ({ kind: 'ignore', why: `${what} arrived while the invoice is ${s.status}; recorded, no change` });
  switch (n.status) {
    case 'Created':
    case 'Pending':
      return s.status === invoiceStatus.new || (s.status === invoiceStatus.awaiting_payment && n.pendingReason !== s.pendingReason) ? { kind: 'pending' } : late(n.status);
    case 'Completed':
    case 'Processed':
      // A payment we gave up on (pending limit) that clears after all is still the buyer's money.
      return awaitingStatuses.includes(s.status) || (s.status === invoiceStatus.failed && s.paymentStatus === 'Pending') ? { kind: 'cleared' } : late(n.status);
    case 'Refunded':
    case 'Reversed':
      return s.status === invoiceStatus.refunded || s.status === invoiceStatus.reversed || s.status === invoiceStatus.failed
        ? late(n.status)
        : { kind: 'revoke', as: n.status === 'Refunded' ? 'refunded' : 'reversed' };
    case 'Canceled_Reversal':
      return s.status === invoiceStatus.reversed ? { kind: 'reinstate' } : late(n.status);
    default:
      return failureStatuses.includes(n.status) && awaitingStatuses.includes(s.status) ? { kind: 'failed' } : late(n.status);
  }
}

/** Refunds, reversals and disputes: the messages the packages' money policies decide. */
export function isMoneyMessage(n: PaymentNotification): boolean {
  return n.status === 'Refunded' || n.status === 'Reversed' || n.status === 'Canceled_Reversal' || n.status === 'Disputed' || n.dispute !== undefined;
}

/**
 * A message's dispute facts. Besides REST dispute events, an IPN reversal with reason chargeback
 * opens one (its own transaction id names the case), and a Canceled_Reversal while a dispute is
 * open closes it in the seller's favour.
 */
export function disputeOf(s: InvoiceState, n: PaymentNotification): DisputeFacts | undefined {
  if (n.dispute) return n.dispute;
  if (n.status === 'Reversed' && n.reasonCode?.toLowerCase() === 'chargeback') return { caseId: n.eventTxnId, stage: 'created', reason: 'chargeback', amount: n.gross.replace(/^-/, '') };
  if (n.status === 'Canceled_Reversal' && s.dispute?.state === 'open') return { caseId: s.dispute.caseId, stage: 'resolved', outcome: 'seller', reason: s.dispute.reason };
  return undefined;
}

/** What a refund, a reversal or a dispute does under the packages' policies. */
function moneyEffect(s: InvoiceState, n: PaymentNotification): NotificationEffect {
  const late = (what: string): NotificationEffect => ({ kind: 'ignore', why: `${what} arrived while the invoice is ${s.status}; recorded, no change` });
  const returned = s.status === invoiceStatus.refunded || s.status === invoiceStatus.reversed || s.status === invoiceStatus.failed;
  const dispute = disputeOf(s, n);
  if (dispute) {
    if (!moneyTaken(s.status) || returned) return late(`dispute ${dispute.caseId} (${dispute.stage})`);
    if (dispute.stage === 'created') {
      if (s.dispute?.state === 'open' && s.dispute.caseId === dispute.caseId) return { kind: 'disputeUpdated', dispute };
      return { kind: 'disputeOpened', dispute, suspend: (s.disputePolicy ?? defaultDisputePolicy) === 'suspend' };
    }
    if (dispute.stage === 'updated') return { kind: 'disputeUpdated', dispute };
    if (s.dispute && s.dispute.state !== 'open' && s.dispute.caseId === dispute.caseId) return late(`the resolution of dispute ${dispute.caseId} (already ${s.dispute.state})`);
    return { kind: 'disputeResolved', dispute, outcome: dispute.outcome ?? 'other' };
  }
  switch (n.status) {
    case 'Refunded': {
      if (returned) return late(n.status);
      if (s.refundIds?.includes(n.eventTxnId)) return { kind: 'ignore', why: `refund ${n.eventTxnId} was already counted (PayPal reports a refund by IPN and by webhook)` };
      const paid = s.amount ?? n.gross.replace(/^-/, '');
      const soFar = s.refunded ?? '0.00';
      const problem = refundProblem(paid, soFar, n.gross);
      if (problem) return { kind: 'ignore', why: `PayPal's refund ${n.eventTxnId} is refused: ${problem}; check the payment in PayPal` };
      const refunded = addRefund(soFar, n.gross);
      if (toCents(refunded) === toCents(paid)) return { kind: 'refundRevokes', refunded, why: `PayPal refunded ${refunded} of ${paid}, the whole payment` };
      if ((s.refundPolicy ?? defaultRefundPolicy) === 'revoke_on_any') return { kind: 'refundRevokes', refunded, why: `PayPal refunded ${refunded} of ${paid}; the package revokes on any refund` };
      return { kind: 'partialRefund', refunded };
    }
    case 'Reversed':
      // The webhook copy of a reversal IPN already reported as a chargeback names no reason: the same reversal.
      if (s.dispute?.caseId === n.eventTxnId) return { kind: 'ignore', why: `reversal ${n.eventTxnId} is the chargeback of dispute ${n.eventTxnId}, already applied` };
      return returned ? late(n.status) : { kind: 'revoke', as: 'reversed' };
    default:
      return s.status === invoiceStatus.reversed ? { kind: 'reinstate' } : late(n.status);
  }
}

/**
 * A PayPal message reached this run. One about another payment, or a repeat, changes nothing. One
 * that names neither buyer nor items (a REST capture that beat the IPN) cannot record an invoice:
 * PayPal is asked for the whole payment, and the message is not marked applied, so a resend of it
 * is looked at again. Any other is recorded in Postgres, then applied.
 */
export function notificationReceived(s: InvoiceState, n: PaymentNotification, ctx: Context): Step {
  const p = new Plan(s, ctx);
  if (n.txnId !== s.txnId) {
    p.note('ignored', `a ${n.status} message about transaction ${n.txnId} reached invoice ${s.txnId}; the intake must route by txnId`);
  } else if (s.seenMessages.includes(n.dedupeKey)) {
    p.note('duplicate', `${n.source} message ${n.dedupeKey} (${n.status}) was already applied`);
  } else if (!s.invoiceId && (n.items.length === 0 || !n.payer.email)) {
    p.run({ kind: 'askPayPal', input: { txnId: s.txnId }, then: { kind: 'details', notification: n } });
  } else {
    const accepted: Accepted = { notification: n, effect: notificationEffect(s, n, ctx.moneyPolicy) };
    p.set({ seenMessages: [...s.seenMessages, n.dedupeKey].slice(-maxSeenMessages), lastHeardAt: iso(ctx.now) });
    p.note('paypal', `${n.source} ${n.status}${n.pendingReason ? ` (${n.pendingReason})` : ''}${n.reasonCode ? ` reason ${n.reasonCode}` : ''} ${n.gross} ${n.currency}`);
    const { payer } = n;
    if (s.accountId) p.run(recordCommand(p.state, s.accountId, accepted, ctx));
    else p.run({ kind: 'ensureAccount', input: { email: payer.email, payerId: payer.payerId, firstName: payer.firstName, lastName: payer.lastName }, then: accepted });
  }
  return p.step;
}

/** The buyer's account is known: the message is recorded with it. */
export function accountEnsured(s: InvoiceState, accountId: number, accepted: Accepted, ctx: Context): Step {
  const state = { ...s, accountId };
  return { state, commands: [recordCommand(state, accountId, accepted, ctx)] };
}

function recordCommand(s: InvoiceState, accountId: number, accepted: Accepted, ctx: Context): Command {
  const { notification: n, effect } = accepted;
  const status: InvoiceStatus =
    effect.kind === 'pending'
      ? invoiceStatus.awaiting_payment
      : effect.kind === 'cleared'
        ? invoiceStatus.paid
        : effect.kind === 'failed'
          ? invoiceStatus.failed
          : effect.kind === 'revoke'
            ? effect.as
            : effect.kind === 'refundRevokes'
              ? invoiceStatus.refunded
              : s.status;
  return {
    kind: 'recordInvoice',
    input: {
      txnId: s.txnId,
      workflowId: ctx.workflowId,
      accountId,
      status,
      paymentStatus: n.status,
      pendingReason: n.pendingReason,
      payerEmail: n.payer.email,
      gross: n.gross,
      currency: n.currency,
      items: n.items,
      messageId: n.messageId,
    },
    then: accepted,
  };
}

/** The message is recorded (the first one also names the invoice): now it takes effect. */
export function invoiceRecorded(s: InvoiceState, recorded: { invoiceId: number; number: string }, accepted: Accepted, ctx: Context): Step {
  const { notification: n, effect } = accepted;
  const p = new Plan(s, ctx);
  if (!s.invoiceId) {
    p.set({
      invoiceId: recorded.invoiceId,
      invoiceNumber: recorded.number,
      customerEmail: n.payer.email,
      itemNumbers: n.items.map((i) => i.itemNumber),
      amount: n.gross.replace(/^-/, ''),
      currency: n.currency,
    });
  }
  if (effect.kind !== 'ignore') p.set({ paymentStatus: n.status });
  switch (effect.kind) {
    case 'ignore':
      p.note('ignored', effect.why);
      break;
    case 'pending': {
      const pendingReason = n.pendingReason ?? 'other';
      const pendingSince = p.state.pendingSince ?? iso(ctx.now);
      p.set({ pendingReason, pendingSince });
      p.save(invoiceStatus.awaiting_payment, { pendingReason });
      const until = iso(ms(pendingSince) + ctx.timings.pendingLimitSeconds * 1000);
      p.run({ kind: 'sendInvoiceNotice', input: { invoiceId: p.invoiceId, kind: 'pending', dedupeKey: `pending:${p.invoiceId}:${pendingReason}`, reason: pendingReason, until } });
      break;
    }
    case 'cleared':
      p.set({ paidAt: iso(ctx.now), failureReason: undefined });
      p.run({ kind: 'checkPayment', input: { receiverEmail: n.receiverEmail, items: n.items, gross: n.gross, currency: n.currency, invoiceId: p.invoiceId } });
      break;
    case 'failed':
      p.set({ failureReason: `PayPal reported the payment ${n.status}` });
      p.save(invoiceStatus.failed, { pendingReason: null });
      p.run({ kind: 'sendInvoiceNotice', input: { invoiceId: p.invoiceId, kind: 'payment-failed', dedupeKey: `payment-failed:${p.invoiceId}`, reason: p.state.failureReason } });
      break;
    case 'revoke':
      revoke(p, effect.as, `PayPal ${n.status}${n.reasonCode ? ` (${n.reasonCode})` : ''}`);
      break;
    case 'reinstate':
      reinstate(p);
      break;
    case 'partialRefund':
      p.set({ refunded: effect.refunded, refundIds: [...(s.refundIds ?? []), n.eventTxnId].slice(-maxSeenMessages) });
      p.save(s.status);
      p.note('partial refund', `PayPal refunded ${n.gross.replace(/^-/, '')} (${effect.refunded} of ${p.state.amount} so far); access kept, as the package allows`);
      break;
    case 'refundRevokes':
      p.set({ refunded: effect.refunded, refundIds: [...(s.refundIds ?? []), n.eventTxnId].slice(-maxSeenMessages) });
      revoke(p, 'refunded', effect.why);
      break;
    case 'disputeOpened':
      disputeOpened(p, effect.dispute, effect.suspend);
      break;
    case 'disputeUpdated':
      p.set({ dispute: { caseId: effect.dispute.caseId, state: 'open', reason: effect.dispute.reason ?? s.dispute?.reason, paypalStatus: effect.dispute.status ?? s.dispute?.paypalStatus } });
      p.save(s.status);
      p.note('dispute updated', `case ${effect.dispute.caseId}${effect.dispute.status ? ` is ${effect.dispute.status}` : ''}${effect.dispute.reason ? ` (${effect.dispute.reason})` : ''}`);
      break;
    case 'disputeResolved':
      disputeResolved(p, effect.dispute, effect.outcome);
      break;
  }
  return p.step;
}

/** A dispute opened: its amount recorded; access suspended unless the package keeps it. */
function disputeOpened(p: Plan, d: DisputeFacts, suspend: boolean): void {
  const amount = d.amount ?? p.state.amount;
  p.set({ dispute: { caseId: d.caseId, state: 'open', reason: d.reason, paypalStatus: d.status }, ...(amount ? { disputed: amount.replace(/^-/, '') } : {}) });
  const what = `case ${d.caseId}${d.reason ? ` (${d.reason})` : ''}${amount ? ` over ${amount.replace(/^-/, '')} ${p.state.currency ?? ''}` : ''}`;
  if (suspend && p.state.status !== invoiceStatus.disputed) {
    p.save(invoiceStatus.disputed);
    p.note('dispute opened', `${what}; downloads suspended until it is resolved`);
  } else {
    p.save(p.state.status);
    p.note('dispute opened', `${what}; access kept, as the package allows`);
  }
}

/** A dispute closed: the buyer's win revokes; otherwise a suspension ends. */
function disputeResolved(p: Plan, d: DisputeFacts, outcome: 'seller' | 'buyer' | 'other'): void {
  const caseId = d.caseId || p.state.dispute?.caseId || '(unknown case)';
  p.set({ dispute: { caseId, state: outcome, reason: d.reason ?? p.state.dispute?.reason, paypalStatus: d.status ?? p.state.dispute?.paypalStatus } });
  const favour = outcome === 'seller' ? "in the seller's favour" : outcome === 'buyer' ? "in the buyer's favour" : `without a winner${d.status ? ` (${d.status})` : ''}`;
  if (outcome === 'buyer') {
    revoke(p, 'reversed', `dispute ${caseId} resolved ${favour}`);
    return;
  }
  if (p.state.status !== invoiceStatus.disputed) {
    p.save(p.state.status);
    p.note('dispute resolved', `case ${caseId} ${favour}; access was kept`);
    return;
  }
  const keys = p.state.keys;
  if (!keys) {
    p.set({ reviewProblems: [`dispute ${caseId} was resolved ${favour} for a payment whose keys were never issued; check the payment in PayPal, then approve or reject`] });
    p.save(invoiceStatus.needs_review);
    p.note('dispute resolved', p.state.reviewProblems[0]!);
    return;
  }
  const expired = ms(keys.expiresAt) <= p.ctx.now;
  p.set({ keys: { ...keys, expired } });
  p.save(expired ? invoiceStatus.keys_expired : invoiceStatus.fulfilled);
  p.note('dispute resolved', `case ${caseId} ${favour}; downloads reinstated${expired ? ' (the keys have expired meanwhile)' : ''}`);
}

/** PayPal answered a status question (or could not be asked). */
export function statusAnswered(s: InvoiceState, asked: AfterAsking, answer: { notification?: PaymentNotification; error?: string }, ctx: Context): Step {
  const p = new Plan(s, ctx);
  const found = answer.notification;
  const asIfSent = (details: PaymentNotification): Command => ({
    kind: 'notification',
    notification: { ...details, txnId: s.txnId, source: 'poll', dedupeKey: `poll:${s.txnId}:${details.status}` },
  });
  if (asked.kind === 'poll') {
    if (answer.error !== undefined) p.note('asked PayPal', `the status lookup failed (${answer.error}); asking again later`);
    else p.note('asked PayPal', found ? `PayPal says ${found.status}` : 'PayPal does not know this transaction (yet)');
    if (found && found.status !== 'Pending' && found.status !== 'Created') p.run(asIfSent(found));
    return p.step;
  }
  const n = asked.notification;
  if (answer.error !== undefined) p.note('asked PayPal', `the status lookup failed (${answer.error})`);
  if (found && found.items.length > 0 && found.payer.email) {
    p.note('asked PayPal', `${n.source} ${n.status} named no buyer or items; PayPal's answer (${found.status}) does`);
    p.run(asIfSent(found));
  } else {
    p.note('waiting', `${n.source} ${n.status} names no buyer or items; waiting for PayPal's IPN for this payment`);
  }
  return p.step;
}

/** PayPal answered an operator's refund: a completed one is applied like PayPal's own message. */
export function refundAnswered(s: InvoiceState, answer: RefundAnswer | { error: string }, ctx: Context): Step & { problem?: string } {
  const p = new Plan(s, ctx);
  if ('notification' in answer) {
    p.run({ kind: 'notification', notification: answer.notification });
    return p.step;
  }
  if ('pending' in answer) {
    p.note('refund pending', answer.pending);
    return p.step;
  }
  const problem = 'refused' in answer ? `PayPal refused the refund: ${answer.refused}` : `the refund could not be made (${answer.error}); nothing was returned`;
  p.note('refund failed', problem);
  return { ...p.step, problem };
}

/** A cleared payment was checked against its packages: delivered, or held for an operator. */
export function paymentChecked(s: InvoiceState, check: CheckPaymentResult, ctx: Context): Step {
  const p = new Plan({ ...s, files: check.files, keyTtlSeconds: check.keyTtlSeconds, reminderHours: check.reminderHours, refundPolicy: check.refundPolicy, disputePolicy: check.disputePolicy }, ctx);
  if (check.problems.length === 0) {
    fulfil(p);
    return p.step;
  }
  p.set({ reviewProblems: check.problems });
  p.note('needs review', check.problems.join('; '));
  p.save(invoiceStatus.needs_review, { pendingReason: null });
  p.run({ kind: 'sendInvoiceNotice', input: { invoiceId: p.invoiceId, kind: 'review-alert', dedupeKey: `review-alert:${p.invoiceId}`, problems: check.problems } });
  return p.step;
}

/** Delivery: the keys (of the current generation, or the first) are issued and e-mailed. */
function fulfil(p: Plan): void {
  p.save(invoiceStatus.paid, { pendingReason: null });
  const generation = p.state.keys?.generation ?? 1;
  const expiresAt = p.ctx.now + (p.state.keyTtlSeconds ?? p.ctx.timings.defaultKeyTtlSeconds) * 1000;
  p.run({
    kind: 'sendKeys',
    input: { invoiceId: p.invoiceId, generation, expiresAt: iso(expiresAt), purpose: 'delivery', dedupeKey: `delivery:${p.invoiceId}:g${generation}` },
    packageNotes: true,
    then: { kind: 'delivered', generation, expiresAt },
  });
}

/**
 * The keys' e-mail went out. `packageNotesSent` is false for runs begun before the packages'
 * notifications went out with the keys: those send them with an activity of their own.
 */
export function keysSent(s: InvoiceState, after: AfterKeys, sent: { keyCount: number; packageNotesSent: boolean }, ctx: Context): Step {
  const p = new Plan(s, ctx);
  switch (after.kind) {
    case 'delivered':
      p.setKeys(after.generation, after.expiresAt);
      if (!sent.packageNotesSent) p.run({ kind: 'sendPackageNotifications', input: { invoiceId: p.invoiceId } });
      p.save(invoiceStatus.fulfilled);
      p.note('fulfilled', `${sent.keyCount} key(s), generation ${after.generation}, live until ${iso(after.expiresAt)}`);
      break;
    case 'changed':
      p.setKeys(after.generation, after.expiresAt);
      p.save(s.status === invoiceStatus.keys_expired ? invoiceStatus.fulfilled : s.status);
      p.note(after.event, after.detail);
      break;
    case 'reminded': {
      const keys = s.keys!;
      p.set({ keys: { ...keys, reminderSentFor: keys.expiresAt } });
      p.note('reminder', `keys expire ${keys.expiresAt}`);
      break;
    }
  }
  return p.step;
}

function revoke(p: Plan, as: 'refunded' | 'reversed', why: string): void {
  const keys = p.state.keys;
  if (keys && !keys.revoked) p.run({ kind: 'revokeKeys', input: { invoiceId: p.invoiceId, reason: as }, then: { as, why } });
  else revoked(p, as, why);
}

function revoked(p: Plan, as: 'refunded' | 'reversed', why: string): void {
  p.save(as);
  p.note(as, why);
}

/** The keys were revoked in Postgres (a refund or a reversal). */
export function keysRevoked(s: InvoiceState, count: number, reason: { as: 'refunded' | 'reversed'; why: string }, ctx: Context): Step {
  const p = new Plan({ ...s, keys: { ...s.keys!, revoked: true } }, ctx);
  p.note('keys revoked', `${count} key(s): ${reason.why}`);
  revoked(p, reason.as, reason.why);
  return p.step;
}

/** A reversal was cancelled: the keys come back; without keys an operator looks at the payment. */
function reinstate(p: Plan): void {
  if (p.state.keys) {
    p.run({ kind: 'restoreKeys', input: { invoiceId: p.invoiceId } });
    return;
  }
  p.set({ reviewProblems: ['a reversal was cancelled for a payment whose keys were never issued; check the payment in PayPal, then approve or reject'] });
  p.save(invoiceStatus.needs_review);
  p.note('needs review', p.state.reviewProblems[0]!);
  p.run({ kind: 'sendInvoiceNotice', input: { invoiceId: p.invoiceId, kind: 'review-alert', dedupeKey: p.actionKey('review-alert'), problems: p.state.reviewProblems } });
}

/** The keys were restored in Postgres; the buyer hears of it while they are unexpired. */
export function keysRestored(s: InvoiceState, count: number, ctx: Context): Step {
  const p = new Plan({ ...s, keys: { ...s.keys!, revoked: false } }, ctx);
  p.note('keys restored', `${count} key(s) restored after a canceled reversal`);
  p.save(invoiceStatus.reinstated);
  const keys = p.state.keys!;
  if (!keys.expired) {
    p.run({ kind: 'sendKeys', input: { invoiceId: p.invoiceId, generation: keys.generation, expiresAt: keys.expiresAt, purpose: 'reinstated', dedupeKey: p.actionKey('reinstated') } });
  }
  return p.step;
}

// ---- operator actions -----------------------------------------------------------------------------

/** Whether the action makes sense for this invoice now. Returns a sentence, or undefined when fine. */
export function actionProblem(s: InvoiceState, a: OperatorAction): string | undefined {
  const shape = actionInputProblem(a);
  if (shape) return shape;
  if (s.loaded && !s.invoiceId) return `there is no invoice for PayPal transaction ${s.txnId}; check the transaction id`;
  const where = `invoice ${s.invoiceNumber ?? s.txnId} is ${s.status}`;
  switch (a.kind) {
    case 'resendKeys':
    case 'extendKeys':
    case 'regenerateKeys':
      if (!keysHeldStatuses.includes(s.status) || !s.keys) return `${where}, so it has no keys to ${a.kind === 'resendKeys' ? 'resend' : a.kind === 'extendKeys' ? 'extend' : 'regenerate'}`;
      return undefined;
    case 'refund':
      if (!paidStatuses.includes(s.status)) return `${where}; only a paid invoice can be refunded`;
      if (a.input.viaPayPal && s.amount) return refundProblem(s.amount, s.refunded ?? '0.00', a.input.amount ?? formatCents((toCents(s.amount) ?? 0) - (toCents(s.refunded ?? '0.00') ?? 0)));
      return undefined;
    case 'approve':
    case 'reject':
      if (s.status !== invoiceStatus.needs_review) return `${where}; only an invoice that needs review can be ${a.kind === 'approve' ? 'approved' : 'rejected'}`;
      return undefined;
  }
}

/** An operator acted. A refused action changes nothing and says why (`problem`). */
export function actionTaken(s: InvoiceState, a: OperatorAction, ctx: Context): Step & { problem?: string } {
  const p = new Plan(s, ctx);
  const problem = actionProblem(s, a);
  if (problem) {
    p.note('action refused', `${a.kind}: ${problem}`);
    return { ...p.step, problem };
  }
  const by = a.input.by ? ` by ${a.input.by}` : '';
  const keys = s.keys!;
  const sendKeys = (purpose: 'resend' | 'extend' | 'regenerate', generation: number, expiresAt: number, dedupeKey: string, event: string, detail: string) =>
    p.run({
      kind: 'sendKeys',
      input: { invoiceId: p.invoiceId, generation, expiresAt: iso(expiresAt), purpose, dedupeKey },
      then: { kind: 'changed', generation, expiresAt, event, detail: `${detail}, live until ${iso(expiresAt)}` },
    });
  switch (a.kind) {
    case 'resendKeys': {
      // Resent links always work: expired keys get a fresh lifetime first.
      const expiresAt = keys.expired ? ctx.now + s.keyTtlSeconds! * 1000 : ms(keys.expiresAt);
      sendKeys('resend', keys.generation, expiresAt, p.actionKey('resend'), 'keys resent', `generation ${keys.generation}${by}`);
      break;
    }
    case 'extendKeys': {
      const expiresAt = Math.max(ms(keys.expiresAt), ctx.now) + a.input.days * day;
      sendKeys('extend', keys.generation, expiresAt, p.actionKey('extend'), 'keys extended', `by ${a.input.days} day(s)${by}`);
      break;
    }
    case 'regenerateKeys': {
      const generation = keys.generation + 1;
      const expiresAt = Math.max(keys.expired ? 0 : ms(keys.expiresAt), ctx.now + s.keyTtlSeconds! * 1000);
      const detail = `generation ${generation}${by} replaces ${keys.generation} (revoked)`;
      sendKeys('regenerate', generation, expiresAt, `regenerate:${p.invoiceId}:g${generation}`, 'keys regenerated', detail);
      break;
    }
    case 'refund':
      if (a.input.viaPayPal) {
        const amount = a.input.amount ?? s.amount;
        p.note('refund asked', `${amount ?? 'the rest'} ${s.currency ?? ''} through PayPal${by}${a.input.reason ? `: ${a.input.reason}` : ''}`);
        p.run({ kind: 'refundAtPayPal', input: { txnId: s.txnId, amount: a.input.amount, currency: s.currency, requestId: a.input.requestId ?? p.actionKey('refund') } });
      } else {
        revoke(p, 'refunded', `operator refund${by}${a.input.reason ? `: ${a.input.reason}` : ''}`);
      }
      break;
    case 'approve':
      p.set({ reviewProblems: [] });
      p.note('approved', `delivery approved${by}`);
      fulfil(p);
      break;
    case 'reject': {
      const failureReason = `rejected by an operator${a.input.reason ? `: ${a.input.reason}` : ''}`;
      p.set({ failureReason });
      p.save(invoiceStatus.rejected);
      p.note('rejected', `${failureReason}${by}`);
      p.run({ kind: 'sendInvoiceNotice', input: { invoiceId: p.invoiceId, kind: 'payment-failed', dedupeKey: `rejected:${p.invoiceId}`, reason: failureReason } });
      break;
    }
  }
  return p.step;
}

// ---- timers -------------------------------------------------------------------------------------

export type DeadlineKind = 'pending-limit' | 'poll' | 'reminder' | 'expiry' | 'close';
export interface Deadline {
  at: number;
  what: DeadlineKind;
}

/**
 * When this run closes: while awaiting payment, never; a failed invoice (or one never recorded) at
 * once; once money was taken, when both the dispute window after payment and the live keys ended.
 */
export function closesAt(s: InvoiceState, ctx: Context): number | undefined {
  if (s.status === invoiceStatus.awaiting_payment) return undefined;
  if (!moneyTaken(s.status)) return ctx.now;
  const paid = Number.isNaN(ms(s.paidAt)) ? ctx.now : ms(s.paidAt);
  const keysUntil = s.keys && !s.keys.revoked ? ms(s.keys.expiresAt) : 0;
  return Math.max(paid + ctx.timings.retentionSeconds * 1000, keysUntil);
}

/** The next thing this run waits for (none: only a message can wake it), and when it closes. */
export function nextDeadline(s: InvoiceState, ctx: Context): { deadline?: Deadline; closesAt?: string } {
  const { timings } = ctx;
  const candidates: Deadline[] = [];
  if (s.status === invoiceStatus.awaiting_payment) {
    const since = ms(s.pendingSince);
    candidates.push({ at: since + timings.pendingLimitSeconds * 1000, what: 'pending-limit' });
    const last = Math.max(since, ms(s.lastHeardAt) || 0, ms(s.lastPolledAt) || 0);
    candidates.push({ at: last + timings.pendingPollSeconds * 1000, what: 'poll' });
  }
  if (keysLiveStatuses.includes(s.status) && s.keys && !s.keys.revoked && !s.keys.expired) {
    const expiry = ms(s.keys.expiresAt);
    if (s.reminderHours != null && s.keys.reminderSentFor !== s.keys.expiresAt) {
      candidates.push({ at: expiry - s.reminderHours * 3_600_000, what: 'reminder' });
    }
    candidates.push({ at: expiry, what: 'expiry' });
  }
  const close = closesAt(s, ctx);
  if (close !== undefined) candidates.push({ at: close, what: 'close' });
  return { deadline: candidates.sort((a, b) => a.at - b.at)[0], closesAt: close === undefined ? undefined : iso(close) };
}

/** A deadline came. `closed`: the run ends once its messages are handled. */
export function deadlineReached(s: InvoiceState, what: DeadlineKind, ctx: Context): Step & { closed?: true } {
  const p = new Plan(s, ctx);
  switch (what) {
    case 'pending-limit': {
      const failureReason = `the payment was still pending after ${Math.round(ctx.timings.pendingLimitSeconds / 86400)} day(s)`;
      p.set({ failureReason });
      p.save(invoiceStatus.failed);
      p.note('pending limit', failureReason);
      p.run({ kind: 'sendInvoiceNotice', input: { invoiceId: p.invoiceId, kind: 'payment-failed', dedupeKey: `pending-expired:${p.invoiceId}`, reason: failureReason } });
      break;
    }
    case 'poll':
      p.set({ lastPolledAt: iso(ctx.now) });
      p.run({ kind: 'askPayPal', input: { txnId: s.txnId }, then: { kind: 'poll' } });
      break;
    case 'reminder': {
      const { generation, expiresAt } = s.keys!;
      const dedupeKey = `reminder:${p.invoiceId}:g${generation}:${expiresAt}`;
      const until = closesAt(s, ctx);
      p.run({
        kind: 'sendKeys',
        input: { invoiceId: p.invoiceId, generation, expiresAt, purpose: 'reminder', dedupeKey, ...(until !== undefined ? { moreTimeUntil: iso(until) } : {}) },
        then: { kind: 'reminded' },
      });
      break;
    }
    case 'expiry':
      p.set({ keys: { ...s.keys!, expired: true } });
      p.save(invoiceStatus.keys_expired);
      p.note('keys expired', `generation ${s.keys!.generation} expired ${s.keys!.expiresAt}`);
      break;
    case 'close':
      p.save(s.status, { closed: true });
      p.note('closed', `this run ends; a later action or PayPal message starts a new one`);
      return { ...p.step, closed: true };
  }
  return p.step;
}
