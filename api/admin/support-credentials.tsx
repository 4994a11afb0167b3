// A support-login package's pool: the page at /admin/packages/:item/credentials (how many are left,
// given and revoked; paste or upload more) and the same through the JSON API. Lists never show a
// password (nor a single token whole); an invoice's own page shows the one it got.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { AppDeps } from '../deps';
import { renderPage } from '../pages/render';
import type { AdminEnv } from './guards';
import { AdminLayout, CsrfField, Notices, Table, when } from './layout';
import { noPackage, noPackageJson } from './refusals';
import { poolView, uploadCredentials, type PoolView } from './support-credential-upload';
import { maxCredentialsPerUpload } from '../../domain/support-credential-lines';
import type { InvoiceCredentialRow } from '../../db/support-credentials';

/** Enough of a token to tell two apart in a list, never enough to use it. */
const masked = (token: string) => `${token.slice(0, Math.min(4, Math.floor(token.length / 3)))}…`;

function PoolPage(props: { csrf: string; view: PoolView; flash?: string; error?: string; lines?: string }) {
  const { pkg, counts, given, waiting } = props.view;
  const action = `/admin/packages/${encodeURIComponent(pkg.itemNumber)}/credentials`;
  return (
    <AdminLayout title={`Support logins: ${pkg.name}`} csrf={props.csrf}>
      <h1>
        Support logins: {pkg.name} <small>{pkg.itemNumber}</small>
      </h1>
      <p>
        <a href={`/admin/packages/${encodeURIComponent(pkg.itemNumber)}`}>Back to the package</a>
      </p>
      <Notices flash={props.flash} error={props.error} />
      {pkg.kind !== 'support' && <p class="error">This package delivers {pkg.kind}, not support logins: set its kind to support before uploading.</p>}
      <dl id="pool-counts">
        <dt>Left to give</dt>
        <dd id="pool-left">{counts.left}</dd>
        <dt>Given</dt>
        <dd id="pool-given">{counts.given}</dd>
        <dt>Revoked</dt>
        <dd id="pool-revoked">{counts.revoked}</dd>
        <dt>Invoices waiting</dt>
        <dd id="pool-waiting">{counts.waiting}</dd>
      </dl>
      {waiting.length > 0 && (
        <>
          <h2>Waiting for a refill ({waiting.length})</h2>
          <p>
            These buyers paid when the pool was empty and were told their login is on its way. Upload enough below, then approve each invoice in review; an
            approved one (status paid) retries its delivery by itself, waiting longer each time up to 10 minutes, until the pool has enough.
          </p>
          <Table
            id="pool-waiting-list"
            head={['Invoice', 'Status', 'Needs', 'Since']}
            rows={waiting}
            row={(w) => (
              <tr>
                <td>
                  <a href={`/admin/invoices/${encodeURIComponent(w.invoiceNumber)}`}>{w.invoiceNumber}</a>
                </td>
                <td>{w.status === 'needs_review' ? 'needs review: approve after uploading' : w.status === 'paid' ? 'approved: delivery retrying' : w.status}</td>
                <td>{w.missing}</td>
                <td>{when(w.noticedAt)}</td>
              </tr>
            )}
          />
        </>
      )}

      <h2>Add credentials</h2>
      <p>
        One credential per line: <code>login</code>, then a tab, a colon or a space, then the <code>password</code> (with a tab, the login and the password
        may hold spaces and colons); or a single token per line. Blank lines and lines starting with <code>#</code> are skipped. A login already in the
        pool or twice in the upload, or a malformed line, refuses the whole upload with its line number. Up to {maxCredentialsPerUpload} lines at once.
      </p>
      <form method="post" action={action} enctype="multipart/form-data">
        <CsrfField token={props.csrf} />
        <label for="lines">Paste</label>
        <textarea id="lines" name="lines" rows={8} spellcheck={false} placeholder={'alice@example.com:S3cret-one\nbob@example.com\tS3cret two'}>
          {props.lines ?? ''}
        </textarea>
        <label for="upload">or upload a text file</label>
        <input id="upload" type="file" name="upload" accept=".txt,.csv,.tsv,text/plain" />
        <p>
          <button type="submit">Add to the pool</button>
        </p>
      </form>
      <p class="muted">
        Each credential is given to one buyer only, once. A refund or reversal marks the buyer's credential revoked, and it is never given again: disable
        it in your support system yourself, since Keyship cannot.
      </p>

      <h2>Handed out ({given.length}, newest first)</h2>
      <Table
        id="pool-given-list"
        head={['Login', 'Invoice', 'Unit', 'Given', 'Revoked']}
        rows={given}
        empty="None given yet. Passwords are never listed here; an invoice's page shows the one it got."
        row={(g) => (
          <tr>
            <td>
              <code>{g.token ? masked(g.login) : g.login}</code>
              {g.source === 'generated' && <small> (generated)</small>}
            </td>
            <td>
              <a href={`/admin/invoices/${encodeURIComponent(g.invoiceNumber)}`}>{g.invoiceNumber}</a>
            </td>
            <td>{g.unit}</td>
            <td>{when(g.claimedAt)}</td>
            <td>{g.revokedAt ? `${when(g.revokedAt)} (${g.revokedReason ?? ''})` : '–'}</td>
          </tr>
        )}
      />
    </AdminLayout>
  );
}

/** The invoice page's section: which credential each unit got (the password too: the operator answers the buyer's questions). */
export function InvoiceCredentials(props: { rows: InvoiceCredentialRow[] }) {
  if (props.rows.length === 0) return null;
  return (
    <>
      <h2>Support logins</h2>
      <Table
        id="support-logins"
        head={['Package', 'Unit', 'Login', 'Password', 'Given', 'Revoked']}
        rows={props.rows}
        row={(r) => (
          <tr>
            <td>
              <a href={`/admin/packages/${encodeURIComponent(r.itemNumber)}/credentials`}>{r.itemNumber}</a>
              {r.source === 'generated' && <small> (generated)</small>}
            </td>
            <td>{r.unit}</td>
            <td>
              <code>{r.login}</code>
            </td>
            <td>
              <code>{r.password ?? '(single token)'}</code>
            </td>
            <td>{when(r.claimedAt)}</td>
            <td class={r.revokedAt ? 'error' : undefined}>{r.revokedAt ? `revoked ${when(r.revokedAt)} (${r.revokedReason ?? ''}); disable it in your support system` : '–'}</td>
          </tr>
        )}
      />
    </>
  );
}

/** Characters one upload may hold (10,000 lines of a long login and password fit well inside). */
const maxUploadChars = 2_000_000;
const uploadBody = z.object({ lines: storableText() });
const tooLarge = `Nothing stored: the upload is over ${maxUploadChars.toLocaleString('en')} characters; split it into several.`;

export function supportCredentialRoutes({ pool }: AppDeps) {
  const app = new Hono<AdminEnv>();

  const show = async (c: Context<AdminEnv>, item: string, extra: { flash?: string; error?: string; lines?: string } = {}, status: 200 | 400 | 409 = 200) => {
    const view = await poolView(pool, item);
    if (!view) return noPackage(c, item);
    return renderPage(c, <PoolPage csrf={c.var.csrf} view={view} {...extra} />, status);
  };

  app.get('/admin/packages/:item/credentials', (c) => show(c, c.req.param('item')));

  app.post('/admin/packages/:item/credentials', async (c) => {
    const item = c.req.param('item');
    const body = await c.req.parseBody();
    const upload = body.upload instanceof File && body.upload.size > 0 ? await body.upload.text() : '';
    const pasted = typeof body.lines === 'string' ? body.lines : '';
    if (upload && pasted.trim()) return show(c, item, { error: 'Nothing stored: paste lines or upload a file, not both at once.', lines: pasted }, 400);
    if ((upload || pasted).length > maxUploadChars) return show(c, item, { error: tooLarge }, 400);
    const answer = await uploadCredentials(pool, item, upload || pasted);
    if (answer.ok) return show(c, item, { flash: `Added ${answer.added} credential${answer.added === 1 ? '' : 's'}; ${answer.counts.left} left to give.` });
    if (answer.status === 404) return c.text(answer.error, 404);
    return show(c, item, { error: answer.error, lines: pasted }, answer.status);
  });

  app.get('/api/admin/packages/:item/credentials', async (c) => {
    const view = await poolView(pool, c.req.param('item'));
    if (!view) return noPackageJson(c, c.req.param('item'));
    return c.json({ itemNumber: view.pkg.itemNumber, kind: view.pkg.kind, counts: view.counts, waiting: view.waiting, given: view.given.map((g) => ({ ...g, login: g.token ? masked(g.login) : g.login })) });
  });

  // JSON `{ "lines": "alice:pw\nbob:pw" }`, or the lines themselves as text/plain.
  app.post('/api/admin/packages/:item/credentials', async (c) => {
    let text: string;
    if ((c.req.header('content-type') ?? '').startsWith('text/plain')) text = await c.req.text();
    else {
      const parsed = uploadBody.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) return c.json({ error: 'The request was not understood: send JSON {"lines": "login:password\\n..."} or the lines as text/plain.' }, 400);
      text = parsed.data.lines;
    }
    if (text.length > maxUploadChars) return c.json({ error: tooLarge }, 413);
    const answer = await uploadCredentials(pool, c.req.param('item'), text);
    if (!answer.ok) return c.json({ error: answer.error, problems: answer.problems ?? [] }, answer.status);
    return c.json({ added: answer.added, counts: answer.counts }, 201);
  });

  return app;
}
