// Purchases of every kind PayPal produces, made through the PayPal simulator at a steady rate while
// something else hurts the stack, and what each must end as: its invoice's final status and how
// many delivery e-mails its buyer gets.
import { randomUUID } from 'node:crypto';
import type { Pool } from '../db/pool';
import type { Simulator } from '../paypal/simulator/server';
import { invoiceStatus, type InvoiceStatus } from '../domain/invoice-status';

export type PurchaseKind = 'card' | 'echeck' | 'refund' | 'duplicate' | 'out-of-order' | 'webhook-first' | 'pending';

export interface Purchase {
  kind: PurchaseKind;
  email: string;
  txnId?: string;
  /** The final invoice status it must reach. */
  expect: InvoiceStatus;
  /** Delivery e-mails its buyer must get, exactly. */
  deliveries: 0 | 1;
  /** Set when making it threw (the simulator refused): a defect of the run, not of Keyship. */
  error?: string;
  /** Refunds: when the refund was sent (after the invoice was fulfilled). */
  refundedAt?: number;
}

/** Weights of each kind in a run (they need not add up to anything). */
const mix: [PurchaseKind, number][] = [
  ['card', 34],
  ['echeck', 20],
  ['refund', 12],
  ['duplicate', 12],
  ['out-of-order', 10],
  ['webhook-first', 7],
  ['pending', 5],
];

/** A deterministic mix: purchase i's kind depends only on i, so runs of one size compare. */
export function kindOf(i: number): PurchaseKind {
  const total = mix.reduce((sum, [, w]) => sum + w, 0);
  // A golden-ratio walk spreads every kind over the whole run.
  let point = ((i * 0.6180339887) % 1) * total;
  for (const [kind, weight] of mix) {
    if (point < weight) return kind;
    point -= weight;
  }
  return 'card';
}

// Names with what real buyers have: accents, apostrophes, and SQL and mail meta-characters.
const firstNames = ['Zoë', "O'Brien", 'Ada', 'José', 'Ærøskøbing', 'Robert"); DROP TABLE accounts;--', 'Ünal'];

export function makePurchase(i: number): Purchase {
  const kind = kindOf(i);
  const email = `chaos${i}.${randomUUID().slice(0, 8)}@buyer.test`;
  switch (kind) {
    case 'refund':
      return { kind, email, expect: invoiceStatus.refunded, deliveries: 1 };
    case 'pending':
      return { kind, email, expect: invoiceStatus.awaiting_payment, deliveries: 0 };
    default:
      return { kind, email, expect: invoiceStatus.fulfilled, deliveries: 1 };
  }
}

const item = { itemNumber: 'GUIDE-1', itemName: 'Field Guide', amount: '19.95' };

/** Makes the purchase through the simulator; refunds wait (in the background) for their delivery first. */
export async function runPurchase(sim: Simulator, pool: Pool, p: Purchase, i: number, deadline: number): Promise<void> {
  const payer = { email: p.email, firstName: firstNames[i % firstNames.length], lastName: 'Müller' };
  const charset = i % 3 === 0 ? 'utf-8' : 'windows-1252';
  try {
    switch (p.kind) {
      case 'card':
      case 'refund':
        p.txnId = (await sim.pay({ items: [item], payer, charset, webhooks: i % 4 === 0 })).txnId;
        break;
      case 'echeck':
        p.txnId = (await sim.pay({ method: 'echeck', items: [item], payer, charset, clearAfterMs: 1_000 + (i % 20) * 1_000, webhooks: false })).txnId;
        break;
      case 'pending':
        p.txnId = (await sim.pay({ method: 'echeck', items: [item], payer, charset, webhooks: false })).txnId;
        break;
      case 'out-of-order':
        p.txnId = (await sim.pay({ method: 'echeck', outOfOrder: true, items: [item], payer, charset })).txnId;
        break;
      case 'webhook-first':
        p.txnId = (await sim.pay({ items: [item], payer, charset, webhookFirst: true })).txnId;
        break;
      case 'duplicate': {
        const sent = await sim.pay({ items: [item], payer, charset, webhooks: false });
        p.txnId = sent.txnId;
        const ipnId = sent.ipns[0]?.id;
        // PayPal's resends: some at once (while the first may still be in flight), one later.
        if (ipnId !== undefined) {
          await Promise.all([sim.resend(ipnId), sim.resend(ipnId), sim.resend(ipnId)]);
          setTimeout(() => void sim.resend(ipnId).catch(() => undefined), 3_000).unref();
        }
        break;
      }
    }
  } catch (error) {
    p.error = (error as Error).message;
    return;
  }
  if (p.kind === 'refund' && p.txnId) {
    const txnId = p.txnId;
    while (Date.now() < deadline) {
      const status = await storedStatus(pool, txnId).catch(() => undefined);
      if (status === invoiceStatus.fulfilled) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    try {
      await sim.refund(txnId);
      p.refundedAt = Date.now();
    } catch (error) {
      p.error = `refund: ${(error as Error).message}`;
    }
  }
}

export async function storedStatus(pool: Pool, txnId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM invoices WHERE txn_id = $1', [txnId]);
  return rows[0]?.status;
}
