// Whether an access link (kinds/access.ts) may be used now: the one rule the /a/ route applies on
// every request, written as a pure function so its table of cases is tested without servers.
// Revocation and the invoice's standing (domain/invoice-status.ts) win over the window, so a refund
// or a dispute takes effect at the next request, wherever the window stands.
import { invoiceStanding } from './invoice-status';

/** When a link works: between fixed dates (a live event) or for the key's lifetime (a recording). */
export type AccessWindow = { kind: 'fixed'; opensAt: Date; closesAt: Date } | { kind: 'key' };

export interface AccessFacts {
  now: Date;
  invoiceStatus: string;
  revokedAt: Date | null;
  /** This generation's key expiry (extend moves it). */
  keyExpiresAt: Date;
  window: AccessWindow;
}

export type AccessProblem = 'revoked' | 'suspended' | 'unpaid' | 'not_open' | 'ended';

export type AccessVerdict = { ok: true; closesAt: Date } | { ok: false; problem: AccessProblem; opensAt?: Date; endedAt?: Date };

/** The verdict on one request. The window opens at `opensAt` (inclusive) and ends at its close (exclusive). */
export function judgeAccess(f: AccessFacts): AccessVerdict {
  const { standing } = invoiceStanding(f.invoiceStatus);
  if (f.revokedAt !== null || standing === 'withdrawn') return { ok: false, problem: 'revoked' };
  if (standing === 'suspended') return { ok: false, problem: 'suspended' };
  if (standing === 'unpaid') return { ok: false, problem: 'unpaid' };
  const t = f.now.getTime();
  if (f.window.kind === 'fixed') {
    // A fixed window ignores the key's expiry: a seat bought a month ahead still works on the day.
    if (t < f.window.opensAt.getTime()) return { ok: false, problem: 'not_open', opensAt: f.window.opensAt };
    if (t >= f.window.closesAt.getTime()) return { ok: false, problem: 'ended', endedAt: f.window.closesAt };
    return { ok: true, closesAt: f.window.closesAt };
  }
  if (t >= f.keyExpiresAt.getTime()) return { ok: false, problem: 'ended', endedAt: f.keyExpiresAt };
  return { ok: true, closesAt: f.keyExpiresAt };
}
