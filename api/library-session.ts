// The library's secrets: the single-use link an e-mail carries, derived from the key secret and
// the request's stored salt (so a retried send carries the same link, and Postgres holds only its
// SHA-256), and the session the link opens: a cookie holding "<address>.<expiry>", signed with
// Hono's signed cookies (HMAC-SHA256), HttpOnly, SameSite=Lax (the link arrives from a mail
// client, another site), path /library, Secure over https.
import { createHmac } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';

export const libraryCookieName = 'keyship_library';

/** What a link token looks like (base64url of 32 bytes); anything else is not looked up. */
export const linkTokenShape = /^[A-Za-z0-9_-]{43}$/;

export interface LibrarySession {
  email: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface LibrarySecrets {
  linkToken(salt: Buffer): string;
  start(c: Context, email: string, now?: number): Promise<LibrarySession>;
  /** The session the request's cookie holds, or undefined when missing, forged, malformed or expired. */
  read(c: Context, now?: number): Promise<LibrarySession | undefined>;
  end(c: Context): void;
}

export function librarySecrets(keySecret: Buffer, options: { sessionSeconds: number; secure: boolean }): LibrarySecrets {
  // Keys of their own, so neither a link nor a cookie can stand in for a download key.
  const linkKey = createHmac('sha256', keySecret).update('keyship library link v1').digest();
  const cookieKey = createHmac('sha256', keySecret).update('keyship library session v1').digest();
  const cookie = { path: '/library', httpOnly: true, sameSite: 'Lax', secure: options.secure } as const;
  return {
    linkToken: (salt) => createHmac('sha256', linkKey).update(salt).digest('base64url'),
    async start(c, email, now = Date.now()) {
      const session = { email, expiresAt: Math.floor(now / 1000) + options.sessionSeconds };
      await setSignedCookie(c, libraryCookieName, `${Buffer.from(email, 'utf8').toString('base64url')}.${session.expiresAt}`, cookieKey, {
        ...cookie,
        maxAge: options.sessionSeconds,
      });
      return session;
    },
    async read(c, now = Date.now()) {
      // The expiry is inside the signed value: a browser's Max-Age alone would be the client's word.
      const value = await getSignedCookie(c, cookieKey, libraryCookieName);
      const match = /^([A-Za-z0-9_-]{1,400})\.(\d{1,12})$/.exec(value || '');
      if (!match) return undefined;
      const expiresAt = Number(match[2]);
      if (expiresAt * 1000 <= now) return undefined;
      return { email: Buffer.from(match[1]!, 'base64url').toString('utf8'), expiresAt };
    },
    end(c) {
      deleteCookie(c, libraryCookieName, cookie);
    },
  };
}
