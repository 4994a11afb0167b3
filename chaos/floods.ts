// Scenario 2: floods at the IPN listener. (a) One IPN posted many times at once must make one
// invoice. (b) Distinct, genuine IPNs at a fixed offered rate (open loop: the sender does not wait
// for answers) must lose none: a message counts as lost only when it was answered 2xx and yet not
// stored, or stored as verified and yet not in its workflow. Messages answered non-2xx are posted
// again afterwards, as PayPal resends them, until each is acknowledged.
import { createHash } from 'node:crypto';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import type { ChaosStack } from './stack';
import { storedStatus } from './purchases';
import { waitFor } from './stack';
import { invoiceStatus } from '../domain/invoice-status';

export interface FloodPlan {
  sameIpnCopies: number;
  perSecond: number;
  seconds: number;
}

export const fullFloods: FloodPlan = { sameIpnCopies: 100, perSecond: 500, seconds: 10 };
export const shortFloods: FloodPlan = { sameIpnCopies: 100, perSecond: 50, seconds: 3 };

export interface SameIpnResult {
  copies: number;
  /** Copies posted in all, PayPal's resends of unacknowledged ones included: each is stored. */
  posts: number;
  answers: Record<string, number>;
  stored: number;
  routed: number;
  duplicates: number;
  invoices: number;
  deliveryMails: number;
}

export interface RateFloodResult {
  offeredPerSecond: number;
  seconds: number;
  sent: number;
  /** Messages answered 2xx per second of the flood (what the api sustained). */
  acknowledgedPerSecond: number;
  answers: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  stored: number;
  verified: number;
  routedAfterFlood: number;
  resendRounds: number;
  routedAfterResends: number;
  workflowsFound: number;
  sampledHistories: number;
  sampledHistoriesWithSignal: number;
  lost: number;
}

export interface FloodsResult {
  sameIpn: SameIpnResult;
  rate: RateFloodResult;
  problems: string[];
}

const item = { itemNumber: 'GUIDE-1', itemName: 'Field Guide', amount: '19.95' };
const md5 = (raw: Buffer) => createHash('md5').update(raw).digest('hex');

async function post(url: string, raw: Buffer): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: raw, signal: AbortSignal.timeout(30_000) });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - t0 };
  } catch {
    return { status: 0, ms: performance.now() - t0 };
  }
}

function count(statuses: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

const ok = (status: number) => status >= 200 && status < 300;

export async function sameIpnFlood(stack: ChaosStack, copies: number): Promise<SameIpnResult> {
  const email = `flood-same.${Date.now()}@buyer.test`;
  const ipnUrl = `${stack.apiUrl}/paypal/ipn`;
  const { txnId, raw } = stack.sim.prepare({ items: [item], payer: { email }, notifyUrl: ipnUrl, webhooks: false });
  let answers = await Promise.all(Array.from({ length: copies }, () => post(ipnUrl, raw)));
  let posts = copies;
  // PayPal resends what was not acknowledged (a shed copy: stored, answered 503).
  for (let round = 0; round < 5 && answers.some((a) => !ok(a.status)); round++) {
    posts += answers.filter((a) => !ok(a.status)).length;
    answers = await Promise.all(answers.map((a) => (ok(a.status) ? a : post(ipnUrl, raw))));
  }
  const rows = await stack.pool.query<{ outcome: string; n: string }>('SELECT outcome, count(*) AS n FROM paypal_messages WHERE md5(raw_body) = $1 GROUP BY outcome', [md5(raw)]);
  const outcomes = Object.fromEntries(rows.rows.map((r) => [r.outcome, Number(r.n)]));
  await waitFor(async () => (await storedStatus(stack.pool, txnId)) === invoiceStatus.fulfilled, 120_000, `the flooded IPN's invoice (${txnId}) was not fulfilled within 2 minutes`).catch(() => undefined);
  const invoices = Number((await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM invoices WHERE txn_id = $1', [txnId])).rows[0]?.n ?? 0);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return {
    copies,
    posts,
    answers: count(answers.map((a) => a.status)),
    stored: Object.values(outcomes).reduce((a, b) => a + b, 0),
    routed: outcomes.routed ?? 0,
    duplicates: outcomes.duplicate ?? 0,
    invoices,
    deliveryMails: stack.smtp.messages.filter((m) => m.envelope.to.includes(email) && /^Your download:/.test(m.parsed.subject ?? '')).length,
  };
}

export async function rateFlood(stack: ChaosStack, plan: FloodPlan, log: (line: string) => void): Promise<RateFloodResult> {
  const ipnUrl = `${stack.apiUrl}/paypal/ipn`;
  const total = plan.perSecond * plan.seconds;
  const messages = Array.from({ length: total }, (_, i) =>
    stack.sim.prepare({ items: [item], payer: { email: `flood${i}.${Date.now()}@buyer.test` }, notifyUrl: ipnUrl, webhooks: false }),
  );
  const answers: { status: number; ms: number }[] = new Array(total);
  const inFlight: Promise<void>[] = [];
  const tickMs = 20;
  const perTick = (plan.perSecond * tickMs) / 1000;
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / tickMs + 1) * perTick));
    for (; sent < due; sent++) {
      const i = sent;
      inFlight.push(post(ipnUrl, messages[i]!.raw).then((a) => void (answers[i] = a)));
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  const sendSeconds = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  const allSeconds = (performance.now() - started) / 1000;
  const acknowledged = answers.filter((a) => ok(a.status)).length;
  const latencies = answers.map((a) => a.ms).sort((a, b) => a - b);
  const firstAnswers = count(answers.map((a) => a.status));
  log(`rate flood: ${total} IPNs offered at ${plan.perSecond}/s (sent in ${sendSeconds.toFixed(1)} s, all answered after ${allSeconds.toFixed(1)} s): ${JSON.stringify(firstAnswers)}`);

  const digests = messages.map((m) => md5(m.raw));
  const storedRows = async () =>
    (
      await stack.pool.query<{ d: string; verification: string; outcome: string; workflow_id: string | null }>(
        'SELECT md5(raw_body) AS d, verification, outcome, workflow_id FROM paypal_messages WHERE md5(raw_body) = ANY($1)',
        [digests],
      )
    ).rows;
  const afterFlood = await storedRows();
  const storedSet = new Set(afterFlood.map((r) => r.d));
  const routedAfterFlood = new Set(afterFlood.filter((r) => r.outcome === 'routed').map((r) => r.d)).size;
  const lostAtOnce = messages.filter((m, i) => ok(answers[i]!.status) && !storedSet.has(digests[i]!)).length;

  // PayPal's resends of what was not acknowledged: at most 50 at a time, as PayPal spreads them out.
  let pending = messages.map((m, i) => i).filter((i) => !ok(answers[i]!.status));
  let rounds = 0;
  while (pending.length > 0 && rounds < 10) {
    rounds += 1;
    const failed: number[] = [];
    let next = 0;
    const lane = async () => {
      for (let k = next++; k < pending.length; k = next++) {
        const i = pending[k]!;
        if (!ok((await post(ipnUrl, messages[i]!.raw)).status)) failed.push(i);
      }
    };
    await Promise.all(Array.from({ length: 50 }, lane));
    pending = failed;
    if (pending.length) await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const final = await storedRows();
  const routed = new Map(final.filter((r) => r.outcome === 'routed' || r.outcome === 'duplicate').map((r) => [r.d, r]));
  const verified = new Set(final.filter((r) => r.verification === 'verified').map((r) => r.d)).size;

  // Every routed message's workflow exists, and a sample of their histories holds the signal.
  let workflowsFound = 0;
  const txnIds = messages.map((m) => m.txnId);
  for (let at = 0; at < txnIds.length; at += 50) {
    const found = await Promise.all(
      txnIds.slice(at, at + 50).map((txn) =>
        stack.temporal.workflow
          .getHandle(invoiceWorkflowId(txn))
          .describe()
          .then(() => 1, () => 0),
      ),
    );
    workflowsFound += found.reduce<number>((a, b) => a + b, 0);
  }
  let sampledHistoriesWithSignal = 0;
  const sample = txnIds.filter((_, i) => i % Math.max(1, Math.floor(total / 20)) === 0);
  for (const txn of sample) {
    const history = await stack.temporal.workflow.getHandle(invoiceWorkflowId(txn)).fetchHistory().catch(() => undefined);
    if (history?.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'paypalNotification')) sampledHistoriesWithSignal += 1;
  }
  const notInWorkflow = messages.filter((m, i) => !routed.has(digests[i]!)).length;
  return {
    offeredPerSecond: plan.perSecond,
    seconds: plan.seconds,
    sent: total,
    acknowledgedPerSecond: Math.round(acknowledged / allSeconds),
    answers: firstAnswers,
    p50Ms: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
    p99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
    stored: storedSet.size,
    verified,
    routedAfterFlood,
    resendRounds: rounds,
    routedAfterResends: routed.size,
    workflowsFound,
    sampledHistories: sample.length,
    sampledHistoriesWithSignal,
    lost: lostAtOnce + notInWorkflow,
  };
}

export async function runFloods(stack: ChaosStack, plan: FloodPlan, log: (line: string) => void): Promise<FloodsResult> {
  const sameIpn = await sameIpnFlood(stack, plan.sameIpnCopies);
  log(`same IPN x${sameIpn.copies}: answers ${JSON.stringify(sameIpn.answers)}, stored ${sameIpn.stored}, routed ${sameIpn.routed}, invoices ${sameIpn.invoices}, delivery e-mails ${sameIpn.deliveryMails}`);
  const rate = await rateFlood(stack, plan, log);
  log(`rate flood: ${JSON.stringify(rate)}`);
  const problems: string[] = [];
  if (sameIpn.stored !== sameIpn.posts) problems.push(`the same IPN posted ${sameIpn.posts} times (${sameIpn.copies} at once, then resends) was stored ${sameIpn.stored} times`);
  if (sameIpn.routed !== 1) problems.push(`the same IPN posted ${sameIpn.copies} times was routed ${sameIpn.routed} times`);
  if (sameIpn.invoices !== 1) problems.push(`the same IPN posted ${sameIpn.copies} times made ${sameIpn.invoices} invoices`);
  if (sameIpn.deliveryMails !== 1) problems.push(`the same IPN posted ${sameIpn.copies} times sent ${sameIpn.deliveryMails} delivery e-mails`);
  if (rate.lost > 0) problems.push(`${rate.lost} of ${rate.sent} flooded IPNs were lost`);
  if (rate.workflowsFound !== rate.sent) problems.push(`${rate.sent - rate.workflowsFound} flooded IPNs have no workflow`);
  if (rate.sampledHistoriesWithSignal < rate.sampledHistories) problems.push(`${rate.sampledHistories - rate.sampledHistoriesWithSignal} of ${rate.sampledHistories} sampled workflow histories lack the paypalNotification signal`);
  return { sameIpn, rate, problems };
}
