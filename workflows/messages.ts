// Every signal, update and query of the invoice workflow, defined once; the api, the worker, the
// tests and the README's CLI examples all use these names.
import { defineSignal } from '@temporalio/workflow';
import type { PaymentNotification } from './notification';

/** PayPal told us something about this payment (IPN, webhook, PDT or a poll). */
export const paypalNotification = defineSignal<[PaymentNotification]>('paypalNotification');
