// GET /a/:key: an access link (kinds/access.ts). The key is looked up by its SHA-256; inside the
// package's access window, and while the invoice's status allows it (domain/access-window.ts),
// the answer is a 303 to the seller's target, with no Referer so the keyed link does not travel
// on. Anything else gets a page saying what happened (api/pages/access-pages.tsx). Every request
// for a known link is logged (db/access-links.ts), let through or not; the clock is `deps.now`
// so the edges of a window can be tested without waiting for them.
import { Hono, type Context } from 'hono';
import { accessSettings } from '../kinds/access';
import { findAccessLink, logAccess, type AccessLinkRow } from '../db/access-links';
import { judgeAccess } from '../domain/access-window';
import { keyHash, keyShape } from '../domain/download-keys';
import type { AppDeps } from './deps';
import { clientAddress } from './client-address';
import { accessPageStatus, renderAccessPage, type AccessPageProps } from './pages/access-pages';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import { unknownKeyCost } from './downloads';

export function accessRoutes(deps: Pick<AppDeps, 'config' | 'pool' | 'now'>, limiter: RateLimiter = createRateLimiter(deps.config.downloads.ratePerMinute)) {
  const { config, pool } = deps;
  const now = deps.now ?? (() => new Date());
  const app = new Hono();

  app.get('/a/:key', async (c) => {
    const address = clientAddress(c, config.downloads.trustedProxies);
    if (!limiter.take(address)) return renderAccessPage(c, { problem: 'rate_limited', retryAfterSeconds: limiter.retryAfterSeconds(address) });
    const key = c.req.param('key');
    const link = keyShape.test(key) ? await findAccessLink(pool, keyHash(key)) : undefined;
    if (!link) {
      limiter.penalise(address, unknownKeyCost - 1);
      return renderAccessPage(c, { problem: 'unknown' });
    }
    const at = now();
    const log = (status: number, outcome: string) => logAccess(pool, link, { at, remoteAddr: address, userAgent: c.req.header('user-agent'), status, outcome });
    const settings = accessSettings(link.settings);
    if (!settings) {
      console.error(`access link ${link.id} (invoice ${link.invoiceId}): the package's access settings no longer parse; fix them in the package editor.`);
      await log(accessPageStatus.misconfigured, 'misconfigured');
      return refuse(c, link, { problem: 'misconfigured' });
    }
    const verdict = judgeAccess({ now: at, invoiceStatus: link.invoiceStatus, revokedAt: link.revokedAt, keyExpiresAt: link.expiresAt, window: settings.window });
    if (!verdict.ok) {
      await log(accessPageStatus[verdict.problem], verdict.problem);
      return refuse(c, link, { problem: verdict.problem, opensAt: verdict.opensAt, endedAt: verdict.endedAt, extendable: settings.window.kind === 'key' });
    }
    await log(303, 'redirected');
    return c.body(null, 303, { Location: settings.targetUrl, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
  });

  return app;
}

const refuse = (c: Context, link: AccessLinkRow, props: AccessPageProps) =>
  renderAccessPage(c, { ...props, packageName: link.packageName, revokedReason: link.revokedReason, invoiceStatus: link.invoiceStatus });
