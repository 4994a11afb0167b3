// The simulator's memory: its payments and every IPN it has issued (the exact bytes, which is all
// _notify-validate compares), per PayPal environment.
import { createHash, randomBytes } from 'node:crypto';
import type { Journal, JournalState } from './journal';

export type Environment = 'live' | 'sandbox';

export interface SimItem {
  itemNumber: string;
  itemName: string;
  /** Unit price, decimal string. */
  amount: string;
  quantity: number;
}

export interface SimPayment {
  txnId: string;
  method: 'card' | 'echeck';
  environment: Environment;
  status: 'Pending' | 'Completed' | 'Refunded' | 'Reversed' | 'Canceled_Reversal';
  items: SimItem[];
  cart: boolean;
  currency: string;
  gross: string;
  business: string;
  receiverId: string;
  payer: { email: string; firstName: string; lastName: string; payerId: string };
  custom?: string;
  invoice?: string;
  charset: string;
  notifyUrl?: string;
  createdAt: Date;
  /** A pending eCheck set to clear by itself at this time. */
  clearsAt?: Date;
  /** Transactions made later about this payment (refund, reversal, ...): [txnId, status, amount]. */
  children: { txnId: string; status: SimPayment['status']; gross: string; reasonCode: string }[];
}

export interface IssuedIpn {
  id: number;
  txnId: string;
  environment: Environment;
  raw: Buffer;
  notifyUrl: string;
  /** HTTP statuses of each delivery attempt, in order (0: no answer). */
  attempts: number[];
  forged?: boolean;
}

export interface SentWebhook {
  id: number;
  eventId: string;
  eventType: string;
  transmissionId: string;
  signature: string;
  raw: Buffer;
  url: string;
  attempts: number[];
}

export function newTxnId(): string {
  // PayPal's transaction ids: 17 upper-case letters and digits.
  const alphabet = 'ABCDEFGHJKLMNPRSTUVWXY0123456789';
  return Array.from(randomBytes(17), (b) => alphabet[b % alphabet.length]).join('');
}

export class Ledger {
  readonly payments = new Map<string, SimPayment>();
  readonly ipns: IssuedIpn[] = [];
  readonly webhooks: SentWebhook[] = [];
  // Postbacks look IPNs up by their bytes' digest: a scan of every IPN ever issued made each
  // postback slower as a load test went on (thousands of IPNs a second).
  private readonly byDigest = new Map<string, IssuedIpn[]>();

  /** With a journal, what an earlier run issued is known again and all that is issued now is kept. */
  constructor(
    private readonly journal?: Journal,
    restored?: JournalState,
  ) {
    for (const p of restored?.payments ?? []) this.payments.set(p.txnId, p);
    for (const ipn of restored?.ipns ?? []) this.remember(ipn);
    this.webhooks.push(...(restored?.webhooks ?? []));
  }

  issueIpn(txnId: string, environment: Environment, raw: Buffer, notifyUrl: string, forged = false): IssuedIpn {
    const ipn: IssuedIpn = { id: this.ipns.length + 1, txnId, environment, raw, notifyUrl, attempts: [], forged };
    this.remember(ipn);
    this.journal?.ipn(ipn);
    return ipn;
  }

  private remember(ipn: IssuedIpn): void {
    this.ipns.push(ipn);
    const digest = createHash('sha256').update(ipn.raw).digest('hex');
    this.byDigest.set(digest, [...(this.byDigest.get(digest) ?? []), ipn]);
  }

  /** Records a payment as it stands now (after it was made or changed). */
  save(payment: SimPayment): void {
    this.payments.set(payment.txnId, payment);
    this.journal?.payment(payment);
  }

  addWebhook(webhook: SentWebhook): void {
    this.webhooks.push(webhook);
    this.journal?.webhook(webhook);
  }

  /** _notify-validate: VERIFIED only for the exact bytes of an IPN this environment issued. */
  knows(environment: Environment, raw: Buffer): boolean {
    const sameDigest = this.byDigest.get(createHash('sha256').update(raw).digest('hex')) ?? [];
    return sameDigest.some((ipn) => !ipn.forged && ipn.environment === environment && ipn.raw.equals(raw));
  }

  /** The payment a transaction id names, also when it is a refund's or reversal's own id. */
  findPayment(txnId: string): SimPayment | undefined {
    const direct = this.payments.get(txnId);
    if (direct) return direct;
    for (const payment of this.payments.values()) if (payment.children.some((c) => c.txnId === txnId)) return payment;
    return undefined;
  }
}
