// Orders v2 and Payments v2 calls, with the parts of PayPal's answers Keyship relies on checked by
// zod (field names and enums as in PayPal's OpenAPI description; everything else passes through).
import { z } from 'zod';
import type { CheckoutLine } from '../../domain/checkout';
import { PayPalApiError, type PayPalRestClient } from './client';

const money = z.object({ currency_code: z.string(), value: z.string() });
const link = z.object({ href: z.string(), rel: z.string(), method: z.string().optional() });

export const captureSchema = z.looseObject({
  id: z.string(),
  status: z.enum(['COMPLETED', 'DECLINED', 'PARTIALLY_REFUNDED', 'PENDING', 'REFUNDED', 'FAILED']),
  status_details: z.looseObject({ reason: z.string().optional() }).optional(),
  amount: money.optional(),
  custom_id: z.string().optional(),
  invoice_id: z.string().optional(),
  create_time: z.string().optional(),
  links: z.array(link).optional(),
  supplementary_data: z.looseObject({ related_ids: z.looseObject({ order_id: z.string().optional() }).optional() }).optional(),
});
export type Capture = z.infer<typeof captureSchema>;

const name = z.looseObject({ given_name: z.string().optional(), surname: z.string().optional() });

export const orderSchema = z.looseObject({
  id: z.string(),
  status: z.enum(['CREATED', 'SAVED', 'APPROVED', 'VOIDED', 'COMPLETED', 'PAYER_ACTION_REQUIRED']),
  links: z.array(link).optional(),
  payment_source: z.looseObject({ paypal: z.looseObject({ email_address: z.string().optional(), account_id: z.string().optional(), name: name.optional() }).optional() }).optional(),
  payer: z.looseObject({ email_address: z.string().optional(), payer_id: z.string().optional(), name: name.optional() }).optional(),
  purchase_units: z
    .array(
      z.looseObject({
        custom_id: z.string().optional(),
        invoice_id: z.string().optional(),
        amount: money.optional(),
        payee: z.looseObject({ email_address: z.string().optional(), merchant_id: z.string().optional() }).optional(),
        items: z.array(z.looseObject({ name: z.string(), sku: z.string().optional(), quantity: z.string(), unit_amount: money })).optional(),
        payments: z.looseObject({ captures: z.array(captureSchema).optional() }).optional(),
      }),
    )
    .optional(),
});
export type Order = z.infer<typeof orderSchema>;

export const refundSchema = z.looseObject({
  id: z.string(),
  status: z.enum(['CANCELLED', 'FAILED', 'PENDING', 'COMPLETED']),
  amount: money.optional(),
  links: z.array(link).optional(),
});
export type Refund = z.infer<typeof refundSchema>;


export interface NewOrder {
  lines: CheckoutLine[];
  currency: string;
  /** The sum of the lines, as a decimal string. */
  total: string;
  /** Keyship's reference, echoed on the capture and in IPN's `custom`. */
  customId: string;
  /** Unique per payment in the seller's PayPal account. */
  invoiceId: string;
  returnUrl: string;
  cancelUrl: string;
  brandName?: string;
}

/** The body of POST /v2/checkout/orders (exported for the OpenAPI check in the tests). */
export function orderRequest(order: NewOrder) {
  return {
    intent: 'CAPTURE',
    purchase_units: [
      {
        custom_id: order.customId,
        invoice_id: order.invoiceId,
        amount: { currency_code: order.currency, value: order.total, breakdown: { item_total: { currency_code: order.currency, value: order.total } } },
        items: order.lines.map((line) => ({
          name: line.name.slice(0, 127),
          sku: line.itemNumber,
          quantity: String(line.quantity),
          unit_amount: { currency_code: order.currency, value: line.unitAmount },
          category: 'DIGITAL_GOODS',
        })),
      },
    ],
    payment_source: {
      paypal: {
        experience_context: {
          return_url: order.returnUrl,
          cancel_url: order.cancelUrl,
          shipping_preference: 'NO_SHIPPING',
          user_action: 'PAY_NOW',
          ...(order.brandName ? { brand_name: order.brandName.slice(0, 127) } : {}),
        },
      },
    },
  };
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`PayPal's answer to ${what} is not what its API describes: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return parsed.data;
}

const idShape = /^[A-Za-z0-9-]{1,64}$/;
function pathId(id: string): string {
  if (!idShape.test(id)) throw new Error(`"${id}" is not a PayPal id`);
  return id;
}

/** The link the buyer approves the order at (rel approve, or payer-action when a payment source was given). */
export function approveLink(order: Order): string | undefined {
  return order.links?.find((l) => l.rel === 'approve' || l.rel === 'payer-action')?.href;
}

/** The order's capture (Keyship orders have one purchase unit and capture once). */
export function orderCapture(order: Order): Capture | undefined {
  return order.purchase_units?.[0]?.payments?.captures?.[0];
}

export function createOrder(rest: PayPalRestClient, order: NewOrder, requestId: string): Promise<Order> {
  return rest.request({ method: 'POST', path: '/v2/checkout/orders', body: orderRequest(order), requestId }).then((body) => parse(orderSchema, body, 'create order'));
}

export function getOrder(rest: PayPalRestClient, orderId: string): Promise<Order> {
  return rest.request({ method: 'GET', path: `/v2/checkout/orders/${pathId(orderId)}` }).then((body) => parse(orderSchema, body, 'show order'));
}

/**
 * Captures an approved order once: the same request id answers the first capture again, and an
 * order captured already (another request id: a second tab, a webhook's capture) is looked up.
 */
export async function captureOrder(rest: PayPalRestClient, orderId: string, requestId: string): Promise<Order> {
  try {
    const body = await rest.request({ method: 'POST', path: `/v2/checkout/orders/${pathId(orderId)}/capture`, requestId });
    return parse(orderSchema, body, 'capture order');
  } catch (error) {
    if (error instanceof PayPalApiError && error.issue === 'ORDER_ALREADY_CAPTURED') return getOrder(rest, orderId);
    throw error;
  }
}

export function getCapture(rest: PayPalRestClient, captureId: string): Promise<Capture> {
  return rest.request({ method: 'GET', path: `/v2/payments/captures/${pathId(captureId)}` }).then((body) => parse(captureSchema, body, 'show capture'));
}

/** The refund body: none for the rest of the capture, an amount for part of it. */
export function refundRequest(amount?: { value: string; currency: string }) {
  return amount ? { amount: { value: amount.value, currency_code: amount.currency } } : undefined;
}

export function refundCapture(rest: PayPalRestClient, captureId: string, requestId: string, amount?: { value: string; currency: string }): Promise<Refund> {
  return rest
    .request({ method: 'POST', path: `/v2/payments/captures/${pathId(captureId)}/refund`, body: refundRequest(amount), requestId })
    .then((body) => parse(refundSchema, body, 'refund capture'));
}

/** The order a capture belongs to: its related order id, or its `up` link. */
export function captureOrderId(capture: Pick<Capture, 'links' | 'supplementary_data'>): string | undefined {
  const related = capture.supplementary_data?.related_ids?.order_id;
  if (related) return related;
  const up = capture.links?.find((l) => l.rel === 'up' && /\/checkout\/orders\/[^/]+$/.test(l.href));
  return up?.href.split('/').pop();
}
