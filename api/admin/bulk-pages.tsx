// /admin/bulk/:workflowId: a bulk action's progress, refreshing itself while it runs.
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import { renderPage } from '../pages/render';
import { bulkStatus } from './bulk-start';
import type { AdminEnv } from './guards';
import { AdminLayout, Flash, when } from './layout';

export function bulkPages({ temporal }: AppDeps) {
  const app = new Hono<AdminEnv>();

  app.get('/admin/bulk/:workflowId', async (c) => {
    const status = await bulkStatus(temporal, c.req.param('workflowId'));
    if (!status) return c.text('There is no bulk action with that workflow id; see the package page.', 404);
    const p = status.progress;
    const running = status.status === 'RUNNING' || status.status === 'UNKNOWN';
    return renderPage(
      c,
      <AdminLayout title="Bulk action" csrf={c.var.csrf} refreshSeconds={running ? 2 : undefined}>
        <h1>Bulk action</h1>
        <Flash message={status.error} error />
        <dl>
          <dt>Workflow</dt>
          <dd>
            <code>{status.workflowId}</code> · <span class="status" id="bulk-status">{status.status}</span>
          </dd>
          {p && (
            <>
              <dt>What</dt>
              <dd>
                {p.kind === 'bulkExtendKeys' ? 'Extend live keys' : 'New version: renew keys and tell buyers'} of{' '}
                <a href={`/admin/packages/${encodeURIComponent(p.itemNumber)}`}>{p.itemNumber}</a> by {p.days} day(s)
              </dd>
              <dt>Progress</dt>
              <dd id="bulk-progress">
                {p.done} of {p.total} done: {p.succeeded} ok, {p.refused} refused, {p.failed} failed
              </dd>
              <dt>Started · finished</dt>
              <dd>
                {when(p.startedAt)} · {when(p.finishedAt)}
              </dd>
            </>
          )}
        </dl>
        {p && p.problems.length > 0 && (
          <>
            <h2>Problems</h2>
            <ul>
              {p.problems.map((f) => (
                <li>
                  <a href={`/admin/invoices/${encodeURIComponent(f.invoiceNumber)}`}>{f.invoiceNumber}</a>: {f.reason}
                </li>
              ))}
            </ul>
          </>
        )}
        <p class="muted">
          The same progress shows in the Temporal Web UI (the workflow's current details and memo) and with{' '}
          <code>temporal workflow query --workflow-id {status.workflowId} --name bulkProgress</code>.
        </p>
      </AdminLayout>,
    );
  });

  return app;
}
