// Every path of the invoice workflow on the time-skipping server, with the real activities over a
// real Postgres database and a real SMTP server. Days pass in milliseconds.
// KEYSHIP_SAVE_HISTORIES=1 also writes each path's history to test/histories/<current version>/ (protobuf, for the replay test).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { freshDatabase, smtpCapture, timeSkipping, workflowBundle, type SmtpCapture, type TestDatabase } from './harness';
import { createWorker } from '../worker/create-worker';
import { queryInvoiceState, runInvoiceAction, signalInvoice, signalInvoiceAction } from '../domain/invoice-client';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import type { OperatorAction } from '../domain/operator-actions';
import type { InvoiceStateView } from '../workflows/invoice-state';
import type { PaymentNotification } from '../workflows/notification';
import { CustomerEmail, DisputeState, InvoiceNumber, InvoiceStatus, ItemNumber, PaymentStatus, RefundedAmount } from '../workflows/search-attributes';
import { buyerEmail, currentHistoriesVersion, keysInMail, mailsTo, newTxnId, notification, operatorEmail, seedPackages, StatusAnswers, testActivities } from './invoice-fixtures';

const day = 86_400_000;
const historiesDir = path.join(__dirname, 'histories', currentHistoriesVersion);

describe('invoice workflow (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let worker: Worker;
  let running: Promise<void>;
  const answers = new StatusAnswers();
  const taskQueue = 'invoice-test';

  before(async () => {
    [env, db, smtp] = await Promise.all([timeSkipping(), freshDatabase(), smtpCapture()]);
    await seedPackages(db.pool);
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: testActivities(db.pool, smtp.url, answers),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await Promise.all([env?.teardown(), db?.close(), smtp?.close()]);
  });

  const handleOf = (txnId: string) => env.client.workflow.getHandle(invoiceWorkflowId(txnId));
  const action = (txnId: string, a: OperatorAction) => runInvoiceAction(env.client, taskQueue, txnId, a);

  /** Polls the state query until `ok` holds (signals are processed asynchronously). */
  async function until(txnId: string, ok: (s: InvoiceStateView) => boolean, what: string, ms = 15_000): Promise<InvoiceStateView> {
    const deadline = Date.now() + ms;
    let last: InvoiceStateView | undefined;
    while (Date.now() < deadline) {
      last = await queryInvoiceState(env.client, txnId).catch(() => undefined);
      if (last && ok(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`invoice ${txnId} never reached "${what}"; last state: ${JSON.stringify(last, null, 1)}`);
  }

  const mails = (to: string, subject?: RegExp) => mailsTo(smtp.messages, to).filter((m) => !subject || subject.test(m.parsed.subject ?? ''));
  const waitMail = async (to: string, subject: RegExp, n = 1) => smtp.waitForMessages(n, 10_000, (m) => m.envelope.to.includes(to) && subject.test(m.parsed.subject ?? ''));

  async function keyRows(txnId: string) {
    const { rows } = await db.pool.query<{ key_hash: Buffer; generation: number; expires_at: Date; revoked_reason: string | null }>(
      'SELECT k.key_hash, k.generation, k.expires_at, k.revoked_reason FROM download_keys k JOIN invoices i ON i.id = k.invoice_id WHERE i.txn_id = $1 ORDER BY k.generation, k.id',
      [txnId],
    );
    return rows;
  }

  /** The keys of an invoice for an "every key ..." check, which must not pass vacuously. */
  async function someKeyRows(txnId: string) {
    const rows = await keyRows(txnId);
    assert.ok(rows.length > 0, `invoice ${txnId} has no keys at all`);
    return rows;
  }
  const sha = (key: string) => createHash('sha256').update(key).digest('hex');

  async function saveHistory(name: string, txnId: string) {
    if (!process.env.KEYSHIP_SAVE_HISTORIES) return;
    const history = await handleOf(txnId).fetchHistory();
    // The file name keeps the workflow id: replay must run under the same id (it names the transaction).
    mkdirSync(historiesDir, { recursive: true });
    writeFileSync(path.join(historiesDir, `${name}--${invoiceWorkflowId(txnId)}.binpb`), temporal.api.history.v1.History.encode(history).finish());
  }

  /** Every payload of a history as text, to look for secrets in it. */
  async function historyText(txnId: string): Promise<string> {
    const history = await handleOf(txnId).fetchHistory();
    return JSON.stringify(history, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
  }

  async function paidByCard(label: string, extra: Parameters<typeof notification>[3] = {}) {
    const txnId = newTxnId();
    const email = buyerEmail(label);
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Completed', extra));
    const state = await until(txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    const [delivery] = await waitMail(email, /^Your download:/);
    return { txnId, email, state, keys: keysInMail(delivery!) };
  }

  test('card: paid, checked and delivered at once; no key in history, state or search attributes', async () => {
    const { txnId, email, state, keys } = await paidByCard('card');
    assert.match(state.invoiceNumber ?? '', /^KS-\d{6}$/);
    assert.equal(state.paymentStatus, 'Completed');
    assert.deepEqual(state.files.map((f) => [f.name, f.sizeBytes]), [['guide.pdf', 1048576], ['guide-extras.zip', 2048]]);
    assert.equal(state.keys?.generation, 1);
    const ttl = Date.parse(state.keys!.expiresAt) - Date.parse(state.paidAt!);
    assert.ok(ttl >= 3 * day && ttl < 3 * day + 60_000, `keys live KEY_TTL (3 days) from delivery, got ${ttl} ms`);
    assert.equal(keys.length, 2);
    assert.deepEqual((await keyRows(txnId)).map((r) => r.key_hash.toString('hex')).sort(), keys.map(sha).sort());
    await waitMail(email, /^Getting help with Field Guide$/);
    const text = (await historyText(txnId)) + JSON.stringify(state);
    for (const key of keys) assert.ok(!text.includes(key), 'a key leaked into the workflow history or state');
    const described = await handleOf(txnId).describe();
    assert.equal(described.typedSearchAttributes.get(CustomerEmail), email.toLowerCase());
    assert.equal(described.typedSearchAttributes.get(InvoiceNumber), state.invoiceNumber);
    assert.deepEqual(described.typedSearchAttributes.get(ItemNumber), ['GUIDE-1']);
    assert.equal(described.typedSearchAttributes.get(PaymentStatus), 'Completed');
    assert.equal(described.typedSearchAttributes.get(InvoiceStatus), 'fulfilled');
    // Started by the intake with a new invoice's attributes, the run upserts them once: when the invoice is known
    // (the SDK's own upsert of TemporalChangeVersion, for patched(), is apart).
    const events = (await handleOf(txnId).fetchHistory()).events ?? [];
    assert.ok(events[0]?.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields?.InvoiceStatus, 'started with InvoiceStatus');
    assert.equal(events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.InvoiceStatus).length, 1);
    const metadata = await handleOf(txnId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails ?? '', new RegExp(`Invoice ${state.invoiceNumber}\\*\\* · PayPal ${txnId} · \\*\\*fulfilled`));
    const { rows } = await db.pool.query('SELECT status, paid_at IS NOT NULL AS paid, keys_expire_at FROM invoices WHERE txn_id = $1', [txnId]);
    assert.deepEqual(rows[0], { status: 'fulfilled', paid: true, keys_expire_at: new Date(state.keys!.expiresAt) });
    await saveHistory('card', txnId);
  });

  test('eCheck: pending e-mail names the reason, PayPal is asked while silent, delivery when it clears five days later', async () => {
    const txnId = newTxnId();
    const email = buyerEmail('echeck');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Pending', { pendingReason: 'echeck' }));
    const pending = await until(txnId, (s) => s.status === 'awaiting_payment', 'awaiting payment');
    assert.equal(pending.pendingReason, 'echeck');
    const [mail] = await waitMail(email, /is pending/);
    assert.match(mail!.parsed.text ?? '', /reason: echeck/);
    assert.match(mail!.parsed.text ?? '', /PayPal clears an eCheck in about 3 to 5 business days/);
    assert.equal((await keyRows(txnId)).length, 0);
    await env.sleep('5 days');
    assert.ok(answers.asked.filter((t) => t === txnId).length >= 3, 'a silent pending payment is looked up about daily');
    assert.equal((await queryInvoiceState(env.client, txnId))?.status, 'awaiting_payment');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Completed'));
    const done = await until(txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    assert.equal((await keyRows(txnId)).length, 2);
    assert.equal(mails(email, /^Your download:/).length, 1);
    assert.ok(done.events.some((e) => e.kind === 'asked PayPal'));
    await saveHistory('echeck-cleared', txnId);
  });

  test('eCheck never cleared: given up after the pending limit, buyer told, run closed; a late Completed still delivers', async () => {
    const txnId = newTxnId();
    const email = buyerEmail('never');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Pending', { pendingReason: 'echeck' }));
    await until(txnId, (s) => s.status === 'awaiting_payment', 'awaiting payment');
    const final = await handleOf(txnId).result(); // skips the 30 days
    assert.equal(final.status, 'failed');
    assert.match(final.failureReason ?? '', /still pending after 30 day/);
    const [mail] = await waitMail(email, /did not go through/);
    assert.match(mail!.parsed.text ?? '', /the payment was still pending after 30 day\(s\)/);
    const { rows } = await db.pool.query('SELECT status, closed_at IS NOT NULL AS closed FROM invoices WHERE txn_id = $1', [txnId]);
    assert.deepEqual(rows[0], { status: 'failed', closed: true });
    assert.equal((await keyRows(txnId)).length, 0);
    await saveHistory('echeck-never-cleared', txnId);

    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Completed'));
    const late = await until(txnId, (s) => s.status === 'fulfilled', 'fulfilled by a new run');
    assert.equal(late.invoiceNumber, final.invoiceNumber);
    assert.ok(late.events.some((e) => e.kind === 'resumed'));
    await waitMail(email, /^Your download:/);
    await saveHistory('echeck-cleared-after-giving-up', txnId);
  });

  test('silent pending recovered by asking PayPal: no Completed message needed', async () => {
    const txnId = newTxnId();
    const email = buyerEmail('silent');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Pending', { pendingReason: 'paymentreview' }));
    await until(txnId, (s) => s.status === 'awaiting_payment', 'awaiting payment');
    answers.answers.set(txnId, notification(txnId, email, 'Completed', { source: 'poll' }));
    await env.sleep('25 hours');
    const state = await until(txnId, (s) => s.status === 'fulfilled', 'fulfilled after the poll');
    assert.ok(state.events.some((e) => e.kind === 'asked PayPal' && /PayPal says Completed/.test(e.detail)));
    await waitMail(email, /^Your download:/);
    await saveHistory('silent-pending-polled', txnId);
  });

  test('a capture webhook without buyer or items: the details come from PayPal, or else from the IPN', async () => {
    const capture = (txnId: string): PaymentNotification => ({
      ...notification(txnId, '', 'Completed', { source: 'webhook', items: [], receiverEmail: undefined }),
      payer: { email: '' },
    });
    // PayPal answers the lookup with the whole payment: delivered without waiting for the IPN.
    const asked = newTxnId();
    const askedEmail = buyerEmail('webhook-asked');
    answers.answers.set(asked, notification(asked, askedEmail, 'Completed', { source: 'poll' }));
    await signalInvoice(env.client, taskQueue, capture(asked));
    const delivered = await until(asked, (s) => s.status === 'fulfilled', 'fulfilled from the lookup');
    assert.equal(delivered.customerEmail, askedEmail);
    await waitMail(askedEmail, /^Your download:/);
    await saveHistory('webhook-first-asked', asked);

    // PayPal cannot say yet: nothing is recorded, no account without an e-mail; the IPN then delivers.
    const waiting = newTxnId();
    const waitingEmail = buyerEmail('webhook-waiting');
    await signalInvoice(env.client, taskQueue, capture(waiting));
    const held = await until(waiting, (s) => s.events.some((e) => e.kind === 'waiting'), 'waiting for the IPN');
    assert.equal(held.status, 'new');
    assert.equal(held.invoiceId, undefined);
    const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE email = ''");
    assert.equal(rows[0]!.n, 0);
    await signalInvoice(env.client, taskQueue, notification(waiting, waitingEmail, 'Completed'));
    await until(waiting, (s) => s.status === 'fulfilled', 'fulfilled from the IPN');
    await waitMail(waitingEmail, /^Your download:/);
    await saveHistory('webhook-first-waiting', waiting);
  });

  test('tampered amount stops at needs review, alerts the operator, delivers nothing until approved', async () => {
    const txnId = newTxnId();
    const email = buyerEmail('tampered');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Completed', { gross: '0.01', items: [{ itemNumber: 'GUIDE-1', quantity: 1, gross: '0.01' }] }));
    const review = await until(txnId, (s) => s.status === 'needs_review', 'needs review');
    assert.deepEqual(review.reviewProblems, ['the payment is 0.01 USD, the packages cost 19.95 USD']);
    const [alert] = await waitMail(operatorEmail, new RegExp(`Needs review: invoice ${review.invoiceNumber} `));
    assert.match(alert!.parsed.text ?? '', /the payment is 0\.01 USD, the packages cost 19\.95 USD/);
    assert.equal((await keyRows(txnId)).length, 0);
    assert.equal(mails(email, /^Your download:/).length, 0);
    const approved = await action(txnId, { kind: 'approve', input: { by: 'ops' } });
    assert.equal(approved.status, 'fulfilled');
    assert.equal((await keyRows(txnId)).length, 2);
    await waitMail(email, /^Your download:/);
    await saveHistory('tampered-approved', txnId);
  });

  test('tampered receiver then rejected: no keys, buyer told; approving afterwards is refused', async () => {
    const txnId = newTxnId();
    const email = buyerEmail('rejected');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Completed', { receiverEmail: 'someone-else@paypal.test' }));
    await until(txnId, (s) => s.status === 'needs_review', 'needs review');
    const rejected = await action(txnId, { kind: 'reject', input: { reason: 'paid to the wrong account' } });
    assert.equal(rejected.status, 'rejected');
    const [mail] = await waitMail(email, /did not go through/);
    assert.match(mail!.parsed.text ?? '', /rejected by an operator: paid to the wrong account/);
    await assert.rejects(action(txnId, { kind: 'approve', input: {} }), (e: Error) => e instanceof WorkflowUpdateFailedError && /only an invoice that needs review can be approved/.test(String(e.cause?.message)));
    assert.equal((await keyRows(txnId)).length, 0);
    await saveHistory('tampered-rejected', txnId);
  });

  test('duplicate and out-of-order notifications change nothing', async () => {
    const txnId = newTxnId();
    const email = buyerEmail('dupes');
    const completed = notification(txnId, email, 'Completed');
    await signalInvoice(env.client, taskQueue, completed);
    await signalInvoice(env.client, taskQueue, completed); // PayPal resent the same IPN
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Completed', { source: 'webhook' })); // the same event by webhook
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Pending', { pendingReason: 'echeck' })); // late
    const state = await until(txnId, (s) => s.events.filter((e) => e.kind === 'ignored').length >= 2 && s.events.some((e) => e.kind === 'duplicate'), 'all four handled');
    assert.equal(state.status, 'fulfilled');
    assert.equal(state.paymentStatus, 'Completed');
    assert.equal((await keyRows(txnId)).length, 2);
    await waitMail(email, /^Your download:/);
    assert.equal(mails(email, /^Your download:/).length, 1);
    assert.equal(mails(email, /pending/).length, 0);
    await saveHistory('duplicates-out-of-order', txnId);
  });

  test('resend (signal and update) sends the same keys again', async () => {
    const { txnId, email, keys } = await paidByCard('resend');
    await signalInvoiceAction(env.client, taskQueue, txnId, { kind: 'resendKeys', input: { by: 'temporal-ui' } });
    const state = await action(txnId, { kind: 'resendKeys', input: {} });
    assert.equal(state.events.filter((e) => e.kind === 'keys resent').length, 2, 'the signal and the update both ran, in order');
    const resent = await waitMail(email, /^Your download links again:/, 2);
    for (const mail of resent) assert.deepEqual(keysInMail(mail), keys);
    assert.equal((await keyRows(txnId)).length, 2);
    await saveHistory('resend', txnId);
  });

  test('extend before expiry adds days; nonsense extensions are refused', async () => {
    const { txnId, email, state: before } = await paidByCard('extend');
    await assert.rejects(action(txnId, { kind: 'extendKeys', input: { days: 0 } }), (e: Error) => e instanceof WorkflowUpdateFailedError && /from 1 to 3650, got 0/.test(String(e.cause?.message)));
    await assert.rejects(action(txnId, { kind: 'extendKeys', input: { days: 3651 } }), (e: Error) => e instanceof WorkflowUpdateFailedError && /from 1 to 3650, got 3651/.test(String(e.cause?.message)));
    const after = await action(txnId, { kind: 'extendKeys', input: { days: 2 } });
    assert.equal(Date.parse(after.keys!.expiresAt) - Date.parse(before.keys!.expiresAt), 2 * day);
    assert.ok((await someKeyRows(txnId)).every((r) => r.expires_at.toISOString() === after.keys!.expiresAt));
    const [mail] = await waitMail(email, /now last longer/);
    assert.match(mail!.parsed.text ?? '', new RegExp(after.keys!.expiresAt.slice(0, 10)));
    await saveHistory('extend-before-expiry', txnId);
  });

  test('extend after expiry brings expired keys back to life', async () => {
    const { txnId, state: before } = await paidByCard('extend-late', { items: [{ itemNumber: 'NOREMIND', quantity: 1 }], gross: '5.00' });
    await env.sleep('4 days');
    const expired = await until(txnId, (s) => s.status === 'keys_expired', 'keys expired');
    assert.equal(expired.keys?.expired, true);
    const after = await action(txnId, { kind: 'extendKeys', input: { days: 5 } });
    assert.equal(after.status, 'fulfilled');
    const gained = Date.parse(after.keys!.expiresAt) - Date.parse(before.keys!.expiresAt);
    assert.ok(gained >= 6 * day && gained < 6 * day + 60_000, `the new expiry counts from now (about 1 day after the old one), gained ${gained / day} days`);
    const { rows } = await db.pool.query("SELECT status FROM invoices WHERE txn_id = $1", [txnId]);
    assert.equal(rows[0].status, 'fulfilled');
    await saveHistory('extend-after-expiry', txnId);
  });

  test('regenerate issues new keys and revokes the old ones', async () => {
    const { txnId, email, keys } = await paidByCard('regenerate');
    const state = await action(txnId, { kind: 'regenerateKeys', input: { by: 'ops' } });
    assert.equal(state.keys?.generation, 2);
    const [mail] = await waitMail(email, /^New download links:/);
    const fresh = keysInMail(mail!);
    assert.equal(fresh.length, 2);
    assert.equal(fresh.filter((k) => keys.includes(k)).length, 0);
    const rows = await keyRows(txnId);
    assert.deepEqual(rows.map((r) => [r.generation, r.revoked_reason]), [[1, 'regenerated'], [1, 'regenerated'], [2, null], [2, null]]);
    assert.deepEqual(rows.filter((r) => r.generation === 2).map((r) => r.key_hash.toString('hex')).sort(), fresh.map(sha).sort());
    await saveHistory('regenerate', txnId);
  });

  test('refund: PayPal refund revokes the keys and regenerating is refused; an operator refund revokes too', async () => {
    const { txnId, email } = await paidByCard('refund');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Refunded', { eventTxnId: newTxnId(), gross: '-19.95', reasonCode: 'refund' }));
    const refunded = await until(txnId, (s) => s.status === 'refunded', 'refunded');
    assert.equal(refunded.keys?.revoked, true);
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === 'refunded'));
    await assert.rejects(
      action(txnId, { kind: 'regenerateKeys', input: {} }),
      (e: Error) => e instanceof WorkflowUpdateFailedError && /is refunded, so it has no keys to regenerate/.test(String(e.cause?.message)),
    );
    await saveHistory('refund-paypal', txnId);

    const other = await paidByCard('refund-operator');
    const byOperator = await action(other.txnId, { kind: 'refund', input: { reason: 'asked by the buyer', by: 'ops' } });
    assert.equal(byOperator.status, 'refunded');
    assert.ok((await someKeyRows(other.txnId)).every((r) => r.revoked_reason === 'refunded'));
    await saveHistory('refund-operator', other.txnId);
  });

  test('reversal revokes, canceled reversal restores', async () => {
    const { txnId, email, keys } = await paidByCard('reversal');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Reversed', { eventTxnId: newTxnId(), gross: '-19.95', reasonCode: 'unauthorized_claim' }));
    await until(txnId, (s) => s.status === 'reversed', 'reversed');
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === 'reversed'));
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Canceled_Reversal', { eventTxnId: newTxnId(), gross: '19.95' }));
    const back = await until(txnId, (s) => s.status === 'reinstated', 'reinstated');
    assert.equal(back.keys?.revoked, false);
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === null));
    const [mail] = await waitMail(email, /work again/);
    assert.deepEqual(keysInMail(mail!), keys);
    await saveHistory('reversal-canceled', txnId);
  });

  test('partial refund keeps access and is totalled; the refund that completes the total revokes', async () => {
    const { txnId, email } = await paidByCard('partial');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Refunded', { eventTxnId: newTxnId(), gross: '-2.00', reasonCode: 'refund' }));
    const partial = await until(txnId, (s) => s.refunded === '2.00', 'refunded 2.00');
    assert.equal(partial.status, 'fulfilled');
    assert.equal(partial.keys?.revoked, false);
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === null), 'a partial refund revokes nothing');
    assert.match(partial.events.at(-1)?.detail ?? '', /refunded 2\.00 \(2\.00 of 19\.95 so far\); access kept/);
    assert.equal((await handleOf(txnId).describe()).typedSearchAttributes.get(RefundedAmount), 2);
    // More than what is left is refused with a sentence and changes nothing.
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Refunded', { eventTxnId: newTxnId(), gross: '-18.00', reasonCode: 'refund' }));
    const refused = await until(txnId, (s) => s.events.some((e) => /is refused: a refund of 18\.00 is more than the 17\.95 left/.test(e.detail)), 'the refund refused');
    assert.equal(refused.refunded, '2.00');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Refunded', { eventTxnId: newTxnId(), gross: '-17.95', reasonCode: 'refund' }));
    const whole = await until(txnId, (s) => s.status === 'refunded', 'refunded');
    assert.equal(whole.refunded, '19.95');
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === 'refunded'));
    const { rows } = await db.pool.query<{ refunded_amount: string; status: string }>('SELECT refunded_amount::text, status FROM invoices WHERE txn_id = $1', [txnId]);
    assert.deepEqual(rows[0], { refunded_amount: '19.95', status: 'refunded' });
    await saveHistory('refund-partial-then-whole', txnId);
  });

  test('a partial refund revokes on a package that says "revoke on any refund"', async () => {
    await db.pool.query(`INSERT INTO packages (item_number, name, currency, price, refund_policy) VALUES ('STRICT-1', 'Strict Guide', 'USD', 10.00, 'revoke_on_any') ON CONFLICT (item_number) DO NOTHING;
      INSERT INTO package_files (package_id, name, storage_path, size_bytes, md5, sha256) SELECT id, 'strict.pdf', 'strict/strict.pdf', 10, repeat('1', 32), repeat('2', 64) FROM packages WHERE item_number = 'STRICT-1' ON CONFLICT (package_id, name) DO NOTHING`);
    const { txnId, email } = await paidByCard('strict', { items: [{ itemNumber: 'STRICT-1', quantity: 1 }], gross: '10.00' });
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Refunded', { eventTxnId: newTxnId(), gross: '-1.00', reasonCode: 'refund', items: [] }));
    const refunded = await until(txnId, (s) => s.status === 'refunded', 'refunded');
    assert.equal(refunded.refunded, '1.00');
    assert.match(refunded.events.map((e) => e.detail).join('\n'), /the package revokes on any refund/);
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === 'refunded'));
    await saveHistory('refund-partial-revoke-on-any', txnId);
  });

  const disputeMessage = (txnId: string, email: string, stage: 'created' | 'updated' | 'resolved', outcome?: 'seller' | 'buyer') =>
    notification(txnId, email, 'Disputed', {
      source: 'webhook',
      eventTxnId: txnId,
      items: [],
      payer: { email: '' },
      gross: '19.95',
      dispute: { caseId: `PP-D-${txnId.slice(0, 6)}`, stage, reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED', amount: '19.95', ...(outcome ? { outcome, status: 'RESOLVED' } : {}) },
    });

  test('a dispute suspends downloads; won after the keys expired, the invoice is back to keys expired', async () => {
    const { txnId, email } = await paidByCard('dispute-won');
    await signalInvoice(env.client, taskQueue, disputeMessage(txnId, email, 'created'));
    const open = await until(txnId, (s) => s.status === 'disputed', 'disputed');
    assert.deepEqual([open.dispute?.state, open.disputed, open.keys?.revoked], ['open', '19.95', false]);
    const described = await handleOf(txnId).describe();
    assert.equal(described.typedSearchAttributes.get(DisputeState), 'open');
    assert.equal(described.typedSearchAttributes.get(InvoiceStatus), 'disputed');
    // A suspended invoice times no expiry: days pass and it stays disputed.
    await env.sleep('4 days');
    assert.equal((await queryInvoiceState(env.client, txnId))?.status, 'disputed');
    await signalInvoice(env.client, taskQueue, disputeMessage(txnId, email, 'resolved', 'seller'));
    const won = await until(txnId, (s) => s.dispute?.state === 'seller', "resolved in the seller's favour");
    assert.equal(won.status, 'keys_expired', 'the keys expired while the dispute was open');
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === null));
    assert.match(won.events.map((e) => `${e.kind}: ${e.detail}`).join('\n'), /dispute opened: .*downloads suspended[\s\S]*dispute resolved: .*seller's favour; downloads reinstated/);
    await saveHistory('dispute-won', txnId);
  });

  test('a dispute lost revokes the keys', async () => {
    const { txnId, email } = await paidByCard('dispute-lost');
    await signalInvoice(env.client, taskQueue, disputeMessage(txnId, email, 'created'));
    await until(txnId, (s) => s.status === 'disputed', 'disputed');
    await signalInvoice(env.client, taskQueue, disputeMessage(txnId, email, 'resolved', 'buyer'));
    const lost = await until(txnId, (s) => s.status === 'reversed', 'reversed');
    assert.equal(lost.dispute?.state, 'buyer');
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === 'reversed'));
    const { rows } = await db.pool.query('SELECT disputed_amount::text, dispute_state, status FROM invoices WHERE txn_id = $1', [txnId]);
    assert.deepEqual(rows[0], { disputed_amount: '19.95', dispute_state: 'buyer', status: 'reversed' });
    await saveHistory('dispute-lost', txnId);
  });

  test('an IPN chargeback opens a dispute that suspends; its canceled reversal reinstates', async () => {
    const { txnId, email } = await paidByCard('chargeback');
    const reversal = newTxnId();
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Reversed', { eventTxnId: reversal, gross: '-19.95', reasonCode: 'chargeback' }));
    const open = await until(txnId, (s) => s.status === 'disputed', 'disputed');
    assert.deepEqual(open.dispute, { caseId: reversal, state: 'open', reason: 'chargeback' });
    assert.ok((await someKeyRows(txnId)).every((r) => r.revoked_reason === null), 'suspended, not revoked');
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Canceled_Reversal', { eventTxnId: newTxnId(), gross: '19.95' }));
    const back = await until(txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    assert.equal(back.dispute?.state, 'seller');
    await saveHistory('chargeback-canceled', txnId);
  });

  test('the reminder comes 24 hours before expiry, and not at all when the package turns it off', async () => {
    const { txnId, email } = await paidByCard('reminder');
    const quiet = await paidByCard('quiet', { items: [{ itemNumber: 'NOREMIND', quantity: 1 }], gross: '5.00' });
    await env.sleep('47 hours');
    assert.equal(mails(email, /expire/).length, 0, 'no reminder 25 hours before expiry');
    await env.sleep('2 hours');
    const [reminder] = await waitMail(email, /^Your download links for Field Guide expire/);
    assert.equal(keysInMail(reminder!).length, 2);
    await env.sleep('2 days');
    await until(txnId, (s) => s.status === 'keys_expired', 'keys expired');
    await until(quiet.txnId, (s) => s.status === 'keys_expired', 'keys expired');
    assert.equal(mails(quiet.email, /expire/).length, 0);
    assert.equal(mails(email, /expire/).length, 1);
    await saveHistory('reminder-and-expiry', txnId);
  });

  test('after the run closed (dispute window over) an action starts a new run that takes the invoice from Postgres', async () => {
    const { txnId, email, keys, state } = await paidByCard('closed');
    const final = await handleOf(txnId).result(); // skips to payment + 180 days
    assert.equal(final.status, 'keys_expired');
    assert.equal(Date.parse(final.closesAt!) - Date.parse(state.paidAt!), 180 * day);
    const resumed = await action(txnId, { kind: 'resendKeys', input: { by: 'ops' } });
    assert.equal(resumed.status, 'fulfilled');
    assert.equal(resumed.invoiceNumber, state.invoiceNumber);
    assert.equal(resumed.keys?.generation, 1);
    assert.ok(Date.parse(resumed.keys!.expiresAt) > Date.parse(final.closesAt!), 'resent keys live again');
    const [mail] = await waitMail(email, /^Your download links again:/);
    assert.deepEqual(keysInMail(mail!), keys, 'the same keys, taken up from the salt in Postgres');
    assert.ok((await someKeyRows(txnId)).every((r) => r.expires_at.toISOString() === resumed.keys!.expiresAt));
    await saveHistory('action-after-close', txnId);

    assert.equal(await queryInvoiceState(env.client, newTxnId()), undefined, 'no run ever: no state');
    await assert.rejects(
      action(newTxnId(), { kind: 'resendKeys', input: {} }),
      (e: Error) => e instanceof WorkflowUpdateFailedError && /there is no invoice for PayPal transaction/.test(String(e.cause?.message)),
    );
  });
});
