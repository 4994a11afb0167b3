// The floor for `npm run bench -- floor`: the invoice workflow's shape for a card purchase with
// activities that do nothing. Same start (signalWithStart of the same `paypalNotification` signal
// carrying the same notification), the same seven activities in the same order with the same
// options and kinds: the database steps as local activities (loadInvoice, ensureAccount,
// recordInvoice, checkPayment, setInvoiceStatus paid), sendKeys with its heartbeat timeout through
// the task queue (it sends the packages' notifications too), setInvoiceStatus fulfilled local
// again; then the same single timer (the keys' expiry) that keeps the run open, and the same two
// patched() markers.
// No search attributes, memo or details: those are Keyship's choices, not Temporal's floor.
// Bundled on its own (bench/floor-worker.ts), never from workflows/index.ts; deterministic like
// every workflow file.
import { condition, patched, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import { paypalNotification } from '../workflows/messages';
import type { PaymentNotification } from '../workflows/notification';
import type { FloorActivities } from './floor-activities';
import { invoiceStatus } from '../domain/invoice-status';

const retry = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' };
const database = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '1 minute', retry });
const delivery = proxyActivities<FloorActivities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 seconds', retry });

export async function floorInvoice(): Promise<void> {
  const queue: PaymentNotification[] = [];
  setHandler(paypalNotification, (n) => {
    queue.push(n);
  });
  patched('local-database-steps');
  const loaded = await database.loadInvoice({ txnId: 'floor' });
  for (;;) {
    const n = queue.shift();
    if (n) {
      const { accountId } = await database.ensureAccount({ email: n.payer.email });
      const { invoiceId } = await database.recordInvoice({ txnId: n.txnId, accountId });
      await database.checkPayment({ invoiceId });
      await database.setInvoiceStatus({ invoiceId, status: invoiceStatus.paid });
      patched('package-notes-with-keys');
      await delivery.sendKeys({ invoiceId, txnId: n.txnId });
      await database.setInvoiceStatus({ invoiceId, status: invoiceStatus.fulfilled });
      continue;
    }
    // The keys' expiry: a timer the run waits on, as the invoice does until its next deadline.
    await condition(() => queue.length > 0, loaded.keyTtlSeconds * 1000);
  }
}
