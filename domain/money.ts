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

/**
 * Why a refund of `amount` cannot be taken from a payment of `paid` of which `refundedSoFar` went
 * back already, as a sentence; undefined when it fits. All three are decimal strings.
 */
export function refundProblem(paid: string, refundedSoFar: string, amount: string): string | undefined {
  const paidCents = toCents(paid);
  const soFar = toCents(refundedSoFar);
  const wanted = toCents(amount.replace(/^-/, ''));
  if (paidCents === undefined || soFar === undefined) return `the invoice's amounts (${paid} paid, ${refundedSoFar} refunded) are not decimal amounts; check the invoice in the admin`;
  if (wanted === undefined || wanted <= 0) return `a refund of "${amount}" is not a positive amount; give an amount such as 2.00`;
  const left = paidCents - soFar;
  if (left <= 0) return `the whole ${formatCents(paidCents)} was already refunded; there is nothing left to refund`;
  if (wanted > left) return `a refund of ${formatCents(wanted)} is more than the ${formatCents(left)} left of ${formatCents(paidCents)} (${formatCents(soFar)} refunded so far); refund at most ${formatCents(left)}`;
  return undefined;
}

/** The refunded total after one more refund: "2.00" + "-3.50" -> "5.50". */
export function addRefund(refundedSoFar: string, amount: string): string {
  return formatCents((toCents(refundedSoFar) ?? 0) + Math.abs(toCents(amount) ?? 0));
}
