// "Ask PayPal" for an operator: PayPal's current facts about a payment, shown beside the invoice's
// own. Asked through the PDT lookup (the Standard-button API, no REST credentials needed); shown,
// never acted on, so the answer is not stored or routed.
import type { Config } from '../config/env';
import type { PaymentNotification } from '../workflows/notification';
import { pdtClientFromConfig } from './intakes';
import { createPdtStatusLookup } from './status-lookup';

export interface PayPalFacts {
  /** How PayPal was asked; 'none' when this configuration cannot ask. */
  via: 'pdt' | 'rest' | 'none';
  /** PayPal's answer; undefined when PayPal does not know the transaction (or was not asked). */
  facts?: PaymentNotification;
  /** Why PayPal could not be asked, as a sentence. */
  problem?: string;
}

/** The one place that picks how to ask PayPal about a transaction (a REST order lookup goes here, before PDT). */
export async function askPayPalAbout(config: Config['paypal'], txnId: string): Promise<PayPalFacts> {
  const pdt = pdtClientFromConfig(config);
  if (!pdt) return { via: 'none', problem: 'PAYPAL_PDT_TOKEN is not set, so PayPal cannot be asked from here; look the transaction up in PayPal, or set the token (PayPal profile, Website preferences).' };
  try {
    const facts = await createPdtStatusLookup({ pdt }).lookup(txnId);
    return facts ? { via: 'pdt', facts } : { via: 'pdt', problem: `PayPal's PDT lookup does not know transaction ${txnId}.` };
  } catch (error) {
    return { via: 'pdt', problem: `PayPal could not be asked just now (${(error as Error).message}); try again in a minute.` };
  }
}
