// What a benchmark module gives bench/run.ts: a name, and a run that returns a table.

export interface BenchTable {
  columns: string[];
  rows: (string | number)[][];
  /** Sentences printed under the table: conditions, caveats. */
  notes: string[];
}

export interface BenchResult extends BenchTable {
  name: string;
  /** Everything measured, for the JSON file (repetitions, raw tool output). */
  raw: unknown;
}

export interface Benchmark {
  name: string;
  /** One line: what it measures. */
  description: string;
  run(log: (line: string) => void): Promise<Omit<BenchResult, 'name'>>;
}
