// `npm run simulate -- <command>`: drives the local PayPal simulator (which must be running: `npm
// start` with PAYPAL_MODE=simulator) to send Keyship PayPal's messages, byte for byte.
import { parseArgs } from 'node:util';
import { demoPackage } from '../catalog/demo-seed';

const usage = `npm run simulate -- <command> [options]

Payments (the simulator sends the IPN, and a signed webhook, to Keyship):
  card         [--item NUMBER[:PRICE[:QTY]]]... [--currency USD] [--email ADDR] [--first-name N] [--last-name N]
               [--charset windows-1252|utf-8] [--sandbox] [--no-webhooks] [--webhook-first] [--custom TEXT] [--business ADDR]
  echeck       same options, and [--clear-after 30s|never]    (Pending now, Completed after the delay)
  out-of-order same options as card: an eCheck whose Completed IPN arrives before its Pending one
  forged       same options as card: an IPN PayPal never sent (the postback answers INVALID)
Later events about a payment:
  clear TXN                          clear a pending eCheck now
  refund TXN [--amount 5.00]         Refunded IPN (+ PAYMENT.CAPTURE.REFUNDED)
  reverse TXN [--reason chargeback]  Reversed IPN (+ PAYMENT.CAPTURE.REVERSED)
  cancel-reversal TXN                Canceled_Reversal IPN
  duplicate IPN_ID                   send an IPN already sent once more, byte for byte
  list                               payments, IPNs and webhooks sent, with their HTTP answers, and the
                                     deliveries still waiting with their next attempt time

Several --item make a cart. Without --item the item is the demo package ${demoPackage.itemNumber} at
${demoPackage.price} ${demoPackage.currency}; any other item needs its price (--item KS-2:19.95).
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
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

main().catch((error: Error) => fail(`simulate failed: ${error.message}`));
