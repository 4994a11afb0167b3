// Event seats and their tickets (kinds/event-seats.ts says what they are for; migration 0920 the
// tables). A seat counts against the event's capacity while it is not revoked and its invoice was
// not rejected or failed: a refund or reversal gives the seat back to the sale at once.
import { inTransaction, type Queryable } from './pool';

/** The seats that take up capacity (the alias `s` is event_seats, joined to its invoice `i`). */
const takesCapacity = `s.revoked_at IS NULL AND i.status NOT IN ('rejected', 'failed')`;

/** How many seats of the event are taken now. */
export async function seatsTaken(db: Queryable, packageId: number): Promise<number> {
  const { rows } = await db.query<{ taken: number }>(
    `SELECT count(*)::int AS taken FROM event_seats s JOIN invoices i ON i.id = s.invoice_id WHERE s.package_id = $1 AND ${takesCapacity}`,
    [packageId],
  );
  return rows[0]?.taken ?? 0;
}

export interface SeatClaim {
  /** True when the invoice holds all its seats (now or from an earlier attempt). */
  claimed: boolean;
  asked: number;
  /** Seats still free before this claim (for the sentence when it fails). */
  left: number;
  capacity: number;
}

/**
 * Claims `quantity` seats of the event for the invoice, all or none. The package's row is locked
 * first, in a statement of its own, so the count that follows (a new snapshot) sees every seat a
 * buyer who held the lock before committed: two buyers of the last seat are served one at a time.
 * Claiming again (the activity retried after a crash) finds the seats already there.
 */
export async function claimSeats(db: Queryable, input: { invoiceId: number; packageId: number; quantity: number }): Promise<SeatClaim> {
  return inTransaction(db, async (tx) => {
    const locked = await tx.query<{ capacity: string | null }>(`SELECT kind_settings->>'capacity' AS capacity FROM packages WHERE id = $1 FOR UPDATE`, [input.packageId]);
    const capacity = Number(locked.rows[0]?.capacity ?? 0);
    const { rows } = await tx.query<{ taken: number; mine: number }>(
      `SELECT count(*) FILTER (WHERE ${takesCapacity})::int AS taken, count(*) FILTER (WHERE s.invoice_id = $2)::int AS mine
         FROM event_seats s JOIN invoices i ON i.id = s.invoice_id WHERE s.package_id = $1`,
      [input.packageId, input.invoiceId],
    );
    const { taken, mine } = rows[0] ?? { taken: 0, mine: 0 };
    const left = Math.max(capacity - taken, 0);
    if (mine >= input.quantity) return { claimed: true, asked: input.quantity, left, capacity };
    if (input.quantity - mine > left) return { claimed: false, asked: input.quantity, left, capacity };
    await insertSeats(tx, input.invoiceId, input.packageId, input.quantity, 'payment');
    return { claimed: true, asked: input.quantity, left, capacity };
  });
}

/** The invoice's seats 1..quantity that are missing (an operator approved the sale past the capacity), without counting. */
export async function insertSeats(db: Queryable, invoiceId: number, packageId: number, quantity: number, by: 'payment' | 'delivery'): Promise<void> {
  await db.query(
    `INSERT INTO event_seats (invoice_id, package_id, unit, claimed_by)
     SELECT $1, $2, unit, $4 FROM generate_series(1, $3::int) AS unit
     ON CONFLICT (invoice_id, package_id, unit) DO NOTHING`,
    [invoiceId, packageId, quantity, by],
  );
}

export interface SeatRow {
  id: number;
  package_id: number;
  unit: number;
  revoked_at: Date | null;
  revoked_reason: string | null;
  checked_in_at: Date | null;
}

export async function invoiceSeats(db: Queryable, invoiceId: number): Promise<SeatRow[]> {
  const { rows } = await db.query<SeatRow>(
    `SELECT id, package_id, unit, revoked_at, revoked_reason, checked_in_at FROM event_seats WHERE invoice_id = $1 ORDER BY package_id, unit`,
    [invoiceId],
  );
  return rows;
}

/** Stores the tickets of one generation (a retry stores nothing new) and marks the seats' older tickets replaced. */
export async function storeTickets(db: Queryable, generation: number, tickets: { seatId: number; keyHash: Buffer }[]): Promise<void> {
  if (tickets.length === 0) return;
  const seatIds = tickets.map((t) => t.seatId);
  await db.query(
    `WITH fresh AS (
       INSERT INTO event_tickets (seat_id, generation, key_hash)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::bytea[])
       ON CONFLICT (seat_id, generation) DO NOTHING
     )
     UPDATE event_tickets SET replaced_at = now() WHERE seat_id = ANY($1::bigint[]) AND generation < $4 AND replaced_at IS NULL`,
    [seatIds, tickets.map(() => generation), tickets.map((t) => t.keyHash), generation],
  );
}

/** What judging a ticket needs: the ticket, its seat, its invoice and its event. */
export interface TicketRow {
  seat_id: number;
  generation: number;
  replaced_at: Date | null;
  unit: number;
  quantity: number;
  revoked_at: Date | null;
  revoked_reason: string | null;
  checked_in_at: Date | null;
  invoice_number: string;
  invoice_status: string;
  payer_email: string;
  buyer_name: string;
  package_id: number;
  item_number: string;
  package_name: string;
  kind_settings: Record<string, unknown>;
}

export async function ticketByHash(db: Queryable, keyHash: Buffer): Promise<TicketRow | undefined> {
  const { rows } = await db.query<TicketRow>(
    `SELECT t.seat_id, t.generation, t.replaced_at, s.unit, ii.quantity, s.revoked_at, s.revoked_reason, s.checked_in_at,
            i.number AS invoice_number, i.status AS invoice_status, i.payer_email,
            trim(concat_ws(' ', a.first_name, a.last_name)) AS buyer_name,
            p.id AS package_id, p.item_number, p.name AS package_name, p.kind_settings
       FROM event_tickets t
       JOIN event_seats s ON s.id = t.seat_id
       JOIN invoices i ON i.id = s.invoice_id
       JOIN invoice_items ii ON ii.invoice_id = s.invoice_id AND ii.package_id = s.package_id
       JOIN packages p ON p.id = s.package_id
       LEFT JOIN accounts a ON a.id = i.account_id
      WHERE t.key_hash = $1`,
    [keyHash],
  );
  return rows[0];
}

/** Records the seat's first check-in; the time of the first when it was already checked in. */
export async function checkInSeat(db: Queryable, seatId: number, by: string): Promise<{ first: boolean; checkedInAt: Date }> {
  const updated = await db.query<{ checked_in_at: Date }>(
    `UPDATE event_seats SET checked_in_at = now(), checked_in_by = $2 WHERE id = $1 AND checked_in_at IS NULL RETURNING checked_in_at`,
    [seatId, by],
  );
  if (updated.rows[0]) return { first: true, checkedInAt: updated.rows[0].checked_in_at };
  const { rows } = await db.query<{ checked_in_at: Date }>(`SELECT checked_in_at FROM event_seats WHERE id = $1`, [seatId]);
  return { first: false, checkedInAt: rows[0]!.checked_in_at };
}

export interface AttendeeRow {
  name: string;
  email: string;
  invoice: string;
  /** "2 of 3": the seat's place among the invoice's seats of this event. */
  seat: string;
  revoked_reason: string | null;
  invoice_status: string;
  checkedInAt: Date | null;
}

/** The event's seats with their buyers, in the order they were sold (kinds/event-tickets.ts judges each). */
export async function eventAttendees(db: Queryable, packageId: number): Promise<AttendeeRow[]> {
  const { rows } = await db.query<AttendeeRow>(
    `SELECT trim(concat_ws(' ', a.first_name, a.last_name)) AS name, i.payer_email AS email, i.number AS invoice,
            s.unit || ' of ' || ii.quantity AS seat, s.revoked_reason, i.status AS invoice_status, s.checked_in_at AS "checkedInAt"
       FROM event_seats s
       JOIN invoices i ON i.id = s.invoice_id
       JOIN invoice_items ii ON ii.invoice_id = s.invoice_id AND ii.package_id = s.package_id
       LEFT JOIN accounts a ON a.id = i.account_id
      WHERE s.package_id = $1
      ORDER BY s.claimed_at, s.id`,
    [packageId],
  );
  return rows;
}
