// The admin session: a cookie holding "<id>.<expiry>", signed with Hono's signed cookies (HMAC-SHA256)
// under a key derived from ADMIN_TOKEN (so changing the token logs everyone out), HttpOnly,
// SameSite=Strict, path /admin, Secure over https; and the per-session CSRF token every changing
// form carries. Secrets are compared in constant time.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';

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
  /** Starts a session: sets its signed cookie on the response. */
  start(c: Context, now?: number): Promise<AdminSession>;
  /** The session the request's cookie names, or undefined when missing, forged, malformed or expired. */
  read(c: Context, now?: number): Promise<AdminSession | undefined>;
  end(c: Context): void;
  csrfToken(session: AdminSession): string;
  checkCsrf(session: AdminSession, token: string | undefined): boolean;
}

export function sessionSigner(adminToken: string, options: { secure: boolean }): SessionSigner {
  const key = createHmac('sha256', adminToken).update('keyship admin session v1').digest();
  const csrfToken = (session: AdminSession) => createHmac('sha256', key).update(`csrf\0${session.id}`).digest('base64url');
  const cookie = { path: '/admin', httpOnly: true, sameSite: 'Strict', secure: options.secure } as const;
  return {
    async start(c, now = Date.now()) {
      const session = { id: randomBytes(18).toString('base64url'), expiresAt: Math.floor(now / 1000) + sessionSeconds };
      await setSignedCookie(c, sessionCookieName, `${session.id}.${session.expiresAt}`, key, { ...cookie, maxAge: sessionSeconds });
      return session;
    },
    async read(c, now = Date.now()) {
      // The expiry is inside the signed value: a browser's Max-Age alone would be the client's word.
      const value = await getSignedCookie(c, key, sessionCookieName);
      const match = /^([A-Za-z0-9_-]{24})\.(\d{1,12})$/.exec(value || '');
      if (!match) return undefined;
      const expiresAt = Number(match[2]);
      return expiresAt * 1000 > now ? { id: match[1]!, expiresAt } : undefined;
    },
    end(c) {
      deleteCookie(c, sessionCookieName, cookie);
    },
    csrfToken,
    checkCsrf(session, token) {
      return typeof token === 'string' && sameSecret(token, csrfToken(session));
    },
  };
}
