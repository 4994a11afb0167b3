// Amounts of money as PayPal, the packages and Postgres write them: decimal strings with at most
// two places. Compared in whole cents, never as floating point. Our own: a money library's
// currency tables and rounding modes add nothing to two-place strings that are only compared.

/** A price an operator may set: up to ten digits and at most two decimals, no sign. */
export const priceShape = /^\d{1,10}(\.\d{1,2})?$/;

/** "19.95" -> 1995; undefined for anything that is not a plain decimal amount. */
export function toCents(amount: string): number | undefined {
  const match = /^\s*(-?)(\d+)(?:\.(\d{1,2}))?\s*$/.exec(amount);
  if (!match) return undefined;
  const cents = Number(match[2]) * 100 + Number((match[3] ?? '').padEnd(2, '0'));
  return match[1] ? -cents : cents;
}

/** 1995 -> "19.95", -7 -> "-0.07". */
export function formatCents(cents: number): string {
  const whole = Math.abs(Math.trunc(cents));
  return `${cents < 0 ? '-' : ''}${Math.floor(whole / 100)}.${String(whole % 100).padStart(2, '0')}`;
}

/** Money going back to the buyer (a refund, a reversal): PayPal's IPN writes it negative. */
export function outgoingAmount(amount: string): string {
  return amount.startsWith('-') ? amount : `-${amount}`;
}
