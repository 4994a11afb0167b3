// Event seats (package kind 'event'): each unit bought is a seat at a dated event with a capacity.
// The seat is claimed when the payment is checked (never past the capacity: a sale past the last
// seat is held for review), each seat gets a keyed ticket page with a QR code (api/event-tickets.tsx)
// and is checked in once at the door (api/admin/events-*.ts). A refund or reversal revokes the seat
// and gives it back to the sale; a cancelled reversal restores it.
import { z } from 'zod';
import { storableText } from '../db/storable-text';
import { claimSeats, insertSeats, invoiceSeats, seatsTaken, storeTickets } from '../db/event-seats';
import { formatTime } from '../domain/buyer-formats';
import { keyHash } from '../domain/download-keys';
import { deriveTicketKey, ticketPath } from './event-tickets';
import type { DeliveryContext, DeliveryLine, DeliveryPart, KindDelivery, KindItem, KindSettings } from './kind';

// A form's date-time field sends "2026-12-01T19:00" (no zone): read as UTC, as every time Keyship shows is.
const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const dateTime = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const text = v.trim();
    if (text === '') return undefined;
    const time = Date.parse(zoneless.test(text) ? `${text.replace(' ', 'T')}Z` : text);
    return /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text) && !Number.isNaN(time) ? new Date(time).toISOString() : text;
  },
  z.iso.datetime({ error: 'must be a date and time such as 2026-12-01T19:00 (UTC) or 2026-12-01T19:00+01:00' }),
);
const text = (max: number) => z.preprocess((v) => v ?? '', storableText().trim().max(max));

export const eventSettingsSchema = z
  .object({
    title: z.string({ error: 'must name the event' }).trim().min(1, 'must name the event').max(200),
    startsAt: dateTime,
    // The form's empty field is "not set" (an optional zod field only skips a missing one).
    endsAt: z.preprocess((v) => (v === '' || v === null ? undefined : v), dateTime.optional()),
    venue: text(500),
    details: text(10_000),
    capacity: z.preprocess((v) => (v === '' || v === null ? undefined : v), z.coerce.number({ error: 'must be a whole number of seats, at least 1' }).int('must be a whole number of seats').min(1, 'must be at least 1 seat')),
  })
  .refine((s) => s.endsAt === undefined || s.endsAt > s.startsAt, { path: ['endsAt'], message: 'must come after the start' });

export type EventSettings = z.output<typeof eventSettingsSchema>;

/** The stored settings as the buyer's pages read them (stored ones passed the schema when saved). */
export function eventSettings(stored: Record<string, unknown>): EventSettings {
  const parsed = eventSettingsSchema.safeParse(stored);
  if (parsed.success) return parsed.data;
  return { title: String(stored.title ?? ''), startsAt: String(stored.startsAt ?? ''), venue: String(stored.venue ?? ''), details: String(stored.details ?? ''), capacity: Number(stored.capacity ?? 0) };
}

/** "2026-12-01 19:00 UTC – 2026-12-01 23:00 UTC". */
export function eventWhen(settings: EventSettings): string {
  const starts = settings.startsAt ? formatTime(settings.startsAt) : 'to be announced';
  return settings.endsAt ? `${starts} – ${formatTime(settings.endsAt)}` : starts;
}

const settings: KindSettings = {
  column: 'kind_settings',
  schema: eventSettingsSchema as unknown as z.ZodType<Record<string, unknown>>,
  fields: [
    { name: 'title', label: 'Event name', type: 'text' },
    { name: 'startsAt', label: 'Starts at (UTC)', type: 'datetime' },
    { name: 'endsAt', label: 'Ends at (UTC)', type: 'datetime', help: 'Optional.' },
    { name: 'venue', label: 'Venue or place', type: 'text', help: 'An address, a room, or an online meeting link.' },
    { name: 'details', label: 'Details', type: 'textarea', help: 'Shown on every ticket: doors, what to bring, whom to ask.' },
    { name: 'capacity', label: 'Capacity (seats)', type: 'number', help: 'A sale past the last seat is held for your review.' },
  ],
  async problem(db, packageId, given) {
    const taken = await seatsTaken(db, packageId);
    const capacity = Number(given.capacity);
    if (capacity >= taken) return undefined;
    return `the capacity of ${capacity} is below the ${taken} seats already sold; set it to at least ${taken} (refund buyers first to go lower)`;
  },
};

const events = (items: KindItem[]) => items.filter((i) => i.kind === 'event');
const seatsWord = (n: number) => `${n} seat${n === 1 ? '' : 's'}`;

export const eventSeats: KindDelivery = {
  name: 'event seats',
  kind: 'event',
  settings,

  async reserve(db, invoiceId, items) {
    const problems: string[] = [];
    for (const item of events(items)) {
      const claim = await claimSeats(db, { invoiceId, packageId: item.packageId, quantity: item.quantity });
      if (claim.claimed) continue;
      problems.push(
        `the event "${item.packageName}" (${item.itemNumber}) is over its capacity: this payment asks for ${seatsWord(claim.asked)}, ` +
          `${claim.left} of ${seatsWord(claim.capacity)} left; approve to seat the buyer anyway (over the capacity, or raise it first), or reject and refund`,
      );
    }
    return problems;
  },

  // Seats the payment's check could not claim come here when an operator approved the invoice:
  // the operator decided to oversell (or raised the capacity), so they are given without counting.
  async issue(ctx) {
    // Most invoices hold no event: they cost no statement here.
    if (events(ctx.items).length === 0) return;
    for (const item of events(ctx.items)) await insertSeats(ctx.db, ctx.invoiceId, item.packageId, item.quantity, 'delivery');
    const seats = await invoiceSeats(ctx.db, ctx.invoiceId);
    const tickets = seats.map((seat) => ({ seatId: seat.id, keyHash: keyHash(ticketKey(ctx, seat.id)) }));
    await storeTickets(ctx.db, ctx.generation, tickets);
  },

  async parts(ctx) {
    if (events(ctx.items).length === 0) return [];
    const seats = await invoiceSeats(ctx.db, ctx.invoiceId);
    const parts: DeliveryPart[] = [];
    for (const item of events(ctx.items)) {
      const mine = seats.filter((s) => s.package_id === item.packageId && s.revoked_at === null);
      if (mine.length === 0) continue;
      const event = eventSettings(item.settings);
      const lines: DeliveryLine[] = [
        { label: 'Event', value: event.title },
        { label: 'When', value: eventWhen(event) },
        ...(event.venue ? [{ label: 'Where', value: event.venue }] : []),
        ...mine.map((seat) => ({
          label: item.quantity > 1 ? `Ticket ${seat.unit} of ${item.quantity}` : 'Ticket',
          value: `${ctx.settings.publicUrl}${ticketPath(ticketKey(ctx, seat.id))}`,
          url: true,
          secret: true,
        })),
      ];
      parts.push({
        kind: 'event',
        packageName: item.packageName,
        title: mine.length === 1 ? 'Your ticket' : 'Your tickets',
        lines,
        note: [event.details, `Open ${mine.length === 1 ? 'the ticket' : 'each ticket'} at the entrance: its QR code lets one person in, once.`].filter(Boolean).join('\n\n'),
      });
    }
    return parts;
  },

  // A refund frees the seat (revoked seats do not count against the capacity); a cancelled reversal
  // gives it back even past the capacity: the buyer paid for it.
  revocable: { table: 'event_seats' },
};

function ticketKey(ctx: DeliveryContext, seatId: number): string {
  return deriveTicketKey(ctx.settings.keySecret, ctx.salt, seatId, ctx.generation);
}
