// /api/admin/invoices: the same reads and actions as the pages, as JSON.
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { AppDeps } from '../deps';
import { operatorActionKinds } from '../../domain/operator-actions';
import { actionInputSchema, answerStatus, performAction, workflowView } from './invoice-actions';
import { findInvoice, searchInvoices } from '../../db/invoices';
import { invoiceDetail, invoiceSearchSchema, invoiceTimeline } from './invoice-queries';
import { validationError } from './refusals';
import { restConfigured } from '../../paypal/rest/client';
import { askPayPalAbout } from '../../paypal/paypal-facts';

export function invoiceApi({ config, pool, temporal, paypalRest }: AppDeps) {
  const app = new Hono();

  app.get('/api/admin/invoices', zValidator('query', invoiceSearchSchema, validationError), async (c) => {
    const result = await searchInvoices(pool, c.req.valid('query'));
    return c.json(result);
  });

  app.get('/api/admin/invoices/:ref', async (c) => {
    const detail = await invoiceDetail(pool, c.req.param('ref'));
    if (!detail) return c.json({ error: `There is no invoice ${c.req.param('ref')}; search with GET /api/admin/invoices?q=...` }, 404);
    const view = await workflowView(temporal, detail.invoice.txnId);
    return c.json({ ...detail, workflow: view ?? null, timeline: invoiceTimeline(detail, view?.events) });
  });

  app.get('/api/admin/invoices/:ref/paypal', async (c) => {
    const invoice = await findInvoice(pool, c.req.param('ref'));
    if (!invoice) return c.json({ error: `There is no invoice ${c.req.param('ref')}; search with GET /api/admin/invoices?q=...` }, 404);
    return c.json({ invoice, paypal: await askPayPalAbout(config.paypal, paypalRest, invoice.txnId) });
  });

  app.post(
    '/api/admin/invoices/:ref/actions/:action',
    zValidator('param', z.object({ ref: storableText(), action: z.enum(operatorActionKinds) }), validationError),
    zValidator('json', actionInputSchema, validationError),
    async (c) => {
      const { ref, action } = c.req.valid('param');
      const invoice = await findInvoice(pool, ref);
      if (!invoice) return c.json({ error: `There is no invoice ${ref}; search with GET /api/admin/invoices?q=...` }, 404);
      const answer = await performAction({ temporal, pool, taskQueue: config.temporal.taskQueue }, invoice, action, c.req.valid('json'), 'admin (api)', { refundsThroughPayPal: restConfigured(config) });
      if (!answer.ok) return c.json({ error: answer.error }, answer.status);
      return c.json(answer.pending ? { message: answer.message, pending: true } : { message: answer.message, state: answer.state }, answerStatus(answer));
    },
  );

  return app;
}
