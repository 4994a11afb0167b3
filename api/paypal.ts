// PayPal's doors: POST /paypal/ipn and POST /paypal/webhook. Each answers 200 once the message is
// settled (routed, a duplicate, or rejected and recorded), 503 when PayPal must resend it later.
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createPayPalIntakes, type PayPalIntakeOptions } from '../paypal/intakes';
import type { IntakeResult } from '../paypal/intake-result';
import type { IncomingMessage } from '../paypal/ipn-intake';
import { isDatabaseUnavailable } from '../db/pool';
import type { AppDeps } from './deps';
import { observeIntake, observeUnstored } from './intake-observer';
import { PhaseTimes } from '../paypal/phase-times';

/** PayPal's messages are a few KiB; anything near this is not from PayPal. */
export const paypalBodyLimitBytes = 64 * 1024;

function remoteAddr(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    // app.request() in tests has no socket.
    return undefined;
  }
}

function answer(c: Context, result: IntakeResult, times?: PhaseTimes) {
  observeIntake(c, result, times);
  c.header('x-keyship-message-id', String(result.messageId));
  if (result.status === 503) return sendAgainLater(c, `Not processed yet: ${result.detail ?? 'try again'}`);
  return c.body(null, 200);
}

/** 503 with Retry-After: PayPal resends (it keeps its own schedule; other senders may honour it). */
function sendAgainLater(c: Context, text: string) {
  c.header('retry-after', '60');
  return c.text(text, 503);
}

/**
 * Without Postgres nothing can be stored, so nothing is acted on: 503, and PayPal resends (IPN for
 * days, webhooks likewise). Any other failure stays a 500 with its stack in the log.
 */
async function unlessDatabaseAway(c: Context, handle: () => Promise<IntakeResult>, times?: PhaseTimes): Promise<Response> {
  try {
    return answer(c, await handle(), times);
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    observeUnstored(c, error instanceof Error ? error.message : String(error));
    return sendAgainLater(c, 'Not stored: the database cannot be reached now; send it again later.');
  }
}

export function paypalRoutes(deps: AppDeps, options: PayPalIntakeOptions = {}) {
  const intakes = createPayPalIntakes(deps, options);
  const limit = bodyLimit({
    maxSize: paypalBodyLimitBytes,
    onError: (c) => c.text(`Payload too large: PayPal messages are under ${paypalBodyLimitBytes / 1024} KiB; this one was not stored.`, 413),
  });
  const app = new Hono();

  // Load shedding: past this many messages in the works (postback, signal), a message is only
  // stored raw and answered 503 at once, so a flood gets quick answers and PayPal's resends rather
  // than timeouts, and the api's memory and connections stay bounded.
  const maxInFlight = options.maxInFlight ?? deps.config.paypal.maxInFlight;
  let inFlight = 0;
  // One door per channel: the body read, then stored and worked on (or only stored, past the limit).
  const door = (intake: typeof intakes.ipn) => async (c: Context) => {
    const times = new PhaseTimes();
    const message: IncomingMessage = { raw: Buffer.from(await c.req.arrayBuffer()), headers: c.req.header(), remoteAddr: remoteAddr(c), times };
    times.lap('read');
    return unlessDatabaseAway(
      c,
      async () => {
        if (inFlight >= maxInFlight) return intake.shed(message, `shed: ${inFlight} PayPal messages already in the works (PAYPAL_MAX_IN_FLIGHT); PayPal resends it`);
        inFlight += 1;
        try {
          return await intake.handle(message);
        } finally {
          inFlight -= 1;
        }
      },
      times,
    );
  };
  app.post('/paypal/ipn', limit, door(intakes.ipn));
  app.post('/paypal/webhook', limit, door(intakes.webhook));

  return app;
}
