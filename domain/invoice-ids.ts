// The one place that turns business ids into workflow ids. PayPal's transaction id (IPN `txn_id`,
// REST capture id) names the invoice workflow, so every notification about one payment, from any
// channel, reaches the same workflow, and an operator can type the id from a PayPal e-mail.

export const invoiceWorkflowType = 'invoice';

export function invoiceWorkflowId(txnId: string): string {
  const id = txnId.trim();
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) {
    throw new Error(`"${txnId}" is not a PayPal transaction id (letters, digits and dashes, at most 64)`);
  }
  return `invoice-${id}`;
}

export function txnIdFromWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith('invoice-') ? workflowId.slice('invoice-'.length) : undefined;
}

export const checkoutWorkflowType = 'checkout';

/** A PayPal Checkout (Orders v2) purchase before its capture: keyed by Keyship's checkout ref. */
export function checkoutWorkflowId(ref: string): string {
  if (!/^[0-9a-z]{1,64}$/.test(ref)) throw new Error(`"${ref}" is not a Keyship checkout reference`);
  return `checkout-${ref}`;
}
