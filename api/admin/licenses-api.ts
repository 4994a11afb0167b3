// /api/admin/...licenses: the license keys of a package (with its public key) and of an invoice,
// and revoke and reissue, as JSON (license-actions.ts does the work, as for the pages).
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { noPackageJson, validationError } from './refusals';
import { invoiceLicenses, packageLicenses, reissueLicense, revokeLicense } from './license-actions';

const idParam = z.object({ id: z.coerce.number({ error: 'must be a license key id (a whole number)' }).int().min(1) });

export function licenseApi({ config, pool, temporal }: AppDeps) {
  const app = new Hono();

  app.get('/api/admin/packages/:item/licenses', async (c) => {
    const found = await packageLicenses(pool, config, c.req.param('item'));
    return found ? c.json(found) : noPackageJson(c, c.req.param('item'));
  });

  app.get('/api/admin/invoices/:ref/licenses', async (c) => {
    const keys = await invoiceLicenses(pool, c.req.param('ref'));
    return keys ? c.json({ keys }) : c.json({ error: `There is no invoice ${c.req.param('ref')}; search with GET /api/admin/invoices?q=...` }, 404);
  });

  app.post('/api/admin/licenses/:id/revoke', zValidator('param', idParam, validationError), async (c) => {
    const answer = await revokeLicense(pool, c.req.valid('param').id);
    return answer.ok ? c.json({ message: answer.message, key: answer.key }) : c.json({ error: answer.error }, answer.status);
  });

  app.post('/api/admin/licenses/:id/reissue', zValidator('param', idParam, validationError), async (c) => {
    const answer = await reissueLicense({ pool, config, temporal }, c.req.valid('param').id, 'admin (api)');
    return answer.ok ? c.json({ message: answer.message, key: answer.key, replacement: answer.replacement }) : c.json({ error: answer.error }, answer.status);
  });

  return app;
}
