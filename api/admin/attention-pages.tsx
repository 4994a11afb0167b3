// /admin: what needs a person now. Each list links to the invoice, where the buttons are.
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import { renderPage } from '../pages/render';
import { closeLinkRequest } from '../../db/link-requests';
import { needsAttention, pendingLongDays } from './attention-queries';
import type { AdminEnv } from './guards';
import { InvoiceRows, RecheckButton } from './invoice-views';
import { AdminLayout, PostButton, Table, when } from './layout';

export function attentionPages({ pool }: AppDeps) {
  const app = new Hono<AdminEnv>();

  app.get('/admin', async (c) => {
    const a = await needsAttention(pool);
    const invoiceLink = (number: string | null) => (number ? <a href={`/admin/invoices/${encodeURIComponent(number)}`}>{number}</a> : '–');
    return renderPage(
      c,
      <AdminLayout title="Needs attention" csrf={c.var.csrf}>
        <h1>Needs attention</h1>
        <form method="get" action="/admin/invoices" class="search" role="search">
          <div>
            <label for="q">Find an invoice: e-mail, invoice number or PayPal transaction</label>
            <input id="q" name="q" />
          </div>
          <div>
            <button type="submit">Find</button>
          </div>
        </form>
        <h2>In review ({a.review.length})</h2>
        <p class="muted">Paid, but not matching the package: open one, then approve or reject.</p>
        <InvoiceRows rows={a.review} />
        <h2>Open disputes ({a.disputes.length})</h2>
        <p class="muted">A buyer disputes the payment at PayPal; the package's policy says whether downloads are suspended meanwhile.</p>
        <InvoiceRows rows={a.disputes} />
        <h2>Refunds awaiting PayPal ({a.refundsAwaitingPayPal.length})</h2>
        <p class="muted">Marked refunded here; PayPal has not yet reported the whole amount refunded.</p>
        <InvoiceRows rows={a.refundsAwaitingPayPal} />
        <h2>PayPal messages not verified ({a.unverifiedMessages.length})</h2>
        <p class="muted">Rejected, or left for PayPal's resend, before they could be verified. Once the cause is fixed (PayPal reachable, the configuration corrected), re-check one: it is verified now and routed once.</p>
        <Table
          rows={a.unverifiedMessages}
          row={(m) => (
            <tr>
              <td>
                #{m.id} · {when(m.receivedAt)}
              </td>
              <td>
                {m.channel} {m.paymentStatus ?? '?'} {m.txnId ?? ''}
              </td>
              <td>
                {m.verification} · {m.outcome}: <span class="error">{m.outcomeDetail ?? ''}</span>
              </td>
              <td>
                <RecheckButton csrf={c.var.csrf} id={m.id} />
              </td>
            </tr>
          )}
        />
        <h2>Pending for more than {pendingLongDays} days ({a.pendingLong.length})</h2>
        <InvoiceRows rows={a.pendingLong} />
        <h2>E-mails that failed ({a.failedEmails.length})</h2>
        <Table
          rows={a.failedEmails}
          row={(e) => (
            <tr>
              <td>{when(e.createdAt)}</td>
              <td>{invoiceLink(e.invoiceNumber)}</td>
              <td>
                {e.kind} to {e.to}
              </td>
              <td>
                {e.status} after {e.attempts} attempt(s): <span class="error">{e.error ?? ''}</span>
              </td>
            </tr>
          )}
        />
        <h2>Fresh-link requests ({a.linkRequests.length})</h2>
        <Table
          rows={a.linkRequests}
          row={(r) => (
            <tr>
              <td>{when(r.createdAt)}</td>
              <td>{r.email}</td>
              <td>{r.invoiceNumber ? invoiceLink(r.invoiceNumber) : (r.invoiceRef ?? 'no invoice given')}</td>
              <td>
                {r.keyProblem ?? ''} {r.message ?? ''}
              </td>
              <td>
                <PostButton csrf={c.var.csrf} action={`/admin/link-requests/${r.id}/close`} label="Done" />
              </td>
            </tr>
          )}
        />
      </AdminLayout>,
    );
  });

  app.post('/admin/link-requests/:id{[0-9]+}/close', async (c) => {
    await closeLinkRequest(pool, Number(c.req.param('id')), 'handled in the admin');
    return c.redirect('/admin', 303);
  });

  return app;
}
