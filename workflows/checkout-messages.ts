// Every signal, update and query of the checkout workflow, defined once (domain/checkout-client.ts,
// the api and the tests use these names). Examples:
//   temporal workflow query --workflow-id checkout-<ref> --name checkoutState
//   temporal workflow signal --workflow-id checkout-<ref> --name orderApproved --input '{"orderId":"5O190127TN364715T"}'
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CheckoutOutcome } from '../domain/checkout';

export interface PlacedOrder {
  orderId: string;
  approveUrl: string;
}

export interface CheckoutView extends CheckoutOutcome {
  ref: string;
  total: string;
  currency: string;
  approvedVia?: 'return' | 'buttons' | 'webhook';
}

/** Answers once the PayPal order exists (the Buy button's redirect, the JS buttons' createOrder). */
export const placeOrder = defineUpdate<PlacedOrder, []>('placeOrder');

/** The buyer is back from PayPal (return URL or the JS buttons' onApprove): capture, and answer the outcome. */
export const captureOrder = defineUpdate<CheckoutOutcome, [{ via: 'return' | 'buttons' }]>('captureOrder');

/** PayPal's CHECKOUT.ORDER.APPROVED: the buyer approved, perhaps then closed the tab: capture. */
export const orderApproved = defineSignal<[{ orderId: string }]>('orderApproved');

/** The buyer pressed cancel at PayPal; the order may still be approved until it lapses. */
export const orderCancelled = defineSignal<[]>('orderCancelled');

export const checkoutState = defineQuery<CheckoutView>('checkoutState');
