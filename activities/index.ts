// The worker's activities, built over their dependencies (Postgres, SMTP, PayPal status lookups
// and the invoice settings), so tests hand in their own. One file per concern beside this one.
import type { ActivityDeps } from './deps';
import { ensureAccount, type EnsureAccountInput } from './accounts';
import { loadInvoice, recordInvoice, setInvoiceStatus, type RecordInvoiceInput, type SetInvoiceStatusInput } from './invoices';
import { checkPayment, type CheckPaymentInput } from './packages';
import { restoreKeys, revokeKeys, sendKeys, type SendKeysInput } from './keys';
import { sendInvoiceNotice, sendPackageNotifications, type SendNoticeInput } from './notices';
import { askPayPalForStatus } from './paypal-status';
import { createBulkActivities } from './bulk-actions';
import { captureCheckoutOrder, createCheckoutOrder, handOverToInvoice, markCheckout, refundAtPayPal } from './checkout';
import type { CheckoutInput, CheckoutLine, CheckoutOutcome } from '../domain/checkout';
import type { PaymentNotification } from '../workflows/notification';

export type { ActivityDeps } from './deps';
export type { PayPalStatusClient } from './paypal-status';

export function createActivities(deps: ActivityDeps) {
  return {
    loadInvoice: (input: { txnId: string }) => loadInvoice(deps, input),
    ensureAccount: (input: EnsureAccountInput) => ensureAccount(deps, input),
    recordInvoice: (input: RecordInvoiceInput) => recordInvoice(deps, input),
    setInvoiceStatus: (input: SetInvoiceStatusInput) => setInvoiceStatus(deps, input),
    checkPayment: (input: CheckPaymentInput) => checkPayment(deps, input),
    sendKeys: (input: SendKeysInput) =>
      sendKeys(deps, input, input.packageNotifications ? () => sendPackageNotifications(deps, { invoiceId: input.invoiceId }) : undefined),
    revokeKeys: (input: { invoiceId: number; reason: 'refunded' | 'reversed' }) => revokeKeys(deps, input),
    restoreKeys: (input: { invoiceId: number }) => restoreKeys(deps, input),
    sendInvoiceNotice: (input: SendNoticeInput) => sendInvoiceNotice(deps, input),
    sendPackageNotifications: (input: { invoiceId: number }) => sendPackageNotifications(deps, input),
    askPayPalForStatus: (input: { txnId: string }) => askPayPalForStatus(deps, input),
    createCheckoutOrder: (input: CheckoutInput) => createCheckoutOrder(deps, input),
    captureCheckoutOrder: (input: { ref: string; orderId: string; lines: CheckoutLine[] }) => captureCheckoutOrder(deps, input),
    handOverToInvoice: (input: { ref: string; notification: PaymentNotification }) => handOverToInvoice(deps, input),
    markCheckout: (input: { ref: string } & CheckoutOutcome & { payerEmail?: string }) => markCheckout(deps, input),
    refundAtPayPal: (input: { txnId: string; amount?: string; currency?: string; requestId: string }) => refundAtPayPal(deps, input),
    ...createBulkActivities(deps),
  };
}

export type InvoiceActivities = ReturnType<typeof createActivities>;
