// Adding support logins to a package's pool, for the admin page and the JSON API alike: the upload
// is read line by line (domain/support-credential-lines.ts), checked against the pool, and stored
// whole or not at all. Every refusal names its line numbers.
import type { Pool } from '../../db/pool';
import { findPackage, type PackageRow } from '../../db/packages';
import { addToPool, givenCredentials, loginsInPool, poolCounts, waitingInvoices, type GivenCredentialRow, type PoolCounts } from '../../db/support-credentials';
import { describeProblems, parseCredentialLines, type LineProblem } from '../../domain/support-credential-lines';

export type UploadAnswer =
  | { ok: true; added: number; counts: PoolCounts }
  | { ok: false; status: 400 | 404 | 409; error: string; problems?: LineProblem[] };

export interface PoolView {
  pkg: PackageRow;
  counts: PoolCounts;
  given: GivenCredentialRow[];
  waiting: Awaited<ReturnType<typeof waitingInvoices>>;
}

/** The package with its pool's counts and what it gave (no passwords); undefined when there is no such package. */
export async function poolView(pool: Pool, itemNumber: string): Promise<PoolView | undefined> {
  const pkg = await findPackage(pool, itemNumber);
  if (!pkg) return undefined;
  const [counts, given, waiting] = await Promise.all([poolCounts(pool, pkg.id), givenCredentials(pool, pkg.id), waitingInvoices(pool, pkg.id)]);
  return { pkg, counts, given, waiting };
}

export async function uploadCredentials(pool: Pool, itemNumber: string, text: string): Promise<UploadAnswer> {
  const pkg = await findPackage(pool, itemNumber);
  if (!pkg) return { ok: false, status: 404, error: `There is no package ${itemNumber}; see /admin/packages.` };
  if (pkg.kind !== 'support') {
    return { ok: false, status: 409, error: `Nothing stored: package ${itemNumber} delivers ${pkg.kind}, not support logins; set its kind to support first.` };
  }
  const parsed = parseCredentialLines(text);
  if (!parsed.ok) return { ok: false, status: 400, error: `Nothing stored: ${describeProblems(parsed.problems)}.`, problems: parsed.problems };
  const taken = await loginsInPool(pool, pkg.id, parsed.credentials.map((c) => c.login));
  const problems = parsed.credentials.filter((c) => taken.has(c.login.toLowerCase())).map((c) => ({ line: c.line, problem: `repeats the login ${c.login}, which the pool already holds` }));
  if (problems.length > 0) return { ok: false, status: 400, error: `Nothing stored: ${describeProblems(problems)}.`, problems };
  if (!(await addToPool(pool, pkg.id, parsed.credentials))) {
    return { ok: false, status: 409, error: 'Nothing stored: another upload added one of these logins at the same moment; upload again to see which line.' };
  }
  return { ok: true, added: parsed.credentials.length, counts: await poolCounts(pool, pkg.id) };
}
