// One JSON log line and one metrics sample per request, written when the last byte has left (or
// the client went away), so a download's line has its real duration. The line names the route
// pattern and never the query string; /d/ paths are redacted by the logger anyway. Routes add
// what a line should carry (invoice number, workflow id) with addLogFields.
import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../logging/logger';
import { httpDuration, httpRequests } from './metrics';

const fieldsOf = new WeakMap<Request, Record<string, unknown>>();

export function addLogFields(c: Context, fields: Record<string, unknown>): void {
  fieldsOf.set(c.req.raw, { ...fieldsOf.get(c.req.raw), ...fields });
}

/** The pattern of the route that answered ("/d/:key"), so a metric's labels stay few. */
function routeOf(c: Context): string {
  const responder = matchedRoutes(c)[c.req.routeIndex];
  return !responder || responder.path === '/*' || responder.path === '*' ? 'unmatched' : responder.path;
}

export function requestLog(options: { logger?: Logger; draining?: () => boolean }): MiddlewareHandler<{ Bindings: Partial<HttpBindings> }> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    // Draining for a shutdown: ask keep-alive clients to go elsewhere next time.
    if (options.draining?.()) {
      try {
        c.res.headers.set('Connection', 'close');
      } catch {
        // an immutable response (a proxied one): the listener's close still ends the connection
      }
    }
    const route = routeOf(c);
    const done = (status: number, aborted: boolean) => {
      const seconds = (performance.now() - started) / 1000;
      httpRequests.inc({ method: c.req.method, route, status: String(status) });
      httpDuration.observe({ method: c.req.method, route }, seconds);
      const line = { method: c.req.method, route, path: c.req.path, status, ms: Math.round(seconds * 1000), ...(aborted ? { aborted } : {}), ...fieldsOf.get(c.req.raw) };
      // A 500's cause is logged by the app's error handler; a 503 (not ready, PayPal to resend) is a warning.
      if (status >= 500) options.logger?.warn(line, 'request answered with a server error');
      else options.logger?.info(line, 'request');
    };
    const outgoing = c.env?.outgoing;
    if (!outgoing) return done(c.res.status, false); // app.request() in tests: no socket
    outgoing.once('close', () => done(outgoing.statusCode, !outgoing.writableFinished));
  };
}
