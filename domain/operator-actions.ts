// The operator actions on an invoice and the rules for their inputs, written once. The workflow's
// validators, the admin pages and JSON API, and the bulk workflows all use these. Pure: safe to
// import from workflow code.

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
  return undefined;
}

/** Which invoices a bulk action reaches: `live` ones whose keys have not expired (extend), `buyers` every invoice holding keys (new version). */
export type BulkScope = 'live' | 'buyers';
