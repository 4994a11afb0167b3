// The Hono app, built from its dependencies so tests drive it with app.request() and api/main.ts
// only wires real ones. One small app per resource, mounted here.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { accessRoutes } from './access';
import { adminRoutes } from './admin';
import { checkoutRoutes } from './checkout';
import type { AppDeps } from './deps';
import { downloadRoutes } from './downloads';
import { ticketRoutes } from './event-tickets';
import { healthRoutes } from './health';
import { libraryRoutes } from './library';
import { licenseRoutes } from './licenses';
import { metricsRoutes } from './metrics';
import { paypalRoutes } from './paypal';
import { restClientFromConfig } from '../paypal/rest/client';
import { createRateLimiter } from './rate-limit';
import { requestLog } from './request-log';
import { storeRoutes } from './store';
import { thanksRoutes } from './thanks';

export function createApp(given: AppDeps) {
  // One REST client for every route, so the admin's questions and webhook verification share a token.
  const deps = { ...given, paypalRest: given.paypalRest ?? restClientFromConfig(given.config.paypal, (line) => given.logger?.warn(line)) };
  const app = new Hono();
  app.use(requestLog({ logger: deps.logger, draining: () => deps.shutdown?.draining === true }));
  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes());
  app.route('/', paypalRoutes(deps));
  app.route('/', storeRoutes(deps));
  app.route('/', checkoutRoutes(deps));
  // One bucket per client address for every keyed link (/d/, /t/, /a/): a guessed key costs the same
  // wherever it is tried, and three routes do not triple the budget.
  const keyedLinks = createRateLimiter(deps.config.downloads.ratePerMinute);
  app.route('/', downloadRoutes(deps, keyedLinks));
  app.route('/', ticketRoutes(deps, keyedLinks));
  app.route('/', accessRoutes(deps, keyedLinks));
  app.route('/', thanksRoutes(deps));
  app.route('/', libraryRoutes(deps));
  app.route('/', licenseRoutes(deps));
  app.route('/', adminRoutes(deps));
  app.notFound((c) => c.text('Not found: there is nothing at this address.', 404));
  app.onError((error, c) => {
    // Hono's own refusals (a malformed form or JSON body: 400) keep their status; they are the client's.
    if (error instanceof HTTPException) return error.getResponse();
    // Postgres refuses a NUL in text (22021) and jsonb (22P05): input a schema let through, not a fault here.
    if (isUnstorableText(error)) {
      console.warn(`${c.req.method} ${c.req.path}: refused input holding a NUL character (${error.message})`);
      return c.text('The request holds a character Keyship cannot store (such as a NUL, U+0000); the request was not completed. Send it without that character.', 400);
    }
    console.error(`${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}`);
    return c.text('Keyship hit an internal error; the request was not completed. Try again in a minute.', 500);
  });
  return app;
}

/** Postgres' refusal of a NUL in text or jsonb, as node-postgres reports it (SQLSTATE 22021, 22P05). */
function isUnstorableText(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '22021' || code === '22P05';
}

export type { AppDeps };
