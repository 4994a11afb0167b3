// Scenario 3: hostile input at every public endpoint, property-based (fast-check). Each endpoint
// gets `cases` generated requests through the Hono app in process (app.request, fast) and a
// twentieth of that over real HTTP to the api process. The property: no 5xx (every dependency is
// up, so a 5xx can only come from the input), the api still answers afterwards, and the heap
// after a forced GC has not grown past a bound.
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import { adminLoginRequest, buyerPostRequest, downloadRequest, ipnRequest, keyedLinkRequest, thanksRequest, webhookRequest, type RequestSpec } from './hostile-requests';
import type { ChaosStack } from './stack';
import { headerInjection, type HeaderInjectionResult } from './header-injection';

export interface HostilePlan {
  cases: number;
  /** Heap growth (MiB, after GC) allowed per endpoint. */
  heapBoundMiB: number;
}

export const fullHostile: HostilePlan = { cases: 10_000, heapBoundMiB: 64 };
export const shortHostile: HostilePlan = { cases: 500, heapBoundMiB: 64 };

export interface EndpointResult {
  endpoint: string;
  cases: number;
  httpCases: number;
  statuses: Record<string, number>;
  httpStatuses: Record<string, number>;
  /** Requests no client can send (invalid header bytes): skipped. */
  unsendable: number;
  fiveXx: { status: number; method: string; path: string; headers: Record<string, string>; bodyBytes: number; body?: string; error?: string }[];
  /** Over HTTP: bodies past the limit whose connection the api closed after answering 413 before the upload ended. */
  cutAtBodyLimit: number;
  heapBeforeMiB: number;
  heapAfterMiB: number;
  seconds: number;
}

export interface HostileResult {
  seed: number;
  endpoints: EndpointResult[];
  apiAliveAfter: boolean;
  problems: string[];
}

/** What the runner sends requests to: the app in process, and the api over HTTP. */
export interface HostileTarget {
  fetchInProcess(request: Request): Promise<Response>;
  apiUrl: string;
  simulatorUrl: string;
}

function forceGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return gc;
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function toRequest(base: string, spec: RequestSpec): Request {
  const init: RequestInit = { method: spec.method, headers: spec.headers, signal: AbortSignal.timeout(30_000) };
  if (spec.body && spec.method !== 'GET' && spec.method !== 'HEAD') init.body = spec.body;
  return new Request(base + spec.path, init);
}

function preview(spec: RequestSpec, status: number, error?: string): EndpointResult['fiveXx'][number] {
  const bodyBytes = spec.body?.length ?? 0;
  return { status, method: spec.method, path: spec.path.slice(0, 300), headers: spec.headers, bodyBytes, body: spec.body ? Buffer.from(spec.body).subarray(0, 300).toString('latin1') : undefined, error };
}

/** The largest body any public endpoint reads (PayPal's 64 KiB; forms are smaller). */
const largestBody = 64 * 1024;

function sendOverHttp(base: string, spec: RequestSpec): Promise<{ status: number; error?: string }> {
  return new Promise((resolve) => {
    const url = new URL(base + spec.path);
    let request: http.ClientRequest;
    try {
      request = http.request(url, { method: spec.method, headers: spec.headers, agent: false, timeout: 30_000 }, (response) => {
        response.resume();
        response.once('end', () => resolve({ status: response.statusCode ?? 0 }));
        response.once('error', (error) => resolve({ status: response.statusCode ?? 0, error: error.message }));
      });
    } catch (error) {
      resolve({ status: -1, error: (error as Error).message }); // not sendable (e.g. a header no client may write)
      return;
    }
    request.once('error', (error) => resolve({ status: 0, error: error.message }));
    request.once('timeout', () => request.destroy(new Error('no answer within 30 s')));
    request.end(spec.body && spec.method !== 'GET' && spec.method !== 'HEAD' ? spec.body : undefined);
  });
}

export async function fuzzEndpoint(target: HostileTarget, endpoint: string, arbitrary: fc.Arbitrary<RequestSpec>, cases: number, seed: number): Promise<EndpointResult> {
  const gc = forceGc();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = Date.now();
  const result: EndpointResult = { endpoint, cases, httpCases: 0, statuses: {}, httpStatuses: {}, unsendable: 0, fiveXx: [], cutAtBodyLimit: 0, heapBeforeMiB: mib(heapBefore), heapAfterMiB: 0, seconds: 0 };
  const chunk = 100;
  for (let done = 0; done < cases; done += chunk) {
    // Generated chunk by chunk (bodies can be large), each chunk from its own seed: reproducible.
    const specs = fc.sample(arbitrary, { numRuns: Math.min(chunk, cases - done), seed: seed + done });
    await Promise.all(
      specs.map(async (spec, i) => {
        let request: Request;
        try {
          request = toRequest('http://127.0.0.1', spec);
        } catch {
          result.unsendable += 1;
          return;
        }
        const response = await target.fetchInProcess(request);
        await response.arrayBuffer().catch(() => undefined);
        result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
        if (response.status >= 500 && result.fiveXx.length < 10) result.fiveXx.push(preview(spec, response.status));
        // A twentieth of the cases also go over real HTTP to the api process.
        if ((done + i) % 20 === 0) {
          result.httpCases += 1;
          // A fresh connection each (node:http, no agent): a reused keep-alive socket the api closed
          // after an earlier 413 would fail this request for reasons that are not its own.
          const { status, error } = await sendOverHttp(target.apiUrl, spec);
          // A body past the limit is answered 413 at once and its connection closed mid-upload: the client sees a reset.
          if (status === -1) {
            result.unsendable += 1;
            return;
          }
          if (status === 0 && (spec.body?.length ?? 0) > largestBody) {
            result.cutAtBodyLimit += 1;
            return;
          }
          result.httpStatuses[status] = (result.httpStatuses[status] ?? 0) + 1;
          if ((status >= 500 || status === 0) && result.fiveXx.length < 10) result.fiveXx.push(preview(spec, status, error));
        }
      }),
    );
  }
  gc();
  result.heapAfterMiB = mib(process.memoryUsage().heapUsed);
  result.seconds = Math.round((Date.now() - started) / 100) / 10;
  return result;
}

export async function fuzzAll(target: HostileTarget, plan: HostilePlan, log: (line: string) => void, seed = Date.now() % 1_000_000): Promise<HostileResult> {
  const endpoints: [string, fc.Arbitrary<RequestSpec>][] = [
    ['POST /paypal/ipn', ipnRequest],
    ['POST /paypal/webhook', webhookRequest(target.simulatorUrl)],
    ['GET /thanks', thanksRequest],
    ['GET|HEAD /d/:key, POST /d/request, /d/renew', downloadRequest],
    ['GET|POST /admin/login', adminLoginRequest('http://127.0.0.1')],
    ['GET|HEAD|POST /a/, /t/, /d/sums/, /d/more-time/, /library/open/, /store, /checkout/cancelled, /minisign.pub', keyedLinkRequest],
    ['POST /api/licenses/verify, /library, /checkout/orders[/:id/capture]', buyerPostRequest],
  ];
  const results: EndpointResult[] = [];
  const problems: string[] = [];
  for (const [name, arbitrary] of endpoints) {
    const result = await fuzzEndpoint(target, name, arbitrary, plan.cases, seed);
    results.push(result);
    log(`hostile ${name}: ${result.cases} cases in ${result.seconds} s, statuses ${JSON.stringify(result.statuses)}, over HTTP ${JSON.stringify(result.httpStatuses)}, heap ${result.heapBeforeMiB} -> ${result.heapAfterMiB} MiB`);
    if (result.fiveXx.length) problems.push(`${name} answered 5xx (or nothing) to bad input, e.g. ${JSON.stringify(result.fiveXx[0])}`);
    if (result.heapAfterMiB - result.heapBeforeMiB > plan.heapBoundMiB) problems.push(`${name}: the heap grew by ${(result.heapAfterMiB - result.heapBeforeMiB).toFixed(1)} MiB`);
  }
  const apiAliveAfter = await fetch(`${target.apiUrl}/healthz`).then((r) => r.ok, () => false);
  if (!apiAliveAfter) problems.push('the api process no longer answers /healthz after the hostile input');
  return { seed, endpoints: results, apiAliveAfter, problems };
}

/** The chaos stack as a target: an app in this process over the stack's Postgres and Temporal. */
export function stackTarget(stack: ChaosStack): HostileTarget {
  // No rate limits in process (keyed links, license checks, library requests): every request here
  // shares one address and would only meet 429. No PayPal load shedding either: a chunk of 100 cases
  // at once would be answered 503 for load, which says nothing about the input (the floods scenario
  // tests shedding).
  const config = loadConfig({ ...stack.env, DOWNLOAD_RATE_LIMIT: '0', LICENSE_RATE_LIMIT: '0', LIBRARY_RATE_LIMIT: '0', PAYPAL_MAX_IN_FLIGHT: '1000' });
  const app = createApp({ config, pool: stack.pool, temporal: stack.temporal });
  return { fetchInProcess: async (request) => app.fetch(request), apiUrl: stack.apiUrl, simulatorUrl: stack.sim.url };
}

export async function runHostile(stack: ChaosStack, plan: HostilePlan, log: (line: string) => void): Promise<HostileResult & { headerInjection: HeaderInjectionResult }> {
  const injection = await headerInjection(stack.sim, stack.pool, stack.smtp);
  log(`hostile CR/LF in names: ${JSON.stringify(injection)}`);
  // HOSTILE_SEED replays the cases of a run that found something (its seed is in every report).
  const seed = process.env.HOSTILE_SEED ? Number(process.env.HOSTILE_SEED) : undefined;
  const result = await fuzzAll(stackTarget(stack), plan, log, seed);
  if (injection.strayRecipients.length) result.problems.push(`CR/LF in buyer input reached an e-mail envelope: ${injection.strayRecipients.join(', ')}`);
  if (injection.injectedHeaders.length) result.problems.push(`CR/LF in buyer input made e-mail header lines: ${JSON.stringify(injection.injectedHeaders)}`);
  if (injection.delivered < 2) result.problems.push(`of the two purchases with CR/LF in the names and valid addresses, ${injection.delivered} got the delivery e-mail; both must`);
  return { ...result, headerInjection: injection };
}
