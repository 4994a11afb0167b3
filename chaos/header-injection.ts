// CR/LF in the buyer's names (and in their e-mail address and the item name), through a genuine
// PayPal purchase, must not reach the headers of any e-mail Keyship sends: no extra recipient, no
// injected header, nothing but the buyer's address in the envelope.
import type { CapturedMail, SmtpCapture } from '../test/harness/smtp';
import type { Simulator } from '../paypal/simulator/server';
import type { Pool } from '../db/pool';
import { storedStatus } from './purchases';

export interface HeaderInjectionResult {
  purchases: number;
  /** Final invoice status of each purchase (e.g. fulfilled, or needs_review for an unusable address). */
  statuses: (string | undefined)[];
  mails: number;
  /** Of the two buyers with valid addresses, how many got their delivery e-mail. */
  delivered: number;
  /** Envelope recipients other than the buyers' own addresses. */
  strayRecipients: string[];
  /** Header lines that came from the buyer's input. */
  injectedHeaders: string[];
}

const victim = 'victim@evil.test';
/** OPERATOR_EMAIL's default, which the chaos stack keeps. */
const operatorAddress = 'operator@keyship.localhost';

function headerSection(mail: CapturedMail): string[] {
  const raw = mail.raw.toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  // Folded continuation lines belong to the header above them.
  return raw.slice(0, end < 0 ? raw.length : end).split(/\r\n(?![ \t])/);
}

export async function headerInjection(sim: Simulator, pool: Pool, smtp: SmtpCapture, deadlineMs = 60_000): Promise<HeaderInjectionResult> {
  const tag = Date.now().toString(36);
  const buyers = [
    { email: `crlf1.${tag}@buyer.test`, firstName: `Eve\r\nBcc: ${victim}`, lastName: 'X\r\nSubject: pwned' },
    { email: `crlf2.${tag}@buyer.test`, firstName: 'Eve\nBcc: victim@evil.test\n\nbody', lastName: '\r\n\r\nInjected body' },
    { email: `crlf3.${tag}@buyer.test\r\nBcc: ${victim}`, firstName: 'Mallory', lastName: 'Header' },
  ];
  const txnIds: string[] = [];
  for (const payer of buyers) {
    const sent = await sim.pay({ items: [{ itemNumber: 'GUIDE-1', itemName: 'Field Guide\r\nBcc: victim@evil.test', amount: '19.95' }], payer, charset: 'utf-8', custom: 'x\r\nBcc: victim@evil.test', webhooks: false });
    txnIds.push(sent.txnId);
  }
  const deadline = Date.now() + deadlineMs;
  const delivered = () => buyers.slice(0, 2).filter((b) => smtp.messages.some((m) => m.envelope.to.includes(b.email) && /^Your download:/.test(m.parsed.subject ?? ''))).length;
  const statuses = async () => Promise.all(txnIds.map((txn) => storedStatus(pool, txn).catch(() => undefined)));
  // The third address is not one (it holds a header); its invoice may stop anywhere but must not mail a stranger.
  while (Date.now() < deadline) {
    const now = await statuses();
    if (delivered() === 2 && now[2] !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // anything the third purchase would still send
  const mine = smtp.messages.filter((m) => m.envelope.to.some((to) => to.includes(tag) || to === victim) || (m.parsed.text ?? '').includes(tag));
  // The buyers' own addresses (the third one's up to its line break) and the operator's alerts.
  const own = new Set([...buyers.map((b) => b.email.split(/[\r\n]/)[0]!.toLowerCase()), operatorAddress]);
  const strayRecipients = mine.flatMap((m) => m.envelope.to).filter((to) => !own.has(to.toLowerCase()));
  const injectedHeaders = mine.flatMap(headerSection).filter((line) => /^(bcc|subject:\s*pwned|injected)/i.test(line) || line.includes(victim));
  return { purchases: buyers.length, statuses: await statuses(), mails: mine.length, delivered: delivered(), strayRecipients, injectedHeaders };
}
