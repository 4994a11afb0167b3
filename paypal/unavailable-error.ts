// PayPal (or the simulator) could not be asked: the message is kept and PayPal is told to resend.
export class PayPalUnavailableError extends Error {
  override name = 'PayPalUnavailableError';
}
