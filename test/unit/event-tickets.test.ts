// Event seats' small rules that need no server: the settings the editor and the JSON API send,
// what the door reads as a ticket, and why a ticket may not get in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventSettingsSchema, eventWhen } from '../../kinds/event-seats';
import { deriveTicketKey, ticketKeyFrom, ticketProblem } from '../../kinds/event-tickets';
import { deriveKey } from '../../domain/download-keys';

const form = { title: ' Gala ', startsAt: '2026-12-12T19:00', endsAt: '', venue: '', details: '', capacity: '40' };

test('settings: form strings become typed values; a zoneless time is UTC; an offset is kept as its UTC instant', () => {
  // What is stored: the JSON of the parsed settings (an unset end is left out).
  assert.deepEqual(JSON.parse(JSON.stringify(eventSettingsSchema.parse(form))), { title: 'Gala', startsAt: '2026-12-12T19:00:00.000Z', venue: '', details: '', capacity: 40 });
  const json = eventSettingsSchema.parse({ title: 'Gala', startsAt: '2026-12-12T19:00+01:00', endsAt: '2026-12-12T23:30:00Z', capacity: 2 });
  assert.deepEqual([json.startsAt, json.endsAt, json.capacity], ['2026-12-12T18:00:00.000Z', '2026-12-12T23:30:00.000Z', 2]);
  assert.equal(eventWhen(json), '2026-12-12 18:00 UTC – 2026-12-12 23:30 UTC');
});

test('settings: a missing name, a date without a time, an end before the start, a capacity of 0 or 2.5 are refused with the field', () => {
  const issues = (given: Record<string, unknown>) => {
    const parsed = eventSettingsSchema.safeParse(given);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.deepEqual(issues({ ...form, title: '' }), ['title: must name the event']);
  assert.match(issues({ ...form, startsAt: '2026-12-12' })[0]!, /^startsAt: must be a date and time/);
  assert.match(issues({ ...form, startsAt: 'next friday' })[0]!, /^startsAt: must be a date and time/);
  assert.deepEqual(issues({ ...form, endsAt: '2026-12-12T18:00' }), ['endsAt: must come after the start']);
  assert.deepEqual(issues({ ...form, capacity: '0' }), ['capacity: must be at least 1 seat']);
  assert.deepEqual(issues({ ...form, capacity: '2.5' }), ['capacity: must be a whole number of seats']);
  assert.match(issues({ ...form, capacity: '' })[0]!, /^capacity: /);
});

test('the door reads a ticket URL (with or without a query) or the bare code; anything else is not a ticket', () => {
  const key = deriveTicketKey(Buffer.from('s'.repeat(32)), Buffer.alloc(16, 1), 7, 1);
  assert.equal(ticketKeyFrom(`https://shop.example/t/${key}`), key);
  assert.equal(ticketKeyFrom(` https://shop.example/t/${key}?utm=x \n`), key);
  assert.equal(ticketKeyFrom(key), key);
  assert.equal(ticketKeyFrom('hello'), undefined);
  assert.equal(ticketKeyFrom('https://shop.example/d/'), undefined);
});

test('a ticket key is not the download key of the same numbers, and changes with the generation', () => {
  const secret = Buffer.from('s'.repeat(32));
  const salt = Buffer.alloc(16, 2);
  assert.notEqual(deriveTicketKey(secret, salt, 7, 1), deriveKey(secret, salt, 7, 1));
  assert.notEqual(deriveTicketKey(secret, salt, 7, 1), deriveTicketKey(secret, salt, 7, 2));
  assert.equal(deriveTicketKey(secret, salt, 7, 1), deriveTicketKey(secret, salt, 7, 1));
});

test('why a ticket may not get in: revoked wins over replaced, a dispute suspends, review is unpaid', () => {
  const t = (replaced: boolean, revoked: string | null, status: string) => ticketProblem({ replaced_at: replaced ? new Date() : null, revoked_reason: revoked, invoice_status: status })?.problem;
  assert.equal(t(false, null, 'fulfilled'), undefined);
  assert.equal(t(false, null, 'keys_expired'), undefined, 'tickets do not expire with the download links');
  assert.equal(t(true, 'refunded', 'refunded'), 'revoked');
  assert.equal(t(false, null, 'reversed'), 'revoked');
  assert.equal(t(true, null, 'fulfilled'), 'replaced');
  assert.equal(t(false, null, 'disputed'), 'suspended');
  assert.equal(t(false, null, 'needs_review'), 'unpaid');
  assert.equal(t(false, 'refunded', 'fulfilled'), 'revoked', 'a revoked seat, whatever its invoice says');
  assert.match(ticketProblem({ replaced_at: null, revoked_reason: 'reversed', invoice_status: 'reversed' })!.sentence, /^This ticket was revoked\. .*reversed through PayPal \(a chargeback\)/);
  assert.match(ticketProblem({ replaced_at: null, revoked_reason: 'refunded', invoice_status: 'fulfilled' })!.sentence, /^This ticket was revoked\. .*refunded/);
  assert.match(ticketProblem({ replaced_at: null, revoked_reason: null, invoice_status: 'disputed' })!.sentence, /^This ticket is paused\. A dispute about this payment is open at PayPal/);
});
