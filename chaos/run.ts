// `npm run chaos`: the full reliability suite, printing its figures. Sections: purchases (crashes,
// restarts, an SMTP outage), floods, hostile (property-based input), security. Run a part with
// `npm run chaos -- floods hostile`, or the short variant `npm test` runs with `-- --short`.
// The figures are also written as JSON to .test-artifacts/chaos/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fullPlan, runPurchaseChaos, shortPlan } from './purchase-chaos';
import { startChaosStack, type ChaosStack } from './stack';
import { problemsIn } from './verdict';
import { fullFloods, runFloods, shortFloods } from './floods';
import { fullHostile, runHostile, shortHostile } from './hostile';
import { runSecurity } from './security';

const sections = ['purchases', 'floods', 'hostile', 'security'] as const;
type Section = (typeof sections)[number];

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const short = args.includes('--short');
  const asked = args.filter((a): a is Section => (sections as readonly string[]).includes(a));
  const wanted = asked.length ? asked : [...sections];
  const artifacts = path.resolve(__dirname, '..', '.test-artifacts', 'chaos');
  mkdirSync(artifacts, { recursive: true });
  const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const figures: Record<string, unknown> = { started: new Date().toISOString(), short };
  let failures = 0;

  const withStack = async <T>(name: string, rateLimit: number, body: (stack: ChaosStack) => Promise<T>): Promise<T> => {
    log(`${name}: starting a stack of its own (Postgres, Temporal, SMTP, simulator, api, worker)`);
    const persistentTemporal = name === 'purchases' || process.env.CHAOS_PERSISTENT_TEMPORAL === '1';
    const stack = await startChaosStack({ logDir: path.join(artifacts, name), downloadRateLimit: rateLimit, persistentTemporal, log });
    try {
      return await body(stack);
    } finally {
      await stack.stop();
    }
  };

  if (wanted.includes('purchases')) {
    // CHAOS_PURCHASE_PLAN='{"purchases":200,"workerKills":0}' changes parts of the plan (a smaller machine, a baseline).
    const plan = { ...(short ? shortPlan : fullPlan), ...(JSON.parse(process.env.CHAOS_PURCHASE_PLAN ?? '{}') as Partial<typeof fullPlan>) };
    const result = await withStack('purchases', 0, (stack) => runPurchaseChaos(stack, plan, log));
    figures.purchases = result;
    const problems = problemsIn(result.verdict);
    if (!result.settled) problems.push('the run did not settle before its deadline');
    for (const exit of result.unexpectedExits) problems.push(`the ${exit.which} process died by itself (exit code ${exit.code}, signal ${exit.signal}); see its log`);
    failures += problems.length;
    log(`purchases: ${result.verdict.purchases} in ${result.seconds.toFixed(0)} s; chaos: ${result.events.map((e) => `${e.what} at ${e.atSeconds}s${e.downMs ? ` (${(e.downMs / 1000).toFixed(1)} s)` : ''}`).join(', ')}`);
    log(`purchases: ${result.verdict.deliveryMails} delivery e-mails; IPNs sent ${result.verdict.ipnsSent}, stored ${result.verdict.ipnsStored}, lost ${result.verdict.ipnsLost}; HTTP answers ${JSON.stringify(result.verdict.httpAnswers)}; unexpected exits ${result.unexpectedExits.length}; refused to start while a dependency was down ${result.startRefusals.length}`);
    for (const problem of problems) log(`PROBLEM purchases: ${problem}`);
  }

  if (wanted.includes('floods')) {
    // CHAOS_FLOOD_PLAN='{"perSecond":25}' measures another rate (what the machine sustains).
    const plan = { ...(short ? shortFloods : fullFloods), ...(JSON.parse(process.env.CHAOS_FLOOD_PLAN ?? '{}') as Partial<typeof fullFloods>) };
    const result = await withStack('floods', 0, (stack) => runFloods(stack, plan, log));
    figures.floods = result;
    failures += result.problems.length;
    for (const problem of result.problems) log(`PROBLEM floods: ${problem}`);
  }

  if (wanted.includes('hostile')) {
    const result = await withStack('hostile', 0, (stack) => runHostile(stack, short ? shortHostile : fullHostile, log));
    figures.hostile = result;
    failures += result.problems.length;
    for (const problem of result.problems) log(`PROBLEM hostile: ${problem}`);
  }

  if (wanted.includes('security')) {
    const result = await withStack('security', 60, (stack) => runSecurity(stack, { timingSamples: short ? 300 : 2000 }, log));
    figures.security = result;
    failures += result.problems.length;
    for (const problem of result.problems) log(`PROBLEM security: ${problem}`);
  }

  const file = path.join(artifacts, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures, (key, value: unknown) => (key === 'txnIds' ? undefined : value), 2));
  log(`${failures === 0 ? 'nothing lost' : `${failures} problem(s)`}; figures in ${path.relative(process.cwd(), file)}`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
