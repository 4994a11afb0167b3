// /api/admin/accounts: client accounts as JSON.
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import type { AppDeps } from '../deps';
import { searchAccounts } from '../../db/accounts';
import { accountDetail, accountSearchSchema } from './account-queries';
import { validationError } from './refusals';

export function accountApi({ pool }: AppDeps) {
  const app = new Hono();
  app.get('/api/admin/accounts', zValidator('query', accountSearchSchema, validationError), async (c) => c.json(await searchAccounts(pool, c.req.valid('query'))));
  app.get('/api/admin/accounts/:id{[0-9]+}', async (c) => {
    const found = await accountDetail(pool, Number(c.req.param('id')));
    return found ? c.json(found) : c.json({ error: 'There is no such account; list them with GET /api/admin/accounts?q=...' }, 404);
  });
  return app;
}
