// The invoice workflow's decisions without servers: what each PayPal status, operator action, timer
// and activity answer does to an invoice in each status, and the commands it answers, in order.
// Every state handed in is frozen, so a decision that changed its input would throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvoiceStatus } from '../../domain/invoice-status';
import type { OperatorAction } from '../../domain/operator-actions';
import {
  accountEnsured,
  actionProblem,
  actionTaken,
  deadlineReached,
  invoiceLoaded,
  invoiceRecorded,
  keysRestored,
  keysRevoked,
  keysSent,
  nextDeadline,
  notificationEffect,
  notificationReceived,
  paymentChecked,
  runStarted,
  statusAnswered,
  type Command,
  type Context,
  type Step,
} from '../../workflows/invoice-decisions';
import { emptyState, type InvoiceState, type KeysView } from '../../workflows/invoice-state';
import type { PaymentNotification, PaymentStatus } from '../../workflows/notification';

const hour = 3_600_000;
const day = 24 * hour;
const now = Date.parse('2030-06-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const ctx: Context = {
  now,
  timings: { pendingLimitSeconds: 30 * 86400, pendingPollSeconds: 86400, retentionSeconds: 180 * 86400, defaultKeyTtlSeconds: 3 * 86400 },
  firstRunId: 'run-1',
  workflowId: 'invoice-TXN1',
};

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const liveKeys: KeysView = { generation: 1, expiresAt: iso(now + 10 * day), expired: false, revoked: false };
const expiredKeys: KeysView = { generation: 1, expiresAt: iso(now - day), expired: true, revoked: false };

function stateIn(status: InvoiceStatus, extra: Partial<InvoiceState> = {}): InvoiceState {
  return deepFreeze({ ...emptyState('TXN1'), loaded: true, invoiceId: 7, invoiceNumber: 'KS-001007', accountId: 3, keyTtlSeconds: 5 * 86400, reminderHours: 24, status, ...extra });
}

let counter = 0;
function paypal(status: PaymentStatus, extra: Partial<PaymentNotification> = {}): PaymentNotification {
  counter += 1;
  return {
    source: 'ipn',
    messageId: counter,
    dedupeKey: `ipn:${counter}`,
    txnId: 'TXN1',
    eventTxnId: 'TXN1',
    status,
    receiverEmail: 'seller@keyship.test',
    payer: { email: 'buyer@example.test', payerId: 'P1' },
    items: [{ itemNumber: 'GUIDE-1', quantity: 1, gross: '19.95' }],
    gross: '19.95',
    currency: 'USD',
    ...extra,
  };
}

/** Commands whose answer the workflow hands to the next decision. */
const answered = (c: Command) => 'then' in c || c.kind === 'checkPayment' || c.kind === 'restoreKeys' || c.kind === 'notification';

/**
 * A step's commands in one line each: the kind and what tells them apart. Checks on the way that
 * only the last command's answer leads on (the workflow runs the next step right after it).
 */
function summary(step: Step): string[] {
  step.commands.slice(0, -1).forEach((c) => assert.ok(!answered(c), `${c.kind} leads to a next step, so it must be the last command`));
  return step.commands.map((c: Command) => {
    switch (c.kind) {
      case 'note':
        return `note ${c.event}`;
      case 'setInvoiceStatus':
        return `setInvoiceStatus ${c.input.status}${c.input.closed ? ' closed' : ''}`;
      case 'sendInvoiceNotice':
        return `sendInvoiceNotice ${c.input.kind} ${c.input.dedupeKey}`;
      case 'sendKeys':
        return `sendKeys ${c.input.purpose} g${c.input.generation} ${c.input.dedupeKey}${c.packageNotes ? ' +package notes' : ''}`;
      case 'recordInvoice':
        return `recordInvoice ${c.input.status}`;
      case 'notification':
        return `notification ${c.notification.status}`;
      default:
        return c.kind;
    }
  });
}

test('a late message never moves an invoice backwards', () => {
  const cases: [InvoiceStatus, PaymentStatus, Partial<InvoiceState>, string][] = [
    ['new', 'Pending', {}, 'pending'],
    ['new', 'Completed', {}, 'cleared'],
    ['awaiting_payment', 'Completed', {}, 'cleared'],
    ['fulfilled', 'Pending', {}, 'ignore'],
    ['awaiting_payment', 'Pending', { pendingReason: 'echeck' }, 'ignore'], // the same pending again changes nothing
    ['awaiting_payment', 'Pending', { pendingReason: 'other' }, 'pending'], // a new pending reason is news
    ['fulfilled', 'Completed', {}, 'ignore'],
    ['refunded', 'Completed', {}, 'ignore'],
    ['fulfilled', 'Denied', {}, 'ignore'],
    ['awaiting_payment', 'Denied', {}, 'failed'],
    ['new', 'Voided', {}, 'failed'],
    ['fulfilled', 'Refunded', {}, 'revoke'],
    ['keys_expired', 'Reversed', {}, 'revoke'],
    ['refunded', 'Reversed', {}, 'ignore'],
    ['failed', 'Refunded', {}, 'ignore'],
    ['reversed', 'Canceled_Reversal', {}, 'reinstate'],
    ['fulfilled', 'Canceled_Reversal', {}, 'ignore'],
    ['failed', 'Completed', { paymentStatus: 'Pending' }, 'cleared'], // a payment we stopped waiting for may still clear
    ['failed', 'Completed', { paymentStatus: 'Denied' }, 'ignore'],
  ];
  for (const [status, paid, extra, expected] of cases) {
    const effect = notificationEffect(stateIn(status, extra), paypal(paid, { pendingReason: 'echeck' }));
    assert.equal(effect.kind, expected, `${paid} while ${status} ${JSON.stringify(extra)}`);
  }
});

test('operator actions are refused when they make no sense, with a sentence', () => {
  const cases: [InvoiceState, OperatorAction, RegExp | undefined][] = [
    [stateIn('fulfilled', { keys: liveKeys }), { kind: 'extendKeys', input: { days: 7 } }, undefined],
    [stateIn('fulfilled', { keys: liveKeys }), { kind: 'extendKeys', input: { days: 0 } }, /1 to 3650/],
    [stateIn('fulfilled', { keys: liveKeys }), { kind: 'extendKeys', input: { days: 3651 } }, /1 to 3650/],
    [stateIn('fulfilled', { keys: liveKeys }), { kind: 'extendKeys', input: { days: 1.5 } }, /whole number/],
    [stateIn('keys_expired', { keys: liveKeys }), { kind: 'resendKeys', input: {} }, undefined],
    [stateIn('refunded', { keys: liveKeys }), { kind: 'regenerateKeys', input: {} }, /is refunded, so it has no keys to regenerate/],
    [stateIn('awaiting_payment'), { kind: 'resendKeys', input: {} }, /no keys to resend/],
    [stateIn('fulfilled', { keys: liveKeys }), { kind: 'approve', input: {} }, /only an invoice that needs review/],
    [stateIn('needs_review'), { kind: 'reject', input: { reason: 'x' } }, undefined],
    [stateIn('awaiting_payment'), { kind: 'refund', input: {} }, /only a paid invoice/],
    [{ ...emptyState('NOPE'), loaded: true }, { kind: 'resendKeys', input: {} }, /no invoice for PayPal transaction NOPE/],
    [stateIn('fulfilled', { keys: liveKeys }), { kind: 'resendKeys', input: 'x' } as unknown as OperatorAction, /takes one object argument/],
  ];
  for (const [state, action, expected] of cases) {
    const problem = actionProblem(state, action);
    if (expected) assert.match(problem ?? '(none)', expected, `${action.kind} while ${state.status}`);
    else assert.equal(problem, undefined, `${action.kind} while ${state.status}`);
  }
});

test('a PayPal message is ignored, asked about, or recorded (with an account first when none is known)', () => {
  const fresh = deepFreeze({ ...emptyState('TXN1'), loaded: true });
  const seen = stateIn('fulfilled', { seenMessages: ['ipn:seen'] });
  const cases: [string, InvoiceState, PaymentNotification, string[]][] = [
    ['another payment', fresh, paypal('Completed', { txnId: 'OTHER' }), ['note ignored']],
    ['a repeat', seen, paypal('Refunded', { dedupeKey: 'ipn:seen' }), ['note duplicate']],
    ['a REST capture naming no buyer', fresh, paypal('Completed', { source: 'webhook', items: [], payer: { email: '' } }), ['askPayPal']],
    ['the first message', fresh, paypal('Completed'), ['note paypal', 'ensureAccount']],
    ['a known buyer', stateIn('awaiting_payment'), paypal('Completed'), ['note paypal', 'recordInvoice paid']],
    ['a late Pending', stateIn('fulfilled'), paypal('Pending'), ['note paypal', 'recordInvoice fulfilled']],
  ];
  for (const [what, state, n, expected] of cases) {
    const step = notificationReceived(state, n, ctx);
    assert.deepEqual(summary(step), expected, what);
    assert.equal(step.state.seenMessages.length - state.seenMessages.length, expected.includes('note paypal') ? 1 : 0, `${what}: marked applied only when applied`);
  }
});

test('a recorded message takes effect: the commands per effect, in order', () => {
  const cases: [string, InvoiceState, PaymentNotification, InvoiceStatus, string[]][] = [
    ['pending', stateIn('new'), paypal('Pending', { pendingReason: 'echeck' }), 'awaiting_payment', ['setInvoiceStatus awaiting_payment', 'sendInvoiceNotice pending pending:7:echeck']],
    ['cleared', stateIn('awaiting_payment'), paypal('Completed'), 'awaiting_payment', ['checkPayment']],
    ['failed', stateIn('awaiting_payment'), paypal('Denied'), 'failed', ['setInvoiceStatus failed', 'sendInvoiceNotice payment-failed payment-failed:7']],
    ['refunded with live keys', stateIn('fulfilled', { keys: liveKeys }), paypal('Refunded'), 'fulfilled', ['revokeKeys']],
    ['reversed without keys', stateIn('needs_review'), paypal('Reversed'), 'reversed', ['setInvoiceStatus reversed', 'note reversed']],
    ['reinstated with keys', stateIn('reversed', { keys: { ...liveKeys, revoked: true } }), paypal('Canceled_Reversal'), 'reversed', ['restoreKeys']],
    ['reinstated without keys', stateIn('reversed'), paypal('Canceled_Reversal'), 'needs_review', ['setInvoiceStatus needs_review', 'note needs review', 'sendInvoiceNotice review-alert review-alert:7:run-1:1']],
    ['late', stateIn('refunded'), paypal('Completed'), 'refunded', ['note ignored']],
  ];
  for (const [what, state, n, status, expected] of cases) {
    const step = invoiceRecorded(state, { invoiceId: 7, number: 'KS-001007' }, { notification: n, effect: notificationEffect(state, n) }, ctx);
    assert.deepEqual(summary(step), expected, what);
    assert.equal(step.state.status, status, what);
  }
});

test('the first recorded message names the invoice; a pending one says until when it is awaited', () => {
  const n = paypal('Pending', { pendingReason: 'echeck' });
  const state = deepFreeze({ ...emptyState('TXN1'), loaded: true, accountId: 3 });
  const step = invoiceRecorded(state, { invoiceId: 9, number: 'KS-000009' }, { notification: n, effect: notificationEffect(state, n) }, ctx);
  assert.equal(step.state.invoiceNumber, 'KS-000009');
  assert.deepEqual(step.state.itemNumbers, ['GUIDE-1']);
  assert.equal(step.state.pendingSince, iso(now));
  const notice = step.commands.find((c) => c.kind === 'sendInvoiceNotice');
  assert.equal(notice?.kind === 'sendInvoiceNotice' && notice.input.until, iso(now + 30 * day));
});

test('a checked payment is delivered, or held for an operator when it does not match', () => {
  const terms = { files: [], keyTtlSeconds: 86400, reminderHours: 24, refundPolicy: 'revoke_on_any' as const, disputePolicy: 'keep' as const };
  const matched = paymentChecked(stateIn('awaiting_payment'), { ...terms, problems: [] }, ctx);
  assert.deepEqual(summary(matched), ['setInvoiceStatus paid', 'sendKeys delivery g1 delivery:7:g1 +package notes']);
  const send = matched.commands[1];
  assert.equal(send?.kind === 'sendKeys' && send.input.expiresAt, iso(now + day), "the package's key lifetime");
  const held = paymentChecked(stateIn('awaiting_payment'), { ...terms, problems: ['wrong amount'] }, ctx);
  assert.deepEqual(summary(held), ['note needs review', 'setInvoiceStatus needs_review', 'sendInvoiceNotice review-alert review-alert:7']);
  assert.deepEqual(held.state.reviewProblems, ['wrong amount']);
  assert.equal(matched.state.refundPolicy, 'revoke_on_any', "the packages' policies are kept for later refunds");
  assert.equal(matched.state.disputePolicy, 'keep');
});

test('after a delivery the keys are live; runs from before the package-notes patch send them apart', () => {
  const after = { kind: 'delivered', generation: 1, expiresAt: now + 3 * day } as const;
  const patched = keysSent(stateIn('paid'), after, { keyCount: 2, packageNotesSent: true }, ctx);
  assert.deepEqual(summary(patched), ['setInvoiceStatus fulfilled', 'note fulfilled']);
  assert.deepEqual(patched.state.keys, { generation: 1, expiresAt: iso(now + 3 * day), expired: false, revoked: false, reminderSentFor: undefined });
  const older = keysSent(stateIn('paid'), after, { keyCount: 2, packageNotesSent: false }, ctx);
  assert.deepEqual(summary(older), ['sendPackageNotifications', 'setInvoiceStatus fulfilled', 'note fulfilled']);
  const soon = keysSent(stateIn('paid'), { ...after, expiresAt: now + hour }, { keyCount: 2, packageNotesSent: true }, ctx);
  assert.equal(soon.state.keys?.reminderSentFor, iso(now + hour), 'a reminder whose time has passed is not sent');
});

test('each operator action answers its commands and the new keys', () => {
  const fulfilled = stateIn('fulfilled', { keys: liveKeys, actionSeq: 4 });
  const expired = stateIn('keys_expired', { keys: expiredKeys });
  const cases: [string, InvoiceState, OperatorAction, string[], number | undefined][] = [
    ['resend', fulfilled, { kind: 'resendKeys', input: {} }, ['sendKeys resend g1 resend:7:run-1:5'], now + 10 * day],
    ['resend expired', expired, { kind: 'resendKeys', input: {} }, ['sendKeys resend g1 resend:7:run-1:1'], now + 5 * day],
    ['extend', fulfilled, { kind: 'extendKeys', input: { days: 7 } }, ['sendKeys extend g1 extend:7:run-1:5'], now + 17 * day],
    ['extend expired', expired, { kind: 'extendKeys', input: { days: 7 } }, ['sendKeys extend g1 extend:7:run-1:1'], now + 7 * day],
    ['regenerate', fulfilled, { kind: 'regenerateKeys', input: {} }, ['sendKeys regenerate g2 regenerate:7:g2'], now + 10 * day],
    ['regenerate expired', expired, { kind: 'regenerateKeys', input: {} }, ['sendKeys regenerate g2 regenerate:7:g2'], now + 5 * day],
    ['refund', fulfilled, { kind: 'refund', input: { reason: 'asked' } }, ['revokeKeys'], undefined],
    ['approve', stateIn('needs_review'), { kind: 'approve', input: { by: 'ann' } }, ['note approved', 'setInvoiceStatus paid', 'sendKeys delivery g1 delivery:7:g1 +package notes'], now + 5 * day],
    ['reject', stateIn('needs_review'), { kind: 'reject', input: { reason: 'fraud' } }, ['setInvoiceStatus rejected', 'note rejected', 'sendInvoiceNotice payment-failed rejected:7'], undefined],
    ['refused', stateIn('awaiting_payment'), { kind: 'refund', input: {} }, ['note action refused'], undefined],
  ];
  for (const [what, state, action, expected, expiresAt] of cases) {
    const step = actionTaken(state, action, ctx);
    assert.deepEqual(summary(step), expected, what);
    assert.equal(step.problem !== undefined, what === 'refused', what);
    const send = step.commands.find((c) => c.kind === 'sendKeys');
    assert.equal(send?.kind === 'sendKeys' ? Date.parse(send.input.expiresAt) : undefined, expiresAt, `${what}: expiry`);
  }
});

test('changed keys are set after their e-mail; expired ones are live again', () => {
  const step = keysSent(stateIn('keys_expired', { keys: expiredKeys }), { kind: 'changed', generation: 1, expiresAt: now + 7 * day, event: 'keys extended', detail: 'by 7 day(s)' }, { keyCount: 1, packageNotesSent: false }, ctx);
  assert.deepEqual(summary(step), ['setInvoiceStatus fulfilled', 'note keys extended']);
  assert.equal(step.state.keys?.expired, false);
  assert.equal(step.state.keys?.expiresAt, iso(now + 7 * day));
});

test('the next deadline per status, and when the run closes', () => {
  const pendingSince = iso(now - 2 * day);
  const cases: [string, InvoiceState, string | undefined, number | undefined][] = [
    ['awaiting: poll a day after the last word', stateIn('awaiting_payment', { pendingSince, lastHeardAt: iso(now - hour) }), 'poll', now - hour + day],
    ['awaiting past the poll: the pending limit first', stateIn('awaiting_payment', { pendingSince: iso(now - 30 * day), lastPolledAt: iso(now) }), 'pending-limit', now],
    ['live keys: the reminder a day before expiry', stateIn('fulfilled', { keys: liveKeys, paidAt: iso(now) }), 'reminder', now + 9 * day],
    ['reminder sent: the expiry', stateIn('fulfilled', { keys: { ...liveKeys, reminderSentFor: liveKeys.expiresAt }, paidAt: iso(now) }), 'expiry', now + 10 * day],
    ['no reminders: the expiry', stateIn('reinstated', { keys: liveKeys, reminderHours: null, paidAt: iso(now) }), 'expiry', now + 10 * day],
    ['refunded: close after the dispute window', stateIn('refunded', { keys: { ...liveKeys, revoked: true }, paidAt: iso(now) }), 'close', now + 180 * day],
    ['failed: close now', stateIn('failed'), 'close', now],
  ];
  for (const [what, state, kind, at] of cases) {
    const { deadline } = nextDeadline(state, ctx);
    assert.deepEqual(deadline && [deadline.what, deadline.at], kind && [kind, at], what);
  }
  assert.equal(nextDeadline(stateIn('awaiting_payment', { pendingSince }), ctx).closesAt, undefined, 'a pending payment keeps its run open');
  assert.equal(nextDeadline(stateIn('keys_expired', { keys: { ...liveKeys, expiresAt: iso(now + 200 * day) }, paidAt: iso(now) }), ctx).closesAt, iso(now + 200 * day), 'live keys outlast the dispute window');
});

test('each deadline answers its commands; only close ends the run', () => {
  const cases: [InvoiceState, Parameters<typeof deadlineReached>[1], string[], InvoiceStatus][] = [
    [stateIn('awaiting_payment'), 'pending-limit', ['setInvoiceStatus failed', 'note pending limit', 'sendInvoiceNotice payment-failed pending-expired:7'], 'failed'],
    [stateIn('awaiting_payment'), 'poll', ['askPayPal'], 'awaiting_payment'],
    [stateIn('fulfilled', { keys: liveKeys }), 'reminder', [`sendKeys reminder g1 reminder:7:g1:${liveKeys.expiresAt}`], 'fulfilled'],
    [stateIn('fulfilled', { keys: liveKeys }), 'expiry', ['setInvoiceStatus keys_expired', 'note keys expired'], 'keys_expired'],
    [stateIn('refunded'), 'close', ['setInvoiceStatus refunded closed', 'note closed'], 'refunded'],
    [deepFreeze({ ...emptyState('TXN1'), loaded: true }), 'close', ['note closed'], 'new'],
  ];
  for (const [state, what, expected, status] of cases) {
    const step = deadlineReached(state, what, ctx);
    assert.deepEqual(summary(step), expected, what);
    assert.equal(step.state.status, status, what);
    assert.equal(step.closed === true, what === 'close', what);
  }
  assert.equal(deadlineReached(stateIn('awaiting_payment'), 'poll', ctx).state.lastPolledAt, iso(now));
});

test("PayPal's status answer: a poll acts on news only; a message without details waits for the IPN", () => {
  const waiting = stateIn('awaiting_payment');
  const bare = paypal('Completed', { source: 'webhook', items: [], payer: { email: '' } });
  const cases: [string, Parameters<typeof statusAnswered>[1], Parameters<typeof statusAnswered>[2], string[]][] = [
    ['poll: cleared', { kind: 'poll' }, { notification: paypal('Completed') }, ['note asked PayPal', 'notification Completed']],
    ['poll: still pending', { kind: 'poll' }, { notification: paypal('Pending') }, ['note asked PayPal']],
    ['poll: unknown', { kind: 'poll' }, {}, ['note asked PayPal']],
    ['poll: failed', { kind: 'poll' }, { error: 'timeout' }, ['note asked PayPal']],
    ['details: found', { kind: 'details', notification: bare }, { notification: paypal('Completed') }, ['note asked PayPal', 'notification Completed']],
    ['details: none', { kind: 'details', notification: bare }, { notification: bare }, ['note waiting']],
    ['details: failed', { kind: 'details', notification: bare }, { error: 'timeout' }, ['note asked PayPal', 'note waiting']],
  ];
  for (const [what, asked, answer, expected] of cases) assert.deepEqual(summary(statusAnswered(waiting, asked, answer, ctx)), expected, what);
  const found = statusAnswered(waiting, { kind: 'poll' }, { notification: paypal('Completed') }, ctx).commands[1];
  assert.equal(found?.kind === 'notification' && found.notification.dedupeKey, 'poll:TXN1:Completed', 'a repeated answer is a duplicate');
});

test('a new run takes up the stored invoice, its keys included', () => {
  const stored = {
    invoiceId: 7, number: 'KS-001007', accountId: 3, status: 'fulfilled', paymentStatus: 'Completed', payerEmail: 'b@example.test', amount: '19.95', currency: 'USD',
    itemNumbers: ['GUIDE-1'], paidAt: iso(now - day), keysExpireAt: iso(now + day), generation: 2, keysRevoked: true, files: [], keyTtlSeconds: 86400, reminderHours: 48, createdAt: iso(now - 2 * day),
  } as const;
  const step = invoiceLoaded(deepFreeze({ ...emptyState('TXN1') }), { ...stored, itemNumbers: [...stored.itemNumbers], files: [] }, ctx);
  assert.equal(step.state.loaded, true);
  assert.equal(step.state.status, 'fulfilled');
  assert.deepEqual(step.state.keys, { generation: 2, expiresAt: iso(now + day), expired: false, revoked: true, reminderSentFor: iso(now + day) });
  assert.deepEqual(summary(step), ['note resumed']);
  assert.deepEqual(summary(invoiceLoaded(deepFreeze({ ...emptyState('TXN1') }), undefined, ctx)), []);
});

test('the other answers lead on: account, revoked and restored keys, and a delivery left half-way', () => {
  const n = paypal('Completed');
  const fresh = deepFreeze({ ...emptyState('TXN1'), loaded: true });
  const reversed = stateIn('reversed', { keys: { ...liveKeys, revoked: true } });
  const cases: [string, Step, string[], InvoiceStatus][] = [
    ['account', accountEnsured(fresh, 5, { notification: n, effect: { kind: 'cleared' } }, ctx), ['recordInvoice paid'], 'new'],
    ['revoked', keysRevoked(stateIn('fulfilled', { keys: liveKeys }), 2, { as: 'refunded', why: 'PayPal Refunded' }, ctx), ['note keys revoked', 'setInvoiceStatus refunded', 'note refunded'], 'refunded'],
    ['restored', keysRestored(reversed, 2, ctx), ['note keys restored', 'setInvoiceStatus reinstated', 'sendKeys reinstated g1 reinstated:7:run-1:1'], 'reinstated'],
    ['restored, expired', keysRestored(stateIn('reversed', { keys: { ...expiredKeys, revoked: true } }), 2, ctx), ['note keys restored', 'setInvoiceStatus reinstated'], 'reinstated'],
    ['started while paid', runStarted(stateIn('paid'), ctx), ['setInvoiceStatus paid', 'sendKeys delivery g1 delivery:7:g1 +package notes'], 'paid'],
    ['started otherwise', runStarted(stateIn('fulfilled', { keys: liveKeys }), ctx), [], 'fulfilled'],
  ];
  for (const [what, step, expected, status] of cases) {
    assert.deepEqual(summary(step), expected, what);
    assert.equal(step.state.status, status, what);
  }
  assert.equal(keysRevoked(stateIn('fulfilled', { keys: liveKeys }), 2, { as: 'refunded', why: 'x' }, ctx).state.keys?.revoked, true);
  assert.equal(keysRestored(reversed, 2, ctx).state.keys?.revoked, false);
});

// ---- refunds and disputes under the packages' policies ------------------------------------------

const dispute = (stage: 'created' | 'updated' | 'resolved', extra: Partial<NonNullable<PaymentNotification['dispute']>> = {}) =>
  paypal('Disputed', { gross: '19.95', dispute: { caseId: 'PP-D-1', stage, reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED', amount: '19.95', ...extra } });
const openDispute = { dispute: { caseId: 'PP-D-1', state: 'open' as const }, disputed: '19.95' };

test('refunds and disputes: the effect per policy, status and amount', () => {
  const cases: [string, InvoiceStatus, Partial<InvoiceState>, PaymentNotification, string][] = [
    ['a partial refund keeps access', 'fulfilled', {}, paypal('Refunded', { gross: '-2.00' }), 'partialRefund'],
    ['a refund that completes the total revokes', 'fulfilled', { refunded: '2.00' }, paypal('Refunded', { gross: '-17.95' }), 'refundRevokes'],
    ['a full refund revokes', 'fulfilled', {}, paypal('Refunded', { gross: '-19.95' }), 'refundRevokes'],
    ['revoke on any refund', 'fulfilled', { refundPolicy: 'revoke_on_any' }, paypal('Refunded', { gross: '-2.00' }), 'refundRevokes'],
    ['more than what is left', 'fulfilled', { refunded: '19.00' }, paypal('Refunded', { gross: '-2.00' }), 'ignore'],
    ['the same refund by the other channel', 'fulfilled', { refunded: '2.00', refundIds: ['R1'] }, paypal('Refunded', { gross: '-2.00', eventTxnId: 'R1', source: 'webhook' }), 'ignore'],
    ['a refund after the full refund', 'refunded', { refunded: '19.95' }, paypal('Refunded', { gross: '-1.00' }), 'ignore'],
    ['a plain reversal revokes', 'fulfilled', {}, paypal('Reversed', { gross: '-19.95', reasonCode: 'unauthorized_claim' }), 'revoke'],
    ['a chargeback opens a dispute', 'fulfilled', {}, paypal('Reversed', { gross: '-19.95', reasonCode: 'chargeback' }), 'disputeOpened'],
    ['a canceled reversal closes an open dispute', 'disputed', openDispute, paypal('Canceled_Reversal', { gross: '19.95' }), 'disputeResolved'],
    ['a canceled reversal without a dispute reinstates', 'reversed', {}, paypal('Canceled_Reversal', { gross: '19.95' }), 'reinstate'],
    ['a dispute opens', 'fulfilled', {}, dispute('created'), 'disputeOpened'],
    ['the same case again is an update', 'disputed', openDispute, dispute('created'), 'disputeUpdated'],
    ['a dispute updated', 'disputed', openDispute, dispute('updated', { status: 'UNDER_REVIEW' }), 'disputeUpdated'],
    ['a dispute resolved', 'disputed', openDispute, dispute('resolved', { outcome: 'seller' }), 'disputeResolved'],
    ['a resolution heard twice', 'fulfilled', { dispute: { caseId: 'PP-D-1', state: 'seller' } }, dispute('resolved', { outcome: 'seller' }), 'ignore'],
    ['a dispute of an unpaid invoice', 'awaiting_payment', {}, dispute('created'), 'ignore'],
    ['a dispute after a refund', 'refunded', {}, dispute('created'), 'ignore'],
  ];
  for (const [what, status, extra, n, expected] of cases) {
    const effect = notificationEffect(stateIn(status, { amount: '19.95', keys: liveKeys, ...extra }), n, true);
    assert.equal(effect.kind, expected, what);
    if (effect.kind === 'ignore' && what === 'more than what is left') assert.match(effect.why, /2\.00 is more than the 0\.95 left of 19\.95/);
  }
  // Runs begun before the policies keep revoking on any refund.
  assert.equal(notificationEffect(stateIn('fulfilled', { amount: '19.95' }), paypal('Refunded', { gross: '-2.00' })).kind, 'revoke');
});

test('refunds and disputes: the commands and the state per policy, in order', () => {
  const cases: [string, InvoiceState, PaymentNotification, InvoiceStatus, string[], Partial<InvoiceState>][] = [
    ['partial refund', stateIn('fulfilled', { amount: '19.95', keys: liveKeys }), paypal('Refunded', { gross: '-2.00' }), 'fulfilled', ['setInvoiceStatus fulfilled', 'note partial refund'], { refunded: '2.00' }],
    ['completing refund', stateIn('fulfilled', { amount: '19.95', refunded: '2.00', keys: liveKeys }), paypal('Refunded', { gross: '-17.95' }), 'fulfilled', ['revokeKeys'], { refunded: '19.95' }],
    ['revoke on any refund', stateIn('fulfilled', { amount: '19.95', keys: liveKeys, refundPolicy: 'revoke_on_any' }), paypal('Refunded', { gross: '-2.00' }), 'fulfilled', ['revokeKeys'], { refunded: '2.00' }],
    ['refused refund', stateIn('fulfilled', { amount: '19.95', refunded: '19.00', keys: liveKeys }), paypal('Refunded', { gross: '-2.00' }), 'fulfilled', ['note ignored'], { refunded: '19.00' }],
    ['dispute suspends', stateIn('fulfilled', { amount: '19.95', keys: liveKeys }), dispute('created'), 'disputed', ['setInvoiceStatus disputed', 'note dispute opened'], { disputed: '19.95', dispute: { caseId: 'PP-D-1', state: 'open', reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED', paypalStatus: undefined } }],
    ['dispute kept', stateIn('fulfilled', { amount: '19.95', keys: liveKeys, disputePolicy: 'keep' }), dispute('created'), 'fulfilled', ['setInvoiceStatus fulfilled', 'note dispute opened'], { disputed: '19.95' }],
    ['chargeback suspends', stateIn('fulfilled', { amount: '19.95', keys: liveKeys }), paypal('Reversed', { gross: '-19.95', reasonCode: 'chargeback', eventTxnId: 'REV1' }), 'disputed', ['setInvoiceStatus disputed', 'note dispute opened'], { dispute: { caseId: 'REV1', state: 'open', reason: 'chargeback', paypalStatus: undefined } }],
    ['won reinstates', stateIn('disputed', { amount: '19.95', keys: liveKeys, ...openDispute }), dispute('resolved', { outcome: 'seller' }), 'fulfilled', ['setInvoiceStatus fulfilled', 'note dispute resolved'], { dispute: { caseId: 'PP-D-1', state: 'seller', reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED', paypalStatus: undefined } }],
    ['won after the keys expired', stateIn('disputed', { amount: '19.95', keys: { ...liveKeys, expiresAt: iso(now - hour) }, ...openDispute }), dispute('resolved', { outcome: 'seller' }), 'keys_expired', ['setInvoiceStatus keys_expired', 'note dispute resolved'], {}],
    ['won while access was kept', stateIn('fulfilled', { amount: '19.95', keys: liveKeys, ...openDispute }), dispute('resolved', { outcome: 'seller' }), 'fulfilled', ['setInvoiceStatus fulfilled', 'note dispute resolved'], {}],
    ['lost revokes', stateIn('disputed', { amount: '19.95', keys: liveKeys, ...openDispute }), dispute('resolved', { outcome: 'buyer' }), 'disputed', ['revokeKeys'], { dispute: { caseId: 'PP-D-1', state: 'buyer', reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED', paypalStatus: undefined } }],
    ['chargeback canceled', stateIn('disputed', { amount: '19.95', keys: liveKeys, ...openDispute }), paypal('Canceled_Reversal', { gross: '19.95' }), 'fulfilled', ['setInvoiceStatus fulfilled', 'note dispute resolved'], {}],
  ];
  for (const [what, state, n, status, expected, after] of cases) {
    const step = invoiceRecorded(state, { invoiceId: 7, number: 'KS-001007' }, { notification: n, effect: notificationEffect(state, n, true) }, ctx);
    assert.deepEqual(summary(step), expected, what);
    assert.equal(step.state.status, status, what);
    for (const [key, value] of Object.entries(after)) assert.deepEqual(step.state[key as keyof InvoiceState], value, `${what}: ${key}`);
    const saved = step.commands.find((c) => c.kind === 'setInvoiceStatus');
    if (saved?.kind === 'setInvoiceStatus') assert.equal(saved.input.refundedAmount, step.state.refunded, `${what}: the refunded total is written to Postgres`);
  }
});

test('a lost dispute ends reversed once the keys are revoked; the state shows the money', () => {
  const state = stateIn('disputed', { amount: '19.95', keys: liveKeys, ...openDispute });
  const n = dispute('resolved', { outcome: 'buyer' });
  const step = invoiceRecorded(state, { invoiceId: 7, number: 'KS-001007' }, { notification: n, effect: notificationEffect(state, n, true) }, ctx);
  const revoke = step.commands[0];
  assert.ok(revoke?.kind === 'revokeKeys');
  const after = keysRevoked(step.state, 2, revoke.then, ctx);
  assert.equal(after.state.status, 'reversed');
  assert.deepEqual(summary(after), ['note keys revoked', 'setInvoiceStatus reversed', 'note reversed']);
  const saved = after.commands[1];
  assert.ok(saved?.kind === 'setInvoiceStatus' && saved.input.disputeState === 'buyer' && saved.input.disputedAmount === '19.95');
});
