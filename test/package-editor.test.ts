// The package editor over real HTTP: in Chromium (no JavaScript) an access package is made, a plain
// http:// target is refused with every value kept, then saved; a notification with a template typo
// is refused, then added and deactivated (pages and JSON API); a file is retired and brought back,
// and invoices delivered before the retirement keep it on resend and regenerate while new buyers do
// not get it. A real worker runs the invoice workflow on the Temporal dev server; SMTP is read back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { queryInvoiceState, signalInvoice } from '../domain/invoice-client';
import type { InvoiceStateView } from '../workflows/invoice-state';
import type { CapturedMail } from './harness';
import { chromium, screenshotPath, type TestBrowser } from './fixtures/browser';
import { skipWithout } from './harness/programs';
import { startShop, type Shop } from './fixtures/shop';
import { buyerEmail, newTxnId, notification, seedPackages, StatusAnswers } from './invoice-fixtures';

describe('the package editor', { skip: skipWithout(chromium) }, () => {
  let shop: Shop;
  let browser: TestBrowser;

  before(async () => {
    // Invoices here are signalled directly (no PayPal payment), so the worker asks a stub, not PayPal.
    shop = await startShop({ name: 'editor', browser: true, seed: seedPackages, paypalStatus: new StatusAnswers() });
    browser = shop.browser!;
  });
  after(async () => {
    await shop?.close();
  });

  const json = (path: string, init: RequestInit = {}) =>
    fetch(shop.url + path, { ...init, headers: { Authorization: `Bearer ${shop.adminToken}`, 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(30_000) });

  async function loggedInPage(): Promise<Page> {
    const page = await browser.context.newPage();
    const first = await page.goto(`${shop.url}/admin`);
    if (first?.status() === 401) {
      await page.fill('#token', shop.adminToken);
      await Promise.all([page.waitForURL(`${shop.url}/admin`), page.getByRole('button', { name: 'Log in' }).click()]);
    }
    return page;
  }

  async function buy(label: string): Promise<{ txnId: string; email: string; state: InvoiceStateView; mail: CapturedMail }> {
    const txnId = newTxnId();
    const email = buyerEmail(label);
    await signalInvoice(shop.temporal.client, shop.taskQueue, notification(txnId, email, 'Completed'));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const state = await queryInvoiceState(shop.temporal.client, txnId).catch(() => undefined);
      if (state?.status === 'fulfilled' && state.keys) {
        const [mail] = await shop.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email) && /^Your download/.test(m.parsed.subject ?? ''));
        return { txnId, email, state, mail: mail! };
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.fail(`invoice ${txnId} was not fulfilled in time`);
  }

  /** The file names an e-mail has links for (each file's line precedes its /d/ link). */
  const mailedFiles = (mail: CapturedMail) => [...(mail.parsed.text ?? '').matchAll(/^(\S+) \([^)]*\)\n\s+\S+\/d\/[A-Za-z0-9_-]{43}$/gm)].map((m) => m[1]!).sort();

  async function act(txnId: string, kind: string) {
    const { rows } = await shop.db.pool.query<{ number: string }>('SELECT number FROM invoices WHERE txn_id = $1', [txnId]);
    const answer = await json(`/api/admin/invoices/${rows[0]!.number}/actions/${kind}`, { method: 'POST', body: '{}' });
    assert.equal(answer.status, 200, await answer.clone().text());
  }

  test('an access package in the form: a plain http:// target is refused with every value kept, then saved; the edit form shows it back', async () => {
    const page = await loggedInPage();
    await page.goto(`${shop.url}/admin/packages/new`);
    await page.fill('#itemNumber', 'CAST-WEB');
    await page.fill('#name', 'Webcast: keys in practice');
    await page.fill('#price', '25.00');
    await page.selectOption('#kind', 'access');
    await page.fill('#description', 'Two hours live, with questions.');
    await page.fill('#kindSettings-access-targetUrl', 'http://meet.example.test/room/9');
    await page.selectOption('#kindSettings-access-window', 'fixed');
    await page.fill('#kindSettings-access-opensAt', '2030-01-10T18:00');
    await page.fill('#kindSettings-access-closesAt', '2030-01-10T20:00');
    const refused = await Promise.all([page.waitForResponse((r) => r.url() === `${shop.url}/admin/packages` && r.request().method() === 'POST'), page.getByRole('button', { name: 'Create package' }).click()]);
    assert.equal(refused[0].status(), 400);
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /Not saved: kind access: targetUrl must be an https:\/\/ address/);
    // Everything typed is still there.
    assert.equal(await page.inputValue('#itemNumber'), 'CAST-WEB');
    assert.equal(await page.inputValue('#name'), 'Webcast: keys in practice');
    assert.equal(await page.inputValue('#kind'), 'access');
    assert.equal(await page.inputValue('#description'), 'Two hours live, with questions.');
    assert.equal(await page.inputValue('#kindSettings-access-targetUrl'), 'http://meet.example.test/room/9');
    assert.equal(await page.inputValue('#kindSettings-access-window'), 'fixed');
    assert.equal(await page.inputValue('#kindSettings-access-opensAt'), '2030-01-10T18:00');
    assert.equal(await page.inputValue('#kindSettings-access-closesAt'), '2030-01-10T20:00');
    await page.screenshot({ path: screenshotPath('kind-access-editor'), fullPage: true });
    assert.equal((await shop.db.pool.query(`SELECT 1 FROM packages WHERE item_number = 'CAST-WEB'`)).rows.length, 0, 'nothing saved');

    await page.fill('#kindSettings-access-targetUrl', 'https://meet.example.test/room/9');
    await Promise.all([page.waitForURL(`${shop.url}/admin/packages/CAST-WEB`), page.getByRole('button', { name: 'Create package' }).click()]);
    assert.equal(await page.locator('#package-kind').textContent(), 'access link');
    await page.screenshot({ path: screenshotPath('kind-access-editor-saved'), fullPage: true });
    const { rows } = await shop.db.pool.query<{ kind: string; kind_settings: unknown; description: string }>(`SELECT kind, kind_settings, description FROM packages WHERE item_number = 'CAST-WEB'`);
    assert.deepEqual(rows[0], {
      kind: 'access',
      kind_settings: { targetUrl: 'https://meet.example.test/room/9', window: 'fixed', opensAt: '2030-01-10T18:00:00.000Z', closesAt: '2030-01-10T20:00:00.000Z' },
      description: 'Two hours live, with questions.',
    });

    await page.goto(`${shop.url}/admin/packages/CAST-WEB/edit`);
    assert.equal(await page.inputValue('#kind'), 'access');
    assert.equal(await page.inputValue('#kindSettings-access-opensAt'), '2030-01-10T18:00');
    // Switching back to a key-lifetime window drops the dates.
    await page.selectOption('#kindSettings-access-window', 'key');
    await Promise.all([page.waitForURL(`${shop.url}/admin/packages/CAST-WEB`), page.getByRole('button', { name: 'Save' }).click()]);
    const saved = await shop.db.pool.query<{ kind_settings: unknown }>(`SELECT kind_settings FROM packages WHERE item_number = 'CAST-WEB'`);
    assert.deepEqual(saved.rows[0]!.kind_settings, { targetUrl: 'https://meet.example.test/room/9', window: 'key' });

    const store = await (await fetch(`${shop.url}/store`)).text();
    assert.match(store, /Two hours live, with questions\./, 'the description is on the store page');
    assert.doesNotMatch(store, /meet\.example\.test/, 'the target is not');
    await page.close();
  });

  test('bad form input: a 400 that names the field, the values kept, nothing lost', async () => {
    const page = await loggedInPage();
    await page.goto(`${shop.url}/admin/packages/GUIDE-1/edit`);
    await page.fill('#price', 'nineteen');
    await page.fill('#supportText', 'Write to help@keyship.test; we answer within a day.');
    await Promise.all([page.waitForURL(`${shop.url}/admin/packages/GUIDE-1`), page.getByRole('button', { name: 'Save' }).click()]);
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /Not saved: price must be an amount such as 19\.95/);
    assert.equal(await page.inputValue('#price'), 'nineteen');
    assert.equal(await page.inputValue('#supportText'), 'Write to help@keyship.test; we answer within a day.');
    const { rows } = await shop.db.pool.query<{ price: string; support_text: string }>(`SELECT price::text, support_text FROM packages WHERE item_number = 'GUIDE-1'`);
    assert.deepEqual(rows[0], { price: '19.95', support_text: 'Questions? Write to support@keyship.test.' }, 'the package is unchanged');
    await page.close();
  });

  test('other notifications: a template typo is refused with the values kept; added, edited and deactivated in the pages and the JSON API; a deactivated one is not sent', async () => {
    const page = await loggedInPage();
    await page.goto(`${shop.url}/admin/packages/GUIDE-1`);
    await Promise.all([page.waitForURL(/\/notifications\/new$/), page.getByRole('link', { name: 'Add a notification' }).click()]);
    await page.fill('#n-name', 'welcome');
    await page.fill('#n-subject', 'Welcome to {{packageName}}');
    await page.fill('#n-text', 'Hello {{firstname}}, enjoy invoice {{invoiceNumber}}.');
    await Promise.all([page.waitForURL(/\/notifications$/), page.getByRole('button', { name: 'Add notification' }).click()]);
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /Not saved: .*\{\{firstname\}\} is not a known name/);
    assert.equal(await page.inputValue('#n-text'), 'Hello {{firstname}}, enjoy invoice {{invoiceNumber}}.');
    await page.fill('#n-text', 'Hello {{firstName}}, enjoy invoice {{invoiceNumber}}.');
    await Promise.all([page.waitForURL(/\/notifications$/), page.getByRole('button', { name: 'Add notification' }).click()]);
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /Notification welcome added/);
    await Promise.all([page.waitForURL(/\/deactivate$/), page.getByRole('button', { name: 'Deactivate support' }).click()]);
    assert.match((await page.locator('#notifications + p + div').textContent()) ?? '', /support \(inactive\)/);
    await page.screenshot({ path: screenshotPath('package-editor-notifications'), fullPage: true });
    await page.close();

    // The JSON API: list, a taken name, an edit, a bad id.
    const list = (await (await json('/api/admin/packages/GUIDE-1/notifications')).json()) as { notifications: { id: number; name: string; active: boolean }[] };
    assert.deepEqual(list.notifications.map((n) => [n.name, n.active]), [['welcome', true], ['support', false]]);
    const taken = await json('/api/admin/packages/GUIDE-1/notifications', { method: 'POST', body: JSON.stringify({ name: 'welcome', subject: 'x', textBody: 'y' }) });
    assert.equal(taken.status, 400);
    assert.match(((await taken.json()) as { error: string }).error, /already has a notification named welcome/);
    const welcome = list.notifications.find((n) => n.name === 'welcome')!;
    const edited = await json(`/api/admin/packages/GUIDE-1/notifications/${welcome.id}`, {
      method: 'PUT',
      body: JSON.stringify({ name: 'welcome', subject: 'Welcome aboard: {{packageName}}', textBody: 'Hello {{firstName}}. {{supportText}}', htmlBody: '<p>Hello {{firstName}}</p>' }),
    });
    assert.equal(edited.status, 200, await edited.clone().text());
    assert.equal(((await json('/api/admin/packages/GUIDE-1/notifications/abc', { method: 'PUT', body: '{}' })).status), 400);
    assert.equal(((await json('/api/admin/packages/GUIDE-1/notifications/99999/deactivate', { method: 'POST' })).status), 404);

    const { email } = await buy('notified');
    const mails = shop.smtp.messages.filter((m) => m.envelope.to.includes(email)).map((m) => m.parsed.subject);
    assert.ok(mails.includes('Welcome aboard: Field Guide'), `the active notification is sent: ${mails.join(' | ')}`);
    assert.ok(!mails.some((s) => /Getting help/.test(s ?? '')), 'the deactivated one is not');
  });

  test('a retired file stays with the invoices that had it (resend, regenerate) and new buyers do not get it; brought back, they do', async () => {
    const early = await buy('before-retire');
    assert.deepEqual(mailedFiles(early.mail), ['guide-extras.zip', 'guide.pdf']);

    const page = await loggedInPage();
    await page.goto(`${shop.url}/admin/packages/GUIDE-1`);
    await Promise.all([page.waitForURL(/\/retire$/), page.getByRole('button', { name: 'Retire guide-extras.zip' }).click()]);
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /guide-extras\.zip is retired/);
    await page.screenshot({ path: screenshotPath('package-editor-file-retired'), fullPage: true });
    await page.close();

    const late = await buy('after-retire');
    assert.deepEqual(mailedFiles(late.mail), ['guide.pdf'], 'a new buyer does not get the retired file');

    await act(early.txnId, 'resendKeys');
    const [resent] = await shop.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(early.email) && /links again/.test(m.parsed.subject ?? ''));
    assert.deepEqual(mailedFiles(resent!), ['guide-extras.zip', 'guide.pdf'], 'a resend still carries it');
    await act(early.txnId, 'regenerateKeys');
    const [regenerated] = await shop.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(early.email) && /New download links/.test(m.parsed.subject ?? ''));
    assert.deepEqual(mailedFiles(regenerated!), ['guide-extras.zip', 'guide.pdf'], 'a regenerate still carries it');
    await act(late.txnId, 'regenerateKeys');
    const [lateRegenerated] = await shop.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(late.email) && /New download links/.test(m.parsed.subject ?? ''));
    assert.deepEqual(mailedFiles(lateRegenerated!), ['guide.pdf'], 'nor does a regenerate give it to an invoice that never had it');

    const files = (await (await json('/api/admin/packages/GUIDE-1')).json()) as { files: { id: number; name: string; active: boolean }[] };
    const extras = files.files.find((f) => f.name === 'guide-extras.zip')!;
    assert.equal(extras.active, false);
    const back = await json(`/api/admin/packages/GUIDE-1/files/${extras.id}`, { method: 'PUT', body: JSON.stringify({ active: true }) });
    assert.equal(back.status, 200);
    assert.equal((await json(`/api/admin/packages/GUIDE-1/files/${extras.id}`, { method: 'PUT', body: JSON.stringify({ active: 'yes' }) })).status, 400);
    const again = await buy('after-restore');
    assert.deepEqual(mailedFiles(again.mail), ['guide-extras.zip', 'guide.pdf']);
  });
});
