// /admin/accounts: client accounts and each one's invoices.
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import { renderPage } from '../pages/render';
import { searchAccounts, type AccountRow } from '../../db/accounts';
import { accountDetail, accountSearchSchema } from './account-queries';
import type { AdminEnv } from './guards';
import { InvoiceRows } from './invoice-views';
import { AdminLayout, Table, when } from './layout';

function AccountListPage(props: { csrf: string; q?: string; page: number; rows: AccountRow[]; hasMore: boolean }) {
  const link = (page: number) => `/admin/accounts?${new URLSearchParams({ ...(props.q ? { q: props.q } : {}), page: String(page) }).toString()}`;
  return (
    <AdminLayout title="Accounts" csrf={props.csrf}>
      <h1>Client accounts</h1>
      <form method="get" action="/admin/accounts" class="search" role="search">
        <div>
          <label for="q">E-mail, name or PayPal payer id</label>
          <input id="q" name="q" value={props.q ?? ''} />
        </div>
        <div>
          <button type="submit">Search</button>
        </div>
      </form>
      <Table
        head={['E-mail', 'Name', 'Invoices', 'Last', 'Since']}
        rows={props.rows}
        row={(a) => (
          <tr>
            <td>
              <a href={`/admin/accounts/${a.id}`}>{a.email}</a>
            </td>
            <td>{a.name ?? '–'}</td>
            <td>{a.invoiceCount}</td>
            <td>{when(a.lastInvoiceAt)}</td>
            <td>{when(a.createdAt)}</td>
          </tr>
        )}
      />
      <p class="pager">
        {props.page > 1 && <a href={link(props.page - 1)}>← newer</a>}
        <span class="muted">page {props.page}</span>
        {props.hasMore && <a href={link(props.page + 1)}>older →</a>}
      </p>
    </AdminLayout>
  );
}

export function accountPages({ pool }: AppDeps) {
  const app = new Hono<AdminEnv>();

  app.get('/admin/accounts', async (c) => {
    const search = accountSearchSchema.catch({ page: 1 }).parse(c.req.query());
    const result = await searchAccounts(pool, search);
    return renderPage(c, <AccountListPage csrf={c.var.csrf} q={search.q} {...result} />);
  });

  app.get('/admin/accounts/:id{[0-9]+}', async (c) => {
    const found = await accountDetail(pool, Number(c.req.param('id')));
    if (!found) return c.text('There is no such account; find it at /admin/accounts.', 404);
    const a = found.account;
    return renderPage(
      c,
      <AdminLayout title={a.email} csrf={c.var.csrf}>
        <h1>{a.email}</h1>
        <dl>
          <dt>Name</dt>
          <dd>{a.name ?? '–'}</dd>
          <dt>PayPal payer id</dt>
          <dd>{a.paypalPayerId ?? '–'}</dd>
          <dt>Since</dt>
          <dd>{when(a.createdAt)}</dd>
        </dl>
        <h2>Invoices ({found.invoices.length})</h2>
        <InvoiceRows rows={found.invoices} />
      </AdminLayout>,
    );
  });

  return app;
}
