// The invoice activities against a real Postgres database and a real SMTP server: each is
// idempotent when run again (a retry), keys exist only as hashes, and e-mails are kept as sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { freshDatabase, smtpCapture, type SmtpCapture, type TestDatabase } from './harness';
import { askPayPalForStatus } from '../activities/paypal-status';
import { activityDeps, buyerEmail, keysInMail, mailsTo, newTxnId, notification, operatorEmail, seedPackages, StatusAnswers, testActivities } from './invoice-fixtures';

describe('invoice activities', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let acts: ReturnType<typeof testActivities>;
  before(async () => {
    [db, smtp] = await Promise.all([freshDatabase(), smtpCapture()]);
    await seedPackages(db.pool);
    acts = testActivities(db.pool, smtp.url, new StatusAnswers());
  });
  after(async () => {
    await Promise.all([db.close(), smtp.close()]);
  });

  async function paidInvoice(email: string) {
    const txnId = newTxnId();
    const n = notification(txnId, email, 'Completed');
    const { accountId } = await acts.ensureAccount({ email, payerId: n.payer.payerId, firstName: 'Ada' });
    const input = { txnId, workflowId: `invoice-${txnId}`, accountId, status: 'paid' as const, paymentStatus: 'Completed' as const, payerEmail: email, gross: n.gross, currency: n.currency, items: n.items, messageId: 0 };
    return { txnId, accountId, input, ...(await acts.recordInvoice(input)) };
  }

  test('accounts and invoices are found, not duplicated, when recorded again', async () => {
    const email = buyerEmail('records');
    const first = await paidInvoice(email);
    assert.deepEqual(await acts.ensureAccount({ email: email.toUpperCase() }), { accountId: first.accountId }, 'e-mail matches case-insensitively');
    assert.deepEqual(await acts.ensureAccount({ email: 'changed@buyer.test', payerId: `PAYER${first.txnId.slice(0, 6)}` }), { accountId: first.accountId }, 'the payer id wins');
    const again = await acts.recordInvoice(first.input);
    assert.deepEqual(again, { invoiceId: first.invoiceId, number: first.number });
    assert.match(first.number, /^KS-\d{6}$/);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM invoice_items WHERE invoice_id = $1', [first.invoiceId]);
    assert.equal(rows[0].n, 1);
    const loaded = await acts.loadInvoice({ txnId: first.txnId });
    assert.equal(loaded.invoice?.number, first.number);
    assert.deepEqual(loaded.invoice?.itemNumbers, ['GUIDE-1']);
    assert.equal(loaded.invoice?.files.length, 2);
    assert.equal((await acts.loadInvoice({ txnId: 'UNKNOWN' })).invoice, undefined);
  });

  test('checkPayment names each mismatch', async () => {
    const ok = await acts.checkPayment({ receiverEmail: 'SELLER@keyship.test', items: [{ itemNumber: 'GUIDE-1', quantity: 2 }], gross: '39.90', currency: 'USD' });
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.files.map((f) => f.name), ['guide.pdf', 'guide-extras.zip']);
    assert.equal(ok.reminderHours, 24);
    const bad = await acts.checkPayment({ receiverEmail: 'thief@evil.test', items: [{ itemNumber: 'GUIDE-1', quantity: 1 }, { itemNumber: 'NOPE', quantity: 1 }], gross: '0.01', currency: 'EUR' });
    assert.deepEqual(bad.problems, [
      'the payment went to thief@evil.test, not to seller@keyship.test',
      '"GUIDE-1" is sold in USD, the payment is in EUR',
      'item number "NOPE" is not a package',
    ]);
    const cheap = await acts.checkPayment({ items: [{ itemNumber: 'GUIDE-1', quantity: 1 }], gross: '1.00', currency: 'USD' });
    assert.deepEqual(cheap.problems, ['the payment is 1.00 USD, the packages cost 19.95 USD']);
  });

  test('sendKeys run twice issues one set of keys and one e-mail; Postgres holds only hashes', async () => {
    const email = buyerEmail('keys');
    const inv = await paidInvoice(email);
    const input = { invoiceId: inv.invoiceId, generation: 1, expiresAt: '2030-01-02T03:04:05.000Z', purpose: 'delivery' as const, dedupeKey: `delivery:${inv.invoiceId}:g1` };
    assert.deepEqual(await acts.sendKeys(input), { keyCount: 2, sent: true });
    assert.deepEqual(await acts.sendKeys(input), { keyCount: 2, sent: false });
    const [mail] = await smtp.waitForMessages(1, 5000, (m) => m.envelope.to.includes(email));
    assert.equal(mailsTo(smtp.messages, email).length, 1);
    assert.match(mail!.parsed.subject ?? '', new RegExp(`Your download: Field Guide \\(invoice ${inv.number}\\)`));
    const text = mail!.parsed.text ?? '';
    for (const expected of ['guide.pdf (1.0 MB)', 'guide-extras.zip (2.0 KB)', `MD5:     ${'a'.repeat(32)}`, `SHA-256: ${'b'.repeat(64)}`, '2030-01-02 03:04 UTC', 'Questions? Write to support@keyship.test.']) {
      assert.ok(text.includes(expected), `the delivery e-mail says "${expected}"`);
    }
    const keys = keysInMail(mail!);
    assert.equal(keys.length, 2);
    const { rows } = await db.pool.query<{ key_hash: Buffer; expires_at: Date; generation: number }>('SELECT key_hash, expires_at, generation FROM download_keys WHERE invoice_id = $1 ORDER BY id', [inv.invoiceId]);
    assert.deepEqual(
      rows.map((r) => r.key_hash.toString('hex')).sort(),
      keys.map((k) => createHash('sha256').update(k).digest('hex')).sort(),
    );
    assert.equal(rows[0]!.expires_at.toISOString(), '2030-01-02T03:04:05.000Z');
    // The kept copy of the e-mail has everything but the keys.
    const stored = await db.pool.query<{ text_body: string; html_body: string; status: string; message_id: string; attempts: number }>(
      "SELECT text_body, html_body, status, message_id, attempts FROM notifications WHERE dedupe_key = $1",
      [input.dedupeKey],
    );
    const copy = stored.rows[0]!;
    assert.equal(copy.status, 'sent');
    assert.equal(copy.attempts, 1);
    assert.equal(copy.message_id, mail!.parsed.messageId);
    for (const key of keys) {
      assert.ok(!copy.text_body.includes(key) && !copy.html_body.includes(key), 'no key in the stored copy');
      const everything = await db.pool.query("SELECT count(*)::int AS n FROM (SELECT row_to_json(t)::text AS j FROM notifications t UNION ALL SELECT row_to_json(k)::text FROM download_keys k UNION ALL SELECT row_to_json(i)::text FROM invoices i) x WHERE j LIKE '%' || $1 || '%'", [key]);
      assert.equal(everything.rows[0].n, 0, 'no key anywhere in Postgres');
    }
    assert.match(copy.text_body, /\[key withheld; sha256 [0-9a-f]{12}…\]/);

    // A resend under another dedupe key carries the same keys; a new generation other keys and revokes the old.
    await acts.sendKeys({ ...input, purpose: 'resend', dedupeKey: `resend:${inv.invoiceId}:x:1` });
    await acts.sendKeys({ ...input, generation: 2, purpose: 'regenerate', dedupeKey: `regenerate:${inv.invoiceId}:g2` });
    const mails = await smtp.waitForMessages(3, 5000, (m) => m.envelope.to.includes(email));
    assert.deepEqual(keysInMail(mails[1]!), keys);
    assert.equal(keysInMail(mails[2]!).filter((k) => keys.includes(k)).length, 0);
    const live = await db.pool.query('SELECT generation, revoked_reason FROM download_keys WHERE invoice_id = $1 ORDER BY generation, id', [inv.invoiceId]);
    assert.deepEqual(live.rows.map((r) => [r.generation, r.revoked_reason]), [[1, 'regenerated'], [1, 'regenerated'], [2, null], [2, null]]);
  });

  test('a package without files: the e-mail carries its kind\'s part; the expiry reminder goes only where something stops with the keys', async () => {
    const fixed = { targetUrl: 'https://stream.example/live', window: 'fixed', opensAt: '2030-01-01T18:00:00.000Z', closesAt: '2030-01-01T20:00:00.000Z' };
    await db.pool.query(
      `INSERT INTO packages (item_number, name, currency, price, kind, kind_settings) VALUES ('TALK-1', 'Live talk', 'USD', '5.00', 'access', $1)`,
      [JSON.stringify(fixed)],
    );
    const email = buyerEmail('talk');
    const txnId = newTxnId();
    const { accountId } = await acts.ensureAccount({ email });
    const items = [{ itemNumber: 'TALK-1', quantity: 1 }];
    const inv = await acts.recordInvoice({ txnId, workflowId: `invoice-${txnId}`, accountId, status: 'paid', paymentStatus: 'Completed', payerEmail: email, gross: '5.00', currency: 'USD', items, messageId: 0 });
    const keys = { invoiceId: inv.invoiceId, generation: 1, expiresAt: '2030-02-01T00:00:00.000Z' };
    assert.deepEqual(await acts.sendKeys({ ...keys, purpose: 'delivery', dedupeKey: `delivery:${inv.invoiceId}:g1` }), { keyCount: 0, sent: true });
    const [delivery] = await smtp.waitForMessages(1, 5000, (m) => m.envelope.to.includes(email));
    assert.equal(delivery!.parsed.subject, `Your purchase: Live talk (invoice ${inv.number})`);
    assert.match(delivery!.parsed.text ?? '', /Your access link: Live talk\n {2}Access link: http:\/\/\S+\/a\/[A-Za-z0-9_-]{43}\nAccess opens 2030-01-01 18:00 UTC/);
    assert.doesNotMatch(delivery!.parsed.text ?? '', /download|sha256sum/i);

    // A live event's link does not stop with the keys: no reminder. A recording's does: reminded, with its link.
    assert.deepEqual(await acts.sendKeys({ ...keys, purpose: 'reminder', dedupeKey: `reminder:${inv.invoiceId}:fixed` }), { keyCount: 0, sent: false });
    await db.pool.query(`UPDATE packages SET kind_settings = '{"targetUrl": "https://stream.example/recording", "window": "key"}' WHERE item_number = 'TALK-1'`);
    assert.deepEqual(await acts.sendKeys({ ...keys, purpose: 'reminder', dedupeKey: `reminder:${inv.invoiceId}:key` }), { keyCount: 0, sent: true });
    const [reminder] = await smtp.waitForMessages(1, 5000, (m) => m.envelope.to.includes(email) && /expire/.test(m.parsed.subject ?? ''));
    assert.equal(mailsTo(smtp.messages, email).filter((m) => /expire/.test(m.parsed.subject ?? '')).length, 1, 'one reminder: the live event\'s got none');
    assert.match(reminder!.parsed.subject ?? '', /^Your links for Live talk expire/);
    assert.match(reminder!.parsed.text ?? '', /Access link: http:\/\/\S+\/a\/[A-Za-z0-9_-]{43}/);
  });

  test('an SMTP outage leaves the e-mail failed and retried, then sent once', async () => {
    const email = buyerEmail('outage');
    const inv = await paidInvoice(email);
    smtp.refusing = true;
    const notice = { invoiceId: inv.invoiceId, kind: 'pending' as const, dedupeKey: `pending:${inv.invoiceId}:echeck`, reason: 'echeck', until: '2030-01-01T00:00:00.000Z' };
    await assert.rejects(acts.sendInvoiceNotice(notice), /sending the pending e-mail to .* failed .*; it is retried, check SMTP_URL if this repeats/);
    const failed = await db.pool.query('SELECT status, error FROM notifications WHERE dedupe_key = $1', [notice.dedupeKey]);
    assert.equal(failed.rows[0].status, 'failed');
    smtp.refusing = false;
    assert.deepEqual(await acts.sendInvoiceNotice(notice), { sent: true });
    assert.deepEqual(await acts.sendInvoiceNotice(notice), { sent: false });
    const [mail] = await smtp.waitForMessages(1, 5000, (m) => m.envelope.to.includes(email));
    assert.match(mail!.parsed.text ?? '', /You paid by eCheck/);
    assert.equal(mailsTo(smtp.messages, email).length, 1);
  });

  test('an e-mail the SMTP server accepted while Postgres went away is recorded as sent once Postgres is back, and not sent again', async () => {
    const email = buyerEmail('pg-away');
    const inv = await paidInvoice(email);
    const notice = { invoiceId: inv.invoiceId, kind: 'pending' as const, dedupeKey: `pending:${inv.invoiceId}:echeck`, reason: 'echeck', until: '2030-01-01T00:00:00.000Z' };
    // Postgres is gone when the 250 reaches the sender, and comes back 1.5 s later.
    let restored: Promise<void> | undefined;
    smtp.beforeAccepting = async () => {
      smtp.beforeAccepting = undefined;
      const restore = await db.cut();
      restored = new Promise((resolve) => setTimeout(resolve, 1500)).then(restore);
    };
    const started = Date.now();
    assert.deepEqual(await acts.sendInvoiceNotice(notice), { sent: true });
    assert.ok(restored, 'the database was cut while the e-mail was accepted');
    await restored;
    assert.ok(Date.now() - started >= 1400, 'the activity waited for Postgres to come back');
    const { rows } = await db.pool.query('SELECT status, attempts FROM notifications WHERE dedupe_key = $1', [notice.dedupeKey]);
    assert.deepEqual(rows, [{ status: 'sent', attempts: 1 }]);
    assert.deepEqual(await acts.sendInvoiceNotice(notice), { sent: false }, 'a retry of the activity sends nothing');
    assert.equal(mailsTo(smtp.messages, email).length, 1);
  });

  test('revoking and restoring keys; package notifications go once; the review alert goes to the operator', async () => {
    const email = buyerEmail('revoke');
    const inv = await paidInvoice(email);
    await acts.sendKeys({ invoiceId: inv.invoiceId, generation: 1, expiresAt: '2030-01-01T00:00:00.000Z', purpose: 'delivery', dedupeKey: `delivery:${inv.invoiceId}:g1` });
    assert.deepEqual(await acts.revokeKeys({ invoiceId: inv.invoiceId, reason: 'reversed' }), { revoked: 2 });
    assert.deepEqual(await acts.revokeKeys({ invoiceId: inv.invoiceId, reason: 'reversed' }), { revoked: 0 });
    assert.deepEqual(await acts.restoreKeys({ invoiceId: inv.invoiceId }), { restored: 2 });
    assert.deepEqual(await acts.sendPackageNotifications({ invoiceId: inv.invoiceId }), { sent: 1 });
    assert.deepEqual(await acts.sendPackageNotifications({ invoiceId: inv.invoiceId }), { sent: 0 });
    await acts.sendInvoiceNotice({ invoiceId: inv.invoiceId, kind: 'review-alert', dedupeKey: `review-alert:${inv.invoiceId}`, problems: ['the payment is 1.00 USD, the packages cost 19.95 USD'] });
    const mails = await smtp.waitForMessages(2, 5000, (m) => m.envelope.to.includes(email) || (m.envelope.to.includes(operatorEmail) && (m.parsed.text ?? '').includes(inv.txnId)));
    const support = mails.find((m) => m.parsed.subject === 'Getting help with Field Guide');
    assert.match(support?.parsed.text ?? '', new RegExp(`Hello Ada, Questions\\? Write to support@keyship.test. \\(invoice ${inv.number}\\)`));
    const alert = mails.find((m) => m.envelope.to.includes(operatorEmail));
    assert.match(alert?.parsed.text ?? '', /- the payment is 1.00 USD, the packages cost 19.95 USD/);
    assert.match(alert?.parsed.text ?? '', new RegExp(`--workflow-id invoice-${inv.txnId} --name approve`));
  });

  test('askPayPalForStatus passes the injected answer through', async () => {
    const answers = new StatusAnswers();
    const deps = activityDeps(db.pool, smtp.url, answers);
    assert.deepEqual(await askPayPalForStatus(deps, { txnId: 'T-1' }), {});
    const n = notification('T-1', 'x@buyer.test', 'Completed', { source: 'poll' });
    answers.answers.set('T-1', n);
    assert.deepEqual(await askPayPalForStatus(deps, { txnId: 'T-1' }), { notification: n });
  });
});
