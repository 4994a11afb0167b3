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
import type { StoredInvoice } from '../activities/invoices';
import type { PaymentNotification } from './notification';
import { txnIdFromWorkflowId } from '../domain/invoice-ids';
import * as messages from './messages';
import { invoiceAttributePairs, startedWithAttributes } from './search-attributes';
import {
  actionProblem,
  emptyState,
  inputProblem,
  maxEvents,
  maxSeenMessages,
  moneyTaken,
  notificationEffect,
  stateView,
  type InvoiceState,
  type InvoiceStateView,
  type InvoiceStatus,
  type InvoiceTimings,
  type OperatorAction,
} from './invoice-state';

export interface InvoiceWorkflowInput {
  /** Set only by continueAsNew: the state to carry on with. */
  resume?: { state: InvoiceState; timings: InvoiceTimings };
}

const retry = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' };
// Steps that only read or write Postgres run as local activities: in the worker, inside the
// workflow task, their results recorded as markers, without the server scheduling a task, a worker
// polling it and a new workflow task after it. Each is idempotent, as a local activity may run
// again after a crash. Runs begun before this change (no `localDatabaseSteps` marker) keep them on
// `queued`. With the packages' notifications sent by sendKeys (`packageNotesWithKeys`), a card
// purchase takes 2 workflow tasks and 1 activity task (9 and 8 before either change).
const databaseLocal = proxyLocalActivities<InvoiceActivities>({ startToCloseTimeout: '1 minute', retry });
const localDatabaseSteps = 'local-database-steps';
const packageNotesWithKeys = 'package-notes-with-keys';
// Through the task queue: e-mails (an SMTP outage is retried by the server, with backoff), and the
// database steps of runs begun before local activities.
const queued = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '1 minute', retry });
// Sending keys heartbeats, so a worker killed mid-delivery is noticed in seconds.
const delivery = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 seconds', retry });
// A status poll that fails is simply tried again at the next poll.
const paypal = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 3 } });

interface Ticket {
  done: boolean;
  error?: string;
}
type QueueItem = { kind: 'notification'; notification: PaymentNotification } | { kind: 'action'; action: OperatorAction; ticket?: Ticket };
type Deadline = { at: number; what: 'pending-limit' | 'poll' | 'reminder' | 'expiry' | 'close' };

const day = 86_400_000;
// For comparing two sets of attributes, whatever their order.
const attributesText = (pairs: SearchAttributePair[]) => JSON.stringify(pairs.map((p) => [p.key.name, p.value]).sort(([a], [b]) => String(a).localeCompare(String(b))));
const keysLive: InvoiceStatus[] = ['fulfilled', 'reinstated'];

export async function invoice(input: InvoiceWorkflowInput = {}): Promise<InvoiceStateView> {
  const info = workflowInfo();
  const txnId = txnIdFromWorkflowId(info.workflowId) ?? info.workflowId;
  const s: InvoiceState = input.resume?.state ?? emptyState(txnId);
  let timings: InvoiceTimings | undefined = input.resume?.timings;
  const queue: QueueItem[] = [];
  const database = patched(localDatabaseSteps) ? databaseLocal : queued;

  // ---- handlers: every one only enqueues; the main loop does the work --------------------------
  setHandler(messages.paypalNotification, (notification) => {
    queue.push({ kind: 'notification', notification });
  });
  function actionHandlers<I extends object>(kind: OperatorAction['kind'], signal: SignalDefinition<[I]>, update: UpdateDefinition<InvoiceStateView, [I]>) {
    const action = (input: I | undefined) => ({ kind, input: input ?? {} }) as OperatorAction;
    setHandler(signal, (input) => {
      queue.push({ kind: 'action', action: action(input) });
    });
    setHandler(
      update,
      async (input) => {
        const ticket: Ticket = { done: false };
        queue.push({ kind: 'action', action: action(input), ticket });
        await condition(() => ticket.done);
        if (ticket.error) throw ApplicationFailure.nonRetryable(ticket.error, 'InvalidInvoiceAction');
        return stateView(s);
      },
      {
        validator: (input) => {
          // Before the first read of Postgres only the input's shape can be judged; the body
          // checks the rest once the invoice is known.
          const problem = s.loaded ? actionProblem(s, action(input)) : inputProblem(action(input));
          if (problem) throw new Error(problem);
        },
      },
    );
  }
  actionHandlers('resendKeys', messages.resendKeysSignal, messages.resendKeys);
  actionHandlers('extendKeys', messages.extendKeysSignal, messages.extendKeys);
  actionHandlers('regenerateKeys', messages.regenerateKeysSignal, messages.regenerateKeys);
  actionHandlers('refund', messages.refundSignal, messages.refund);
  actionHandlers('approve', messages.approveSignal, messages.approve);
  actionHandlers('reject', messages.rejectSignal, messages.reject);
  setHandler(messages.state, () => stateView(s));

  // ---- small helpers -----------------------------------------------------------------------------
  const now = () => Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const ms = (text: string | undefined) => (text ? Date.parse(text) : NaN);

  function event(kind: string, detail: string) {
    s.events.push({ at: iso(now()), kind, detail });
    if (s.events.length > maxEvents) s.events.splice(0, s.events.length - maxEvents);
    log.info(`invoice ${s.invoiceNumber ?? s.txnId}: ${kind}: ${detail}`, s.invoiceNumber ? { invoiceNumber: s.invoiceNumber } : {});
  }

  function actionKey(kind: string): string {
    // Unique across runs: a closed run's actions never shadow a new run's (the chain's first run id).
    s.actionSeq += 1;
    return `${kind}:${s.invoiceId}:${info.firstExecutionRunId}:${s.actionSeq}`;
  }

  async function saveStatus(status: InvoiceStatus, extra: { pendingReason?: string | null; closed?: boolean } = {}) {
    s.status = status;
    if (!s.invoiceId) return;
    await database.setInvoiceStatus({
      invoiceId: s.invoiceId,
      status,
      paymentStatus: s.paymentStatus,
      pendingReason: extra.pendingReason,
      paidAt: s.paidAt,
      keysExpireAt: s.keys?.expiresAt,
      closed: extra.closed,
    });
  }

  /** Sets the live keys' expiry; a reminder whose time has already passed is not sent. */
  function setKeys(generation: number, expiresAt: number) {
    const reminderAt = s.reminderHours == null ? undefined : expiresAt - s.reminderHours * 3_600_000;
    s.keys = {
      generation,
      expiresAt: iso(expiresAt),
      expired: expiresAt <= now(),
      revoked: false,
      reminderSentFor: reminderAt !== undefined && reminderAt <= now() ? iso(expiresAt) : undefined,
    };
  }

  // The attributes last upserted, or started with. A run the intake started carries a new
  // invoice's attributes (newInvoiceAttributes), so its first publish upserts nothing. Runs started
  // without them (an operator action, a run begun before the intake set them) and continued runs
  // (whose inherited attributes are not compared) upsert on their first publish, as they always
  // did: their histories replay unchanged.
  const continued = info.continuedFromExecutionRunId !== undefined;
  let lastAttributes = continued ? '' : attributesText(startedWithAttributes(info.typedSearchAttributes));
  function publish() {
    const pairs = invoiceAttributePairs(s);
    const text = attributesText(pairs);
    if (text !== lastAttributes) {
      upsertSearchAttributes(pairs);
      lastAttributes = text;
    }
    const keys = s.keys
      ? `keys generation ${s.keys.generation} ${s.keys.revoked ? 'revoked' : s.keys.expired ? `expired ${s.keys.expiresAt}` : `live until ${s.keys.expiresAt}`}`
      : 'no keys issued';
    setCurrentDetails(
      [
        `**Invoice ${s.invoiceNumber ?? '(not recorded yet)'}** · PayPal ${s.txnId} · **${s.status}**${s.pendingReason && s.status === 'awaiting_payment' ? ` (pending: ${s.pendingReason})` : ''}`,
        `Buyer ${s.customerEmail ?? 'unknown'} · items ${s.itemNumbers.join(', ') || 'none'} · ${s.amount ?? '?'} ${s.currency ?? ''}`,
        keys + (s.closesAt ? ` · this run closes ${s.closesAt}` : ''),
        ...(s.reviewProblems.length && s.status === 'needs_review' ? [`Needs review: ${s.reviewProblems.join('; ')}`] : []),
        ...(s.failureReason ? [`Failure: ${s.failureReason}`] : []),
      ].join('\n'),
    );
  }

  // ---- taking up an invoice from Postgres -------------------------------------------------------
  function adopt(stored: StoredInvoice) {
    s.invoiceId = stored.invoiceId;
    s.invoiceNumber = stored.number;
    s.accountId = stored.accountId;
    s.status = stored.status;
    s.paymentStatus = stored.paymentStatus;
    s.pendingReason = stored.pendingReason;
    s.customerEmail = stored.payerEmail;
    s.itemNumbers = stored.itemNumbers;
    s.amount = stored.amount;
    s.currency = stored.currency;
    s.paidAt = stored.paidAt;
    s.files = stored.files;
    s.keyTtlSeconds = stored.keyTtlSeconds;
    s.reminderHours = stored.reminderHours;
    if (stored.status === 'awaiting_payment') s.pendingSince = stored.createdAt;
    if (stored.generation > 0 && stored.keysExpireAt) {
      setKeys(stored.generation, ms(stored.keysExpireAt));
      s.keys!.revoked = stored.keysRevoked;
    }
    event('resumed', `a new run took up invoice ${stored.number} (${stored.status}) from the database`);
  }

  // ---- PayPal notifications ---------------------------------------------------------------------
  async function onNotification(n: PaymentNotification) {
    if (n.txnId !== s.txnId) {
      event('ignored', `a ${n.status} message about transaction ${n.txnId} reached invoice ${s.txnId}; the intake must route by txnId`);
      return;
    }
    if (s.seenMessages.includes(n.dedupeKey)) {
      event('duplicate', `${n.source} message ${n.dedupeKey} (${n.status}) was already applied`);
      return;
    }
    if (!s.invoiceId && (n.items.length === 0 || !n.payer.email)) {
      await onNotificationWithoutDetails(n);
      return;
    }
    s.seenMessages.push(n.dedupeKey);
    if (s.seenMessages.length > maxSeenMessages) s.seenMessages.splice(0, s.seenMessages.length - maxSeenMessages);
    s.lastHeardAt = iso(now());
    const effect = notificationEffect(s, n);
    event('paypal', `${n.source} ${n.status}${n.pendingReason ? ` (${n.pendingReason})` : ''}${n.reasonCode ? ` reason ${n.reasonCode}` : ''} ${n.gross} ${n.currency}`);

    if (!s.accountId) {
      s.accountId = (await database.ensureAccount({ email: n.payer.email, payerId: n.payer.payerId, firstName: n.payer.firstName, lastName: n.payer.lastName })).accountId;
    }
    const firstStatus: InvoiceStatus =
      effect.kind === 'pending' ? 'awaiting_payment' : effect.kind === 'cleared' ? 'paid' : effect.kind === 'failed' ? 'failed' : effect.kind === 'revoke' ? effect.as : s.status;
    const recorded = await database.recordInvoice({
      txnId: s.txnId,
      workflowId: info.workflowId,
      accountId: s.accountId,
      status: firstStatus,
      paymentStatus: n.status,
      pendingReason: n.pendingReason,
      payerEmail: n.payer.email,
      gross: n.gross,
      currency: n.currency,
      items: n.items,
      messageId: n.messageId,
    });
    if (!s.invoiceId) {
      s.invoiceId = recorded.invoiceId;
      s.invoiceNumber = recorded.number;
      s.customerEmail = n.payer.email;
      s.itemNumbers = n.items.map((i) => i.itemNumber);
      s.amount = n.gross.replace(/^-/, '');
      s.currency = n.currency;
    }

    switch (effect.kind) {
      case 'ignore':
        event('ignored', effect.why);
        return;
      case 'pending': {
        s.paymentStatus = n.status;
        s.pendingReason = n.pendingReason ?? 'other';
        s.pendingSince ??= iso(now());
        await saveStatus('awaiting_payment', { pendingReason: s.pendingReason });
        await queued.sendInvoiceNotice({
          invoiceId: s.invoiceId!,
          kind: 'pending',
          dedupeKey: `pending:${s.invoiceId}:${s.pendingReason}`,
          reason: s.pendingReason,
          until: iso(ms(s.pendingSince) + timings!.pendingLimitSeconds * 1000),
        });
        return;
      }
      case 'cleared': {
        s.paymentStatus = n.status;
        s.paidAt = iso(now());
        s.failureReason = undefined;
        const check = await database.checkPayment({ receiverEmail: n.receiverEmail, items: n.items, gross: n.gross, currency: n.currency, invoiceId: s.invoiceId });
        s.files = check.files;
        s.keyTtlSeconds = check.keyTtlSeconds;
        s.reminderHours = check.reminderHours;
        if (check.problems.length > 0) {
          s.reviewProblems = check.problems;
          event('needs review', check.problems.join('; '));
          await saveStatus('needs_review', { pendingReason: null });
          await queued.sendInvoiceNotice({ invoiceId: s.invoiceId!, kind: 'review-alert', dedupeKey: `review-alert:${s.invoiceId}`, problems: check.problems });
          return;
        }
        await fulfil();
        return;
      }
      case 'failed': {
        s.paymentStatus = n.status;
        s.failureReason = `PayPal reported the payment ${n.status}`;
        await saveStatus('failed', { pendingReason: null });
        await queued.sendInvoiceNotice({ invoiceId: s.invoiceId!, kind: 'payment-failed', dedupeKey: `payment-failed:${s.invoiceId}`, reason: s.failureReason });
        return;
      }
      case 'revoke':
        s.paymentStatus = n.status;
        await revoke(effect.as, `PayPal ${n.status}${n.reasonCode ? ` (${n.reasonCode})` : ''}`);
        return;
      case 'reinstate':
        s.paymentStatus = n.status;
        await reinstate();
        return;
    }
  }

  // A REST capture event (a webhook that beat the IPN) names neither the buyer nor the items, so no
  // invoice can be recorded from it. PayPal is asked (PDT) for the whole payment; without an answer
  // the IPN, which PayPal sends for every Standard payment, brings the details. The message is not
  // marked as applied, so a resend of it is looked at again.
  async function onNotificationWithoutDetails(n: PaymentNotification) {
    let details: PaymentNotification | undefined;
    try {
      details = (await paypal.askPayPalForStatus({ txnId: s.txnId })).notification;
    } catch (error) {
      event('asked PayPal', `the status lookup failed (${error instanceof Error ? error.message : String(error)})`);
    }
    if (details && details.items.length > 0 && details.payer.email) {
      event('asked PayPal', `${n.source} ${n.status} named no buyer or items; PayPal's answer (${details.status}) does`);
      await onNotification({ ...details, txnId: s.txnId, source: 'poll', dedupeKey: `poll:${s.txnId}:${details.status}` });
    } else {
      event('waiting', `${n.source} ${n.status} names no buyer or items; waiting for PayPal's IPN for this payment`);
    }
  }

  async function fulfil() {
    await saveStatus('paid', { pendingReason: null });
    const generation = s.keys?.generation ?? 1;
    const expiresAt = now() + (s.keyTtlSeconds ?? timings!.defaultKeyTtlSeconds) * 1000;
    // The packages' own notifications go out with the keys, in one activity task; runs that were
    // past this point before (no marker) sent them with an activity of their own, and still do.
    const notesWithKeys = patched(packageNotesWithKeys);
    const sent = await delivery.sendKeys({
      invoiceId: s.invoiceId!,
      generation,
      expiresAt: iso(expiresAt),
      purpose: 'delivery',
      dedupeKey: `delivery:${s.invoiceId}:g${generation}`,
      packageNotifications: notesWithKeys,
    });
    setKeys(generation, expiresAt);
    if (!notesWithKeys) await queued.sendPackageNotifications({ invoiceId: s.invoiceId! });
    await saveStatus('fulfilled');
    event('fulfilled', `${sent.keyCount} key(s), generation ${generation}, live until ${s.keys!.expiresAt}`);
  }

  async function revoke(as: 'refunded' | 'reversed', why: string) {
    if (s.keys && !s.keys.revoked) {
      const { revoked } = await database.revokeKeys({ invoiceId: s.invoiceId!, reason: as });
      s.keys.revoked = true;
      event('keys revoked', `${revoked} key(s): ${why}`);
    }
    await saveStatus(as);
    event(as, why);
  }

  async function reinstate() {
    if (s.keys) {
      const { restored } = await database.restoreKeys({ invoiceId: s.invoiceId! });
      s.keys.revoked = false;
      event('keys restored', `${restored} key(s) restored after a canceled reversal`);
      await saveStatus('reinstated');
      if (!s.keys.expired) {
        await delivery.sendKeys({ invoiceId: s.invoiceId!, generation: s.keys.generation, expiresAt: s.keys.expiresAt, purpose: 'reinstated', dedupeKey: actionKey('reinstated') });
      }
      return;
    }
    s.reviewProblems = ['a reversal was cancelled for a payment whose keys were never issued; check the payment in PayPal, then approve or reject'];
    await saveStatus('needs_review');
    event('needs review', s.reviewProblems[0]!);
    await queued.sendInvoiceNotice({ invoiceId: s.invoiceId!, kind: 'review-alert', dedupeKey: actionKey('review-alert'), problems: s.reviewProblems });
  }

  // ---- operator actions --------------------------------------------------------------------------
  async function onAction(a: OperatorAction): Promise<string | undefined> {
    const problem = actionProblem(s, a);
    if (problem) {
      event('action refused', `${a.kind}: ${problem}`);
      return problem;
    }
    const by = a.input.by ? ` by ${a.input.by}` : '';
    const keys = s.keys!;
    switch (a.kind) {
      case 'resendKeys': {
        // Resent links always work: expired keys get a fresh lifetime first.
        const expiresAt = keys.expired ? now() + s.keyTtlSeconds! * 1000 : ms(keys.expiresAt);
        await delivery.sendKeys({ invoiceId: s.invoiceId!, generation: keys.generation, expiresAt: iso(expiresAt), purpose: 'resend', dedupeKey: actionKey('resend') });
        setKeys(keys.generation, expiresAt);
        await saveStatus(s.status === 'keys_expired' ? 'fulfilled' : s.status);
        event('keys resent', `generation ${keys.generation}${by}, live until ${s.keys!.expiresAt}`);
        return undefined;
      }
      case 'extendKeys': {
        const expiresAt = Math.max(ms(keys.expiresAt), now()) + a.input.days * day;
        await delivery.sendKeys({ invoiceId: s.invoiceId!, generation: keys.generation, expiresAt: iso(expiresAt), purpose: 'extend', dedupeKey: actionKey('extend') });
        setKeys(keys.generation, expiresAt);
        await saveStatus(s.status === 'keys_expired' ? 'fulfilled' : s.status);
        event('keys extended', `by ${a.input.days} day(s)${by}, live until ${s.keys!.expiresAt}`);
        return undefined;
      }
      case 'regenerateKeys': {
        const generation = keys.generation + 1;
        const expiresAt = Math.max(keys.expired ? 0 : ms(keys.expiresAt), now() + s.keyTtlSeconds! * 1000);
        await delivery.sendKeys({ invoiceId: s.invoiceId!, generation, expiresAt: iso(expiresAt), purpose: 'regenerate', dedupeKey: `regenerate:${s.invoiceId}:g${generation}` });
        setKeys(generation, expiresAt);
        await saveStatus(s.status === 'keys_expired' ? 'fulfilled' : s.status);
        event('keys regenerated', `generation ${generation}${by} replaces ${keys.generation} (revoked), live until ${s.keys!.expiresAt}`);
        return undefined;
      }
      case 'refund':
        await revoke('refunded', `operator refund${by}${a.input.reason ? `: ${a.input.reason}` : ''}`);
        return undefined;
      case 'approve':
        s.reviewProblems = [];
        event('approved', `delivery approved${by}`);
        await fulfil();
        return undefined;
      case 'reject': {
        s.failureReason = `rejected by an operator${a.input.reason ? `: ${a.input.reason}` : ''}`;
        await saveStatus('rejected');
        event('rejected', `${s.failureReason}${by}`);
        await queued.sendInvoiceNotice({ invoiceId: s.invoiceId!, kind: 'payment-failed', dedupeKey: `rejected:${s.invoiceId}`, reason: s.failureReason });
        return undefined;
      }
    }
  }

  // ---- timers ------------------------------------------------------------------------------------
  function closesAt(): number | undefined {
    if (s.status === 'awaiting_payment') return undefined;
    if (!moneyTaken(s.status)) return now(); // failed, or never anything to act on
    const paid = Number.isNaN(ms(s.paidAt)) ? now() : ms(s.paidAt);
    const keysUntil = s.keys && !s.keys.revoked ? ms(s.keys.expiresAt) : 0;
    return Math.max(paid + timings!.retentionSeconds * 1000, keysUntil);
  }

  function nextDeadline(): Deadline | undefined {
    const candidates: Deadline[] = [];
    if (s.status === 'awaiting_payment') {
      const since = ms(s.pendingSince);
      candidates.push({ at: since + timings!.pendingLimitSeconds * 1000, what: 'pending-limit' });
      const last = Math.max(since, ms(s.lastHeardAt) || 0, ms(s.lastPolledAt) || 0);
      candidates.push({ at: last + timings!.pendingPollSeconds * 1000, what: 'poll' });
    }
    if (keysLive.includes(s.status) && s.keys && !s.keys.revoked && !s.keys.expired) {
      const expiry = ms(s.keys.expiresAt);
      if (s.reminderHours != null && s.keys.reminderSentFor !== s.keys.expiresAt) {
        candidates.push({ at: expiry - s.reminderHours * 3_600_000, what: 'reminder' });
      }
      candidates.push({ at: expiry, what: 'expiry' });
    }
    const close = closesAt();
    s.closesAt = close === undefined ? undefined : iso(close);
    if (close !== undefined) candidates.push({ at: close, what: 'close' });
    return candidates.sort((a, b) => a.at - b.at)[0];
  }

  async function onDeadline(what: Deadline['what']): Promise<'closed' | undefined> {
    switch (what) {
      case 'pending-limit': {
        const days = Math.round(timings!.pendingLimitSeconds / 86400);
        s.failureReason = `the payment was still pending after ${days} day(s)`;
        await saveStatus('failed');
        event('pending limit', s.failureReason);
        await queued.sendInvoiceNotice({ invoiceId: s.invoiceId!, kind: 'payment-failed', dedupeKey: `pending-expired:${s.invoiceId}`, reason: s.failureReason });
        return undefined;
      }
      case 'poll': {
        s.lastPolledAt = iso(now());
        try {
          const { notification } = await paypal.askPayPalForStatus({ txnId: s.txnId });
          event('asked PayPal', notification ? `PayPal says ${notification.status}` : 'PayPal does not know this transaction (yet)');
          if (notification && notification.status !== 'Pending' && notification.status !== 'Created') {
            await onNotification({ ...notification, txnId: s.txnId, source: 'poll', dedupeKey: `poll:${s.txnId}:${notification.status}` });
          }
        } catch (error) {
          event('asked PayPal', `the status lookup failed (${error instanceof Error ? error.message : String(error)}); asking again later`);
        }
        return undefined;
      }
      case 'reminder': {
        const keys = s.keys!;
        await delivery.sendKeys({
          invoiceId: s.invoiceId!,
          generation: keys.generation,
          expiresAt: keys.expiresAt,
          purpose: 'reminder',
          dedupeKey: `reminder:${s.invoiceId}:g${keys.generation}:${keys.expiresAt}`,
        });
        keys.reminderSentFor = keys.expiresAt;
        event('reminder', `keys expire ${keys.expiresAt}`);
        return undefined;
      }
      case 'expiry':
        s.keys!.expired = true;
        await saveStatus('keys_expired');
        event('keys expired', `generation ${s.keys!.generation} expired ${s.keys!.expiresAt}`);
        return undefined;
      case 'close':
        if (s.invoiceId) await saveStatus(s.status, { closed: true });
        event('closed', `this run ends; a later action or PayPal message starts a new one`);
        return 'closed';
    }
  }

  // ---- main loop ---------------------------------------------------------------------------------
  if (!s.loaded) {
    const loaded = await database.loadInvoice({ txnId });
    timings = loaded.timings;
    s.loaded = true;
    if (loaded.invoice) adopt(loaded.invoice);
  }
  if (s.status === 'paid') await fulfil(); // an earlier run stopped mid-delivery (terminated)

  for (;;) {
    publish();
    const item = queue.shift();
    if (item) {
      if (item.kind === 'notification') await onNotification(item.notification);
      else {
        const error = await onAction(item.action);
        if (item.ticket) Object.assign(item.ticket, { done: true, error });
      }
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (queue.length === 0) await continueAsNew<typeof invoice>({ resume: { state: s, timings: timings! } });
      continue;
    }
    const deadline = nextDeadline();
    publish();
    if (!deadline) {
      await condition(() => queue.length > 0);
      continue;
    }
    const wait = deadline.at - now();
    if (wait > 0 && (await condition(() => queue.length > 0, wait))) continue;
    if ((await onDeadline(deadline.what)) === 'closed') {
      publish();
      await condition(allHandlersFinished);
      if (queue.length === 0) return stateView(s);
    }
  }
}
