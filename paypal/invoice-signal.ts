// The one place the intake talks to Temporal: signal the invoice workflow of this payment, starting
// it if it does not run yet (domain/invoice-client.ts's signalInvoice), within a deadline.
import type { Client } from '@temporalio/client';
import { signalInvoice } from '../domain/invoice-client';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import type { PaymentNotification } from '../workflows/notification';

export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

export type InvoiceSignaller = (notification: PaymentNotification) => Promise<void>;

export function invoiceSignaller(client: Client, taskQueue: string, options: { timeoutMs?: number } = {}): InvoiceSignaller {
  const timeoutMs = options.timeoutMs ?? 8_000;
  return async (notification) => {
    try {
      // A deadline well inside PayPal's ~30 s, so a Temporal outage answers 503 instead of hanging.
      await client.withDeadline(Date.now() + timeoutMs, () => signalInvoice(client, taskQueue, notification));
    } catch (error) {
      throw new TemporalUnavailableError(`Temporal could not be reached to signal ${invoiceWorkflowId(notification.txnId)} (${(error as Error).message}); PayPal will resend.`);
    }
  };
}
