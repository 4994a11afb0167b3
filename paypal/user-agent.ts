// PayPal has answered 403 to postbacks without a User-Agent.
export const keyshipUserAgent = 'Keyship-PayPal-Listener/0.1';
