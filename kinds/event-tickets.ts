// Event tickets: how a ticket's key is made, how the check-in reads a scanned or typed ticket, and
// whether a seat may get in now. The worker derives keys when it mails them, the api judges them on
// every request (the ticket page, the check-in); both import this.
//
// A ticket key is HMAC-SHA256(KEY_SECRET, the generation's salt, the seat, the generation), like a
// download key (domain/download-keys.ts) under a label of its own, so a ticket key can never be a
// download key. Postgres keeps only its SHA-256.
import { deriveLinkKey, keyShape } from '../domain/download-keys';
import { downloadableStatuses, returnedStatuses } from '../domain/invoice-status';

export function deriveTicketKey(secret: Buffer, salt: Buffer, seatId: number, generation: number): string {
  return deriveLinkKey('event ticket', secret, salt, seatId, generation);
}

/** The ticket page's path. */
export const ticketPath = (key: string) => `/t/${key}`;

/**
 * The key in what a scanner or a person typed at the door: the ticket's URL (what its QR code
 * holds) or the bare code printed under it. Undefined when it holds no key's shape.
 */
export function ticketKeyFrom(input: string): string | undefined {
  const text = input.trim();
  const fromUrl = /\/t\/([A-Za-z0-9_-]+)/.exec(text)?.[1];
  const key = fromUrl ?? text;
  return keyShape.test(key) ? key : undefined;
}

/** What a seat is now: valid, revoked (refund, reversal), suspended (an open dispute) or unpaid (held for review). */
export type SeatStanding = 'valid' | 'revoked' | 'suspended' | 'unpaid';

export function seatStanding(seat: { revoked_reason: string | null; invoice_status: string }): { standing: SeatStanding; reason: string } {
  const status = seat.invoice_status;
  if (seat.revoked_reason) return { standing: 'revoked', reason: seat.revoked_reason };
  if ((returnedStatuses as readonly string[]).includes(status)) return { standing: 'revoked', reason: status };
  if (status === 'disputed') return { standing: 'suspended', reason: 'disputed' };
  if ((downloadableStatuses as readonly string[]).includes(status)) return { standing: 'valid', reason: '' };
  return { standing: 'unpaid', reason: status.replace(/_/g, ' ') };
}

export type TicketProblem = 'revoked' | 'replaced' | 'suspended' | 'unpaid';

/** Why a ticket may not get in now (one sentence, for the buyer's page and the door alike), or undefined when it may. Revoked wins. */
export function ticketProblem(ticket: { replaced_at: Date | null; revoked_reason: string | null; invoice_status: string }): { problem: TicketProblem; sentence: string } | undefined {
  const { standing, reason } = seatStanding(ticket);
  if (standing === 'revoked') {
    return { problem: 'revoked', sentence: `this ticket was revoked: its payment was ${reason === 'reversed' ? 'reversed (a chargeback)' : 'refunded'}` };
  }
  if (ticket.replaced_at) return { problem: 'replaced', sentence: 'this ticket was replaced by a newer one when the tickets were issued again; use the link in the newest e-mail' };
  if (standing === 'suspended') return { problem: 'suspended', sentence: 'this ticket is suspended: its payment is disputed at PayPal, until the dispute is settled' };
  if (standing === 'unpaid') return { problem: 'unpaid', sentence: `this ticket's payment is not settled (its invoice is ${reason})` };
  return undefined;
}
