// POST /api/licenses/verify: a program asks whether a license key holds for a package. Public (the
// buyer's program calls it), so it says nothing it need not: a key of another package answers
// exactly as a key nobody issued (same body, same status, the same single lookup), and a
// malformed key is refused before any lookup. Rate-limited per client address like /d/.
//
//   request  { "key": "KS-…", "package": "<item number>" }
//   answer   200 { status: 'valid' | 'expired' | 'revoked' | 'unknown', package, version, expiresAt }
//            400 { error } for a malformed request or key; 429 { error } past the rate limit.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { storableText } from '../db/storable-text';
import type { AppDeps } from './deps';
import { clientAddress } from './client-address';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import { findLicenseKey } from '../db/license-keys';
import { licenseKeyHash, licenseStatus, parseLicenseKey } from '../domain/license-keys';

const requestSchema = z.object({
  key: storableText().max(2000),
  package: storableText().trim().min(1).max(127),
});

export function licenseRoutes(deps: Pick<AppDeps, 'config' | 'pool'>, limiter: RateLimiter = createRateLimiter(deps.config.licenses.ratePerMinute)) {
  const { config, pool } = deps;
  const app = new Hono();

  // A key is at most a couple of kilobytes; a larger body is refused before it is read.
  const small = bodyLimit({ maxSize: 8 * 1024, onError: (c) => c.json({ error: 'Too large: send only {"key": ..., "package": ...}, a few hundred bytes.' }, 413) });

  app.post('/api/licenses/verify', small, async (c) => {
    c.header('Cache-Control', 'no-store');
    const address = clientAddress(c, config.downloads.trustedProxies);
    if (!limiter.take(address)) {
      const wait = limiter.retryAfterSeconds(address);
      c.header('Retry-After', String(wait));
      return c.json({ error: `Too many license checks from this address; try again in ${wait} s.` }, 429);
    }
    const body: unknown = await c.req.json().catch(() => undefined);
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) return c.json({ error: 'Send JSON such as {"key": "KS-XXXXX-XXXXX-XXXXX-XXXXX", "package": "<item number>"} with Content-Type: application/json.' }, 400);
    const key = parseLicenseKey(parsed.data.key);
    if (!key.ok) return c.json({ error: key.problem }, 400);
    const item = parsed.data.package;
    const found = await findLicenseKey(pool, licenseKeyHash(key.canonical), item);
    if (!found) return c.json({ status: 'unknown', package: item, version: null, expiresAt: null });
    return c.json({ status: licenseStatus(found), package: item, version: found.version, expiresAt: found.expires_at?.toISOString() ?? null });
  });

  return app;
}
