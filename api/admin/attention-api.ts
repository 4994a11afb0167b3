// /api/admin/attention: the "needs attention" lists as JSON.
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import { closeLinkRequest } from '../../db/link-requests';
import { needsAttention } from './attention-queries';

export function attentionApi({ pool }: AppDeps) {
  const app = new Hono();
  app.get('/api/admin/attention', async (c) => c.json(await needsAttention(pool)));
  app.post('/api/admin/link-requests/:id{[0-9]+}/close', async (c) => {
    const closed = await closeLinkRequest(pool, Number(c.req.param('id')), 'handled through the admin API');
    return closed ? c.json({ closed: true }) : c.json({ error: 'There is no open fresh-link request with that id.' }, 404);
  });
  return app;
}
