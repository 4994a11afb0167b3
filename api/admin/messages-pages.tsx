// The admin's "Re-check" button on a PayPal message that was not verified (paypal/recheck.ts).
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import { renderPage } from '../pages/render';
import { txnIdFromWorkflowId } from '../../domain/invoice-ids';
import { createPayPalIntakes } from '../../paypal/intakes';
import { recheckMessage } from '../../paypal/recheck';
import type { AdminEnv } from './guards';
import { AdminLayout, Flash } from './layout';

export function messagePages(deps: AppDeps) {
  const { pool } = deps;
  const app = new Hono<AdminEnv>();
  const intakes = createPayPalIntakes(deps);
  app.post('/admin/messages/:id{[0-9]+}/recheck', async (c) => {
    const answer = await recheckMessage({ pool, intakes }, Number(c.req.param('id')), 'admin (web)');
    const txnId = answer.workflowId ? txnIdFromWorkflowId(answer.workflowId) : undefined;
    const failed = answer.outcome === 'missing' || answer.outcome === 'rejected' || answer.outcome === 'retry';
    return renderPage(
      c,
      <AdminLayout title={`Re-check of message #${answer.messageId}`} csrf={c.var.csrf}>
        <h1>Re-check of PayPal message #{answer.messageId}</h1>
        <Flash message={answer.message} error={failed} />
        <p>
          {txnId ? <a href={`/admin/invoices/${encodeURIComponent(txnId)}`}>Open the invoice of {txnId}</a> : null} <a href="/admin">Back to what needs attention</a>
        </p>
      </AdminLayout>,
      answer.outcome === 'missing' ? 404 : 200,
    );
  });
  return app;
}
