// POST /admin/login turns the ADMIN_TOKEN into a session cookie (session.ts); POST /admin/logout
// clears it. GET /admin/login shows the form.
import { Hono } from 'hono';
import type { Config } from '../../config/env';
import { clientAddress } from '../client-address';
import { renderPage } from '../pages/render';
import { createRateLimiter } from '../rate-limit';
import type { AdminEnv } from './guards';
import { LoginPage } from './login-page';
import { sameSecret, type SessionSigner } from './session';

/** Only a path inside the admin: never another site, never "//host". */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/admin(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/admin';
}

export function loginRoutes(config: Config, signer: SessionSigner | undefined) {
  const app = new Hono<AdminEnv>();
  // Ten guesses a minute per address: the token is long, this only keeps the log quiet.
  const attempts = createRateLimiter(10);

  app.get('/admin/login', (c) => renderPage(c, <LoginPage next={safeNext(c.req.query('next'))} />));

  app.post('/admin/login', async (c) => {
    const body = await c.req.parseBody();
    const next = safeNext(body.next);
    const address = clientAddress(c, config.downloads.trustedProxies);
    if (!attempts.take(address)) return renderPage(c, <LoginPage next={next} error="Too many attempts from your address; wait a minute and try again." />, 429);
    const token = typeof body.token === 'string' ? body.token : '';
    if (!signer || !config.adminToken || !sameSecret(token, config.adminToken)) {
      return renderPage(c, <LoginPage next={next} error="That is not the admin token; check ADMIN_TOKEN (or .data/admin-token) and try again." />, 401);
    }
    await signer.start(c);
    return c.redirect(next, 303);
  });

  app.post('/admin/logout', (c) => {
    signer?.end(c);
    return c.redirect('/admin/login', 303);
  });

  return app;
}
