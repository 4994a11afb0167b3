// Scenario 1: purchases of every kind at a steady rate while the worker is SIGKILLed, the Temporal
// dev server and Postgres are restarted and SMTP refuses mail; then, once everything has settled
// (or a deadline passed), the verdict.
import { makePurchase, runPurchase, type Purchase } from './purchases';
import type { ChaosStack } from './stack';
import { judge, reportProgress, untilSettled, type Verdict } from './verdict';

export interface PurchaseChaosPlan {
  purchases: number;
  /** Over how many seconds the purchases are made. */
  spreadSeconds: number;
  workerKills: number;
  temporalRestarts: number;
  postgresRestarts: number;
  smtpRefusalSeconds: number;
  /** How long to wait after the last purchase for everything to settle. */
  settleSeconds: number;
}

export const fullPlan: PurchaseChaosPlan = { purchases: 1000, spreadSeconds: 150, workerKills: 5, temporalRestarts: 2, postgresRestarts: 1, smtpRefusalSeconds: 30, settleSeconds: 480 };
export const shortPlan: PurchaseChaosPlan = { purchases: 60, spreadSeconds: 15, workerKills: 1, temporalRestarts: 1, postgresRestarts: 1, smtpRefusalSeconds: 5, settleSeconds: 90 };

export interface ChaosEvent {
  what: string;
  atSeconds: number;
  /** How long the part was away (restarts), ms. */
  downMs?: number;
  error?: string;
}

export interface PurchaseChaosResult {
  plan: PurchaseChaosPlan;
  events: ChaosEvent[];
  verdict: Verdict;
  /** From the first purchase until every invoice had settled (or the deadline). */
  seconds: number;
  settled: boolean;
  unexpectedExits: ChaosStack['unexpectedExits'];
  startRefusals: ChaosStack['startRefusals'];
}

type Hurt = { what: string; act: () => Promise<number | void> };

/** Spreads the hurts over the purchase window, one at a time, in an interleaved order. */
function schedule(stack: ChaosStack, plan: PurchaseChaosPlan): Hurt[] {
  const kills: Hurt[] = Array.from({ length: plan.workerKills }, () => ({ what: 'worker SIGKILL', act: () => stack.killWorker() }));
  const others: Hurt[] = [
    ...Array.from({ length: plan.temporalRestarts }, () => ({ what: 'Temporal dev server restart', act: () => stack.restartTemporal() })),
    ...Array.from({ length: plan.postgresRestarts }, () => ({ what: 'Postgres restart', act: () => stack.restartPostgres() })),
  ];
  if (plan.smtpRefusalSeconds > 0) {
    others.push({
      what: `SMTP refusing for ${plan.smtpRefusalSeconds} s`,
      act: async () => {
        stack.smtp.refusing = true;
        await new Promise((resolve) => setTimeout(resolve, plan.smtpRefusalSeconds * 1000));
        stack.smtp.refusing = false;
      },
    });
  }
  const order: Hurt[] = [];
  while (kills.length || others.length) {
    const kill = kills.shift();
    if (kill) order.push(kill);
    const other = others.shift();
    if (other) order.push(other);
  }
  return order;
}

export async function runPurchaseChaos(stack: ChaosStack, plan: PurchaseChaosPlan, log: (line: string) => void = () => undefined): Promise<PurchaseChaosResult> {
  const started = Date.now();
  const deadline = started + (plan.spreadSeconds + plan.settleSeconds) * 1000;
  const purchases: Purchase[] = [];
  const running: Promise<void>[] = [];
  const gapMs = (plan.spreadSeconds * 1000) / plan.purchases;

  const buying = (async () => {
    for (let i = 0; i < plan.purchases; i++) {
      const wait = started + i * gapMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const p = makePurchase(i);
      purchases.push(p);
      running.push(runPurchase(stack.sim, stack.pool, p, i, deadline));
    }
  })();

  const events: ChaosEvent[] = [];
  const hurts = schedule(stack, plan);
  const hurting = (async () => {
    for (const [n, hurt] of hurts.entries()) {
      // Hurts land inside the purchase window, the first (a worker kill) early: an activity running
      // on a killed worker waits out its start-to-close timeout (a minute) before it is retried.
      const at = started + (0.05 + (0.85 * n) / hurts.length) * plan.spreadSeconds * 1000;
      const wait = at - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const event: ChaosEvent = { what: hurt.what, atSeconds: Math.round((Date.now() - started) / 100) / 10 };
      log(`t=${event.atSeconds}s ${hurt.what}`);
      try {
        const down = await hurt.act();
        if (typeof down === 'number') event.downMs = down;
      } catch (error) {
        event.error = (error as Error).message;
        log(`${hurt.what} failed: ${event.error}`);
      }
      events.push(event);
    }
  })();

  const stopReporting = reportProgress(stack.pool, purchases, stack.smtp.messages, log, () => `t=${Math.round((Date.now() - started) / 1000)}s `);
  await Promise.all([buying, hurting]);
  await Promise.all(running);
  const done = await untilSettled(stack.pool, purchases, stack.smtp.messages, deadline);
  stopReporting();
  const seconds = (Date.now() - started) / 1000;
  // A late duplicate (a retry after a crash) would come within seconds of settling.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await stack.sim.idle();
  const verdict = await judge(stack.pool, stack.sim, stack.smtp.messages, purchases, stack.apiUrl);
  return { plan, events, verdict, seconds, settled: done, unexpectedExits: [...stack.unexpectedExits], startRefusals: [...stack.startRefusals] };
}
