// The key rules without a database: derivation is stable, and a key's problem follows its row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveKey, isExhausted, keyHash, keyProblem, keyShape, type KeyFacts, type KeyProblem } from '../../domain/download-keys';

const secret = Buffer.alloc(32, 7);
const salt = Buffer.alloc(16, 3);

test('a key is the same for the same inputs, different for any other, and has the shape the route looks up', () => {
  const key = deriveKey(secret, salt, 42, 1);
  assert.equal(deriveKey(secret, salt, 42, 1), key);
  assert.notEqual(deriveKey(secret, salt, 42, 2), key);
  assert.notEqual(deriveKey(secret, salt, 43, 1), key);
  assert.notEqual(deriveKey(Buffer.alloc(32, 8), salt, 42, 1), key);
  assert.equal(key.length, 43);
  assert.ok(keyShape.test(key));
  assert.equal(keyHash(key).length, 32);
});

const live: KeyFacts = { invoice_status: 'fulfilled', expired: false, revoked_at: null, download_limit: 3, bytes_charged: 0, size_bytes: 1000 };

test('keyProblem: revoked wins, then suspended and unpaid, expired and exhausted', () => {
  const cases: [string, Partial<KeyFacts>, KeyProblem | undefined][] = [
    ['a live key', {}, undefined],
    ['paid, keys being issued', { invoice_status: 'paid' }, undefined],
    ['keys expired but the key extended', { invoice_status: 'keys_expired' }, undefined],
    ['reinstated', { invoice_status: 'reinstated' }, undefined],
    ['revoked key', { revoked_at: new Date(), expired: true }, 'revoked'],
    ['refunded invoice', { invoice_status: 'refunded' }, 'revoked'],
    ['reversed invoice', { invoice_status: 'reversed' }, 'revoked'],
    ['rejected', { invoice_status: 'rejected' }, 'revoked'],
    ['a dispute is open: paused, not unpaid', { invoice_status: 'disputed', expired: true }, 'suspended'],
    ['awaiting payment', { invoice_status: 'awaiting_payment' }, 'unpaid'],
    ['needs review', { invoice_status: 'needs_review', expired: true }, 'unpaid'],
    ['an unknown status', { invoice_status: 'bogus' }, 'unpaid'],
    ['expired', { expired: true, bytes_charged: 10_000 }, 'expired'],
    ['three downloads and the allowance used', { bytes_charged: 3500 }, 'exhausted'],
    ['just under the allowance', { bytes_charged: 3499 }, undefined],
    ['no limit', { download_limit: null, bytes_charged: 1e9 }, undefined],
  ];
  for (const [what, change, problem] of cases) assert.equal(keyProblem({ ...live, ...change }), problem, what);
});

test('an empty file counts requests', () => {
  assert.equal(isExhausted({ download_limit: 2, bytes_charged: 1, size_bytes: 0 }), false);
  assert.equal(isExhausted({ download_limit: 2, bytes_charged: 2, size_bytes: 0 }), true);
});
