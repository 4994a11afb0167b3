// PayPal's hosts per mode. IPN postbacks go to ipnpb.*, PDT and buttons to www.*, REST to api-m.*;
// in simulator mode everything is the simulator. The IPN verify URL itself comes from config.
export type PayPalMode = 'live' | 'sandbox' | 'simulator';

export function webscrUrl(mode: PayPalMode, simulatorUrl: string): string {
  if (mode === 'live') return 'https://www.paypal.com/cgi-bin/webscr';
  if (mode === 'sandbox') return 'https://www.sandbox.paypal.com/cgi-bin/webscr';
  return `${simulatorUrl}/cgi-bin/webscr`;
}

export function restApiUrl(mode: PayPalMode, simulatorUrl: string): string {
  if (mode === 'live') return 'https://api-m.paypal.com';
  if (mode === 'sandbox') return 'https://api-m.sandbox.paypal.com';
  return simulatorUrl;
}
