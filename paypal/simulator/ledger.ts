// The simulator's memory: its payments and every IPN it has issued (the exact bytes, which is all
// _notify-validate compares), per PayPal environment; and for PayPal Checkout (Orders v2) its orders,
// disputes, access tokens and the answers it keeps for PayPal-Request-Id.
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
  status: 'Pending' | 'Completed' | 'Declined' | 'Refunded' | 'Reversed' | 'Canceled_Reversal';
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
  children: SimChild[];
  /** Set when the payment is the capture of an Orders v2 order (its txnId is the capture id). */
  orderId?: string;
}

export interface SimChild {
  txnId: string;
  status: SimPayment['status'];
  /** Signed: negative for money back to the buyer. */
  gross: string;
  reasonCode: string;
  /** ISO time it was made (absent on records from before Orders v2). */
  at?: string;
  noteToPayer?: string;
}

export type ApprovalOutcome = 'card' | 'echeck' | 'declined';

/** An Orders v2 order; times are ISO strings, the purchase unit is kept as the seller sent it. */
export interface SimOrder {
  id: string;
  status: 'CREATED' | 'APPROVED' | 'COMPLETED';
  createTime: string;
  updateTime: string;
  unit: PurchaseUnit;
  returnUrl?: string;
  cancelUrl?: string;
  brandName?: string;
  /** The seller's PayPal address (the order's payee). */
  business: string;
  approval?: {
    outcome: ApprovalOutcome;
    closeTab: boolean;
    payer: { email: string; givenName: string; surname: string; payerId: string };
  };
  /** The capture (its SimPayment's txnId) once captured. */
  captureId?: string;
}

export interface Money {
  currency_code: string;
  value: string;
}

export interface PurchaseUnit {
  reference_id: string;
  amount: Money & { breakdown?: Record<string, Money> };
  items?: { name: string; quantity: string; unit_amount: Money; sku?: string; description?: string; category?: string; tax?: Money }[];
  custom_id?: string;
  invoice_id?: string;
  description?: string;
  soft_descriptor?: string;
}

export interface SimDispute {
  id: string;
  captureId: string;
  reason: string;
  status: 'OPEN' | 'WAITING_FOR_SELLER_RESPONSE' | 'UNDER_REVIEW' | 'RESOLVED';
  stage: 'INQUIRY' | 'CHARGEBACK';
  amount: Money;
  outcome?: 'seller' | 'buyer';
  createTime: string;
  updateTime: string;
}

/** A REST answer kept for its PayPal-Request-Id: the same request again gets it again. */
export interface KeptAnswer {
  key: string;
  status: number;
  body: string;
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
  readonly orders = new Map<string, SimOrder>();
  readonly disputes = new Map<string, SimDispute>();
  readonly answers = new Map<string, KeptAnswer>();
  /** Access tokens and when each stops working (epoch ms). */
  readonly tokens = new Map<string, number>();
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
    for (const o of restored?.orders ?? []) this.orders.set(o.id, o);
    for (const d of restored?.disputes ?? []) this.disputes.set(d.id, d);
    for (const a of restored?.answers ?? []) this.answers.set(a.key, a);
    for (const t of restored?.tokens ?? []) this.tokens.set(t.token, t.expiresAt);
  }

  saveOrder(order: SimOrder): void {
    this.orders.set(order.id, order);
    this.journal?.order(order);
  }

  saveDispute(dispute: SimDispute): void {
    this.disputes.set(dispute.id, dispute);
    this.journal?.dispute(dispute);
  }

  keepAnswer(answer: KeptAnswer): void {
    this.answers.set(answer.key, answer);
    this.journal?.answer(answer);
  }

  saveToken(token: string, expiresAt: number): void {
    this.tokens.set(token, expiresAt);
    this.journal?.token({ token, expiresAt });
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
