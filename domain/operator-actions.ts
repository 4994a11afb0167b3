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

/** Which invoices a bulk action reaches: `live` ones whose keys have not expired (extend), `buyers` every invoice holding keys (new version). */
export type BulkScope = 'live' | 'buyers';
