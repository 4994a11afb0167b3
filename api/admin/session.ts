// The admin session: a stateless cookie "<id>.<expiry>.<mac>" signed with a key derived from
// ADMIN_TOKEN (so changing the token logs everyone out), and the per-session CSRF token every
// changing form carries. Secrets are compared in constant time.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const sessionCookieName = 'keyship_admin';
export const sessionSeconds = 12 * 3600;

/** Constant-time equality of two secrets of any length (both are hashed to 32 bytes first). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export interface AdminSession {
  id: string;
  expiresAt: number;
}

export interface SessionSigner {
  issue(now?: number): { cookie: string; session: AdminSession };
  /** The session a cookie value names, or undefined when forged, malformed or expired. */
  verify(cookie: string | undefined, now?: number): AdminSession | undefined;
  csrfToken(session: AdminSession): string;
  checkCsrf(session: AdminSession, token: string | undefined): boolean;
}

export function sessionSigner(adminToken: string): SessionSigner {
  const key = createHmac('sha256', adminToken).update('keyship admin session v1').digest();
  const mac = (text: string) => createHmac('sha256', key).update(text).digest('base64url');
  const csrfToken = (session: AdminSession) => mac(`csrf\0${session.id}`);
  return {
    issue(now = Date.now()) {
      const session = { id: randomBytes(18).toString('base64url'), expiresAt: Math.floor(now / 1000) + sessionSeconds };
      const body = `${session.id}.${session.expiresAt}`;
      return { cookie: `${body}.${mac(body)}`, session };
    },
    verify(cookie, now = Date.now()) {
      const match = /^([A-Za-z0-9_-]{24})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(cookie ?? '');
      if (!match) return undefined;
      const [, id, expiry, signature] = match;
      if (!sameSecret(signature!, mac(`${id}.${expiry}`))) return undefined;
      const expiresAt = Number(expiry);
      return expiresAt * 1000 > now ? { id: id!, expiresAt } : undefined;
    },
    csrfToken,
    checkCsrf(session, token) {
      return typeof token === 'string' && sameSecret(token, csrfToken(session));
    },
  };
}
