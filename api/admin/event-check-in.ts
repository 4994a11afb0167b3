// The door of an event: a ticket scanned or typed (its URL or its code) is checked in once. The
// admin's check-in page and POST /api/admin/events/:item/check-in both answer with this.
import type { Pool } from '../../db/pool';
import { checkInSeat, eventAttendees, ticketByHash, type AttendeeRow } from '../../db/event-seats';
import { findPackage, type PackageRow } from '../../db/packages';
import { keyHash } from '../../domain/download-keys';
import { seatStanding, ticketKeyFrom, ticketProblem, type SeatStanding, type TicketProblem } from '../../kinds/event-tickets';

export type CheckInRefusal = 'unreadable' | 'unknown' | 'other_event' | 'already_checked_in' | TicketProblem;

export interface CheckInAnswer {
  ok: boolean;
  /** Why the ticket may not get in; absent when it got in. */
  refusal?: CheckInRefusal;
  /** One sentence for the person at the door. */
  message: string;
  /** When the seat was checked in: now, or the first time for a second scan. */
  checkedInAt?: string;
  attendee?: { name: string; email: string; invoice: string; seat: string };
}

/** The event package of an item number, or a sentence saying why there is none. */
export async function findEvent(pool: Pool, itemNumber: string): Promise<{ event: PackageRow } | { error: string }> {
  const pkg = await findPackage(pool, itemNumber);
  if (!pkg) return { error: `There is no package ${itemNumber}; list them at /admin/packages.` };
  if (pkg.kind !== 'event') return { error: `Package ${itemNumber} is not an event (its kind is ${pkg.kind}); only event packages have tickets and attendees.` };
  return { event: pkg };
}

const at = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export async function checkInTicket(pool: Pool, event: PackageRow, input: string, by: string): Promise<CheckInAnswer> {
  const key = ticketKeyFrom(input);
  if (!key) return { ok: false, refusal: 'unreadable', message: 'Refused: that is not a ticket (neither a ticket link nor a ticket code); scan the QR code again or type the code under it.' };
  const ticket = await ticketByHash(pool, keyHash(key));
  if (!ticket) return { ok: false, refusal: 'unknown', message: 'Refused: no ticket has this code; it may be mistyped, or not one of ours.' };
  const attendee = { name: ticket.buyer_name, email: ticket.payer_email, invoice: ticket.invoice_number, seat: `${ticket.unit} of ${ticket.quantity}` };
  const who = `${ticket.buyer_name || ticket.payer_email} (invoice ${ticket.invoice_number}, seat ${attendee.seat})`;
  if (ticket.package_id !== event.id) {
    return { ok: false, refusal: 'other_event', message: `Refused: this ticket is for another event, "${ticket.package_name}" (${ticket.item_number}).`, attendee };
  }
  const problem = ticketProblem(ticket);
  if (problem) return { ok: false, refusal: problem.problem, message: `Refused. ${problem.sentence} ${who}.`, attendee };
  const result = await checkInSeat(pool, ticket.seat_id, by);
  const checkedInAt = result.checkedInAt.toISOString();
  if (!result.first) {
    return { ok: false, refusal: 'already_checked_in', message: `Refused: this ticket was already checked in at ${at(result.checkedInAt)}. ${who}.`, checkedInAt, attendee };
  }
  return { ok: true, message: `Checked in: ${who}, at ${at(result.checkedInAt)}.`, checkedInAt, attendee };
}

export interface Attendee {
  name: string;
  email: string;
  invoice: string;
  seat: string;
  status: SeatStanding;
  /** Why not valid: refunded, reversed, disputed, or the invoice's status. Empty when valid. */
  reason: string;
  checkedInAt: string | null;
}

export async function attendeesOf(pool: Pool, event: PackageRow): Promise<Attendee[]> {
  return (await eventAttendees(pool, event.id)).map((row: AttendeeRow) => {
    const { standing, reason } = seatStanding(row);
    return { name: row.name, email: row.email, invoice: row.invoice, seat: row.seat, status: standing, reason, checkedInAt: row.checkedInAt?.toISOString() ?? null };
  });
}

/** Seats sold (not revoked), checked in, and the capacity: the head of the check-in page and the list. */
export function attendeeCounts(event: PackageRow, attendees: Attendee[]): { valid: number; checkedIn: number; capacity: number } {
  const valid = attendees.filter((a) => a.status === 'valid');
  return { valid: valid.length, checkedIn: valid.filter((a) => a.checkedInAt).length, capacity: Number(event.kindSettings.capacity ?? 0) };
}
