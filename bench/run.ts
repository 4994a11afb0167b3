// npm run bench [-- <name> ...]: runs each benchmark module in turn (all, or the named ones),
// prints its table as markdown, and writes everything measured to bench/results/<time>.json
// (git-ignored). A new benchmark is one more module in the list below.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { downloadBenchmark } from './downloads';
import { floorBenchmark } from './floor';
import { purchaseBenchmark } from './purchases';
import { pendingScaleBenchmark } from './pending-scale';
import { ipnBenchmark } from './ipn';
import type { Benchmark, BenchResult } from './types';

const benchmarks: Benchmark[] = [downloadBenchmark, floorBenchmark, purchaseBenchmark, ipnBenchmark, pendingScaleBenchmark];

function markdown(result: BenchResult): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [
    `### ${result.name}`,
    '',
    line(result.columns),
    line(result.columns.map(() => '---')),
    ...result.rows.map(line),
    '',
    ...result.notes.map((n) => `- ${n}`),
  ].join('\n');
}

// Every measured process (api, worker, floor worker) is started from process.execPath, so this
// process's Node.js version is theirs.
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}, Node ${process.version}`;
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--')); // --flags are the modules' own
  const chosen = wanted.length ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;
  if (chosen.length === 0) {
    console.error(`No benchmark named ${wanted.join(', ')}; there are: ${benchmarks.map((b) => b.name).join(', ')}.`);
    return 2;
  }
  const started = new Date();
  const results: BenchResult[] = [];
  for (const benchmark of chosen) {
    console.log(`bench ${benchmark.name}: ${benchmark.description}`);
    const t0 = Date.now();
    const result = { name: benchmark.name, ...(await benchmark.run((line) => console.log(`  ${line}`))) };
    console.log(`bench ${benchmark.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    results.push(result);
  }
  const machine = machineLine();
  console.log(`Machine: ${machine}; ${started.toISOString().slice(0, 10)}\n`);
  for (const result of results) console.log(`${markdown(result)}\n`);
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ started: started.toISOString(), machine, node: process.version, results }, null, 2));
  console.log(`Results: ${path.relative(process.cwd(), file)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
