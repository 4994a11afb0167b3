// Amounts as PayPal and the packages write them: parsed to cents, written back, made outgoing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addRefund, formatCents, outgoingAmount, priceShape, refundProblem, toCents } from '../../domain/money';

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

test('refundProblem refuses a refund larger than what is left, with a sentence, and lets the rest through', () => {
  const cases: [paid: string, soFar: string, amount: string, problem: RegExp | undefined][] = [
    ['19.95', '0.00', '2.00', undefined],
    ['19.95', '0.00', '-2.00', undefined],
    ['19.95', '2.00', '17.95', undefined],
    ['19.95', '0.00', '19.95', undefined],
    ['19.95', '2.00', '18.00', /18\.00 is more than the 17\.95 left of 19\.95 \(2\.00 refunded so far\); refund at most 17\.95/],
    ['19.95', '19.95', '0.01', /whole 19\.95 was already refunded/],
    ['19.95', '0.00', '0.00', /not a positive amount/],
    ['19.95', '0.00', 'lots', /"lots" is not a positive amount/],
    ['?', '0.00', '1.00', /are not decimal amounts/],
  ];
  for (const [paid, soFar, amount, problem] of cases) {
    const said = refundProblem(paid, soFar, amount);
    if (problem) assert.match(String(said), problem, `${paid} ${soFar} ${amount}`);
    else assert.equal(said, undefined, `${paid} ${soFar} ${amount}`);
  }
});

test('addRefund adds a refund (negative as IPN writes it, or positive) to the total', () => {
  assert.equal(addRefund('0.00', '-2.00'), '2.00');
  assert.equal(addRefund('2.00', '3.50'), '5.50');
  assert.equal(addRefund('19.90', '-0.05'), '19.95');
});
