// PayPal's REST error bodies (name, message, debug_id, details[].issue/description, links), with the
// wording PayPal's OpenAPI descriptions give each issue of each operation, and its OAuth errors.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ErrorDetail {
  issue: string;
  field?: string;
  value?: string;
  location?: 'body' | 'path' | 'query';
  description?: string;
}

/** The REST operations the simulator answers, by PayPal's operationId. */
export type Operation = 'orders.create' | 'orders.get' | 'orders.capture' | 'captures.get' | 'captures.refund' | 'refunds.get' | 'disputes.get';

const specFile = (operation: Operation) => (operation.startsWith('orders.') ? 'checkout_orders_v2' : operation.startsWith('disputes.') ? 'customer_disputes_v1' : 'payments_payment_v2');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- PayPal's OpenAPI JSON, walked by name below.
type Spec = any;
const specs = new Map<string, Spec>();

/**
 * The text PayPal's OpenAPI description gives `issue` in `operation`'s answer `status`: PayPal words
 * one issue differently from one operation to the next, and its answers follow the description.
 */
export function specDescription(operation: Operation, status: number, issue: string): string | undefined {
  const file = specFile(operation);
  let found: Spec = specs.get(file);
  try {
    found ??= JSON.parse(readFileSync(path.join(__dirname, '..', 'openapi', `${file}.json`), 'utf8'));
  } catch {
    found = { paths: {} }; // without the description, the generic wording below serves
  }
  specs.set(file, found);
  for (const item of Object.values(found.paths) as Spec[]) {
    for (const op of Object.values(item) as Spec[]) {
      if (op?.operationId !== operation) continue;
      const schema: Spec = op.responses?.[String(status)]?.content?.['application/json']?.schema;
      for (const part of (schema?.allOf ?? []) as Spec[]) {
        const named: Spec = typeof part.$ref === 'string' ? found.components.schemas[part.$ref.split('/').pop()] : part;
        for (const branch of (named?.properties?.details?.items?.anyOf ?? []) as Spec[]) {
          if (branch.properties?.issue?.enum?.[0] === issue) return branch.properties?.description?.enum?.[0] as string | undefined;
        }
      }
    }
  }
  return undefined;
}

/** The issue texts where an operation's description gives none (and for the control API's answers). */
export const issueDescriptions: Record<string, string> = {
  MISSING_REQUIRED_PARAMETER: 'A required field / parameter is missing.',
  INVALID_PARAMETER_VALUE: 'The value of a field is invalid.',
  INVALID_PARAMETER_SYNTAX: 'The value of a field does not conform to the expected format.',
  MALFORMED_REQUEST_JSON: 'The request JSON is not well formed.',
  NOT_SUPPORTED: 'This field is not currently supported.',
  ITEM_TOTAL_MISMATCH: 'Should equal sum of (unit_amount * quantity) across all items for a given purchase_unit.',
  ITEM_TOTAL_REQUIRED: 'If item details are specified (items.unit_amount and items.quantity) corresponding amount.breakdown.item_total is required.',
  AMOUNT_MISMATCH: 'Should equal item_total + tax_total + shipping + handling + insurance - shipping_discount - discount.',
  CANNOT_BE_ZERO_OR_NEGATIVE: 'Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported.',
  DECIMAL_PRECISION: 'If the currency supports decimals, only two decimal place precision is supported.',
  DUPLICATE_INVOICE_ID: 'Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting requires that Invoice Id be unique for each transaction.',
  INVALID_RESOURCE_ID: 'Specified resource ID does not exist. Please check the resource ID and try again.',
  ORDER_NOT_APPROVED: "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call.",
  ORDER_ALREADY_CAPTURED: "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
  ORDER_EXPIRED: 'Order is expired and hence cannot be authorized. Please contact Customer Support if you need to increase your order validity period.',
  REFUND_AMOUNT_EXCEEDED: 'The refund amount must be less than or equal to the capture amount that has not yet been refunded.',
  CAPTURE_FULLY_REFUNDED: 'The capture has already been fully refunded',
  PENDING_CAPTURE: 'Cannot initiate a refund as the capture is pending. Capture is typically pending when the payer has funded the transaction using e-check/bank funded.',
  REFUND_NOT_ALLOWED: 'Capture cannot be refunded.',
  REFUND_CAPTURE_CURRENCY_MISMATCH: 'Refund must be in the same currency as the capture',
};

const headline = {
  400: { name: 'INVALID_REQUEST', message: 'Request is not well-formed, syntactically incorrect, or violates schema.' },
  401: { name: 'AUTHENTICATION_FAILURE', message: 'Authentication failed due to missing authorization header, or invalid authentication credentials.' },
  404: { name: 'RESOURCE_NOT_FOUND', message: 'The specified resource does not exist.' },
  422: { name: 'UNPROCESSABLE_ENTITY', message: 'The requested action could not be performed, semantically incorrect, or failed business validation.' },
  500: { name: 'INTERNAL_SERVER_ERROR', message: 'An internal server error occurred.' },
  503: { name: 'SERVICE_UNAVAILABLE', message: 'Service Unavailable.' },
} as const;

export type ErrorStatus = keyof typeof headline;

/** PayPal's debug ids: 13 lower-case hex digits. */
export const debugId = () => randomBytes(7).toString('hex').slice(0, 13);

/** An answer PayPal gives instead of the resource; thrown by the simulator's operations, written by its REST routes. */
export class RestError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly details: ErrorDetail[] = [],
    /** `orders` or `payments`: the API whose error page the links name. */
    readonly api: 'orders' | 'payments' | 'disputes' = 'orders',
  ) {
    super(`${headline[status].name}${details.length ? `: ${details.map((d) => d.issue).join(', ')}` : ''}`);
  }

  /** The body PayPal answers; `operation` picks the wording of its issues. */
  body(operation?: Operation): Record<string, unknown> {
    const { name, message } = headline[this.status];
    const details = this.details.map((d) => ({ ...d, description: d.description ?? (operation && specDescription(operation, this.status, d.issue)) ?? issueDescriptions[d.issue] }));
    const docs = { orders: 'orders/v2', payments: 'payments/v2', disputes: 'customer-disputes/v1' }[this.api];
    const links = details.length
      ? details.map((d) => ({ href: `https://developer.paypal.com/docs/api/${docs}/#error-${d.issue}`, rel: 'information_link', method: 'GET' }))
      : [{ href: `https://developer.paypal.com/docs/api/${docs}/`, rel: 'information_link', method: 'GET' }];
    return { name, message, ...(details.length ? { details } : {}), debug_id: debugId(), links };
  }
}

export const invalidRequest = (api: RestError['api'], ...details: ErrorDetail[]) => new RestError(400, details, api);
export const unprocessable = (api: RestError['api'], ...details: ErrorDetail[]) => new RestError(422, details, api);
export const notFound = (api: RestError['api'], field: string, value: string) =>
  new RestError(404, [{ issue: 'INVALID_RESOURCE_ID', field, value, location: 'path' }], api);

/** OAuth answers are not in the REST error shape: PayPal answers `error` and `error_description`. */
export const oauthErrors = {
  invalidClient: { error: 'invalid_client', error_description: 'Client Authentication failed' },
  invalidToken: { error: 'invalid_token', error_description: 'Token signature verification failed' },
  unsupportedGrant: { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' },
} as const;
