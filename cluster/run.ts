// `npm run test:cluster`: Keyship in its production shape on the real Temporal server (Postgres
// persistence, SQL visibility), two api processes behind nginx and two worker processes, all from
// the compiled dist/. It measures purchases per second with one worker and with two, then keeps
// purchases of every kind flowing while a worker and an api are SIGKILLed and restarted, the
// Temporal server restarts, and both workers are rolled, one at a time, onto new workflow code (a
// patched() change). The verdict is the chaos suite's: nothing lost, nothing delivered twice.
// Exit 0 when the verdict is clean; the figures go to stdout and .test-artifacts/cluster/report.json.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { invoiceStatus } from '../domain/invoice-status';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import { makePurchase, runPurchase, type Purchase } from '../chaos/purchases';
import { isDelivery, judge, problemsIn, reportProgress, untilSettled } from '../chaos/verdict';
import { buildRolledBundle, rollPatchId } from './rolled-workflows';
import { startClusterStack, type ClusterStack, type Member } from './stack';

const root = path.resolve(__dirname, '..');
const logDir = path.join(root, '.test-artifacts', 'cluster');
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const plan = {
  /** Card purchases per throughput measurement, made with this many in flight at once. */
  throughputPurchases: 100,
  throughputConcurrency: 25,
  /** The purchases of every kind made while the stack is hurt, over this many seconds. */
  chaosPurchases: 120,
  chaosSeconds: 90,
  /** After the last purchase, how long everything may take to settle (a killed worker's activities wait out their one-minute timeout). */
  settleSeconds: 240,
};

interface Throughput {
  workers: number;
  purchases: number;
  seconds: number;
  perSecond: number;
  /** CPU seconds each part used during the measurement: where the time went. */
  cpuSeconds: Record<string, number>;
}

/** utime + stime of a process and its parent, from /proc (clock ticks of 1/100 s). */
function processStats(): Map<number, { parent: number; ticks: number }> {
  const stats = new Map<number, { parent: number; ticks: number }>();
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(name), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // gone
    }
  }
  return stats;
}

/** CPU ticks so far of each part of the stack (Postgres with its backends; this process holds the simulator and the SMTP capture). */
function cpuTicks(stack: ClusterStack): Record<string, number> {
  const stats = processStats();
  const of = (pids: number[]) => pids.reduce((sum, pid) => sum + (stats.get(pid)?.ticks ?? 0), 0);
  const postgres = [stack.postgresPid, ...[...stats].filter(([, s]) => s.parent === stack.postgresPid).map(([pid]) => pid)];
  const usage = process.cpuUsage();
  return {
    'Temporal server': of([stack.temporal.process().pid!]),
    Postgres: of(postgres),
    workers: of(stack.members.filter((m) => m.kind === 'worker').map((m) => m.child.pid!)),
    apis: of(stack.members.filter((m) => m.kind === 'api').map((m) => m.child.pid!)),
    'PayPal simulator and SMTP capture': Math.round((usage.user + usage.system) / 10_000),
  };
}

/** Card purchases as fast as the stack takes them; the time from the first payment to the last delivery e-mail. */
async function measure(stack: ClusterStack, workers: number, purchases: Purchase[], offset: number): Promise<Throughput> {
  const batch: Purchase[] = Array.from({ length: plan.throughputPurchases }, (_, i) => ({
    kind: 'card',
    email: `rate${workers}-${i}.${randomUUID().slice(0, 8)}@buyer.test`,
    expect: invoiceStatus.fulfilled,
    deliveries: 1,
  }));
  purchases.push(...batch);
  const emails = new Set(batch.map((p) => p.email));
  const t0 = Date.now();
  const cpuBefore = cpuTicks(stack);
  let next = 0;
  await Promise.all(
    Array.from({ length: plan.throughputConcurrency }, async () => {
      while (next < batch.length) {
        const i = next++;
        await runPurchase(stack.sim, stack.pool, batch[i]!, offset + i, Date.now() + 60_000);
      }
    }),
  );
  const delivered = () => new Set(stack.smtp.messages.filter((m) => isDelivery(m) && m.envelope.to.some((to) => emails.has(to))).flatMap((m) => m.envelope.to)).size;
  // Two minutes bound a hundred purchases on a busy machine (they take seconds when it is quiet).
  const deadline = Date.now() + 120_000;
  while (delivered() < batch.length) {
    if (Date.now() > deadline) throw new Error(`with ${workers} worker(s) only ${delivered()} of ${batch.length} purchases were delivered within 120 s; see ${logDir}`);
    await sleep(100);
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpuAfter = cpuTicks(stack);
  const cpuSeconds = Object.fromEntries(Object.entries(cpuAfter).map(([part, ticks]) => [part, Math.round(ticks - (cpuBefore[part] ?? 0)) / 100]));
  return { workers, purchases: batch.length, seconds: Math.round(seconds * 10) / 10, perSecond: Math.round((batch.length / seconds) * 10) / 10, cpuSeconds };
}

interface ChaosEvent {
  what: string;
  atSeconds: number;
  ms: number;
}

/** The stack's history for invoices: which ran the rolled code, which old runs the rolled workers took over. */
async function rollEvidence(stack: ClusterStack, purchases: Purchase[], rolledPids: number[], rollStartedAt: number) {
  let withPatchMarker = 0;
  let startedBeforeRollContinuedOnRolled = 0;
  const continuedOnRolled = new Set<string>();
  let nondeterminismFailures = 0;
  let checked = 0;
  for (const p of purchases) {
    if (!p.txnId) continue;
    let history: temporal.api.history.v1.IHistory;
    try {
      history = await stack.client.workflow.getHandle(invoiceWorkflowId(p.txnId)).fetchHistory();
    } catch {
      continue;
    }
    checked += 1;
    const events = history.events ?? [];
    const startedAt = Number(events[0]?.eventTime?.seconds ?? 0) * 1000;
    const marker = events.some((e) => e.markerRecordedEventAttributes && JSON.stringify(Object.values(e.markerRecordedEventAttributes.details ?? {}).map((d) => (d.payloads ?? []).map((x) => Buffer.from(x.data ?? []).toString()))).includes(rollPatchId));
    if (marker) withPatchMarker += 1;
    const takenOver = events.some((e) => e.workflowTaskStartedEventAttributes && rolledPids.some((pid) => e.workflowTaskStartedEventAttributes?.identity?.startsWith(`${pid}@`)));
    if (startedAt < rollStartedAt && takenOver) {
      startedBeforeRollContinuedOnRolled += 1;
      continuedOnRolled.add(p.txnId);
    }
    nondeterminismFailures += events.filter((e) => e.workflowTaskFailedEventAttributes && /nondetermin/i.test(e.workflowTaskFailedEventAttributes.failure?.message ?? '')).length;
  }
  return { checked, withPatchMarker, startedBeforeRollContinuedOnRolled, nondeterminismFailures, continuedOnRolled };
}

async function main(): Promise<number> {
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const buildStarted = Date.now();
  // --no-build reuses dist/ from an earlier `npm run build` (when only the test itself changed).
  if (!process.argv.includes('--no-build')) {
    log('npm run build: the api and worker run from dist/');
    // tsc and webpack on a shared two-core machine: minutes at worst; ten bound it.
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', timeout: 600_000 });
    if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.signal ?? build.status}):\n${build.stdout}\n${build.stderr}`);
  }
  const distSeconds = Math.round((Date.now() - buildStarted) / 1000);
  const rolledBundle = await buildRolledBundle();
  log(`dist/ built in ${distSeconds} s; the rolled workflow bundle is ready`);

  const stack = await startClusterStack({ logDir, log });
  const purchases: Purchase[] = [];
  const events: ChaosEvent[] = [];
  try {
    log(`Temporal server ${stack.temporal.serverVersion} on ${stack.temporal.address}; starting 2 apis and 1 worker`);
    await Promise.all([stack.startApi('api-1', 0), stack.startApi('api-2', 1)]);
    await stack.startWorker('worker-1');
    const one = await measure(stack, 1, purchases, 0);
    log(`1 worker: ${one.purchases} purchases in ${one.seconds} s, ${one.perSecond}/s; CPU s ${JSON.stringify(one.cpuSeconds)}`);
    await stack.startWorker('worker-2');
    const two = await measure(stack, 2, purchases, plan.throughputPurchases);
    log(`2 workers: ${two.purchases} purchases in ${two.seconds} s, ${two.perSecond}/s; CPU s ${JSON.stringify(two.cpuSeconds)}`);
    if (stack.unexpectedExits.length) throw new Error(`members died before the hurting began: ${JSON.stringify(stack.unexpectedExits)}`);

    // Purchases of every kind at a steady rate while the stack is hurt.
    const chaosStarted = Date.now();
    const deadline = chaosStarted + (plan.chaosSeconds + plan.settleSeconds) * 1000;
    const running: Promise<void>[] = [];
    const buying = (async () => {
      for (let i = 0; i < plan.chaosPurchases; i++) {
        const wait = chaosStarted + (i * plan.chaosSeconds * 1000) / plan.chaosPurchases - Date.now();
        if (wait > 0) await sleep(wait);
        const p = makePurchase(i);
        purchases.push(p);
        running.push(runPurchase(stack.sim, stack.pool, p, 1000 + i, deadline));
      }
    })();
    const member = (name: string): Member => {
      const found = stack.members.find((m) => m.name === name);
      if (!found) throw new Error(`${name} is not running`);
      return found;
    };
    const at = async (fraction: number, what: string, act: () => Promise<unknown>) => {
      const wait = chaosStarted + fraction * plan.chaosSeconds * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      const t = Date.now();
      log(what);
      await act();
      events.push({ what, atSeconds: Math.round((t - chaosStarted) / 100) / 10, ms: Date.now() - t });
    };
    let rollStartedAt = 0;
    const rolledPids: number[] = [];
    const rollProbes: Purchase[] = [];
    const hurting = (async () => {
      await at(0.1, 'worker-1 SIGKILL, then started again', async () => {
        await stack.kill(member('worker-1'));
        await stack.startWorker('worker-1');
      });
      await at(0.25, 'api-1 SIGKILL, then started again', async () => {
        await stack.kill(member('api-1'));
        await sleep(2_000);
        await stack.startApi('api-1', 0);
      });
      await at(0.4, 'Temporal server restart (SIGTERM, same databases)', () => stack.temporal.restart());
      await at(0.6, `rolling upgrade: worker-1 drained (SIGTERM) and replaced by one running the patched('${rollPatchId}') code`, async () => {
        // Runs sure to outlive the roll: eChecks that clear 30 s later, after both workers are new.
        const paying: Promise<void>[] = [];
        for (let k = 0; k < 3; k++) {
          const probe: Purchase = { kind: 'echeck', email: `roll${k}.${randomUUID().slice(0, 8)}@buyer.test`, expect: invoiceStatus.fulfilled, deliveries: 1 };
          purchases.push(probe);
          rollProbes.push(probe);
          paying.push(
            stack.sim.pay({ method: 'echeck', items: [{ itemNumber: 'GUIDE-1', itemName: 'Field Guide', amount: '19.95' }], payer: { email: probe.email }, clearAfterMs: 30_000, webhooks: false }).then(
              (sent) => void (probe.txnId = sent.txnId),
              (error: Error) => void (probe.error = error.message),
            ),
          );
        }
        running.push(...paying);
        await Promise.all(paying);
        rollStartedAt = Date.now();
        await stack.drain(member('worker-1'));
        rolledPids.push((await stack.startWorker('worker-1-rolled', rolledBundle)).child.pid!);
      });
      await at(0.7, 'rolling upgrade: worker-2 drained and replaced', async () => {
        await stack.drain(member('worker-2'));
        rolledPids.push((await stack.startWorker('worker-2-rolled', rolledBundle)).child.pid!);
      });
    })();
    const stopReporting = reportProgress(stack.pool, purchases, stack.smtp.messages, log);
    await Promise.all([buying, hurting]);
    await Promise.all(running);
    const done = await untilSettled(stack.pool, purchases, stack.smtp.messages, deadline);
    stopReporting();
    const settledSeconds = Math.round((Date.now() - chaosStarted) / 1000);
    // A late duplicate (a retry after a crash) would come within seconds of settling.
    await sleep(5_000);
    await stack.sim.idle();
    const verdict = await judge(stack.pool, stack.sim, stack.smtp.messages, purchases, stack.publicUrl);
    const problems = problemsIn(verdict);
    if (!done) problems.push(`not every purchase had settled ${plan.settleSeconds} s after the last one`);
    if (stack.unexpectedExits.length) problems.push(`${stack.unexpectedExits.length} member(s) died unasked: ${stack.unexpectedExits.map((e) => `${e.name} (${e.code ?? e.signal}): ${e.lastOutput.slice(-300)}`).join('; ')}`);
    const roll = await rollEvidence(stack, purchases, rolledPids, rollStartedAt);
    if (roll.withPatchMarker === 0) problems.push('no invoice recorded the rolled code\'s patch marker: the new code never ran');
    const probesLeft = rollProbes.filter((p) => !p.txnId || !roll.continuedOnRolled.has(p.txnId));
    if (probesLeft.length) problems.push(`${probesLeft.length} of ${rollProbes.length} eChecks started before the roll and cleared after it were not continued by a rolled worker: replay of old histories on new code was not exercised`);
    const pollers = await stack.pollers();
    if (!rolledPids.every((pid) => pollers.some((p) => p.startsWith(`${pid}@`)))) problems.push(`the rolled workers are not both polling at the end: ${pollers.join(', ')}`);

    const report = {
      machine: 'two cores shared with four other engineers\' builds and tests at the time of the run',
      temporalServer: stack.temporal.serverVersion,
      temporalServerBuildSeconds: stack.build.buildSeconds,
      distBuildSeconds: distSeconds,
      throughput: [one, two],
      chaos: { purchases: plan.chaosPurchases, overSeconds: plan.chaosSeconds, events, settledSeconds, settled: done },
      roll: { ...roll, continuedOnRolled: roll.continuedOnRolled.size },
      verdict,
      problems,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    writeFileSync(path.join(logDir, 'report.json'), JSON.stringify(report, null, 2));
    log(`verdict: ${verdict.purchases} purchases, ${verdict.deliveryMails} delivery e-mails, ${verdict.ipnsSent} IPNs sent / ${verdict.ipnsStored} stored; HTTP answers to PayPal ${JSON.stringify(verdict.httpAnswers)}`);
    log(`roll: ${roll.withPatchMarker} invoice(s) ran the patched code; ${roll.startedBeforeRollContinuedOnRolled} started before the roll were continued by rolled workers; ${roll.nondeterminismFailures} nondeterminism task failure(s)`);
    log(`throughput: 1 worker ${one.perSecond}/s, 2 workers ${two.perSecond}/s (${plan.throughputPurchases} card purchases each, two shared cores)`);
    log(`everything settled ${settledSeconds} s after the hurting began; the whole run took ${report.totalSeconds} s (report: ${path.relative(root, path.join(logDir, 'report.json'))})`);
    for (const problem of problems) log(`PROBLEM: ${problem}`);
    log(problems.length ? `FAILED: ${problems.length} problem(s)` : 'PASSED: nothing lost, nothing delivered twice');
    return problems.length ? 1 : 0;
  } finally {
    await stack.stop();
    rmSync(path.dirname(rolledBundle), { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test:cluster stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
