// The invoice rules without servers: PayPal status transitions, operator action checks, and money
// parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionProblem, emptyState, notificationEffect, type InvoiceState, type InvoiceStatus } from '../workflows/invoice-state';
import type { PaymentStatus } from '../workflows/notification';
import { toCents } from '../activities/packages';
import { notification } from './invoice-fixtures';

function stateIn(status: InvoiceStatus, extra: Partial<InvoiceState> = {}): InvoiceState {
  return { ...emptyState('TXN1'), loaded: true, invoiceId: 7, invoiceNumber: 'KS-001007', status, ...extra };
}
const effect = (status: InvoiceStatus, paypal: PaymentStatus, extra: Partial<InvoiceState> = {}) =>
  notificationEffect(stateIn(status, extra), notification('TXN1', 'a@b.test', paypal, { pendingReason: 'echeck' })).kind;

test('a late message never moves an invoice backwards', () => {
  assert.equal(effect('new', 'Pending'), 'pending');
  assert.equal(effect('new', 'Completed'), 'cleared');
  assert.equal(effect('awaiting_payment', 'Completed'), 'cleared');
  assert.equal(effect('fulfilled', 'Pending'), 'ignore');
  assert.equal(effect('awaiting_payment', 'Pending', { pendingReason: 'echeck' }), 'ignore', 'the same pending again changes nothing');
  assert.equal(effect('fulfilled', 'Completed'), 'ignore');
  assert.equal(effect('refunded', 'Completed'), 'ignore');
  assert.equal(effect('fulfilled', 'Denied'), 'ignore');
  assert.equal(effect('awaiting_payment', 'Denied'), 'failed');
  assert.equal(effect('fulfilled', 'Refunded'), 'revoke');
  assert.equal(effect('keys_expired', 'Reversed'), 'revoke');
  assert.equal(effect('refunded', 'Reversed'), 'ignore');
  assert.equal(effect('reversed', 'Canceled_Reversal'), 'reinstate');
  assert.equal(effect('fulfilled', 'Canceled_Reversal'), 'ignore');
  assert.equal(effect('failed', 'Completed', { paymentStatus: 'Pending' }), 'cleared', 'a payment we stopped waiting for may still clear');
  assert.equal(effect('failed', 'Completed', { paymentStatus: 'Denied' }), 'ignore');
});

test('operator actions are refused when they make no sense, with a sentence', () => {
  const keys = { generation: 1, expiresAt: '2030-01-01T00:00:00.000Z', expired: false, revoked: false };
  assert.equal(actionProblem(stateIn('fulfilled', { keys }), { kind: 'extendKeys', input: { days: 7 } }), undefined);
  assert.match(actionProblem(stateIn('fulfilled', { keys }), { kind: 'extendKeys', input: { days: 0 } })!, /1 to 3650/);
  assert.match(actionProblem(stateIn('fulfilled', { keys }), { kind: 'extendKeys', input: { days: 3651 } })!, /1 to 3650/);
  assert.match(actionProblem(stateIn('fulfilled', { keys }), { kind: 'extendKeys', input: { days: 1.5 } })!, /whole number/);
  assert.equal(actionProblem(stateIn('keys_expired', { keys }), { kind: 'resendKeys', input: {} }), undefined);
  assert.match(actionProblem(stateIn('refunded', { keys }), { kind: 'regenerateKeys', input: {} })!, /is refunded, so it has no keys to regenerate/);
  assert.match(actionProblem(stateIn('awaiting_payment'), { kind: 'resendKeys', input: {} })!, /no keys to resend/);
  assert.match(actionProblem(stateIn('fulfilled', { keys }), { kind: 'approve', input: {} })!, /only an invoice that needs review/);
  assert.equal(actionProblem(stateIn('needs_review'), { kind: 'reject', input: { reason: 'x' } }), undefined);
  assert.match(actionProblem(stateIn('awaiting_payment'), { kind: 'refund', input: {} })!, /only a paid invoice/);
  assert.match(actionProblem({ ...emptyState('NOPE'), loaded: true }, { kind: 'resendKeys', input: {} })!, /no invoice for PayPal transaction NOPE/);
});

test('amounts become cents without floating point', () => {
  assert.equal(toCents('19.95'), 1995);
  assert.equal(toCents('19.9'), 1990);
  assert.equal(toCents('20'), 2000);
  assert.equal(toCents('-19.95'), -1995);
  assert.equal(toCents('0.07'), 7);
  assert.equal(toCents('1,000.00'), undefined);
  assert.equal(toCents('19.955'), undefined);
});
