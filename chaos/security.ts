// Scenario 4: the keys. A real purchase's keys are long enough (128+ bits) and stored only as
// SHA-256 (every table of the database is read for them); looking a key up takes no longer for a
// guess that shares more of its leading characters; the /d/ rate limit holds under a burst.
//
// Why the lookup time cannot depend on how much of a guess is right: the api never compares the
// presented key with anything. It hashes it (SHA-256, fixed work for any input) and looks the
// digest up in a B-tree index on download_keys.key_hash. A guess that shares 42 of 43 characters
// with a real key has a digest that shares, on average, no more leading bytes with the stored
// digest than a random guess does (avalanche), so the index comparisons take the same time. What
// those comparisons could leak (a shared digest prefix) the attacker can compute alone, and it
// says nothing about the key without a SHA-256 preimage. The measurement below checks it.
import { createHash, randomBytes } from 'node:crypto';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import type { ChaosStack } from './stack';
import { storedStatus } from './purchases';
import { keysOf } from './verdict';
import { invoiceStatus } from '../domain/invoice-status';

export interface SecurityResult {
  keys: { count: number; lengths: number[]; minBits: number; allDistinct: boolean; storedHashMatches: boolean; tablesScanned: number; rowsHoldingAKey: string[] };
  timing: {
    samplesPerGroup: number;
    /** Median ms of a /d/ lookup for each group. */
    medianMs: { shares0: number; shares42: number; keyPlus17To60: number };
    /** Mann-Whitney U z-score, 0 shared vs 42 shared leading characters (|z| < 3.3: indistinguishable at p = 0.001). */
    zShares0VsShares42: number;
    zShares0VsKeyPlus17: number;
    note: string;
  };
  rateLimit: {
    limitPerMinute: number;
    burst: number;
    servedInBurst: number;
    refusedInBurst: number;
    retryAfterSeconds?: string;
    unknownKeyBurst: number;
    unknownServed: number;
    validKeyRefusedAfterGuesses: boolean;
  };
  problems: string[];
}

const item = { itemNumber: 'GUIDE-1', itemName: 'Field Guide', amount: '19.95' };

/** A purchase through the simulator; its delivery e-mail's keys. */
async function purchasedKeys(stack: ChaosStack): Promise<string[]> {
  const email = `security.${Date.now()}@buyer.test`;
  const { txnId } = await stack.sim.pay({ items: [item], payer: { email }, webhooks: false });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const mail = stack.smtp.messages.find((m) => m.envelope.to.includes(email) && /^Your download:/.test(m.parsed.subject ?? ''));
    if (mail && (await storedStatus(stack.pool, txnId)) === invoiceStatus.fulfilled) return keysOf(mail, stack.apiUrl);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the security purchase ${txnId} was not delivered within a minute`);
}

/** Every row of every table, as JSON text, searched for the keys (and their raw bytes in hex). */
async function rowsHoldingKeys(stack: ChaosStack, keys: string[]): Promise<{ tables: number; hits: string[] }> {
  const { rows: tables } = await stack.pool.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
  const needles = keys.flatMap((k) => [k, Buffer.from(k, 'base64url').toString('hex')]);
  const hits: string[] = [];
  for (const { table_name: table } of tables) {
    const { rows } = await stack.pool.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table.replace(/"/g, '""')}" t`);
    for (const { row } of rows) if (needles.some((needle) => row.includes(needle))) hits.push(`${table}: ${row.slice(0, 120)}`);
  }
  return { tables: tables.length, hits };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Mann-Whitney U, normal approximation with tie correction: z of sample a against sample b. */
export function mannWhitneyZ(a: number[], b: number[]): number {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[k] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const rankSumA = all.reduce((sum, entry, i) => (entry.g === 0 ? sum + ranks[i]! : sum), 0);
  const n1 = a.length;
  const n2 = b.length;
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  return sigma === 0 ? 0 : (u - (n1 * n2) / 2) / sigma;
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const otherThan = (ch: string) => alphabet[(alphabet.indexOf(ch) + 1 + (randomBytes(1)[0]! % 62)) % 64]!;
const randomKeyChars = (n: number) => Array.from(randomBytes(n), (b) => alphabet[b % 64]).join('');

async function lookupTimes(stack: ChaosStack, key: string, samples: number): Promise<{ shares0: number[]; shares42: number[]; keyPlus17: number[] }> {
  // An app in this process with no rate limit: the lookup alone, without a socket's jitter.
  const app = createApp({ config: loadConfig({ ...stack.env, DOWNLOAD_RATE_LIMIT: '0' }), pool: stack.pool, temporal: stack.temporal });
  const make = {
    shares0: () => otherThan(key[0]!) + randomKeyChars(key.length - 1),
    shares42: () => key.slice(0, key.length - 1) + otherThan(key[key.length - 1]!),
    keyPlus17: () => key + randomKeyChars(60 - key.length),
  };
  const times = { shares0: [] as number[], shares42: [] as number[], keyPlus17: [] as number[] };
  const groups = Object.keys(make) as (keyof typeof make)[];
  const time = async (group: keyof typeof make) => {
    const guess = make[group]();
    const t0 = process.hrtime.bigint();
    const response = await app.fetch(new Request(`http://127.0.0.1/d/${guess}`, { method: 'HEAD' }));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (response.status !== 404) throw new Error(`a guess answered ${response.status}, not 404`);
    return ms;
  };
  for (let i = 0; i < 50; i++) await time(groups[i % 3]!); // warm-up: prepared statement, JIT
  for (let i = 0; i < samples; i++) {
    // Interleaved in a shuffled order, so load on the machine falls on every group alike.
    for (const group of [...groups].sort(() => randomBytes(1)[0]! - 128)) times[group].push(await time(group));
  }
  return times;
}

async function rateLimitBurst(stack: ChaosStack, key: string): Promise<SecurityResult['rateLimit']> {
  const limit = Number(stack.env.DOWNLOAD_RATE_LIMIT);
  const burst = limit + 40;
  const answers = await Promise.all(Array.from({ length: burst }, () => fetch(`${stack.apiUrl}/d/${key}`, { method: 'HEAD' }).then((r) => ({ status: r.status, retryAfter: r.headers.get('retry-after') ?? undefined }))));
  const refused = answers.filter((a) => a.status === 429);
  // Guesses from another address would share nothing; these come from the same one, after a pause for refill.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const unknownBurst = 30;
  const unknown = await Promise.all(Array.from({ length: unknownBurst }, () => fetch(`${stack.apiUrl}/d/${randomKeyChars(43)}`).then((r) => r.status)));
  const after = await fetch(`${stack.apiUrl}/d/${key}`, { method: 'HEAD' });
  return {
    limitPerMinute: limit,
    burst,
    servedInBurst: answers.length - refused.length,
    refusedInBurst: refused.length,
    retryAfterSeconds: refused[0]?.retryAfter,
    unknownKeyBurst: unknownBurst,
    unknownServed: unknown.filter((s) => s !== 429).length,
    validKeyRefusedAfterGuesses: after.status === 429,
  };
}

export async function runSecurity(stack: ChaosStack, options: { timingSamples: number }, log: (line: string) => void): Promise<SecurityResult> {
  const problems: string[] = [];
  const keys = await purchasedKeys(stack);
  const lengths = keys.map((k) => k.length);
  const minBits = Math.min(...keys.map((k) => Buffer.from(k, 'base64url').length * 8));
  const { rows } = await stack.pool.query<{ key_hash: Buffer }>('SELECT key_hash FROM download_keys');
  const stored = new Set(rows.map((r) => r.key_hash.toString('hex')));
  const storedHashMatches = keys.every((k) => stored.has(createHash('sha256').update(k).digest('hex')));
  const scan = await rowsHoldingKeys(stack, keys);
  const keyFacts = { count: keys.length, lengths, minBits, allDistinct: new Set(keys).size === keys.length, storedHashMatches, tablesScanned: scan.tables, rowsHoldingAKey: scan.hits };
  log(`security keys: ${JSON.stringify(keyFacts)}`);
  if (keys.length === 0) problems.push('the delivery e-mail held no keys');
  if (minBits < 128) problems.push(`a key holds only ${minBits} bits`);
  if (!storedHashMatches) problems.push('a mailed key has no SHA-256 in download_keys');
  if (scan.hits.length) problems.push(`a key (or its bytes) is stored in the clear: ${scan.hits[0]}`);

  const key = keys[0]!;
  const times = await lookupTimes(stack, key, options.timingSamples);
  const timing = {
    samplesPerGroup: options.timingSamples,
    medianMs: { shares0: round(median(times.shares0)), shares42: round(median(times.shares42)), keyPlus17To60: round(median(times.keyPlus17)) },
    zShares0VsShares42: round(mannWhitneyZ(times.shares0, times.shares42)),
    zShares0VsKeyPlus17: round(mannWhitneyZ(times.shares0, times.keyPlus17)),
    note: `keys are ${key.length} characters, so no guess can share 60 leading characters with one; the third group is a 60-character input whose first ${key.length} are the whole key`,
  };
  log(`security timing: ${JSON.stringify(timing)}`);
  if (Math.abs(timing.zShares0VsShares42) > 3.3) problems.push(`lookups of guesses sharing 42 leading characters differ in time from random ones (z = ${timing.zShares0VsShares42})`);

  const rateLimit = await rateLimitBurst(stack, key);
  log(`security rate limit: ${JSON.stringify(rateLimit)}`);
  // The bucket refills one token a second while the burst runs; a few seconds' worth is the slack.
  if (rateLimit.servedInBurst > rateLimit.limitPerMinute + 5) problems.push(`${rateLimit.servedInBurst} of ${rateLimit.burst} requests were served in a burst against a limit of ${rateLimit.limitPerMinute}`);
  if (!rateLimit.retryAfterSeconds) problems.push('a rate-limited answer had no Retry-After');
  if (!rateLimit.validKeyRefusedAfterGuesses) problems.push('after a burst of guesses, the same address could still use a valid key');
  return { keys: keyFacts, timing, rateLimit, problems };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
