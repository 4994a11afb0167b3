// "Ask PayPal" for an operator: PayPal's current facts about a payment, shown beside the invoice's
// own. Asked through the REST API (the capture and its order) where a REST app is configured, and
// the PDT lookup (the Standard-button API) for what REST does not know; shown, never acted on, so
// the answer is not stored or routed.
import type { Config } from '../config/env';
import type { PaymentNotification } from '../workflows/notification';
import { pdtClientFromConfig } from './intakes';
import { createPdtStatusLookup, createRestStatusLookup } from './status-lookup';
import type { PayPalRestClient } from './rest/client';

export interface PayPalFacts {
  /** How PayPal was asked; 'none' when this configuration cannot ask. */
  via: 'pdt' | 'rest' | 'none';
  /** PayPal's answer; undefined when PayPal does not know the transaction (or was not asked). */
  facts?: PaymentNotification;
  /** Why PayPal could not be asked, as a sentence. */
  problem?: string;
}

/**
 * The one place that picks how to ask PayPal about a transaction (a REST order lookup goes here,
 * before PDT). `rest` is the process's REST client (its token cached), absent without a REST app.
 */
export async function askPayPalAbout(config: Config['paypal'], rest: PayPalRestClient | undefined, txnId: string): Promise<PayPalFacts> {
  if (rest) {
    try {
      const facts = await createRestStatusLookup({ rest }).lookup(txnId);
      if (facts) return { via: 'rest', facts };
    } catch (error) {
      if (!pdtClientFromConfig(config)) return { via: 'rest', problem: `PayPal's REST API could not be asked just now (${(error as Error).message}); try again in a minute.` };
    }
  }
  const pdt = pdtClientFromConfig(config);
  if (!pdt && rest) return { via: 'rest', problem: `PayPal's REST API does not know transaction ${txnId}.` };
  if (!pdt) return { via: 'none', problem: 'Neither a REST app (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET) nor PAYPAL_PDT_TOKEN is set, so PayPal cannot be asked from here; look the transaction up in PayPal, or set either.' };
  try {
    const facts = await createPdtStatusLookup({ pdt }).lookup(txnId);
    return facts ? { via: 'pdt', facts } : { via: 'pdt', problem: `PayPal's PDT lookup does not know transaction ${txnId}.` };
  } catch (error) {
    return { via: 'pdt', problem: `PayPal could not be asked just now (${(error as Error).message}); try again in a minute.` };
  }
}
