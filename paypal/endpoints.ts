// PayPal's hosts per mode. PDT and buttons go to www.*; in simulator mode to the
// simulator. The IPN verify URL and the REST API URL come from config.
export type PayPalMode = 'live' | 'sandbox' | 'simulator';

export function webscrUrl(mode: PayPalMode, simulatorUrl: string): string {
  if (mode === 'live') return 'https://www.paypal.com/cgi-bin/webscr';
  if (mode === 'sandbox') return 'https://www.sandbox.paypal.com/cgi-bin/webscr';
  return `${simulatorUrl}/cgi-bin/webscr`;
}
