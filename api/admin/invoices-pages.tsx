// /admin/invoices: search, one invoice, and the operator buttons (each an update of the invoice
// workflow, whose answer the page shows).
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import { renderPage } from '../pages/render';
import type { AdminEnv } from './guards';
import { operatorActionKinds, type OperatorActionKind } from '../../domain/operator-actions';
import { randomUUID } from 'node:crypto';
import { actionInputSchema, answerStatus, performAction, refundsThroughPayPal, workflowView } from './invoice-actions';
import { restConfigured } from '../../paypal/rest/client';
import { findInvoice, searchInvoices } from '../../db/invoices';
import { invoiceDetail, invoiceSearchSchema, invoiceTimeline } from './invoice-queries';
import { InvoiceDetailPage, InvoiceListPage, PayPalFactsPage, RefundConfirmPage } from './invoice-views';
import { askPayPalAbout } from '../../paypal/paypal-facts';
import { invoiceLicenseSection } from './license-actions';
import { issueList } from './refusals';

export function invoicePages({ config, pool, temporal, paypalRest }: AppDeps) {
  const app = new Hono<AdminEnv>();

  app.get('/admin/invoices', async (c) => {
    const parsed = invoiceSearchSchema.safeParse(c.req.query());
    if (!parsed.success) {
      const search = invoiceSearchSchema.parse({});
      return renderPage(c, <InvoiceListPage csrf={c.var.csrf} search={search} rows={[]} hasMore={false} error={`The search was not understood: ${issueList(parsed.error)}.`} />, 400);
    }
    const result = await searchInvoices(pool, parsed.data);
    return renderPage(c, <InvoiceListPage csrf={c.var.csrf} search={parsed.data} rows={result.rows} hasMore={result.hasMore} />);
  });

  const showInvoice = async (ref: string, extra: { flash?: string; error?: string } = {}) => {
    const detail = await invoiceDetail(pool, ref);
    if (!detail) return undefined;
    const view = await workflowView(temporal, detail.invoice.txnId);
    return { detail, view, timeline: invoiceTimeline(detail, view?.events), ...extra };
  };

  app.get('/admin/invoices/:ref', async (c) => {
    const shown = await showInvoice(c.req.param('ref'));
    if (!shown) return c.text(`There is no invoice ${c.req.param('ref')}; search for it at /admin/invoices.`, 404);
    const licenses = await invoiceLicenseSection(pool, c.var.csrf, shown.detail.invoice.number, c.req.query());
    return renderPage(c, <InvoiceDetailPage csrf={c.var.csrf} {...shown} licenses={licenses} />);
  });

  app.get('/admin/invoices/:ref/paypal', async (c) => {
    const invoice = await findInvoice(pool, c.req.param('ref'));
    if (!invoice) return c.text(`There is no invoice ${c.req.param('ref')}; search for it at /admin/invoices.`, 404);
    const asked = await askPayPalAbout(config.paypal, paypalRest, invoice.txnId);
    return renderPage(c, <PayPalFactsPage csrf={c.var.csrf} invoice={invoice} asked={asked} />);
  });

  app.post('/admin/invoices/:ref/actions/:action', async (c) => {
    const kind = c.req.param('action') as OperatorActionKind;
    const invoice = await findInvoice(pool, c.req.param('ref'));
    if (!invoice || !operatorActionKinds.includes(kind)) return c.text('There is no such invoice or action; go back to /admin/invoices.', 404);
    const input = actionInputSchema.safeParse(await c.req.parseBody());
    const options = { refundsThroughPayPal: restConfigured(config) };
    if (kind === 'refund' && input.success && input.data.confirm !== 'yes' && refundsThroughPayPal(input.data, options)) {
      // Money leaves: the operator sees what and to whom, and confirms with a fresh request id.
      const requestId = `admin-${invoice.number}-${randomUUID()}`;
      return renderPage(c, <RefundConfirmPage csrf={c.var.csrf} invoice={invoice} amount={input.data.amount} reason={input.data.reason} requestId={requestId} />);
    }
    const answer = input.success
      ? await performAction({ temporal, pool, taskQueue: config.temporal.taskQueue }, invoice, kind, input.data, 'admin (web)', options)
      : ({ ok: false, status: 400, error: `The action's input was not understood: ${issueList(input.error)}.` } as const);
    const shown = await showInvoice(invoice.number, answer.ok ? { flash: answer.message } : { error: answer.error });
    return renderPage(c, <InvoiceDetailPage csrf={c.var.csrf} {...shown!} />, answerStatus(answer));
  });

  return app;
}
