// The admin's small rules that need no server: session cookies, CSRF tokens, where a login may
// send the browser next, and the CSV cells a spreadsheet would otherwise run as formulas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono, type Context } from 'hono';
import { buyersCsv, csvCell } from '../../api/admin/buyers-csv';
import { safeNext } from '../../api/admin/login';
import { sameSecret, sessionCookieName, sessionSigner, type AdminSession, type SessionSigner } from '../../api/admin/session';

/** A two-route app around a signer: /admin/start sets the cookie, /admin/who reads it; `now` moves the clock. */
function sessionApp(signer: SessionSigner) {
  const app = new Hono();
  const now = (c: Context) => Number(c.req.query('now') ?? Date.now());
  app.post('/admin/start', async (c) => c.json(await signer.start(c, now(c))));
  app.get('/admin/who', async (c) => c.json((await signer.read(c, now(c))) ?? null));
  app.post('/admin/end', (c) => (signer.end(c), c.body(null, 204)));
  const who = async (cookie: string, at?: number) =>
    (await app.request(`/admin/who${at === undefined ? '' : `?now=${at}`}`, { headers: { Cookie: `${sessionCookieName}=${cookie}` } })).json() as Promise<AdminSession | null>;
  return { app, who };
}

test('a session cookie verifies only untouched, unexpired and under the same ADMIN_TOKEN', async () => {
  const signer = sessionSigner('token-one-0123456789', { secure: false });
  const { app, who } = sessionApp(signer);
  const started = await app.request('/admin/start', { method: 'POST' });
  const session = (await started.json()) as AdminSession;
  const setCookie = started.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /; Max-Age=43200; Path=\/admin; HttpOnly; SameSite=Strict$/);
  const cookie = /^keyship_admin=([^;]+)/.exec(setCookie)![1]!;
  const [id, expiry, mac] = decodeURIComponent(cookie).split('.') as [string, string, string];
  assert.deepEqual([id, Number(expiry)], [session.id, session.expiresAt], 'the cookie names the session and its expiry');
  assert.deepEqual(await who(cookie), session);
  const encoded = (value: string) => encodeURIComponent(value);
  assert.equal(await who(encoded(`${id}.${Number(expiry) + 3600}.${mac}`)), null, 'a longer expiry breaks the signature');
  assert.equal(await who(encoded(`${id.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}.${expiry}.${mac}`)), null);
  assert.deepEqual(await who(cookie, Date.now() + 11 * 3600_000), session, 'still valid after 11 hours');
  assert.equal(await who(cookie, Date.now() + 13 * 3600_000), null, 'expired after 12 hours, whatever the browser keeps');
  assert.equal(await sessionApp(sessionSigner('token-two-0123456789', { secure: false })).who(cookie), null, 'a new ADMIN_TOKEN logs everyone out');
  for (const garbage of ['garbage', `${'A'.repeat(24)}.9999999999.${'B'.repeat(43)}`, encoded(`${id}.${expiry}`)]) assert.equal(await who(garbage), null, garbage);
  const ended = await app.request('/admin/end', { method: 'POST' });
  assert.match(ended.headers.get('set-cookie') ?? '', /^keyship_admin=; Max-Age=0; Path=\/admin;/, 'logging out clears the cookie');
  const secure = await sessionApp(sessionSigner('token-one-0123456789', { secure: true })).app.request('/admin/start', { method: 'POST' });
  assert.match(secure.headers.get('set-cookie') ?? '', /; Secure/, 'Secure when PUBLIC_URL is https');
  assert.ok(signer.checkCsrf(session, signer.csrfToken(session)));
  assert.ok(!signer.checkCsrf(session, signer.csrfToken({ id: 'B'.repeat(24), expiresAt: session.expiresAt })), 'another session\'s token fails');
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
