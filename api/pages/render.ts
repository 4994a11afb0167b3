// Renders a page element as a complete HTML document with its status and the headers every
// buyer-facing page carries (no caching of personal pages, no referrer leaking a key).
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSX } from 'hono/jsx/jsx-runtime';

export async function renderPage(c: Context, page: JSX.Element, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}) {
  const html = `<!doctype html>${await page.toString()}`;
  return c.html(html, status, {
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ...headers,
  });
}
