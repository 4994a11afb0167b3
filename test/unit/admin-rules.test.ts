// The admin's small rules that need no server: session cookies, CSRF tokens, where a login may
// send the browser next, and the CSV cells a spreadsheet would otherwise run as formulas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buyersCsv, csvCell } from '../../api/admin/buyers-csv';
import { safeNext } from '../../api/admin/login';
import { sameSecret, sessionSigner } from '../../api/admin/session';

test('a session cookie verifies only untouched, unexpired and under the same ADMIN_TOKEN', () => {
  const signer = sessionSigner('token-one-0123456789');
  const { cookie, session } = signer.issue(Date.now());
  assert.deepEqual(signer.verify(cookie), session);
  const [id, expiry, mac] = cookie.split('.') as [string, string, string];
  assert.equal(signer.verify(`${id}.${Number(expiry) + 3600}.${mac}`), undefined, 'a longer expiry breaks the signature');
  assert.equal(signer.verify(`${id.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}.${expiry}.${mac}`), undefined);
  assert.equal(signer.verify(cookie, Date.now() + 13 * 3600_000), undefined, 'expired after 12 hours');
  assert.equal(sessionSigner('token-two-0123456789').verify(cookie), undefined, 'a new ADMIN_TOKEN logs everyone out');
  assert.equal(signer.verify('garbage'), undefined);
  assert.ok(signer.checkCsrf(session, signer.csrfToken(session)));
  assert.ok(!signer.checkCsrf(session, signer.csrfToken(signer.issue().session)), 'another session\'s token fails');
  assert.ok(!signer.checkCsrf(session, undefined));
  assert.ok(sameSecret('abc', 'abc') && !sameSecret('abc', 'abcd') && !sameSecret('', 'abc'));
});

test('after login the browser goes only to a page of the admin', () => {
  assert.equal(safeNext('/admin/invoices?q=a'), '/admin/invoices?q=a');
  for (const bad of ['https://evil.example/admin', '//evil.example/admin', '/administrator', '/d/key', undefined, 42]) assert.equal(safeNext(bad), '/admin', String(bad));
});

test('CSV cells are quoted as needed and never start a formula', () => {
  assert.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
  assert.equal(csvCell('+1'), `"'+1"`);
  assert.equal(csvCell('Müller, Zoë'), '"Müller, Zoë"');
  assert.equal(csvCell(3), '3');
  const csv = buyersCsv([{ invoice: 'KS-001001', date: '2026-01-02 03:04', email: 'a@b.test', firstName: 'Zoë', lastName: '@x', quantity: 1, amount: '9.00', currency: 'USD', status: 'fulfilled', txnId: 'T1' }]);
  assert.ok(csv.startsWith('\uFEFFinvoice,date (UTC),email'));
  assert.match(csv, /\r\nKS-001001,2026-01-02 03:04,a@b\.test,Zoë,"'@x",1,9\.00,USD,fulfilled,T1\r\n$/);
});
