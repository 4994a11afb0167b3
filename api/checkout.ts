// PayPal Checkout (Orders v2), the buyer's side: POST /checkout/orders creates the PayPal order from
// the packages in Postgres (a form post answers 303 to PayPal's approval page, so it works without
// JavaScript; JSON answers the order id, for the JS SDK buttons' createOrder); POST
// /checkout/orders/:id/capture is the buttons' onApprove; GET /thanks?token= (api/thanks.tsx) is
// the redirect's return; GET /checkout/cancelled is PayPal's cancel_url. The checkout workflow
// does the PayPal calls; these routes only start it and ask it.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { storableText } from '../db/storable-text';
import { checkoutByOrderId } from '../db/checkouts';
import { packagesByItemNumber } from '../db/packages';
import { maxQuantity, priceCheckout, type CheckoutOutcome, type RequestedLine } from '../domain/checkout';
import { captureCheckout, signalOrderCancelled, startCheckout } from '../domain/checkout-client';
import type { AppDeps } from './deps';

const itemNumber = storableText().trim().min(1).max(127);
const quantity = z.coerce.number().int().min(1).max(maxQuantity).default(1);
const jsonBody = z.union([
  z.object({ items: z.array(z.object({ itemNumber, quantity })).min(1).max(20) }),
  z.object({ itemNumber, quantity }).transform((line) => ({ items: [line] })),
]);
const formBody = z.object({ item_number: itemNumber, quantity }).transform((form) => ({ items: [{ itemNumber: form.item_number, quantity: form.quantity }] }));

const orderIdShape = /^[A-Za-z0-9-]{1,64}$/;
/** The JS buttons and the return wait for PayPal's answer this long before saying "still working". */
const answerWithinMs = 25_000;

/** Where the buyer goes to see the purchase once PayPal has a capture. */
export function thanksUrlFor(outcome: Pick<CheckoutOutcome, 'status' | 'captureId'>): string | undefined {
  return outcome.captureId && (outcome.status === 'captured' || outcome.status === 'pending') ? `/thanks/${outcome.captureId}` : undefined;
}

const endedWithout = (outcome: Pick<CheckoutOutcome, 'status' | 'detail'>) => outcome.detail ?? `The order ended ${outcome.status}; nothing was charged.`;

export function checkoutRoutes(deps: AppDeps) {
  const { config, pool, temporal } = deps;
  const app = new Hono();
  const enabled = config.paypal.checkout !== 'classic';
  let paypalJs: string | undefined;

  // A seller's own site calls these from the buyer's browser (the pasted snippet).
  app.use('/checkout/orders', cors({ origin: '*', allowMethods: ['POST'] }));
  app.use('/checkout/orders/*', cors({ origin: '*', allowMethods: ['POST'] }));

  /** @paypal/paypal-js, PayPal's loader for the JS SDK buttons, served from this install. */
  app.get('/checkout/paypal-js.js', async (c) => {
    // The package exports only its module builds; the browser build sits beside them.
    paypalJs ??= await readFile(path.join(path.dirname(require.resolve('@paypal/paypal-js')), '..', 'iife', 'paypal-js.min.js'), 'utf8');
    c.header('cache-control', 'public, max-age=86400');
    return c.body(paypalJs, 200, { 'content-type': 'text/javascript; charset=utf-8' });
  });

  const problem = (c: Context, status: 400 | 404 | 409 | 502 | 503, message: string, form: boolean) =>
    form ? c.text(message, status) : c.json({ error: message }, status);

  app.post('/checkout/orders', async (c) => {
    const form = !(c.req.header('content-type') ?? '').includes('application/json');
    if (!enabled) return problem(c, 404, 'PayPal Checkout is not enabled here (PAYPAL_CHECKOUT=classic); use the Buy Now button.', form);
    const parsed = form ? formBody.safeParse(await c.req.parseBody()) : jsonBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return problem(c, 400, `Name a package and a quantity: ${form ? 'item_number and quantity (1-100)' : '{"itemNumber": "...", "quantity": 1} or {"items": [...]}'}.`, form);
    const requested: RequestedLine[] = parsed.data.items;
    const packages = await packagesByItemNumber(pool, requested.map((l) => l.itemNumber));
    const priced = priceCheckout(
      requested,
      packages.map((p) => ({ itemNumber: p.item_number, name: p.name, price: p.price, currency: p.currency, active: p.active })),
    );
    if ('problem' in priced) return problem(c, 400, priced.problem, form);
    const ref = `ks${randomBytes(10).toString('hex')}`;
    try {
      const placed = await temporal.withDeadline(Date.now() + answerWithinMs, () =>
        startCheckout(temporal, config.temporal.taskQueue, {
          ref,
          ...priced,
          returnUrl: `${config.publicUrl}/thanks`,
          cancelUrl: `${config.publicUrl}/checkout/cancelled`,
          lifetimeSeconds: config.paypal.orderLifetimeSeconds,
        }),
      );
      if (form) return c.redirect(placed.approveUrl, 303);
      return c.json({ id: placed.orderId, approveUrl: placed.approveUrl, ref }, 201);
    } catch (error) {
      const why = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      console.error(`checkout ${ref}: the PayPal order could not be created (${why})`);
      return problem(c, 502, 'PayPal could not take the order just now. Nothing was charged; please try again in a minute.', form);
    }
  });

  app.post('/checkout/orders/:id/capture', async (c) => {
    const orderId = c.req.param('id');
    const row = orderIdShape.test(orderId) ? await checkoutByOrderId(pool, orderId) : undefined;
    if (!row) return c.json({ error: `Order ${orderId.slice(0, 64)} was not created by this store.` }, 404);
    try {
      const outcome = await temporal.withDeadline(Date.now() + answerWithinMs, () => captureCheckout(temporal, row.ref, 'buttons'));
      return c.json({ ...outcome, thanksUrl: thanksUrlFor(outcome) ?? `/thanks?token=${orderId}` });
    } catch (error) {
      console.error(`checkout ${row.ref}: capture of order ${orderId} not answered (${(error as Error).message})`);
      return c.json({ error: 'PayPal has not answered yet; the payment is being completed. Check the thank-you page in a minute.', thanksUrl: `/thanks?token=${orderId}` }, 503);
    }
  });

  app.get('/checkout/cancelled', async (c) => {
    const orderId = c.req.query('token') ?? '';
    const row = orderIdShape.test(orderId) ? await checkoutByOrderId(pool, orderId) : undefined;
    if (row) await signalOrderCancelled(temporal, row.ref).catch((error: unknown) => console.error(`checkout ${row.ref}: cancel not signalled (${(error as Error).message})`));
    const what = row?.lines.map((l) => l.name).join(', ') ?? 'your order';
    return c.redirect(`/store?cancelled=${encodeURIComponent(what)}`, 303);
  });

  return app;
}

/**
 * The buyer is back from PayPal (return_url?token=<order id>&PayerID=...): capture if nobody has,
 * then the invoice's thank-you page; a declined or unapproved order says so.
 */
export async function checkoutReturn(deps: Pick<AppDeps, 'pool' | 'temporal'>, orderId: string): Promise<{ redirect: string } | { failed: string } | { unknown: true } | { waiting: true }> {
  const row = orderIdShape.test(orderId) ? await checkoutByOrderId(deps.pool, orderId) : undefined;
  if (!row) return { unknown: true };
  const known = thanksUrlFor({ status: row.status, captureId: row.captureId ?? undefined });
  if (known) return { redirect: known };
  if (row.status === 'declined' || row.status === 'failed' || row.status === 'abandoned') return { failed: endedWithout({ status: row.status, detail: row.detail ?? undefined }) };
  let outcome: CheckoutOutcome;
  try {
    outcome = await deps.temporal.withDeadline(Date.now() + answerWithinMs, () => captureCheckout(deps.temporal, row.ref, 'return'));
  } catch (error) {
    console.error(`checkout ${row.ref}: capture on return not answered (${(error as Error).message})`);
    return { waiting: true };
  }
  const thanks = thanksUrlFor(outcome);
  if (thanks) return { redirect: thanks };
  if (outcome.status === 'created' || outcome.status === 'approved') return { failed: 'PayPal has not confirmed your approval of this order, so nothing was charged. Go back to the store and try again.' };
  return { failed: endedWithout(outcome) };
}
