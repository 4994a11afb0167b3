// The invoice rules without servers: PayPal status transitions, operator action checks, the mail
// template format, and money parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionProblem, emptyState, notificationEffect, type InvoiceState, type InvoiceStatus } from '../workflows/invoice-state';
import type { PaymentStatus } from '../workflows/notification';
import { renderMailSource, renderTemplate, TemplateError } from '../activities/mail-template';
import { toCents } from '../domain/money';
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

test('templates escape HTML, repeat lists, and name unknown names', () => {
  const context = { name: '<Ann & "Bo">', files: [{ n: 'a' }, { n: 'b' }], none: [], on: true };
  assert.equal(renderTemplate('Hi {{name}}', context, { html: true, label: 't' }), 'Hi &lt;Ann &amp; &quot;Bo&quot;&gt;');
  assert.equal(renderTemplate('Hi {{name}}', context, { html: false, label: 't' }), 'Hi <Ann & "Bo">');
  assert.equal(renderTemplate('{{#files}}[{{n}}]{{/files}}{{^none}}empty{{/none}}{{#on}}!{{/on}}{{! note }}', context, { html: false, label: 't' }), '[a][b]empty!');
  assert.equal(renderTemplate('{{#files}}\n- {{n}}\n{{/files}}\n', context, { html: false, label: 't' }), '- a\n- b\n', 'a line holding only a section tag leaves no blank line');
  assert.throws(() => renderTemplate('{{nmae}}', context, { html: false, label: 'delivery.txt' }), (e: Error) => e instanceof TemplateError && /delivery.txt: \{\{nmae\}\} is not a known name; use one of: files, name, none, on/.test(e.message));
  assert.throws(() => renderTemplate('{{#files}}x', context, { html: false, label: 't' }), /never closed/);
  assert.throws(() => renderTemplate('{{{name}}}', context, { html: true, label: 't' }), /not a template tag/, 'no unescaped output');
  const mail = renderMailSource('Subject: Hello {{name}}\n\nBody {{name}}', '<p>{{name}}</p>', context, 'x.txt');
  assert.deepEqual(mail, { subject: 'Hello <Ann & "Bo">', text: 'Body <Ann & "Bo">', html: '<p>&lt;Ann &amp; &quot;Bo&quot;&gt;</p>' });
  assert.throws(() => renderMailSource('Body only', undefined, context, 'x.txt'), /first line must be "Subject: ..."/);
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
