// Event tickets: how a ticket's key is made, how the check-in reads a scanned or typed ticket, and
// whether a seat may get in now. The worker derives keys when it mails them, the api judges them on
// every request (the ticket page, the check-in); both import this.
//
// A ticket key is HMAC-SHA256(KEY_SECRET, the generation's salt, the seat, the generation), like a
// download key (domain/download-keys.ts) under a label of its own, so a ticket key can never be a
// download key. Postgres keeps only its SHA-256.
import { deriveLinkKey, keyShape } from '../domain/download-keys';
import { invoiceStanding, revokedSentence } from '../domain/invoice-status';

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

/** What a seat is now: valid, revoked (refund, reversal), suspended (an open dispute) or unpaid (held for review): its invoice's standing, and its own revocation. */
export type SeatStanding = 'valid' | 'revoked' | 'suspended' | 'unpaid';

/** The seat's standing, the reason an operator reads in the attendee list (refunded, reversed, disputed, or the invoice's status) and the sentence the buyer and the door are shown. */
export function seatStanding(seat: { revoked_reason: string | null; invoice_status: string }): { standing: SeatStanding; reason: string; sentence: string } {
  const reason = seat.revoked_reason ?? seat.invoice_status;
  const invoice = invoiceStanding(seat.invoice_status);
  if (seat.revoked_reason) return { standing: 'revoked', reason, sentence: revokedSentence(seat.revoked_reason, seat.invoice_status) };
  if (invoice.standing === 'live') return { standing: 'valid', reason: '', sentence: '' };
  return { standing: invoice.standing === 'withdrawn' ? 'revoked' : invoice.standing, reason: reason.replace(/_/g, ' '), sentence: invoice.sentence };
}

export type TicketProblem = 'revoked' | 'replaced' | 'suspended' | 'unpaid';

/** Why a ticket may not get in now (sentences for the buyer's page and the door alike), or undefined when it may. Revoked wins. */
export function ticketProblem(ticket: { replaced_at: Date | null; revoked_reason: string | null; invoice_status: string }): { problem: TicketProblem; sentence: string } | undefined {
  const { standing, sentence } = seatStanding(ticket);
  if (standing === 'revoked') return { problem: 'revoked', sentence: `This ticket was revoked. ${sentence}` };
  if (ticket.replaced_at) return { problem: 'replaced', sentence: 'This ticket was replaced by a newer one when the tickets were issued again; use the link in the newest e-mail.' };
  if (standing === 'valid') return undefined;
  return { problem: standing, sentence: standing === 'suspended' ? `This ticket is paused. ${sentence}` : `This ticket is not valid yet. ${sentence}` };
}
