// /admin/licenses/:id/revoke and /reissue: the buttons of the license keys' section on the package
// and invoice pages (license-views.tsx). Each comes back to its page with a sentence saying what
// happened; the session and the CSRF token are checked by the guards in front of every admin page.
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import type { AdminEnv } from './guards';
import { reissueLicense, revokeLicense } from './license-actions';

/** Only back to an admin page: the form's `back` is never a way off the site. */
function backTo(value: unknown): string {
  return typeof value === 'string' && /^\/admin\/[A-Za-z0-9/._%-]*$/.test(value) ? value : '/admin/packages';
}

export function licensePages({ config, pool, temporal }: AppDeps) {
  const app = new Hono<AdminEnv>();

  for (const action of ['revoke', 'reissue'] as const) {
    app.post(`/admin/licenses/:id/${action}`, async (c) => {
      const body = await c.req.parseBody();
      const id = Number(c.req.param('id'));
      const back = backTo(body.back);
      if (!Number.isInteger(id) || id < 1) return c.text('There is no such license key; go back to the package or invoice page.', 404);
      const answer = action === 'revoke' ? await revokeLicense(pool, id) : await reissueLicense({ pool, config, temporal }, id, 'admin (web)');
      const said: [string, string] = answer.ok ? ['licenseFlash', answer.message] : ['licenseError', answer.error];
      return c.redirect(`${back}?${new URLSearchParams([said]).toString()}#licenses`, 303);
    });
  }

  return app;
}
