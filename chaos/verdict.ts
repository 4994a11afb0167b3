// What a chaos run left behind, judged: each invoice's final status, delivery e-mails counted in
// the SMTP capture, accounts, keys, and every IPN the simulator sent against what Postgres kept.
import { createHash } from 'node:crypto';
import type { Pool } from '../db/pool';
import type { Simulator } from '../paypal/simulator/server';
import type { CapturedMail } from '../test/harness/smtp';
import type { Purchase } from './purchases';
import { invoiceStanding, invoiceStatuses, returnedStatuses, sqlList } from '../domain/invoice-status';

/** Statuses whose payment never cleared: no key may ever have been issued for them. */
const neverClearedStatuses = invoiceStatuses.filter((s) => {
  const { standing } = invoiceStanding(s);
  return standing === 'unpaid' || (standing === 'withdrawn' && !returnedStatuses.includes(s));
});

export interface Verdict {
  purchases: number;
  makeErrors: string[];
  wrongStatus: { txnId?: string; kind: string; expected: string; actual?: string }[];
  /** Purchases whose buyer got other than the expected number of delivery e-mails. */
  wrongDeliveries: { txnId?: string; kind: string; expected: number; got: number; sameMessageId: boolean }[];
  invoicesPerTxn: { txnId: string; invoices: number }[];
  duplicateAccounts: number;
  keysWithoutInvoice: number;
  keysOnUnpaidInvoices: number;
  /** Delivery e-mails whose keys are not stored (by SHA-256) for that buyer's invoice. */
  mailedKeysNotStored: number;
  /** Delivery e-mails in which no key link was found (the key checks would pass on them vacuously). */
  deliveriesWithoutKeys: number;
  ipnsSent: number;
  ipnsStored: number;
  /** IPNs PayPal (the simulator) sent that Postgres never kept and that never got a 2xx either way. */
  ipnsLost: number;
  /** IPNs whose every delivery attempt failed (PayPal would go on resending): neither stored nor acknowledged. */
  ipnsUndelivered: number;
  httpAnswers: Record<string, number>;
  deliveryMails: number;
}

export function isDelivery(mail: CapturedMail): boolean {
  return /^Your download:/.test(mail.parsed.subject ?? '');
}

export function keysOf(mail: CapturedMail, apiUrl: string): string[] {
  const text = mail.parsed.text ?? '';
  const prefix = apiUrl.replace(/[.:/]/g, '\\$&');
  return [...text.matchAll(new RegExp(`${prefix}/d/([A-Za-z0-9_-]{43})`, 'g'))].map((m) => m[1]!);
}

/** True when every purchase has reached what it must (status and e-mails); the run may stop waiting. */
export async function settled(pool: Pool, purchases: Purchase[], mails: CapturedMail[]): Promise<boolean> {
  const { rows } = await pool.query<{ txn_id: string; status: string }>('SELECT txn_id, status FROM invoices');
  const status = new Map(rows.map((r) => [r.txn_id, r.status]));
  const deliveredTo = new Set(mails.filter(isDelivery).flatMap((m) => m.envelope.to));
  return purchases.every((p) => p.error !== undefined || (p.txnId !== undefined && status.get(p.txnId) === p.expect && (p.deliveries === 0 || deliveredTo.has(p.email))));
}

export async function judge(pool: Pool, sim: Simulator, mails: CapturedMail[], purchases: Purchase[], apiUrl: string): Promise<Verdict> {
  const invoices = await pool.query<{ id: number; txn_id: string; status: string }>('SELECT id, txn_id, status FROM invoices');
  const byTxn = new Map<string, { id: number; status: string }[]>();
  for (const row of invoices.rows) byTxn.set(row.txn_id, [...(byTxn.get(row.txn_id) ?? []), row]);

  const deliveries = mails.filter(isDelivery);
  const wrongStatus: Verdict['wrongStatus'] = [];
  const wrongDeliveries: Verdict['wrongDeliveries'] = [];
  let mailedKeysNotStored = 0;
  let deliveriesWithoutKeys = 0;
  const storedHashes = await pool.query<{ txn_id: string; key_hash: Buffer }>('SELECT i.txn_id, k.key_hash FROM download_keys k JOIN invoices i ON i.id = k.invoice_id');
  const hashesOf = new Map<string, Set<string>>();
  for (const row of storedHashes.rows) hashesOf.set(row.txn_id, (hashesOf.get(row.txn_id) ?? new Set()).add(row.key_hash.toString('hex')));

  for (const p of purchases) {
    if (p.error !== undefined) continue;
    const actual = p.txnId ? byTxn.get(p.txnId)?.[0]?.status : undefined;
    if (actual !== p.expect) wrongStatus.push({ txnId: p.txnId, kind: p.kind, expected: p.expect, actual });
    const mine = deliveries.filter((m) => m.envelope.to.includes(p.email));
    if (mine.length !== p.deliveries) {
      const ids = new Set(mine.map((m) => m.parsed.messageId));
      wrongDeliveries.push({ txnId: p.txnId, kind: p.kind, expected: p.deliveries, got: mine.length, sameMessageId: ids.size === 1 });
    }
    const stored = (p.txnId && hashesOf.get(p.txnId)) || new Set<string>();
    for (const mail of mine) {
      const keys = keysOf(mail, apiUrl);
      if (keys.length === 0) deliveriesWithoutKeys += 1;
      for (const key of keys) if (!stored.has(createHash('sha256').update(key).digest('hex'))) mailedKeysNotStored += 1;
    }
  }

  const invoicesPerTxn = [...byTxn].filter(([, rows]) => rows.length > 1).map(([txnId, rows]) => ({ txnId, invoices: rows.length }));
  const duplicateAccounts = Number(
    (await pool.query<{ n: string }>('SELECT count(*) AS n FROM (SELECT lower(email) FROM accounts GROUP BY 1 HAVING count(*) > 1) d')).rows[0]?.n ?? 0,
  );
  const keysWithoutInvoice = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM download_keys k LEFT JOIN invoices i ON i.id = k.invoice_id WHERE i.id IS NULL')).rows[0]?.n ?? 0);
  const keysOnUnpaidInvoices = Number(
    (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM download_keys k JOIN invoices i ON i.id = k.invoice_id WHERE i.status IN (${sqlList(neverClearedStatuses)})`)).rows[0]?.n ?? 0,
  );

  // Every IPN the simulator issued (forged ones aside) against the raw bodies Postgres kept.
  const stored = new Set((await pool.query<{ d: string }>("SELECT DISTINCT md5(raw_body) AS d FROM paypal_messages WHERE channel = 'ipn'")).rows.map((r) => r.d));
  const httpAnswers: Record<string, number> = {};
  let ipnsSent = 0;
  let ipnsStored = 0;
  let ipnsLost = 0;
  let ipnsUndelivered = 0;
  for (const ipn of sim.ledger.ipns) {
    if (ipn.forged) continue;
    ipnsSent += 1;
    for (const status of ipn.attempts) httpAnswers[status] = (httpAnswers[status] ?? 0) + 1;
    const kept = stored.has(createHash('md5').update(ipn.raw).digest('hex'));
    if (kept) ipnsStored += 1;
    const acknowledged = ipn.attempts.some((s) => s >= 200 && s < 300);
    if (!kept && acknowledged) ipnsLost += 1;
    if (!kept && !acknowledged) ipnsUndelivered += 1;
  }

  return {
    purchases: purchases.length,
    makeErrors: purchases.filter((p) => p.error !== undefined).map((p) => `${p.kind}: ${p.error}`),
    wrongStatus,
    wrongDeliveries,
    invoicesPerTxn,
    duplicateAccounts,
    keysWithoutInvoice,
    keysOnUnpaidInvoices,
    mailedKeysNotStored,
    deliveriesWithoutKeys,
    ipnsSent,
    ipnsStored,
    ipnsLost,
    ipnsUndelivered,
    httpAnswers,
    deliveryMails: deliveries.length,
  };
}

/** The problems in a verdict, one sentence each; empty when the run lost nothing. */
export function problemsIn(v: Verdict): string[] {
  const problems: string[] = [];
  if (v.makeErrors.length) problems.push(`${v.makeErrors.length} purchase(s) could not be made: ${v.makeErrors.slice(0, 3).join('; ')}`);
  if (v.wrongStatus.length) problems.push(`${v.wrongStatus.length} invoice(s) in the wrong final state: ${JSON.stringify(v.wrongStatus.slice(0, 5))}`);
  if (v.wrongDeliveries.length) problems.push(`${v.wrongDeliveries.length} buyer(s) got the wrong number of delivery e-mails: ${JSON.stringify(v.wrongDeliveries.slice(0, 5))}`);
  if (v.invoicesPerTxn.length) problems.push(`${v.invoicesPerTxn.length} payment(s) have more than one invoice`);
  if (v.duplicateAccounts) problems.push(`${v.duplicateAccounts} e-mail address(es) have more than one account`);
  if (v.keysWithoutInvoice) problems.push(`${v.keysWithoutInvoice} key(s) belong to no invoice`);
  if (v.keysOnUnpaidInvoices) problems.push(`${v.keysOnUnpaidInvoices} key(s) belong to unpaid invoices`);
  if (v.mailedKeysNotStored) problems.push(`${v.mailedKeysNotStored} mailed key(s) are not stored`);
  if (v.deliveriesWithoutKeys) problems.push(`${v.deliveriesWithoutKeys} delivery e-mail(s) hold no download link`);
  if (v.ipnsLost) problems.push(`${v.ipnsLost} IPN(s) were acknowledged but never stored`);
  if (v.ipnsUndelivered) problems.push(`${v.ipnsUndelivered} IPN(s) were never acknowledged nor stored (PayPal would still be resending)`);
  return problems;
}

/** Logs how the invoices stand every 15 s (prefixed with `when()`) until the returned stop is called. */
export function reportProgress(pool: Pool, purchases: Purchase[], mails: CapturedMail[], log: (line: string) => void, when: () => string = () => ''): () => void {
  const timer = setInterval(() => {
    void pool
      .query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM invoices GROUP BY status ORDER BY status')
      .then(({ rows }) => log(`${when()}${purchases.length} purchases made; invoices ${rows.map((r) => `${r.status} ${r.n}`).join(', ')}; ${mails.length} e-mails`))
      .catch(() => undefined);
  }, 15_000);
  return () => clearInterval(timer);
}

/** Waits, checking every second, until every purchase has settled or `deadline` (ms) passes; true when settled. */
export async function untilSettled(pool: Pool, purchases: Purchase[], mails: CapturedMail[], deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (await settled(pool, purchases, mails).catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return false;
}
