// /api/admin/messages/:id/recheck: an operator's re-check of a stored PayPal message that was not
// verified, as JSON (paypal/recheck.ts says what it does).
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import { createPayPalIntakes } from '../../paypal/intakes';
import { recheckMessage } from '../../paypal/recheck';

export function messageApi(deps: AppDeps) {
  const { pool } = deps;
  const app = new Hono();
  const intakes = createPayPalIntakes(deps);
  app.post('/api/admin/messages/:id{[0-9]+}/recheck', async (c) => {
    const answer = await recheckMessage({ pool, intakes }, Number(c.req.param('id')), 'admin (api)');
    if (answer.outcome === 'missing') return c.json({ error: answer.message }, 404);
    return c.json(answer, answer.outcome === 'retry' ? 503 : 200);
  });
  return app;
}
