// Event seats end to end: the PayPal simulator pays, the real invoice workflow runs on the Temporal
// dev server with its real activities (Postgres, SMTP read back), the api serves the ticket pages
// and the admin over real HTTP, Chromium shows them. The last seats bought at once by two buyers
// go to one of them; the other is held for review with the capacity problem and the operator told.
// The ticket's QR code is read back from a screenshot and checked in at the admin's door once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { claimSeats } from '../db/event-seats';
import type { InvoiceStateView } from '../workflows/invoice-state';
import type { CapturedMail } from './harness';
import { chromium, screenshotPath, type TestBrowser } from './fixtures/browser';
import { skipWithout } from './harness/programs';
import { startShop, type Shop } from './fixtures/shop';
import { operatorEmail } from './invoice-fixtures';

const item = 'GALA-1';
const gala = {
  itemNumber: item,
  name: 'Winter Gala',
  currency: 'USD',
  price: '25.00',
  keyTtl: '',
  active: true,
  kind: 'event',
  // Form strings, as the package editor posts them.
  kindSettings: { title: 'Winter Gala 2026', startsAt: '2026-12-12T19:00', endsAt: '2026-12-12T23:00', venue: 'Hall A, 1 Main Street', details: 'Doors open at 18:30.', capacity: '3' },
};

describe('event seats: capacity, tickets, check-in, attendees', { skip: skipWithout(chromium) }, () => {
  let shop: Shop;
  let browser: TestBrowser;

  before(async () => {
    shop = await startShop({ name: 'kind-event', browser: true, env: { DOWNLOAD_RATE_LIMIT: '0' } });
    browser = shop.browser!;
  });

  after(async () => {
    await shop?.close();
  });

  const ticketUrls = (mail: CapturedMail) => [...(mail.parsed.text ?? '').matchAll(/(http:\/\/127\.0\.0\.1:\d+\/t\/[A-Za-z0-9_-]{43})/g)].map((m) => m[1]!);

  const api = (method: string, path: string, body?: unknown) => shop.admin(method, path, body);

  /** The delivery e-mail of `purpose` to `email` (waits for it). */
  const mailTo = async (email: string, kind = 'delivery') =>
    (await shop.smtp.waitForMessages(1, 15_000, (m) => m.envelope.to.includes(email) && ticketUrls(m).length > 0 && (kind === 'delivery' ? !/^New (download )?links/.test(m.parsed.subject ?? '') : /^New (download )?links/.test(m.parsed.subject ?? ''))))[0]!;

  async function loggedInPage(path: string) {
    const page = await browser.context.newPage();
    const first = await page.goto(`${shop.url}${path}`);
    if (first?.status() === 401) {
      await page.fill('#token', shop.adminToken);
      await Promise.all([page.waitForURL(`${shop.url}${path}`), page.getByRole('button', { name: 'Log in' }).click()]);
    }
    return page;
  }

  test('twelve claims of five seats at once on the same Postgres: exactly five succeed (the package row lock)', async () => {
    const pkg = await shop.db.pool.query<{ id: number }>(`INSERT INTO packages (item_number, name, currency, price, kind, kind_settings) VALUES ('RACE-1', 'Race', 'USD', 1, 'event', '{"capacity": 5}') RETURNING id`);
    const packageId = pkg.rows[0]!.id;
    const invoices = await shop.db.pool.query<{ id: number }>(
      `INSERT INTO invoices (number, txn_id, workflow_id, status, payer_email, currency, amount)
       SELECT 'RACE-' || n, 'RACETXN' || n, 'race-' || n, 'paid', 'race@buyer.test', 'USD', 1 FROM generate_series(1, 12) AS n RETURNING id`,
    );
    const claims = await Promise.all(invoices.rows.map((i) => claimSeats(shop.db.pool, { invoiceId: i.id, packageId, quantity: 1 })));
    assert.equal(claims.filter((c) => c.claimed).length, 5, 'exactly the capacity is claimed');
    const { rows } = await shop.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM event_seats WHERE package_id = $1', [packageId]);
    assert.equal(rows[0]!.n, 5);
    // Claiming again (a retried activity) claims nothing new and still says claimed.
    const winner = invoices.rows.find((_, i) => claims[i]!.claimed)!;
    assert.equal((await claimSeats(shop.db.pool, { invoiceId: winner.id, packageId, quantity: 1 })).claimed, true);
    assert.equal((await shop.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM event_seats WHERE package_id = $1', [packageId])).rows[0]!.n, 5);
  });

  test('the last seats bought at once: one buyer gets tickets, one is held for review; QR, check-in, attendees, refund, capacity', async () => {
    // The seller sets the event up through the admin JSON API; a capacity of 0 is refused.
    const refused = await api('POST', '/api/admin/packages', { ...gala, kindSettings: { ...gala.kindSettings, capacity: '0' } });
    assert.equal(refused.status, 400);
    assert.match(String(refused.body.error), /capacity must be at least 1 seat/);
    const created = await api('POST', '/api/admin/packages', gala);
    assert.equal(created.status, 201, created.text);
    assert.deepEqual((created.body.pkg as { kindSettings: unknown }).kindSettings, {
      title: 'Winter Gala 2026',
      startsAt: '2026-12-12T19:00:00.000Z',
      endsAt: '2026-12-12T23:00:00.000Z',
      venue: 'Hall A, 1 Main Street',
      details: 'Doors open at 18:30.',
      capacity: 3,
    });

    // One seat sold first; then two buyers want the last two seats each, at the same moment.
    const first = shop.buyer('first');
    const early = await shop.sim.pay({ items: [{ itemNumber: item, amount: '25.00', quantity: 1 }], payer: { email: first, firstName: 'Ada', lastName: 'Early' } });
    const earlyState = await shop.until(early.txnId, (s) => s.status === 'fulfilled', 'fulfilled (first buyer)');
    const [b, c] = [shop.buyer('bea'), shop.buyer('cy')];
    const [sentB, sentC] = await Promise.all([
      shop.sim.pay({ items: [{ itemNumber: item, amount: '25.00', quantity: 2 }], payer: { email: b, firstName: 'Bea', lastName: 'Both' } }),
      shop.sim.pay({ items: [{ itemNumber: item, amount: '25.00', quantity: 2 }], payer: { email: c, firstName: 'Cy', lastName: 'Both' } }),
    ]);
    const settled = (s: InvoiceStateView) => s.status === 'fulfilled' || s.status === 'needs_review';
    const states = await Promise.all([shop.until(sentB.txnId, settled, 'fulfilled or needs_review'), shop.until(sentC.txnId, settled, 'fulfilled or needs_review')]);
    assert.deepEqual(states.map((s) => s.status).sort(), ['fulfilled', 'needs_review'], 'exactly one of the two is held');
    const winnerIndex = states[0]!.status === 'fulfilled' ? 0 : 1;
    const [winner, loser] = winnerIndex === 0 ? [{ email: b, sent: sentB, state: states[0]! }, { email: c, sent: sentC, state: states[1]! }] : [{ email: c, sent: sentC, state: states[1]! }, { email: b, sent: sentB, state: states[0]! }];
    assert.match(loser.state.reviewProblems.join(' '), /over its capacity: this payment asks for 2 seats, 0 of 3 seats left/);
    const alert = (await shop.smtp.waitForMessages(1, 15_000, (m) => m.envelope.to.includes(operatorEmail) && (m.parsed.subject ?? '').includes(`Needs review: invoice ${loser.state.invoiceNumber!}`)))[0]!;
    assert.match(alert.parsed.text ?? '', /- the event "Winter Gala" \(GALA-1\) is over its capacity: this payment asks for 2 seats, 0 of 3 seats left/);
    assert.equal((await shop.db.pool.query('SELECT 1 FROM event_seats s JOIN invoices i ON i.id = s.invoice_id WHERE i.txn_id = $1', [loser.sent.txnId])).rowCount, 0, 'no seat for the held buyer');

    // The winner's e-mail and thank-you page link one ticket per seat.
    const winnerMail = await mailTo(winner.email);
    const tickets = ticketUrls(winnerMail);
    assert.equal(tickets.length, 2, 'quantity 2: two tickets');
    assert.match(winnerMail.parsed.text ?? '', /Your tickets: Winter Gala\n {2}Event: Winter Gala 2026\n {2}When: 2026-12-12 19:00 UTC – 2026-12-12 23:00 UTC\n {2}Where: Hall A, 1 Main Street/);
    const stored = await shop.db.pool.query<{ text_body: string }>(`SELECT text_body FROM notifications n JOIN invoices i ON i.id = n.invoice_id WHERE i.txn_id = $1 AND n.kind = 'delivery'`, [winner.sent.txnId]);
    assert.ok(stored.rows[0] && !stored.rows[0].text_body.includes(tickets[0]!), 'the stored copy withholds the ticket links');
    const thanks = await fetch(`${shop.url}/thanks?tx=${winner.sent.txnId}`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text());
    for (const url of tickets) assert.ok(thanks.includes(url), 'the thank-you page links every ticket');

    // The ticket page shows the QR code; read back from a screenshot, it is the ticket's URL.
    const ticketPage = await browser.context.newPage();
    const shown = await ticketPage.goto(tickets[0]!);
    assert.equal(shown?.status(), 200);
    assert.match((await ticketPage.locator('h1').textContent()) ?? '', /Winter Gala 2026/);
    assert.match((await ticketPage.textContent('body')) ?? '', /Valid ticket, seat 1 of 2[\s\S]*Hall A, 1 Main Street[\s\S]*Doors open at 18:30/);
    await ticketPage.screenshot({ path: screenshotPath('kind-event-ticket'), fullPage: true });
    const png = PNG.sync.read(await ticketPage.locator('#ticket-qr').screenshot());
    const decoded = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
    assert.equal(decoded?.data, tickets[0], 'the QR code holds the ticket URL');
    await ticketPage.close();

    // Checked in at the admin's door with what the scanner read.
    const door = await loggedInPage(`/admin/events/${item}/check-in`);
    assert.equal(await door.locator('input[name=ticket]:focus').count(), 1, 'the field is focused for the scanner');
    await door.fill('input[name=ticket]', decoded!.data);
    await Promise.all([door.waitForURL(`${shop.url}/admin/events/${item}/check-in`), door.press('input[name=ticket]', 'Enter')]);
    const answer = (await door.locator('.answer').textContent()) ?? '';
    assert.match(answer, /^Checked in: .*Both \(invoice KS-\S+, seat 1 of 2\), at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\.$/);
    assert.match((await door.textContent('main')) ?? '', /1 of 3 valid seats checked in; capacity 3/);
    await door.screenshot({ path: screenshotPath('kind-event-checkin'), fullPage: true });
    const firstAt = (await shop.db.pool.query<{ at: Date }>(`SELECT checked_in_at AS at FROM event_seats s JOIN invoices i ON i.id = s.invoice_id WHERE i.txn_id = $1 AND s.unit = 1`, [winner.sent.txnId])).rows[0]!.at;
    assert.ok(firstAt, 'the first check-in is recorded');

    // A second check-in of the same ticket (here its bare code) is refused with the time of the first.
    const again = await api('POST', `/api/admin/events/${item}/check-in`, { ticket: tickets[0]!.split('/t/')[1] });
    assert.equal(again.status, 409);
    assert.equal(again.body.refusal, 'already_checked_in');
    assert.equal(again.body.checkedInAt, firstAt.toISOString());
    assert.match(String(again.body.message), new RegExp(`already checked in at ${firstAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`));

    // The attendee list: who holds a seat, and who is in.
    const attendeesPage = await loggedInPage(`/admin/packages/${item}/attendees`);
    assert.equal((await attendeesPage.locator('tbody tr').count()), 3);
    await attendeesPage.screenshot({ path: screenshotPath('kind-event-attendees'), fullPage: true });
    const csvResponse = await attendeesPage.request.get(`${shop.url}/admin/packages/${item}/attendees.csv`);
    assert.equal(csvResponse.status(), 200);
    const csv = (await csvResponse.text()).replace(/^\uFEFF/, '').trim().split('\r\n');
    assert.equal(csv[0], 'name,email,invoice,seat,status,reason,checked in at (UTC)');
    const winnerInvoice = winner.state.invoiceNumber!;
    assert.deepEqual(
      csv.slice(1).map((line) => line.split(',')).map(([, email, invoice, seat, status, , at]) => [email, invoice, seat, status, Boolean(at)]),
      [
        [first, earlyState.invoiceNumber, '1 of 1', 'valid', false],
        [winner.email, winnerInvoice, '1 of 2', 'valid', true],
        [winner.email, winnerInvoice, '2 of 2', 'valid', false],
      ],
    );
    assert.equal(csv[2]!.split(',')[6], firstAt.toISOString().slice(0, 19).replace('T', ' '));

    // A capacity below the seats sold is refused, with the count.
    const lower = await api('PUT', `/api/admin/packages/${item}`, { ...gala, kindSettings: { ...gala.kindSettings, capacity: 2 } });
    assert.equal(lower.status, 400);
    assert.match(String(lower.body.error), /the capacity of 2 is below the 3 seats already sold; set it to at least 3/);

    // A refund revokes the winner's seats at once: refused at the door and on the ticket page; the seats are free again.
    await shop.sim.refund(winner.sent.txnId);
    await shop.until(winner.sent.txnId, (s) => s.status === 'refunded', 'refunded');
    const afterRefund = await api('POST', `/api/admin/events/${item}/check-in`, { ticket: tickets[1] });
    assert.equal(afterRefund.status, 409);
    assert.equal(afterRefund.body.refusal, 'revoked');
    assert.match(String(afterRefund.body.message), /^Refused\. This ticket was revoked\. The payment for this order was refunded/);
    const revokedPage = await fetch(tickets[0]!, { signal: AbortSignal.timeout(10_000) });
    assert.equal(revokedPage.status, 410);
    assert.match(await revokedPage.text(), /This ticket was revoked\. The payment for this order was refunded/);
    const revoked = await shop.db.pool.query<{ reason: string }>(`SELECT s.revoked_reason AS reason FROM event_seats s JOIN invoices i ON i.id = s.invoice_id WHERE i.txn_id = $1`, [winner.sent.txnId]);
    assert.deepEqual(revoked.rows.map((r) => r.reason), ['refunded', 'refunded']);
    const listed = await api('GET', `/api/admin/packages/${item}/attendees`);
    assert.deepEqual([listed.body.valid, listed.body.capacity], [1, 3]);
    assert.equal((await api('PUT', `/api/admin/packages/${item}`, { ...gala, kindSettings: { ...gala.kindSettings, capacity: 2 } })).status, 200, 'refunded seats no longer count');

    // The operator approves the held buyer anyway: the delivery gives the seats (past the capacity of 2 now).
    const approved = await api('POST', `/api/admin/invoices/${loser.sent.txnId}/actions/approve`, {});
    assert.equal(approved.status, 200, approved.text);
    await shop.until(loser.sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled after approval');
    assert.equal(ticketUrls(await mailTo(loser.email)).length, 2);
    assert.equal((await api('GET', `/api/admin/packages/${item}/attendees`)).body.valid, 3);
  });

  test('extend e-mails the same ticket; regenerated keys: the old ticket link stops working, the new one works, the check-in stays with the seat', async () => {
    // The gala is full now (the operator oversold it): more seats first.
    assert.equal((await api('PUT', `/api/admin/packages/${item}`, { ...gala, kindSettings: { ...gala.kindSettings, capacity: 10 } })).status, 200);
    const email = shop.buyer('regen');
    const sent = await shop.sim.pay({ items: [{ itemNumber: item, amount: '25.00', quantity: 1 }], payer: { email } });
    await shop.until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    const [old] = ticketUrls(await mailTo(email));
    // An extend e-mails the same ticket again: a seat is not a link that runs out.
    assert.equal((await api('POST', `/api/admin/invoices/${sent.txnId}/actions/extendKeys`, { days: 7 })).status, 200);
    const [extended] = await shop.smtp.waitForMessages(1, 15_000, (m) => m.envelope.to.includes(email) && /now last longer/.test(m.parsed.subject ?? ''));
    assert.deepEqual(ticketUrls(extended!), [old], 'extend keeps the ticket');
    assert.equal((await api('POST', `/api/admin/events/${item}/check-in`, { ticket: old })).status, 200);
    assert.equal((await api('POST', `/api/admin/invoices/${sent.txnId}/actions/regenerateKeys`, {})).status, 200);
    const [fresh] = ticketUrls(await mailTo(email, 'regenerate'));
    assert.notEqual(fresh, old);
    const oldPage = await fetch(old!, { signal: AbortSignal.timeout(10_000) });
    assert.equal(oldPage.status, 410);
    assert.match(await oldPage.text(), /replaced by a newer one/);
    assert.equal((await fetch(fresh!, { signal: AbortSignal.timeout(10_000) })).status, 200);
    const again = await api('POST', `/api/admin/events/${item}/check-in`, { ticket: fresh });
    assert.equal(again.body.refusal, 'already_checked_in', 'a new ticket does not get the seat in twice');
  });

  test('a chargeback suspends the ticket (refused at the door with the reason, seat kept); its cancellation lets it in', async () => {
    const email = shop.buyer('dispute');
    const sent = await shop.sim.pay({ items: [{ itemNumber: item, amount: '25.00', quantity: 1 }], payer: { email } });
    await shop.until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    const [ticket] = ticketUrls(await mailTo(email));
    await shop.sim.reverse(sent.txnId, { reason: 'chargeback' });
    await shop.until(sent.txnId, (s) => s.status === 'disputed', 'disputed');
    const refused = await api('POST', `/api/admin/events/${item}/check-in`, { ticket });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.refusal, 'suspended');
    assert.match(String(refused.body.message), /^Refused\. This ticket is paused\. A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it/);
    const page = await fetch(ticket!, { signal: AbortSignal.timeout(10_000) });
    assert.equal(page.status, 403);
    assert.match(await page.text(), /This ticket is paused[\s\S]*A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it/);
    const listed = (await api('GET', `/api/admin/packages/${item}/attendees`)).body.attendees as { email: string; status: string; reason: string }[];
    assert.deepEqual(listed.filter((a) => a.email === email).map((a) => [a.status, a.reason]), [['suspended', 'disputed']]);
    await shop.sim.cancelReversal(sent.txnId);
    await shop.until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled again');
    const admitted = await api('POST', `/api/admin/events/${item}/check-in`, { ticket });
    assert.equal(admitted.status, 200, admitted.text);
  });
});
