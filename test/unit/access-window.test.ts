// The access link's judgement (domain/access-window.ts) as a table: every invoice status, a revoked
// row, and both kinds of window at and around their edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeAccess, type AccessFacts, type AccessProblem } from '../../domain/access-window';
import { invoiceStatuses } from '../../domain/invoice-status';

const opensAt = new Date('2026-12-01T18:00:00Z');
const closesAt = new Date('2026-12-01T20:00:00Z');
const keyExpiresAt = new Date('2026-12-04T18:00:00Z');
const at = (iso: string) => new Date(iso);
const fixed = { kind: 'fixed', opensAt, closesAt } as const;
const key = { kind: 'key' } as const;
const base: AccessFacts = { now: at('2026-12-01T19:00:00Z'), invoiceStatus: 'fulfilled', revokedAt: null, keyExpiresAt, window: fixed };

const cases: [string, Partial<AccessFacts>, AccessProblem | 'ok'][] = [
  ['fixed: inside', {}, 'ok'],
  ['fixed: one second before it opens', { now: at('2026-12-01T17:59:59Z') }, 'not_open'],
  ['fixed: the second it opens', { now: opensAt }, 'ok'],
  ['fixed: one second before it closes', { now: at('2026-12-01T19:59:59Z') }, 'ok'],
  ['fixed: the second it closes', { now: closesAt }, 'ended'],
  ['fixed: after the key expired (the dates rule)', { keyExpiresAt: at('2026-11-30T00:00:00Z') }, 'ok'],
  ['key: before expiry', { window: key, now: at('2026-12-04T17:59:59Z') }, 'ok'],
  ['key: at expiry', { window: key, now: keyExpiresAt }, 'ended'],
  ['key: extended', { window: key, now: at('2026-12-05T00:00:00Z'), keyExpiresAt: at('2026-12-09T18:00:00Z') }, 'ok'],
  ['revoked row inside the window', { revokedAt: at('2026-12-01T18:30:00Z') }, 'revoked'],
  ['revoked row before the window', { revokedAt: at('2026-12-01T10:00:00Z'), now: at('2026-12-01T11:00:00Z') }, 'revoked'],
  ['key expired and refunded: revoked wins', { window: key, now: at('2027-01-01T00:00:00Z'), invoiceStatus: 'refunded' }, 'revoked'],
];
// Every status: what it allows inside the window.
const byStatus: Record<string, AccessProblem | 'ok'> = {
  new: 'unpaid',
  awaiting_payment: 'unpaid',
  paid: 'ok',
  fulfilled: 'ok',
  keys_expired: 'ok',
  needs_review: 'unpaid',
  rejected: 'revoked',
  failed: 'revoked',
  refunded: 'revoked',
  reversed: 'revoked',
  reinstated: 'ok',
  disputed: 'suspended',
};

test('every invoice status has an expected verdict', () => {
  assert.deepEqual(Object.keys(byStatus).sort(), [...invoiceStatuses].sort());
});

for (const [status, expected] of Object.entries(byStatus)) cases.push([`status ${status} inside the window`, { invoiceStatus: status }, expected]);

for (const [name, change, expected] of cases) {
  test(`access: ${name} → ${expected}`, () => {
    const verdict = judgeAccess({ ...base, ...change });
    assert.equal(verdict.ok ? 'ok' : verdict.problem, expected);
    if (!verdict.ok && verdict.problem === 'not_open') assert.deepEqual(verdict.opensAt, opensAt);
    if (!verdict.ok && verdict.problem === 'ended') assert.ok(verdict.endedAt, 'an ended verdict says when it ended');
  });
}
