// Amounts as PayPal and the packages write them: parsed to cents, written back, made outgoing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCents, outgoingAmount, priceShape, toCents } from '../../domain/money';

test('toCents reads plain decimal amounts and nothing else', () => {
  const cases: [string, number | undefined][] = [
    ['19.95', 1995],
    ['19.9', 1990],
    ['20', 2000],
    [' 20.00 ', 2000],
    ['-19.95', -1995],
    ['0.07', 7],
    ['1,000.00', undefined],
    ['19.955', undefined],
    ['1e3', undefined],
    ['', undefined],
  ];
  for (const [amount, cents] of cases) assert.equal(toCents(amount), cents, JSON.stringify(amount));
});

test('formatCents writes two places and the sign, and reads back the same cents', () => {
  const cases: [number, string][] = [
    [1995, '19.95'],
    [2000, '20.00'],
    [7, '0.07'],
    [-7, '-0.07'],
    [-1995, '-19.95'],
    [0, '0.00'],
  ];
  for (const [cents, text] of cases) {
    assert.equal(formatCents(cents), text);
    assert.equal(toCents(text), cents);
  }
});

test('outgoingAmount makes a refund negative once', () => {
  assert.equal(outgoingAmount('19.95'), '-19.95');
  assert.equal(outgoingAmount('-19.95'), '-19.95');
});

test('priceShape takes what an operator may set as a price', () => {
  for (const ok of ['19.95', '20', '0.5', '1234567890.99']) assert.ok(priceShape.test(ok), ok);
  for (const bad of ['-1', '19.955', '1,000', '12345678901', '', '19.']) assert.ok(!priceShape.test(bad), bad);
});
