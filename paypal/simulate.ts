// `npm run simulate -- <command>`: drives the local PayPal simulator (which must be running: `npm
// start` with PAYPAL_MODE=simulator) to send Keyship PayPal's messages, byte for byte, and walks a
// PayPal Checkout (Orders v2) purchase through Keyship's own pages as a browser without JavaScript.
import { parseArgs } from 'node:util';
import { demoPackage } from '../catalog/demo-seed';

const usage = `npm run simulate -- <command> [options]

Payments (the simulator sends the IPN, and a signed webhook, to Keyship):
  card         [--item NUMBER[:PRICE[:QTY]]]... [--currency USD] [--email ADDR] [--first-name N] [--last-name N]
               [--charset windows-1252|utf-8] [--sandbox] [--no-webhooks] [--webhook-first] [--custom TEXT] [--business ADDR]
  echeck       same options, and [--clear-after 30s|never]    (Pending now, Completed after the delay)
  out-of-order same options as card: an eCheck whose Completed IPN arrives before its Pending one
  forged       same options as card: an IPN PayPal never sent (the postback answers INVALID)
PayPal Checkout (Orders v2), through Keyship's own pages (KEYSHIP is --keyship, or PUBLIC_URL):
  checkout [ITEM] [--qty N] [--outcome card|echeck|declined|cancel|close-tab] [--keyship URL]
               posts the buy form to KEYSHIP/checkout/orders, follows its redirect to the approval
               page, presses the outcome's button, follows the redirect back to KEYSHIP (/thanks)
               and prints the page's status and title, then the order and its capture
  approve ORDER [--outcome card|echeck|declined] [--close-tab]   approve without the page
  cancel ORDER                       the buyer cancels on the approval page
  orders                             orders and disputes the simulator holds
  fail --path REGEX [--method POST] [--status 500|503] [--times N] [--after]
                                     the next matching REST calls answer PayPal's 500 (with --after:
                                     once the work is done, so a retry with the same
                                     PayPal-Request-Id gets the real answer)
  expire-tokens                      every access token issued so far stops working
Later events about a payment (TXN is an IPN payment's txn_id or an Orders v2 capture id):
  clear TXN                          clear a pending eCheck now (Completed IPN and/or webhook)
  refund TXN [--amount 5.00]         Refunded IPN and/or PAYMENT.CAPTURE.REFUNDED (the rest when no amount)
  reverse TXN [--reason chargeback]  Reversed IPN and/or PAYMENT.CAPTURE.REVERSED
  cancel-reversal TXN                Canceled_Reversal IPN
  dispute open TXN [--reason UNAUTHORISED] [--amount 5.00]   CUSTOMER.DISPUTE.CREATED
  dispute update DISPUTE             CUSTOMER.DISPUTE.UPDATED (waiting for the seller, then under review)
  dispute resolve DISPUTE --outcome seller|buyer
                                     CUSTOMER.DISPUTE.RESOLVED (for the buyer, a reversal first)
  duplicate IPN_ID                   send an IPN already sent once more, byte for byte
  list                               payments, IPNs and webhooks sent, with their HTTP answers, and the
                                     deliveries still waiting with their next attempt time

Several --item make a cart. Without --item (or checkout's ITEM) the item is the demo package ${demoPackage.itemNumber} at
${demoPackage.price} ${demoPackage.currency}; any other item needs its price (--item KS-2:19.95),
but checkout names only the item: Keyship prices it.
The simulator is at PAYPAL_SIMULATOR_URL (http://127.0.0.1:8090).`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function seconds(text: string): number | undefined {
  if (text === 'never') return undefined;
  const match = /^(\d+)([smhd]?)$/.exec(text);
  if (!match) fail(`--clear-after "${text}" is not a delay such as 30s, 5m or never.`);
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600, d: 86400 }[match[2] || 's'] ?? 1);
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${base}/sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    fail(`The PayPal simulator at ${base} does not answer; start it with npm start (PAYPAL_MODE=simulator) or tsx paypal/simulator/main.ts.`);
  }
  const json = (await response.json()) as { error?: string };
  if (!response.ok) fail(`The simulator refused: ${json.error ?? response.status}`);
  return json;
}

function report(result: unknown): void {
  const r = result as { txnId: string; ipns?: { id: number; status: string; httpStatus: number }[]; webhooks?: { id: number; type: string; httpStatus: number }[] };
  console.log(`transaction ${r.txnId}`);
  for (const ipn of r.ipns ?? []) console.log(`  IPN #${ipn.id} ${ipn.status}: Keyship answered ${ipn.httpStatus || 'nothing'}`);
  for (const hook of r.webhooks ?? []) console.log(`  webhook #${hook.id} ${hook.type}: Keyship answered ${hook.httpStatus || 'nothing'}`);
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      item: { type: 'string', multiple: true },
      currency: { type: 'string' },
      email: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      charset: { type: 'string' },
      sandbox: { type: 'boolean' },
      'no-webhooks': { type: 'boolean' },
      'webhook-first': { type: 'boolean' },
      custom: { type: 'string' },
      business: { type: 'string' },
      'clear-after': { type: 'string' },
      amount: { type: 'string' },
      reason: { type: 'string' },
      qty: { type: 'string' },
      outcome: { type: 'string' },
      keyship: { type: 'string' },
      'close-tab': { type: 'boolean' },
      path: { type: 'string' },
      method: { type: 'string' },
      status: { type: 'string' },
      times: { type: 'string' },
      after: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg, third] = positionals;
  const base = (process.env.PAYPAL_SIMULATOR_URL ?? 'http://127.0.0.1:8090').replace(/\/+$/, '');
  if (!command || command === 'help' || values.help) {
    console.log(usage);
    return;
  }
  const payInput = () => ({
    items: (values.item ?? [demoPackage.itemNumber]).map((spec) => {
      const [itemNumber = '', price, quantity] = spec.split(':');
      const amount = price ?? (itemNumber === demoPackage.itemNumber ? demoPackage.price : fail(`--item ${spec} needs a price: --item ${itemNumber}:19.95`));
      return { itemNumber, itemName: itemNumber === demoPackage.itemNumber ? demoPackage.name : itemNumber, amount, quantity: quantity ? Number(quantity) : 1 };
    }),
    currency: values.currency,
    business: values.business,
    payer: { email: values.email, firstName: values['first-name'], lastName: values['last-name'] },
    charset: values.charset,
    custom: values.custom,
    environment: values.sandbox ? 'sandbox' : 'live',
    webhooks: !values['no-webhooks'],
    webhookFirst: values['webhook-first'],
  });
  const needTxn = () => arg ?? fail(`${command} needs a transaction id: npm run simulate -- ${command} TXN (see npm run simulate -- list).`);
  switch (command) {
    case 'card':
      return report(await call(base, 'POST', '/payments', { ...payInput(), method: 'card' }));
    case 'echeck': {
      const delay = seconds(values['clear-after'] ?? '10s');
      return report(await call(base, 'POST', '/payments', { ...payInput(), method: 'echeck', clearAfterMs: delay === undefined ? undefined : delay * 1000 }));
    }
    case 'out-of-order':
      return report(await call(base, 'POST', '/payments', { ...payInput(), method: 'echeck', outOfOrder: true }));
    case 'forged':
      return report(await call(base, 'POST', '/forged', payInput()));
    case 'clear':
      return report(await call(base, 'POST', `/payments/${encodeURIComponent(needTxn())}/clear`));
    case 'refund':
      return report(await call(base, 'POST', `/payments/${encodeURIComponent(needTxn())}/refund`, { amount: values.amount }));
    case 'reverse':
      return report(await call(base, 'POST', `/payments/${encodeURIComponent(needTxn())}/reverse`, { reason: values.reason }));
    case 'cancel-reversal':
      return report(await call(base, 'POST', `/payments/${encodeURIComponent(needTxn())}/cancel-reversal`));
    case 'duplicate':
      return report(await call(base, 'POST', `/ipns/${encodeURIComponent(arg ?? fail('duplicate needs an IPN number (see npm run simulate -- list).'))}/resend`));
    case 'checkout':
      return checkout(base, {
        item: arg ?? demoPackage.itemNumber,
        quantity: values.qty ?? '1',
        outcome: values.outcome ?? 'card',
        keyship: (values.keyship ?? process.env.PUBLIC_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
      });
    case 'approve': {
      const order = arg ?? fail('approve needs an order id (see npm run simulate -- orders).');
      const approved = (await call(base, 'POST', `/orders/${encodeURIComponent(order)}/approve`, { outcome: values.outcome, closeTab: values['close-tab'] })) as { redirect?: string; report: unknown };
      report(approved.report);
      return console.log(approved.redirect ? `  the buyer returns to ${approved.redirect}` : '  the buyer closes the tab');
    }
    case 'cancel': {
      const cancelled = (await call(base, 'POST', `/orders/${encodeURIComponent(arg ?? fail('cancel needs an order id.'))}/cancel`)) as { redirect?: string };
      return console.log(cancelled.redirect ? `the buyer returns to ${cancelled.redirect}` : 'the order names no cancel_url');
    }
    case 'orders':
      return console.log(JSON.stringify(await call(base, 'GET', '/orders'), null, 2));
    case 'fail': {
      const status = values.status ? Number(values.status) : 500;
      await call(base, 'POST', '/faults', { pathPattern: values.path ?? fail('fail needs --path, a regular expression such as /capture$'), method: values.method, status, times: values.times ? Number(values.times) : 1, after: values.after ?? false });
      return console.log(`the next ${values.times ?? 1} ${values.method ?? 'any'} call(s) matching ${values.path} answer ${status}${values.after ? ' after doing the work' : ''}`);
    }
    case 'expire-tokens':
      await call(base, 'POST', '/tokens/expire');
      return console.log('every access token issued so far is expired');
    case 'dispute': {
      const id = third ?? fail('dispute needs a subcommand and an id: dispute open TXN | dispute update DISPUTE | dispute resolve DISPUTE --outcome seller|buyer');
      const path = { open: `/captures/${encodeURIComponent(id)}/disputes`, update: `/disputes/${encodeURIComponent(id)}/update`, resolve: `/disputes/${encodeURIComponent(id)}/resolve` }[arg ?? ''];
      if (!path) fail(`dispute ${arg ?? ''}: the subcommands are open, update and resolve.`);
      if (arg === 'resolve' && values.outcome !== 'seller' && values.outcome !== 'buyer') fail('dispute resolve needs --outcome seller or --outcome buyer.');
      const body = arg === 'open' ? { reason: values.reason, amount: values.amount } : arg === 'resolve' ? { outcome: values.outcome } : undefined;
      const changed = (await call(base, 'POST', path, body)) as { dispute: { id: string; status: string; outcome?: string }; report: unknown };
      console.log(`dispute ${changed.dispute.id} ${changed.dispute.status}${changed.dispute.outcome ? ` (for the ${changed.dispute.outcome})` : ''}`);
      return report(changed.report);
    }
    case 'list': {
      const listed = (await call(base, 'GET', '/payments')) as { waiting?: { key: string; url: string; attempts: number[]; nextAttemptAt: string }[] };
      console.log(JSON.stringify(listed, null, 2));
      const waiting = listed.waiting ?? [];
      console.log(waiting.length ? `${waiting.length} deliveries waiting:` : 'No delivery is waiting for another attempt.');
      for (const w of waiting) {
        console.log(`  ${w.key.replace(':', ' #')} -> ${w.url}: ${w.attempts.length} attempts (${w.attempts.map((s) => s || 'no answer').join(', ')}), next at ${w.nextAttemptAt}`);
      }
      return;
    }
    default:
      fail(`Unknown command "${command}".\n\n${usage}`);
  }
}

/** What a browser without JavaScript does: a request that does not follow redirects, so each step is seen. */
async function browse(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    return fail(`${init.method ?? 'GET'} ${url} had no answer (${(error as Error).message}); is Keyship (npm start) running at that address?`);
  }
}

const titleOf = (html: string) => /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim() ?? '(no title)';
const field = (html: string, name: string) => /value="([^"]*)"/.exec(new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0] ?? '')?.[1];
const unescape = (text: string) => text.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** A buyer's Orders v2 purchase through Keyship's pages and the simulator's approval page. */
async function checkout(base: string, input: { item: string; quantity: string; outcome: string; keyship: string }): Promise<void> {
  const buttons: Record<string, string> = { card: 'card', echeck: 'echeck', declined: 'declined', cancel: 'cancel', 'close-tab': 'close-tab' };
  const button = buttons[input.outcome] ?? fail(`--outcome ${input.outcome} is none of card, echeck, declined, cancel, close-tab.`);
  const started = await browse(`${input.keyship}/checkout/orders`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ item_number: input.item, quantity: input.quantity }) });
  const approveUrl = started.headers.get('location');
  if (started.status !== 303 || !approveUrl) fail(`Keyship answered ${started.status} to POST /checkout/orders, not 303 to PayPal's approval page: ${titleOf(await started.text())}`);
  console.log(`Keyship created the order and sends the buyer to ${approveUrl}`);
  const page = await browse(approveUrl);
  const html = await page.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (page.status !== 200 || !action) fail(`The approval page answered ${page.status}: ${titleOf(html)}`);
  const orderId = new URL(approveUrl).searchParams.get('token') ?? '';
  const form = new URLSearchParams({ email: field(html, 'email') ?? '', given_name: unescape(field(html, 'given_name') ?? ''), surname: unescape(field(html, 'surname') ?? ''), action: button });
  const pressed = await browse(new URL(unescape(action), approveUrl).toString(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  let location = pressed.headers.get('location');
  if (!location) {
    console.log(`The approval page answered ${pressed.status}: ${titleOf(await pressed.text())}`);
  }
  // Follow Keyship's pages as a browser would (a few hops at most).
  for (let hop = 0; location && hop < 5; hop++) {
    console.log(`-> ${location}`);
    const shown = await browse(location);
    const next = shown.headers.get('location');
    if (shown.status >= 300 && shown.status < 400 && next) {
      location = new URL(next, location).toString();
      continue;
    }
    console.log(`Keyship answered ${shown.status}: ${titleOf(await shown.text())}`);
    location = null;
  }
  if (button === 'close-tab') console.log('The buyer closed the tab: Keyship learns of the approval from the CHECKOUT.ORDER.APPROVED webhook.');
  const state = (await call(base, 'GET', `/orders/${encodeURIComponent(orderId)}`)) as { order: { id: string; status: string }; capture?: { id: string; status: string; amount: string; currency: string } };
  console.log(`order ${state.order.id} ${state.order.status}${state.capture ? `, capture ${state.capture.id} ${state.capture.status} ${state.capture.amount} ${state.capture.currency}` : ', not captured'}`);
}

main().catch((error: Error) => fail(`simulate failed: ${error.message}`));
