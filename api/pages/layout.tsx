// The frame of every page a buyer sees: plain HTML and a little inline CSS, no JavaScript, so it
// works in any browser, in a text browser, and with scripts turned off.
import type { Child } from 'hono/jsx';

const css = `
:root { color-scheme: light dark; --accent: #1f6feb; --muted: #667; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
header { border-bottom: 1px solid var(--line); padding: .75rem 1.25rem; font-weight: 600; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 1.2rem 0 .8rem; }
p.lead { font-size: 1.1rem; }
.muted, small { color: var(--muted); }
.box { border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin: 1.25rem 0; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .5rem .5rem .5rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.part td a { word-break: break-all; }
a.download { display: inline-block; font-weight: 600; font-size: 1.05rem; }
label { display: block; margin: .8rem 0 .2rem; font-weight: 600; }
input, textarea { width: 100%; padding: .5rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
textarea { min-height: 5rem; }
button { margin-top: 1rem; padding: .6rem 1.2rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; }
.status { display: inline-block; padding: .1rem .6rem; border-radius: 99px; font-size: .85rem; font-weight: 600; background: #eef; color: #224; }
.error { color: #b42318; font-weight: 600; }
footer { max-width: 46rem; margin: 0 auto; padding: 0 1.25rem 2rem; color: var(--muted); font-size: .9rem; }
form.inline { display: inline; }
form.inline button { margin-top: .4rem; }
`;

/** `libraryLink` false: leave out the footer's way to the library (the library's own pages). */
export function Layout(props: { title: string; refreshSeconds?: number; refreshUrl?: string; libraryLink?: boolean; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex" />
        {props.refreshSeconds !== undefined && (
          <meta http-equiv="refresh" content={props.refreshUrl ? `${props.refreshSeconds}; url=${props.refreshUrl}` : String(props.refreshSeconds)} />
        )}
        <title>{props.title}</title>
        <style>{css}</style>
      </head>
      <body>
        <header>Keyship</header>
        <main>{props.children}</main>
        {props.libraryLink !== false && (
          <footer>
            Lost your download e-mail? <a href="/library">Get all your purchases back by e-mail</a>.
          </footer>
        )}
      </body>
    </html>
  );
}

/** A page that says one thing: a title, its lead sentence and what to do next. */
export function MessagePage(props: { title: string; lead: string; next: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p class="lead">{props.lead}</p>
      <p>{props.next}</p>
    </Layout>
  );
}
