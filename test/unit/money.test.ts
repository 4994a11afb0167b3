// Money without floating point: amounts as PayPal writes them become whole cents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toCents } from '../../activities/packages';

test('amounts become cents without floating point', () => {
  assert.equal(toCents('19.95'), 1995);
  assert.equal(toCents('19.9'), 1990);
  assert.equal(toCents('20'), 2000);
  assert.equal(toCents('-19.95'), -1995);
  assert.equal(toCents('0.07'), 7);
  assert.equal(toCents('1,000.00'), undefined);
  assert.equal(toCents('19.955'), undefined);
});
