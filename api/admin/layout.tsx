// The frame of every admin page: server-rendered HTML with inline CSS, no JavaScript, laid out to
// read on a phone (tables scroll sideways, forms stack). Also the small pieces every page uses:
// notices, a table of rows, a one-button form.
import type { Child } from 'hono/jsx';

const css = `
:root { color-scheme: light dark; --accent: #1f6feb; --muted: #667; --line: #d0d7de; --warn: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
nav { display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: center; border-bottom: 1px solid var(--line); padding: .6rem 1rem; }
nav strong { margin-right: .5rem; }
nav form { margin-left: auto; }
main { max-width: 70rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
h1 { font-size: 1.45rem; margin: .8rem 0; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; }
.muted, small { color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .35rem .6rem .35rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
pre { white-space: pre-wrap; background: rgba(127,127,127,.1); padding: .5rem; border-radius: 6px; max-height: 24rem; overflow: auto; }
form.inline { display: inline-flex; flex-wrap: wrap; gap: .4rem; align-items: end; margin: .2rem .4rem .2rem 0; }
form.search, form.edit { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .5rem; align-items: end; }
label { display: block; font-size: .85rem; font-weight: 600; }
input, select, textarea { width: 100%; padding: .4rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
input[type=checkbox], input[type=radio] { width: auto; }
label:has(> input[type=radio]) { display: inline-block; margin-right: 1.5em; }
form.inline input { width: 6rem; }
textarea { min-height: 4rem; }
button { padding: .45rem .9rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; }
button.danger { background: var(--warn); }
.status { display: inline-block; padding: 0 .5rem; border-radius: 99px; font-size: .8rem; font-weight: 600; background: rgba(31,111,235,.15); }
.flash { border: 1px solid var(--line); border-left: 4px solid var(--accent); padding: .5rem .8rem; margin: .8rem 0; }
.flash.error { border-left-color: var(--warn); }
.error { color: var(--warn); font-weight: 600; }
dl { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .2rem 1rem; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-word; }
.pager { display: flex; gap: 1rem; margin: .8rem 0; }
`;

export function AdminLayout(props: { title: string; csrf?: string; refreshSeconds?: number; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex" />
        {props.refreshSeconds !== undefined && <meta http-equiv="refresh" content={String(props.refreshSeconds)} />}
        <title>{`${props.title} · Keyship admin`}</title>
        <style>{css}</style>
      </head>
      <body>
        <nav>
          <strong>Keyship admin</strong>
          {props.csrf !== undefined && (
            <>
              <a href="/admin">Needs attention</a>
              <a href="/admin/invoices">Invoices</a>
              <a href="/admin/accounts">Accounts</a>
              <a href="/admin/packages">Packages</a>
              <form method="post" action="/admin/logout">
                <CsrfField token={props.csrf} />
                <button type="submit">Log out</button>
              </form>
            </>
          )}
        </nav>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

export function Flash(props: { message?: string; error?: boolean }) {
  if (!props.message) return null;
  return (
    <p class={props.error ? 'flash error' : 'flash'} role="status">
      {props.message}
    </p>
  );
}

/** A page's two notices: what was done, and what went wrong. */
export function Notices(props: { flash?: string; error?: string }) {
  return (
    <>
      <Flash message={props.flash} />
      <Flash message={props.error} error />
    </>
  );
}

/** A table that scrolls sideways on a phone; `empty` is said under it when there are no rows. */
export function Table<T>(props: { id?: string; head?: string[]; rows: T[]; row: (row: T) => Child; empty?: string }) {
  return (
    <div class="scroll">
      <table id={props.id}>
        {props.head && (
          <thead>
            <tr>
              {props.head.map((h) => (
                <th>{h}</th>
              ))}
            </tr>
          </thead>
        )}
        <tbody>{props.rows.map(props.row)}</tbody>
      </table>
      {props.empty && props.rows.length === 0 && <p class="muted">{props.empty}</p>}
    </div>
  );
}

/** A form of one button that posts to `action` with the CSRF token. */
export function PostButton(props: { csrf: string; action: string; label: string; danger?: boolean; ariaLabel?: string }) {
  return (
    <form method="post" action={props.action} class="inline">
      <CsrfField token={props.csrf} />
      <button type="submit" class={props.danger ? 'danger' : undefined} aria-label={props.ariaLabel}>
        {props.label}
      </button>
    </form>
  );
}

/** "2026-01-31 14:05 UTC", or a dash for nothing. */
export function when(value: Date | string | null | undefined): string {
  if (!value) return '–';
  const iso = (value instanceof Date ? value : new Date(value)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function bytes(n: number | string): string {
  const value = Number(n);
  if (value < 1024) return `${value} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = value / 1024;
  let unit = 0;
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${v.toFixed(1)} ${units[unit]}`;
}
