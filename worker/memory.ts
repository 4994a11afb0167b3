// The worker's memory budget. Two settings bound it: the workflow cache (WORKER_MAX_CACHED_WORKFLOWS,
// default 500, about 0.3 MiB each) and V8's heap limit, which only a flag given at launch can set.
// Without a limit V8 sizes the heap from the host's memory and lets garbage pile up before
// collecting, so a burst of clearings drives the worker's memory far past what it holds (see
// docs/benchmarks.md, pending). Whatever starts the worker passes this: docker-compose.yml (its NODE_OPTIONS, checked by test/production-compose.test.ts),
// npm start and the benchmarks.
export const workerHeapLimitMiB = 256;

/** NODE_OPTIONS for a worker process: the heap limit added to whatever NODE_OPTIONS already holds. */
export function workerNodeOptions(existing = process.env.NODE_OPTIONS ?? ''): string {
  if (/--max-old-space-size/.test(existing)) return existing;
  return `${existing} --max-old-space-size=${workerHeapLimitMiB}`.trim();
}
