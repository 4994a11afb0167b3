// The buyer's library over real HTTP, with the real SMTP capture (read back with mailparser) and,
// for the pages, headless Chromium with JavaScript off: the one answer the form gives, the e-mail
// and its single-use link, an expired link, a library of live, expired, self-service and refunded
// purchases (and none of another buyer's), the limits, an SMTP outage, and the session's end.
// The self-service renewal signals `extendKeys` to a stand-in invoice workflow on this test's queue.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { createWorker } from '../worker/create-worker';
import { invoiceSettingsFromConfig } from '../domain/invoice-settings';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import { state } from '../workflows/messages';
import { libraryMailer } from '../api/library-mail';
import { librarySecrets } from '../api/library-session';
import { libraryRequestAnswer } from '../api/pages/library-views';
import { devTemporal, freshDatabase, smtpCapture, workflowBundle, type CapturedMail, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { insertPurchase, type Purchase } from './fixtures/downloads';
import { startTestApi, type TestApi } from './fixtures/api-server';
import { chromium, launchChromium, screenshotPath, type TestBrowser } from './fixtures/browser';
import { skipWithout } from './harness/programs';
import { invoiceKindItems, issueKinds } from '../kinds';

const adminToken = 'library-test-admin-token-0123456789';
const tag = () => randomBytes(4).toString('hex');
const linkPattern = /https?:\/\/[^\s/]+\/library\/open\/([A-Za-z0-9_-]{43})/;

describe('the buyer library', { skip: skipWithout(chromium) }, () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let temporal: DevTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let api: TestApi;
  let browser: TestBrowser;
  let keySecret: Buffer;
  const taskQueue = `library-${randomUUID()}`;

  before(async () => {
    [db, smtp, temporal, browser] = await Promise.all([freshDatabase(), smtpCapture(), devTemporal(), launchChromium()]);
    worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      activities: {},
      workflowBundle: await workflowBundle(require.resolve('./fixtures/stand-in-invoice-workflow')),
    });
    running = worker.run();
    api = await startTestApi({
      pool: db.pool,
      temporal: temporal.client,
      env: { TEMPORAL_TASK_QUEUE: taskQueue, SMTP_URL: smtp.url, ADMIN_TOKEN: adminToken, DOWNLOAD_RATE_LIMIT: '0', LIBRARY_RATE_LIMIT: '0' },
    });
    keySecret = invoiceSettingsFromConfig(api.config).keySecret;
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await smtp?.close();
    await db?.close();
  });

  const ask = async (base: string, email: string) => {
    const response = await fetch(`${base}/library`, { method: 'POST', body: new URLSearchParams({ email }) });
    return { status: response.status, text: await response.text(), retryAfter: response.headers.get('retry-after') };
  };
  const to = (email: string) => (m: CapturedMail) => m.envelope.to.some((a) => a.toLowerCase() === email.toLowerCase());
  const linkOf = (mail: CapturedMail) => {
    const found = linkPattern.exec(mail.parsed.text ?? '');
    assert.ok(found, `the e-mail holds a library link: ${mail.parsed.text}`);
    return { url: found[0], path: new URL(found[0]).pathname, token: found[1]! };
  };
  /** The newest library e-mail to `email`, waiting up to 10 s for the `n`-th. */
  const mailTo = async (email: string, n = 1) => (await smtp.waitForMessages(n, 10_000, to(email))).at(n - 1)!;
  const open = (path: string) => fetch(api.url + path, { redirect: 'manual' });
  const purchase = (email: string, options: Parameters<typeof insertPurchase>[2] = {}) =>
    insertPurchase(db.pool, api.filesDir, { payerEmail: email, keySecret, ...options });

  test('a known and an unknown address get the same words and status; only the known one gets one e-mail, kept without its link', async () => {
    const known = `ada-${tag()}@example.com`;
    const unknown = `nobody-${tag()}@example.com`;
    const bought = await purchase(known);
    const asUnknown = await ask(api.url, unknown);
    const asKnown = await ask(api.url, known.toUpperCase());
    assert.equal(asKnown.status, 200);
    assert.equal(asUnknown.status, asKnown.status);
    assert.equal(asUnknown.text, asKnown.text, 'the page is byte for byte the same');
    assert.ok(asKnown.text.includes(libraryRequestAnswer(3600)));

    const mail = await mailTo(known);
    assert.equal(mail.parsed.subject, 'Your purchases: a link to your library');
    assert.match(mail.parsed.html || '', /Open my purchases/);
    const { token } = linkOf(mail);
    assert.equal(smtp.messages.filter(to(known)).length, 1, 'the known address got one e-mail');
    assert.equal(smtp.messages.filter(to(unknown)).length, 0, 'the unknown address got nothing');
    const rows = await waitFor('the sent e-mail to be marked sent', async () => {
      const { rows } = await db.pool.query<{ email: string; status: string }>(
        'SELECT email, status FROM library_links WHERE lower(email) IN (lower($1), lower($2)) ORDER BY id',
        [unknown, known],
      );
      return rows.some((r) => r.status === 'pending') ? undefined : rows;
    });
    assert.deepEqual(rows, [
      { email: unknown, status: 'no_purchases' },
      { email: known.toUpperCase(), status: 'sent' },
    ]);

    // Kept like every e-mail, without the link, and shown on the buyer's invoice in the admin.
    const detail = (await (await fetch(`${api.url}/api/admin/invoices/${bought.number}`, { headers: { Authorization: `Bearer ${adminToken}` } })).json()) as {
      emails: { kind: string; status: string; to: string; textBody: string }[];
    };
    const kept = detail.emails.filter((e) => e.kind === 'library');
    assert.equal(kept.length, 1);
    assert.equal(kept[0]!.status, 'sent');
    assert.ok(!kept[0]!.textBody.includes(token), 'the stored copy does not hold the link');
    assert.match(kept[0]!.textBody, /link withheld/);
  });

  test('a link opens the library once: two clicks at once give one session, a later click says it was used', async () => {
    const email = `grace-${tag()}@example.com`;
    const bought = await purchase(email);
    await ask(api.url, email);
    const { path } = linkOf(await mailTo(email));

    const [a, b] = await Promise.all([open(path), open(path)]);
    assert.deepEqual([a.status, b.status].sort(), [303, 410]);
    const opened = a.status === 303 ? a : b;
    assert.equal(opened.headers.get('location'), '/library');
    const setCookie = opened.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /Path=\/library/i);
    const cookie = setCookie.split(';')[0]!;
    const library = await (await fetch(`${api.url}/library`, { headers: { Cookie: cookie } })).text();
    assert.match(library, /Your purchases/);
    assert.ok(library.includes(bought.number));

    const again = await open(path);
    assert.equal(again.status, 410);
    assert.match(await again.text(), /This link has already been used/);
    // A cookie whose signature does not match is no session.
    const forged = cookie.replace(/=([^.]+)\./, `=${Buffer.from('someone@example.com').toString('base64url')}.`);
    assert.match(await (await fetch(`${api.url}/library`, { headers: { Cookie: forged } })).text(), /Get your purchases back/);
  });

  test('an expired link is refused with a way to a new one, and is not sent again', async () => {
    const email = `hopper-${tag()}@example.com`;
    await purchase(email);
    await ask(api.url, email);
    const { path } = linkOf(await mailTo(email));
    await db.pool.query("UPDATE library_links SET expires_at = now() - interval '1 second', status = 'failed', next_attempt_at = now() WHERE lower(email) = lower($1)", [
      email,
    ]);
    const response = await open(path);
    assert.equal(response.status, 410);
    const page = await response.text();
    assert.match(page, /This link has expired/);
    assert.match(page, /action="\/library"/);
    const retried = await libraryMailer({ pool: db.pool, smtpUrl: smtp.url, settings: invoiceSettingsFromConfig(api.config), secrets: secretsOf(api) }).retryDue();
    assert.equal(retried, 0, 'an expired link is never sent again');
    assert.equal((await open(`/library/open/${randomBytes(32).toString('base64url')}`)).status, 404);
  });

  test('in Chromium: the form, then the library of live, expired, self-service, refunded and disputed purchases, and none of another buyer', async () => {
    const email = `Linus-${tag()}@Example.com`;
    const dayAgo = new Date(Date.now() - 86400_000);
    const live = await purchase(email, { files: [{ name: 'guide.pdf' }, { name: 'extras.zip' }], downloadLimit: 1 });
    await db.pool.query('UPDATE download_keys SET bytes_charged = 10 * 1024 * 1024 WHERE id = $1', [live.files[1]!.keyId]);
    const expired = await purchase(email.toLowerCase(), { status: 'keys_expired', expiresAt: dayAgo });
    const selfService = await purchase(email, { status: 'keys_expired', expiresAt: dayAgo, selfService: true, keyTtlSeconds: 2 * 86400 });
    const refunded = await purchase(email, { status: 'refunded', revokedReason: 'refunded' });
    const disputed = await purchase(email, { status: 'disputed' });
    // Another buyer on the same PayPal payer id, even on the same account: never in this library.
    const other = await purchase(`other-${tag()}@example.com`);
    await db.pool.query(
      "UPDATE accounts SET paypal_payer_id = 'SHAREDPAYER1' WHERE lower(email) IN (lower($1), lower($2))",
      [email, other.payerEmail],
    );
    await db.pool.query('UPDATE invoices SET account_id = (SELECT account_id FROM invoices WHERE id = $1) WHERE id = $2', [live.invoiceId, other.invoiceId]);

    const page = await browser.context.newPage();
    const store = await page.goto(`${api.url}/store`);
    assert.equal(store?.status(), 200);
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Get your purchases back by e-mail' }).click()]);
    assert.equal(await page.locator('h1').textContent(), 'Get your purchases back');
    await page.screenshot({ path: screenshotPath('library-form'), fullPage: true });
    await page.getByLabel('The e-mail address you paid with').fill(email);
    const [answered] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'E-mail me a link to my purchases' }).click()]);
    assert.equal(answered?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'Check your e-mail');
    await page.screenshot({ path: screenshotPath('library-requested'), fullPage: true });

    // The e-mail's link names PUBLIC_URL (unset here); the test api answers on its own port.
    const url = api.url + linkOf(await mailTo(email)).path;
    const opened = await page.goto(url);
    assert.equal(opened?.status(), 200);
    assert.equal(page.url(), `${api.url}/library`);
    assert.equal(await page.locator('h1').textContent(), 'Your purchases');
    await page.screenshot({ path: screenshotPath('library'), fullPage: true });

    const section = (p: Purchase) => page.locator('section', { hasText: p.number });
    assert.equal(await page.locator('section').count(), 5);
    assert.equal(await section(other).count(), 0, "another buyer's purchase is not listed");
    // Live: a working link per file that may still download; the used-up one goes to a person.
    const links = section(live).locator('a.download');
    assert.deepEqual(await links.allTextContents(), ['guide.pdf']);
    assert.match((await section(live).textContent()) ?? '', /extras\.zip[^]*all its downloads used/);
    assert.equal(await section(live).getByRole('button', { name: 'Ask for fresh links' }).count(), 1);
    const file = await fetch(api.url + (await links.first().getAttribute('href'))!);
    assert.equal(file.status, 200);
    assert.ok(Buffer.from(await file.arrayBuffer()).equals(live.files[0]!.content));
    // Refunded: listed, no link, no button.
    assert.match((await section(refunded).textContent()) ?? '', /refunded[\s\S]*The payment for this order was refunded, so its links no longer work/);
    assert.equal(await section(refunded).locator('a, button').count(), 0);
    // Disputed: paused, with the sentence its download link says; no link, and not "not cleared".
    const disputedText = (await section(disputed).textContent()) ?? '';
    assert.match(disputedText, /disputed at PayPal, paused[\s\S]*A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it/);
    assert.doesNotMatch(disputedText, /not cleared/);
    assert.equal(await section(disputed).locator('a, button').count(), 0);
    // Expired without self-service: a request to a person.
    assert.equal(await section(expired).locator('a.download').count(), 0);
    assert.equal(await section(expired).getByRole('button', { name: 'Ask for fresh links' }).count(), 1);
    assert.equal(await section(expired).getByRole('button', { name: /Renew/ }).count(), 0);

    // Self-service: renews through the existing once-a-day rule and extendKeys.
    const [renewed] = await Promise.all([page.waitForNavigation(), section(selfService).getByRole('button', { name: 'Renew for 2 days and e-mail me the links' }).click()]);
    assert.equal(renewed?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'A fresh link is on its way');
    await page.screenshot({ path: screenshotPath('library-renewed'), fullPage: true });
    const view = await temporal.client.workflow.getHandle(invoiceWorkflowId(selfService.txnId)).query(state);
    assert.deepEqual(
      view.events.filter((e) => e.kind === 'extendKeys').map((e) => JSON.parse(e.detail) as unknown),
      [{ days: 2, by: 'buyer (self-service)' }],
    );

    // The session still holds: back to the library, then a request to a person for the other one.
    await page.goto(`${api.url}/library`);
    const [requested] = await Promise.all([page.waitForNavigation(), section(expired).getByRole('button', { name: 'Ask for fresh links' }).click()]);
    assert.equal(requested?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'We have your request');
    const { rows } = await db.pool.query('SELECT kind, status, invoice_id, key_problem FROM link_requests WHERE invoice_id = $1', [expired.invoiceId]);
    assert.deepEqual(rows, [{ kind: 'operator', status: 'open', invoice_id: expired.invoiceId, key_problem: 'expired' }]);

    // Clicked again in the same browser, the used link leads back to the open library; once it is closed, it says it was used.
    const reopened = await page.goto(url);
    assert.equal(reopened?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'Your purchases');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Close my library' }).click()]);
    assert.equal(await page.locator('h1').textContent(), 'Get your purchases back');
    const used = await page.goto(url);
    assert.equal(used?.status(), 410);
    assert.equal(await page.locator('h1').textContent(), 'This link has already been used');
    await page.screenshot({ path: screenshotPath('library-link-used'), fullPage: true });

    // Every key page and the thank-you page lead here too.
    const keyPage = await page.goto(`${api.url}/d/${randomBytes(32).toString('base64url')}`);
    assert.equal(keyPage?.status(), 404);
    assert.equal(await page.getByRole('link', { name: 'Get all your purchases back by e-mail' }).getAttribute('href'), '/library');
    await page.goto(`${api.url}/thanks/${live.txnId}`);
    assert.equal(await page.getByRole('link', { name: 'Get all your purchases back by e-mail' }).getAttribute('href'), '/library');
    await page.close();
  });

  test('limits: per client address the form answers 429; per e-mail address the same answer, and no e-mail past the limit', async () => {
    const limited = await startTestApi({ pool: db.pool, filesDir: api.filesDir, env: { SMTP_URL: smtp.url, LIBRARY_RATE_LIMIT: '3', LIBRARY_EMAIL_LIMIT: '2' } });
    try {
      const email = `flood-${tag()}@example.com`;
      await purchase(email);
      const answers = [await ask(limited.url, email), await ask(limited.url, email), await ask(limited.url, email)];
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
      assert.equal(new Set(answers.map((a) => a.text)).size, 1, 'the answer past the e-mail limit is the same');
      const refused = await ask(limited.url, `someone-${tag()}@example.com`);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.retryAfter) > 0, 'says when to come back');
      assert.match(refused.text, /Too many requests/);

      await mailTo(email, 2);
      const rows = await waitFor('both sent e-mails to be marked sent', async () => {
        const { rows } = await db.pool.query<{ status: string; token: boolean }>(
          'SELECT status, token_hash IS NOT NULL AS token FROM library_links WHERE email = $1 ORDER BY id',
          [email],
        );
        return rows.some((r) => r.status === 'pending') ? undefined : rows;
      });
      assert.deepEqual(rows.map((r) => r.status).sort(), ['limited', 'sent', 'sent']);
      assert.equal(rows.find((r) => r.status === 'limited')?.token, false, 'a limited request has no link to send');
      assert.equal(smtp.messages.filter(to(email)).length, 2);
    } finally {
      await limited.close();
    }
  });

  test('an SMTP outage delays the e-mail and loses nothing: the retry sends the same link, which works', async () => {
    const email = `outage-${tag()}@example.com`;
    const bought = await purchase(email);
    smtp.refusing = true;
    let id: number;
    try {
      assert.equal((await ask(api.url, email)).status, 200);
      id = await waitFor('the refused send to be recorded as failed', async () => {
        const { rows } = await db.pool.query<{ id: number; status: string }>('SELECT id, status FROM library_links WHERE email = $1', [email]);
        return rows[0]?.status === 'failed' ? rows[0].id : undefined;
      });
    } finally {
      smtp.refusing = false;
    }
    const { rows: failed } = await db.pool.query('SELECT status FROM notifications WHERE dedupe_key = $1', [`library-${id}`]);
    assert.deepEqual(failed, [{ status: 'failed' }]);

    await db.pool.query('UPDATE library_links SET next_attempt_at = now() WHERE id = $1', [id]);
    const mailer = libraryMailer({ pool: db.pool, smtpUrl: smtp.url, settings: invoiceSettingsFromConfig(api.config), secrets: secretsOf(api) });
    assert.equal(await mailer.retryDue(), 1);
    const { path } = linkOf(await mailTo(email));
    const opened = await open(path);
    assert.equal(opened.status, 303);
    const library = await (await fetch(`${api.url}/library`, { headers: { Cookie: (opened.headers.get('set-cookie') ?? '').split(';')[0]! } })).text();
    assert.ok(library.includes(bought.number));
    const { rows } = await db.pool.query('SELECT n.status, l.status AS link FROM notifications n, library_links l WHERE n.dedupe_key = $1 AND l.id = $2', [`library-${id}`, id]);
    assert.deepEqual(rows, [{ status: 'sent', link: 'sent' }]);
  });

  test('what a package kind delivered is in the library too: an access link without files, license keys beside files; nothing once refunded', async () => {
    const email = `kinds-${tag()}@example.com`;
    const settings = invoiceSettingsFromConfig(api.config);
    const talk = await purchase(email, { files: [] });
    const app = await purchase(email);
    const refunded = await purchase(email, { status: 'refunded', revokedReason: 'refunded' });
    await db.pool.query(`UPDATE packages SET kind = 'access', kind_settings = '{"targetUrl": "https://stream.example/talk", "window": "key"}' WHERE id = (SELECT package_id FROM invoice_items WHERE invoice_id = $1)`, [talk.invoiceId]);
    await db.pool.query(`UPDATE packages SET license_settings = '{"format": "random", "version": "2", "validity": ""}' WHERE id IN (SELECT package_id FROM invoice_items WHERE invoice_id = ANY($1))`, [[app.invoiceId, refunded.invoiceId]]);
    // What the delivery's transaction does for each kind (activities/keys.ts), here for the three invoices.
    for (const p of [talk, app, refunded]) {
      const generation = (await db.pool.query<{ salt: Buffer }>('SELECT salt FROM key_generations WHERE invoice_id = $1 AND generation = 1', [p.invoiceId])).rows[0]!;
      const ctx = { db: db.pool, settings, invoiceId: p.invoiceId, invoiceNumber: p.number, payerEmail: email, buyerName: '', generation: 1, salt: generation.salt, expiresAt: new Date(Date.now() + 86400_000).toISOString() };
      await issueKinds({ ...ctx, items: await invoiceKindItems(db.pool, p.invoiceId) });
    }
    await ask(api.url, email);
    const opened = await open(linkOf(await mailTo(email)).path);
    const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0]!;
    const html = await (await fetch(`${api.url}/library`, { headers: { Cookie: cookie } })).text();
    const section = (number: string) => {
      const at = html.indexOf(number);
      assert.ok(at >= 0, `the library lists ${number}`);
      return html.slice(at, html.indexOf('</section>', at));
    };
    assert.match(section(talk.number), /Your access link[\s\S]*\/a\/[A-Za-z0-9_-]{43}/, 'the access link, though the purchase has no files');
    assert.doesNotMatch(section(talk.number), /being prepared/);
    assert.match(section(app.number), /book\.pdf[\s\S]*Your license key[\s\S]*KS-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}/, 'the files and the license key');
    const issued = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM license_keys WHERE invoice_id = $1', [refunded.invoiceId]);
    assert.ok(issued.rows[0]!.n > 0, 'the refunded purchase was issued a key, which the library must hide');
    assert.doesNotMatch(section(refunded.number), /license key|KS-[0-9A-Z]{5}-/, 'a refunded purchase shows no key');
  });

  test('the library closes when its session ends', async () => {
    const short = await startTestApi({ pool: db.pool, filesDir: api.filesDir, env: { SMTP_URL: smtp.url, LIBRARY_SESSION: '2s' } });
    try {
      const email = `brief-${tag()}@example.com`;
      const bought = await purchase(email);
      await ask(short.url, email);
      const { path } = linkOf(await mailTo(email));
      const opened = await fetch(short.url + path, { redirect: 'manual' });
      const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0]!;
      assert.ok((await (await fetch(`${short.url}/library`, { headers: { Cookie: cookie } })).text()).includes(bought.number));
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const after = await (await fetch(`${short.url}/library`, { headers: { Cookie: cookie } })).text();
      assert.ok(!after.includes(bought.number), 'the purchases are gone once the session ended');
      assert.match(after, /Get your purchases back/);
    } finally {
      await short.close();
    }
  });
});

function secretsOf(api: TestApi) {
  return librarySecrets(invoiceSettingsFromConfig(api.config).keySecret, { sessionSeconds: api.config.library.sessionSeconds, secure: false });
}

/** Polls `check` every 50 ms until it answers, for up to 10 s; `what` says what was awaited. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited 10 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
