// The operator actions on an invoice and the rules for their inputs, written once. The workflow's
// validators, the admin pages and JSON API, and the bulk workflows all use these. Pure: safe to
// import from workflow code.
import { priceShape } from './money';

export const operatorActionKinds = ['resendKeys', 'extendKeys', 'regenerateKeys', 'approve', 'reject', 'refund'] as const;
export type OperatorActionKind = (typeof operatorActionKinds)[number];

export const minExtendDays = 1;
export const maxExtendDays = 3650;

/** The extend rule: a whole number of days in range. Returns a sentence, or undefined when fine. */
export function extendDaysProblem(days: unknown): string | undefined {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < minExtendDays || days > maxExtendDays) {
    return `extendKeys needs a whole number of days from ${minExtendDays} to ${maxExtendDays}, got ${JSON.stringify(days)}`;
  }
  return undefined;
}

// Each action's input. `by` names who asked, for the invoice's history (an operator's name or "admin").
export interface ResendKeysInput {
  by?: string;
}
export interface ExtendKeysInput {
  days: number;
  by?: string;
}
export interface RegenerateKeysInput {
  by?: string;
}
export interface RefundInput {
  reason?: string;
  by?: string;
  /** Return the money through PayPal's REST API (otherwise the refund was made in PayPal and is only recorded). */
  viaPayPal?: boolean;
  /** Part of the payment, as a decimal string; the rest of it when unset. */
  amount?: string;
  /** Makes the refund idempotent at PayPal (PayPal-Request-Id): the confirmation form's, or the workflow's own. */
  requestId?: string;
}
export interface ApproveInput {
  by?: string;
}
export interface RejectInput {
  reason?: string;
  by?: string;
}

export type OperatorAction =
  | { kind: 'resendKeys'; input: ResendKeysInput }
  | { kind: 'extendKeys'; input: ExtendKeysInput }
  | { kind: 'regenerateKeys'; input: RegenerateKeysInput }
  | { kind: 'refund'; input: RefundInput }
  | { kind: 'approve'; input: ApproveInput }
  | { kind: 'reject'; input: RejectInput };

/** Checks that need no invoice: the shape of the input. Returns a sentence, or undefined when fine. */
export function actionInputProblem(a: OperatorAction): string | undefined {
  const input = (a.input ?? {}) as unknown;
  if (typeof input !== 'object' || input === null) return `${a.kind} takes one object argument, e.g. {}`;
  if (a.kind === 'extendKeys') return extendDaysProblem((input as { days?: unknown }).days);
  if (a.kind === 'refund') {
    const { amount, requestId } = input as { amount?: unknown; requestId?: unknown };
    if (amount !== undefined && (typeof amount !== 'string' || !priceShape.test(amount) || Number(amount) <= 0)) return `refund amount must be a positive amount such as 2.00, got ${JSON.stringify(amount)}`;
    if (requestId !== undefined && (typeof requestId !== 'string' || !/^[A-Za-z0-9:_-]{1,100}$/.test(requestId))) return 'refund requestId must be 1-100 letters, digits, colons, dashes or underscores';
  }
  return undefined;
}

/** Which invoices a bulk action reaches: `live` ones whose keys have not expired (extend), `buyers` every invoice holding keys (new version). */
export type BulkScope = 'live' | 'buyers';
