// Who may reach /admin and /api/admin. Pages: the signed session cookie, Origin/Sec-Fetch-Site
// checks (Hono's csrf) and the per-session CSRF token on every request that changes something.
// JSON API: `Authorization: Bearer <ADMIN_TOKEN>` only (no cookie), so a browser cannot be made
// to call it from another site. Without ADMIN_TOKEN nothing here answers.
import type { Context, MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../../config/env';
import { renderPage } from '../pages/render';
import { LoginPage } from './login-page';
import { sameSecret, sessionSigner, type AdminSession, type SessionSigner } from './session';

export interface AdminEnv {
  Variables: { session: AdminSession; csrf: string };
}

const unsafe = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);

export function adminSigner(config: Config): SessionSigner | undefined {
  return config.adminToken ? sessionSigner(config.adminToken, { secure: config.publicUrl.startsWith('https:') }) : undefined;
}

const noToken = 'The admin is off because ADMIN_TOKEN is not set; set it (at least 16 characters) and restart the api.';

/** The origins a form may come from: this request's own, and PUBLIC_URL's (behind a proxy). */
export function sameSiteOrigin(config: Config) {
  const publicOrigin = new URL(config.publicUrl).origin;
  return csrf({ origin: (origin, c) => origin === new URL(c.req.url).origin || origin === publicOrigin });
}

export function pageGuard(config: Config, signer: SessionSigner | undefined): MiddlewareHandler<AdminEnv> {
  const originCheck = sameSiteOrigin(config);
  return async (c, next) => {
    if (!signer) return c.text(noToken, 503);
    // Cross-site form posts stop here, before anything reads their body (login included).
    try {
      await originCheck(c, async () => {});
    } catch (error) {
      if (error instanceof HTTPException) return c.text('Forbidden: this form was posted from another site; use the admin pages themselves.', 403);
      throw error;
    }
    // A body that cannot be parsed (a multipart type over a plain body) is the client's fault: 400,
    // not 500. parseBody caches, so the handlers after this read the same parsed form. Read only
    // for the login form or once the session is known, so a stranger's body is never parsed.
    const form = async () => c.req.parseBody().catch(() => undefined);
    const unreadable = () => c.text('Bad request: this form could not be read (malformed body); send it from the admin pages.', 400);
    if (c.req.path === '/admin/login') {
      if (unsafe(c.req.method) && !(await form())) return unreadable();
      return next();
    }
    const session = await signer.read(c);
    if (!session) {
      if (unsafe(c.req.method)) return c.text('Forbidden: log in at /admin/login first; your session is missing or has expired.', 403);
      const nextUrl = c.req.path + (new URL(c.req.url).search || '');
      return renderPage(c, <LoginPage next={nextUrl} />, 401);
    }
    const token = signer.csrfToken(session);
    if (unsafe(c.req.method)) {
      const body = await form();
      if (!body) return unreadable();
      if (!signer.checkCsrf(session, typeof body._csrf === 'string' ? body._csrf : undefined)) {
        return c.text('Forbidden: this form is stale or came from elsewhere (CSRF token mismatch); reload the page and try again.', 403);
      }
    }
    c.set('session', session);
    c.set('csrf', token);
    return next();
  };
}

export function apiGuard(config: Config): MiddlewareHandler {
  return async (c: Context, next) => {
    if (!config.adminToken) return c.json({ error: noToken }, 503);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    if (!match || !sameSecret(match[1]!, config.adminToken)) {
      c.header('WWW-Authenticate', 'Bearer realm="keyship-admin"');
      return c.json({ error: 'Unauthorized: send the header "Authorization: Bearer <ADMIN_TOKEN>".' }, 401);
    }
    return next();
  };
}
