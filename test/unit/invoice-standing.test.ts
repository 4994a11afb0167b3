// The one rule of what an invoice's status means for what it handed out (domain/invoice-status.ts),
// as a table over every status, and every keyed thing judged against it: a download key, an access
// link, a ticket and a license key (the one named exception) must all say what the rule says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invoiceStanding, invoiceStatuses, licenseStanding, liveStatuses, revokedSentence, standingSentence, type Standing } from '../../domain/invoice-status';
import { keyProblem } from '../../domain/download-keys';
import { judgeAccess } from '../../domain/access-window';
import { seatStanding, ticketProblem } from '../../kinds/event-tickets';
import { licenseStatus } from '../../domain/license-keys';

// Every status: its standing, and a license's.
const table: Record<string, [Standing, Standing]> = {
  new: ['unpaid', 'unpaid'],
  awaiting_payment: ['unpaid', 'unpaid'],
  paid: ['live', 'live'],
  fulfilled: ['live', 'live'],
  keys_expired: ['live', 'live'],
  needs_review: ['unpaid', 'unpaid'],
  rejected: ['withdrawn', 'withdrawn'],
  failed: ['withdrawn', 'withdrawn'],
  refunded: ['withdrawn', 'withdrawn'],
  reversed: ['withdrawn', 'withdrawn'],
  reinstated: ['live', 'live'],
  disputed: ['suspended', 'live'],
};

test('the table names every invoice status', () => {
  assert.deepEqual(Object.keys(table).sort(), [...invoiceStatuses].sort());
});

for (const [status, [standing, license]] of Object.entries(table)) {
  test(`${status}: ${standing}, a license ${license}; a sentence unless live`, () => {
    assert.equal(invoiceStanding(status).standing, standing);
    assert.equal(licenseStanding(status).standing, license);
    const sentence = standingSentence(status);
    if (standing === 'live') assert.equal(sentence, undefined);
    else assert.match(sentence ?? '', /^[A-Z].*\.$/, 'one whole sentence');
    assert.equal(liveStatuses.includes(status as never), standing === 'live');
  });
}

test('a dispute is paused while PayPal looks at it, not unpaid; a status this code does not know is not paid', () => {
  assert.match(standingSentence('disputed')!, /dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it; the same links work again/);
  assert.doesNotMatch(standingSentence('disputed')!, /not cleared|not yet|unpaid/);
  assert.deepEqual(invoiceStanding('bogus'), { standing: 'unpaid', sentence: 'The payment for this order has not cleared.' });
});

test('a revoked row is explained by the status that revoked it, else by a withdrawn invoice, else that the links were switched off', () => {
  assert.equal(revokedSentence('reversed', 'fulfilled'), standingSentence('reversed'));
  assert.equal(revokedSentence(null, 'refunded'), standingSentence('refunded'));
  assert.equal(revokedSentence('regenerated', 'fulfilled'), 'The links of this order have been switched off.');
  assert.equal(revokedSentence(null, 'disputed'), 'The links of this order have been switched off.');
});

// What each keyed thing's own word is for a standing (its documented vocabulary).
const keyWord = { live: undefined, suspended: 'suspended', withdrawn: 'revoked', unpaid: 'unpaid' } as const;
const seatWord = { live: 'valid', suspended: 'suspended', withdrawn: 'revoked', unpaid: 'unpaid' } as const;
const licenseWord = { live: 'valid', suspended: 'valid', withdrawn: 'revoked', unpaid: 'revoked' } as const;

for (const status of invoiceStatuses) {
  test(`${status}: the download key, checksum link, access link, ticket and license agree with the rule`, () => {
    const { standing } = invoiceStanding(status);
    assert.equal(keyProblem({ invoice_status: status, expired: false, revoked_at: null, download_limit: null, bytes_charged: 0, size_bytes: 1 }), keyWord[standing]);
    const access = judgeAccess({ now: new Date('2026-12-01T00:00:00Z'), invoiceStatus: status, revokedAt: null, keyExpiresAt: new Date('2027-01-01T00:00:00Z'), window: { kind: 'key' } });
    assert.equal(access.ok ? undefined : access.problem, keyWord[standing]);
    const seat = seatStanding({ revoked_reason: null, invoice_status: status });
    assert.equal(seat.standing, seatWord[standing]);
    const ticket = ticketProblem({ replaced_at: null, revoked_reason: null, invoice_status: status });
    assert.equal(ticket?.problem, keyWord[standing]);
    if (standing !== 'live') assert.ok(ticket!.sentence.endsWith(standingSentence(status)!), 'the ticket says the rule\'s sentence');
    assert.equal(licenseStatus({ revoked_at: null, expires_at: null, invoice_status: status }), licenseWord[standing]);
  });
}
