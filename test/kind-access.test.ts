// The access-link kind end to end: packages made through the admin JSON API, bought through the
// PayPal simulator, delivered by the real invoice workflow (Temporal dev server, Postgres, SMTP
// read back), and the keyed link judged by the real api over HTTP. The api's clock is injected
// (AppDeps.now), so the window's edges are tested to the second without waiting; the key-lifetime
// window's end is moved by the operator's extend through the real workflow.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { InvoiceStateView } from '../workflows/invoice-state';
import type { CapturedMail } from './harness';
import { screenshotPath } from './fixtures/browser';
import { startShop, type Shop } from './fixtures/shop';

const opensAt = '2030-01-10T18:00:00.000Z';
const closesAt = '2030-01-10T20:00:00.000Z';
const liveTarget = 'https://stream.example.test/live?room=42';
const recordingTarget = 'https://video.example.test/recording/7';
const second = 1000;
const day = 86_400_000;

describe('access links, end to end', () => {
  let shop: Shop;
  // The api's clock: undefined is the system clock.
  let clock: Date | undefined;

  before(async () => {
    shop = await startShop({ name: 'kind-access', browser: true, now: () => clock ?? new Date() });
  });

  afterEach(() => {
    clock = undefined;
  });

  after(async () => {
    await shop?.close();
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(shop.url + path, { ...init, headers: { Authorization: `Bearer ${shop.adminToken}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) }, signal: AbortSignal.timeout(30_000) });
  const open = (key: string) => fetch(`${shop.url}/a/${key}`, { redirect: 'manual', headers: { 'User-Agent': 'kind-access-test' }, signal: AbortSignal.timeout(10_000) });
  const at = (iso: string, offsetMs = 0) => new Date(Date.parse(iso) + offsetMs);

  /** The access keys an e-mail carries. */
  const accessKeys = (mail: CapturedMail) => [...(mail.parsed.text ?? '').matchAll(/\/a\/([A-Za-z0-9_-]{43})/g)].map((m) => m[1]!);

  async function action(txnId: string, kind: string, body: object = {}) {
    const { rows } = await shop.db.pool.query<{ number: string }>('SELECT number FROM invoices WHERE txn_id = $1', [txnId]);
    const answer = await api(`/api/admin/invoices/${rows[0]!.number}/actions/${kind}`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(answer.status, 200, await answer.clone().text());
    return ((await answer.json()) as { state: InvoiceStateView }).state;
  }

  async function createPackage(itemNumber: string, name: string, kindSettings: object) {
    const answer = await api('/api/admin/packages', {
      method: 'POST',
      body: JSON.stringify({ itemNumber, name, currency: 'USD', price: '15.00', active: true, selfService: false, kind: 'access', kindSettings, description: `${name}, streamed.` }),
    });
    assert.equal(answer.status, 201, await answer.clone().text());
  }

  async function buy(itemNumber: string, label: string): Promise<{ txnId: string; email: string; mail: CapturedMail; key: string }> {
    const email = shop.buyer(label);
    const sent = await shop.sim.pay({ items: [{ itemNumber, amount: '15.00' }], payer: { email, firstName: 'Ada' } });
    await shop.until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    const mail = await shop.mailTo(email, /^Your purchase:/);
    const keys = accessKeys(mail);
    assert.equal(keys.length, 1, `one access link in the e-mail: ${mail.parsed.text}`);
    return { txnId: sent.txnId, email, mail, key: keys[0]! };
  }

  async function shot(name: string, key: string) {
    if (!shop.browser) return;
    const page = await shop.browser.context.newPage();
    await page.goto(`${shop.url}/a/${key}`);
    await page.screenshot({ path: screenshotPath(name), fullPage: true });
    await page.close();
  }

  test('the JSON API refuses a target that is not https:// with a sentence, and stores nothing', async () => {
    for (const targetUrl of ['http://stream.example.test/live', 'javascript:alert(1)', '']) {
      const answer = await api('/api/admin/packages', {
        method: 'POST',
        body: JSON.stringify({ itemNumber: 'CAST-BAD', name: 'Bad cast', currency: 'USD', price: '1.00', active: true, selfService: false, kind: 'access', kindSettings: { targetUrl } }),
      });
      assert.equal(answer.status, 400);
      assert.match(((await answer.json()) as { error: string }).error, /Not saved: kind access: targetUrl must .*https:\/\//);
    }
    const fixedWithoutDates = await api('/api/admin/packages', {
      method: 'POST',
      body: JSON.stringify({ itemNumber: 'CAST-BAD', name: 'Bad cast', currency: 'USD', price: '1.00', active: true, selfService: false, kind: 'access', kindSettings: { targetUrl: liveTarget, window: 'fixed', opensAt } }),
    });
    assert.equal(fixedWithoutDates.status, 400);
    assert.match(((await fixedWithoutDates.json()) as { error: string }).error, /closesAt must be given for fixed dates/);
    const { rows } = await shop.db.pool.query(`SELECT 1 FROM packages WHERE item_number = 'CAST-BAD'`);
    assert.equal(rows.length, 0);
  });

  test('a live event: the e-mailed link (never the target) is refused a second before it opens, redirects inside, ends at the close; resend keeps it, regenerate kills it, a refund refuses at once', async () => {
    await createPackage('CAST-LIVE', 'Live keys masterclass', { targetUrl: liveTarget, window: 'fixed', opensAt: '2030-01-10T18:00', closesAt: '2030-01-10T20:00' });
    const { txnId, email, mail, key } = await buy('CAST-LIVE', 'live');
    for (const body of [mail.parsed.text ?? '', String(mail.parsed.html ?? '')]) {
      assert.doesNotMatch(body, /stream\.example\.test/, 'the target never appears in the e-mail');
      assert.match(body, /Access opens 2030-01-10 18:00 UTC and closes 2030-01-10 20:00 UTC/);
    }
    const stored = await shop.db.pool.query<{ text_body: string }>(`SELECT text_body FROM notifications n JOIN invoices i ON i.id = n.invoice_id WHERE i.txn_id = $1 AND n.kind = 'delivery'`, [txnId]);
    assert.doesNotMatch(stored.rows[0]!.text_body, new RegExp(key), 'the copy Postgres keeps withholds the link');

    // The thank-you page shows the keyed link too, and not the target.
    const thanks = await (await fetch(`${shop.url}/thanks/${txnId}`)).text();
    assert.match(thanks, new RegExp(`/a/${key}`));
    assert.doesNotMatch(thanks, /stream\.example\.test/);
    if (shop.browser) {
      const page = await shop.browser.context.newPage();
      await page.goto(`${shop.url}/thanks/${txnId}`);
      await page.screenshot({ path: screenshotPath('kind-access-thanks'), fullPage: true });
      await page.close();
    }

    clock = at(opensAt, -second);
    const early = await open(key);
    assert.equal(early.status, 403);
    const earlyPage = await early.text();
    assert.match(earlyPage, /Access has not opened yet/);
    assert.match(earlyPage, /works from 2030-01-10 18:00 UTC/);
    assert.doesNotMatch(earlyPage, /stream\.example\.test/);
    await shot('kind-access-not-open', key);

    clock = at(opensAt);
    const inside = await open(key);
    assert.equal(inside.status, 303);
    assert.equal(inside.headers.get('location'), liveTarget);
    assert.equal(inside.headers.get('referrer-policy'), 'no-referrer');
    clock = at(closesAt, -second);
    assert.equal((await open(key)).status, 303, 'the last second of the window');
    clock = at(closesAt);
    const ended = await open(key);
    assert.equal(ended.status, 410);
    assert.match(await ended.text(), /Access has ended[\s\S]*worked until 2030-01-10 20:00 UTC/);
    await shot('kind-access-ended', key);

    clock = at(opensAt, 30 * 60 * second);
    await action(txnId, 'resendKeys');
    const resent = await shop.mailTo(email, /^Your links again:/);
    assert.deepEqual(accessKeys(resent), [key], 'a resend carries the same link');

    await action(txnId, 'regenerateKeys');
    const regenerated = await shop.mailTo(email, /^New links:/);
    const [fresh] = accessKeys(regenerated);
    assert.ok(fresh && fresh !== key, 'regenerate makes a new link');
    const replaced = await open(key);
    assert.equal(replaced.status, 403);
    assert.match(await replaced.text(), /This access link has been replaced/);
    assert.equal((await open(fresh)).status, 303, 'the new link works inside the window');

    await shop.sim.refund(txnId);
    await shop.until(txnId, (s) => s.status === 'refunded', 'refunded');
    const refunded = await open(fresh);
    assert.equal(refunded.status, 403);
    assert.match(await refunded.text(), /withdrawn[\s\S]*refunded/);
    await shot('kind-access-withdrawn', fresh);

    // Every request was logged, and the admin's invoice shows them.
    // (Chromium's visits for the screenshots are logged too, under its own user agent.)
    const { rows } = await shop.db.pool.query<{ outcome: string; status_code: number; user_agent: string }>(
      `SELECT e.outcome, e.status_code, e.user_agent FROM access_events e JOIN invoices i ON i.id = e.invoice_id WHERE i.txn_id = $1 ORDER BY e.id`,
      [txnId],
    );
    assert.deepEqual(
      rows.filter((r) => r.user_agent === 'kind-access-test').map((r) => `${r.status_code} ${r.outcome}`),
      ['403 not_open', '303 redirected', '303 redirected', '410 ended', '403 revoked', '303 redirected', '403 revoked'],
    );
    assert.equal(rows.length, shop.browser ? 10 : 7);
    const number = (await shop.db.pool.query<{ number: string }>('SELECT number FROM invoices WHERE txn_id = $1', [txnId])).rows[0]!.number;
    const detail = (await (await api(`/api/admin/invoices/${number}`)).json()) as { accessUses: { outcome: string; userAgent: string }[] };
    assert.equal(detail.accessUses.length, rows.length, 'the admin\'s invoice lists every use');
    assert.equal(detail.accessUses[0]!.outcome, 'revoked', 'newest first');
  });

  test('a recording: the link works for the key\'s lifetime, extend moves its end (same link), a reversal refuses and its cancellation restores', async () => {
    await createPackage('CAST-REC', 'Keys masterclass recording', { targetUrl: recordingTarget, window: 'key' });
    const { txnId, email, mail, key } = await buy('CAST-REC', 'recording');
    assert.doesNotMatch(mail.parsed.text ?? '', /video\.example\.test/);
    const inside = await open(key);
    assert.equal(inside.status, 303);
    assert.equal(inside.headers.get('location'), recordingTarget);

    const { rows } = await shop.db.pool.query<{ keys_expire_at: Date }>('SELECT keys_expire_at FROM invoices WHERE txn_id = $1', [txnId]);
    const expiry = rows[0]!.keys_expire_at.getTime();
    clock = new Date(expiry - second);
    assert.equal((await open(key)).status, 303, 'the last second of the key\'s lifetime');
    clock = new Date(expiry);
    const ended = await open(key);
    assert.equal(ended.status, 410);
    assert.match(await ended.text(), /If you need more time, reply to your delivery e-mail/);

    clock = undefined;
    const state = await action(txnId, 'extendKeys', { days: 2 });
    assert.equal(Date.parse(state.keys!.expiresAt), expiry + 2 * day);
    const extended = await shop.mailTo(email, /now last longer/);
    assert.deepEqual(accessKeys(extended), [key], 'extend keeps the link');
    clock = new Date(expiry);
    assert.equal((await open(key)).status, 303, 'the old end is inside the window now');
    clock = new Date(expiry + 2 * day);
    assert.equal((await open(key)).status, 410, 'the new end');

    clock = undefined;
    // Not a chargeback (that opens a dispute, which suspends): a reversal, which revokes.
    await shop.sim.reverse(txnId, { reason: 'buyer-complaint' });
    await shop.until(txnId, (s) => s.status === 'reversed', 'reversed');
    const reversed = await open(key);
    assert.equal(reversed.status, 403);
    assert.match(await reversed.text(), /reversed through PayPal/);
    await shop.sim.cancelReversal(txnId);
    await shop.until(txnId, (s) => s.status === 'reinstated', 'reinstated');
    assert.equal((await open(key)).status, 303, 'a cancelled reversal restores the link');
  });

  test('a chargeback opens a dispute: the link is paused at once, and works again when the reversal is cancelled', async () => {
    const { txnId, key } = await buy('CAST-REC', 'disputed');
    assert.equal((await open(key)).status, 303);
    await shop.sim.reverse(txnId);
    await shop.until(txnId, (s) => s.status === 'disputed', 'disputed');
    const paused = await open(key);
    assert.equal(paused.status, 403);
    assert.match(await paused.text(), /Access is paused[\s\S]*A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it/);
    await shop.sim.cancelReversal(txnId);
    await shop.until(txnId, (s) => s.status !== 'disputed', 'the dispute closed');
    assert.equal((await open(key)).status, 303);
  });

  test('an unknown or malformed link is a 404 page, and nothing is logged for it', async () => {
    const before = (await shop.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access_events')).rows[0]!.n;
    assert.equal((await open('A'.repeat(43))).status, 404);
    assert.equal((await open('not a key')).status, 404);
    const afterwards = (await shop.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access_events')).rows[0]!.n;
    assert.equal(afterwards, before);
  });
});
