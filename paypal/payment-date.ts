// PayPal writes dates as "15:23:54 Apr 15, 2005 PDT" (Pacific time, always); ISO 8601 for everyone else.
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const zones: Record<string, string> = { PST: '-08:00', PDT: '-07:00', GMT: 'Z', UTC: 'Z' };

export function parsePayPalDate(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const match = /^(\d{1,2}):(\d{2}):(\d{2}) ([A-Z][a-z]{2})\.? (\d{1,2}), (\d{4}) ([A-Z]{3})$/.exec(text.trim());
  if (!match) return undefined;
  const [, hh, mm, ss, mon, dd, yyyy, zone] = match;
  const month = months.indexOf(mon ?? '') + 1;
  const offset = zones[zone ?? ''];
  if (month === 0 || offset === undefined) return undefined;
  const pad = (n: string | number | undefined) => String(n).padStart(2, '0');
  const date = new Date(`${yyyy}-${pad(month)}-${pad(dd)}T${pad(hh)}:${mm}:${ss}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The reverse, for the simulator. */
export function formatPayPalDate(date: Date): string {
  // Pacific daylight time from the second Sunday of March to the first Sunday of November (US rule).
  const year = date.getUTCFullYear();
  const nthSunday = (month: number, n: number) => {
    const first = new Date(Date.UTC(year, month, 1));
    return 1 + ((7 - first.getUTCDay()) % 7) + (n - 1) * 7;
  };
  const dstStart = Date.UTC(year, 2, nthSunday(2, 2), 10);
  const dstEnd = Date.UTC(year, 10, nthSunday(10, 1), 9);
  const dst = date.getTime() >= dstStart && date.getTime() < dstEnd;
  const local = new Date(date.getTime() + (dst ? -7 : -8) * 3600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${months[local.getUTCMonth()]} ${pad(local.getUTCDate())}, ${local.getUTCFullYear()} ${dst ? 'PDT' : 'PST'}`;
}
