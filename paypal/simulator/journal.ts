// What the simulator must not forget across a restart, as real PayPal does not: its signing
// identity, its payments, orders, disputes, access tokens and kept PayPal-Request-Id answers, every
// IPN and webhook it issued (postbacks and online verification
// compare against them) and the deliveries still to retry with their next attempt time. An
// append-only file of JSON lines under the data folder, compacted to the latest record of each
// thing when the simulator starts.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Environment, IssuedIpn, KeptAnswer, SentWebhook, SimDispute, SimOrder, SimPayment } from './ledger';

export interface StoredIdentity {
  certName: string;
  certificatePem: string;
  privateKeyPem: string;
}

export interface StoredDelivery {
  /** `ipn:<id>` or `webhook:<id>`, the message it delivers. */
  key: string;
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  attempts: number[];
  /** When the next attempt is due; undefined once delivered or given up. */
  nextAttemptAt?: Date;
}

type Entry =
  | { kind: 'identity'; identity: StoredIdentity }
  | { kind: 'payment'; payment: Omit<SimPayment, 'createdAt' | 'clearsAt'> & { createdAt: string; clearsAt?: string } }
  | { kind: 'ipn'; ipn: Omit<IssuedIpn, 'raw' | 'attempts'> & { raw: string } }
  | { kind: 'webhook'; webhook: Omit<SentWebhook, 'raw' | 'attempts'> & { raw: string } }
  | { kind: 'delivery'; delivery: Omit<StoredDelivery, 'body' | 'nextAttemptAt'> & { body: string; nextAttemptAt?: string } }
  | { kind: 'order'; order: SimOrder }
  | { kind: 'dispute'; dispute: SimDispute }
  | { kind: 'answer'; answer: KeptAnswer }
  | { kind: 'token'; token: StoredToken };

export interface StoredToken {
  token: string;
  expiresAt: number;
}

export interface JournalState {
  identity?: StoredIdentity;
  payments: SimPayment[];
  ipns: IssuedIpn[];
  webhooks: SentWebhook[];
  deliveries: StoredDelivery[];
  orders: SimOrder[];
  disputes: SimDispute[];
  answers: KeptAnswer[];
  tokens: StoredToken[];
}

const keyOf = (entry: Entry): string => {
  switch (entry.kind) {
    case 'identity':
      return 'identity';
    case 'payment':
      return `payment:${entry.payment.txnId}`;
    case 'ipn':
      return `ipn:${entry.ipn.id}`;
    case 'webhook':
      return `webhook:${entry.webhook.id}`;
    case 'delivery':
      return `delivery:${entry.delivery.key}`;
    case 'order':
      return `order:${entry.order.id}`;
    case 'dispute':
      return `dispute:${entry.dispute.id}`;
    case 'answer':
      return `answer:${entry.answer.key}`;
    case 'token':
      return `token:${entry.token.token}`;
  }
};

export class Journal {
  /** Open for appending for the simulator's life; an attempt that settles after close() is not kept, so it is made again after a restart, as PayPal would. */
  private fd: number | undefined;

  /** Reads what an earlier run wrote (a torn last line from a crash is skipped) and compacts it. */
  static open(dir: string): { journal: Journal; state: JournalState } {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'journal.jsonl');
    const latest = new Map<string, Entry>();
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as Entry;
          latest.set(keyOf(entry), entry);
        } catch {
          // A line cut short by a crash: everything before it stands.
        }
      }
    }
    const compacted = [...latest.values()].map((e) => `${JSON.stringify(e)}\n`).join('');
    writeFileSync(`${file}.tmp`, compacted);
    renameSync(`${file}.tmp`, file);
    return { journal: new Journal(file), state: stateOf([...latest.values()]) };
  }

  private constructor(file: string) {
    this.fd = openSync(file, 'a');
  }

  private append(entry: Entry): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    // PayPal keeps its word through a power cut; so does the simulator's record of what it owes.
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  identity(identity: StoredIdentity): void {
    this.append({ kind: 'identity', identity });
  }

  payment(p: SimPayment): void {
    this.append({ kind: 'payment', payment: { ...p, createdAt: p.createdAt.toISOString(), clearsAt: p.clearsAt?.toISOString() } });
  }

  ipn(i: IssuedIpn): void {
    const { attempts: _attempts, raw, ...rest } = i;
    this.append({ kind: 'ipn', ipn: { ...rest, raw: raw.toString('base64') } });
  }

  webhook(w: SentWebhook): void {
    const { attempts: _attempts, raw, ...rest } = w;
    this.append({ kind: 'webhook', webhook: { ...rest, raw: raw.toString('base64') } });
  }

  order(order: SimOrder): void {
    this.append({ kind: 'order', order });
  }

  dispute(dispute: SimDispute): void {
    this.append({ kind: 'dispute', dispute });
  }

  answer(answer: KeptAnswer): void {
    this.append({ kind: 'answer', answer });
  }

  token(token: StoredToken): void {
    this.append({ kind: 'token', token });
  }

  delivery(d: StoredDelivery): void {
    this.append({ kind: 'delivery', delivery: { ...d, body: d.body.toString('base64'), nextAttemptAt: d.nextAttemptAt?.toISOString() } });
  }
}

function stateOf(entries: Entry[]): JournalState {
  const state: JournalState = { payments: [], ipns: [], webhooks: [], deliveries: [], orders: [], disputes: [], answers: [], tokens: [] };
  for (const e of entries) {
    switch (e.kind) {
      case 'identity':
        state.identity = e.identity;
        break;
      case 'payment':
        state.payments.push({ ...e.payment, createdAt: new Date(e.payment.createdAt), clearsAt: e.payment.clearsAt ? new Date(e.payment.clearsAt) : undefined });
        break;
      case 'ipn':
        state.ipns.push({ ...e.ipn, environment: e.ipn.environment as Environment, raw: Buffer.from(e.ipn.raw, 'base64'), attempts: [] });
        break;
      case 'webhook':
        state.webhooks.push({ ...e.webhook, raw: Buffer.from(e.webhook.raw, 'base64'), attempts: [] });
        break;
      case 'delivery':
        state.deliveries.push({ ...e.delivery, body: Buffer.from(e.delivery.body, 'base64'), nextAttemptAt: e.delivery.nextAttemptAt ? new Date(e.delivery.nextAttemptAt) : undefined });
        break;
      case 'order':
        state.orders.push(e.order);
        break;
      case 'dispute':
        state.disputes.push(e.dispute);
        break;
      case 'answer':
        state.answers.push(e.answer);
        break;
      case 'token':
        state.tokens.push(e.token);
        break;
    }
  }
  state.ipns.sort((a, b) => a.id - b.id);
  state.webhooks.sort((a, b) => a.id - b.id);
  return state;
}
