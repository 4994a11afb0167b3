// Builds the PayPal intakes from configuration: the mode picks the postback endpoint, the webhook
// certificate policy (PayPal's live or sandbox certificate, or the simulator's, never a mix) and
// the PDT endpoint. Tests replace single parts (a pinned clock, a verifier) through the options.
import type { Client } from '@temporalio/client';
import type { Config } from '../config/env';
import type { Pool } from '../db/pool';
import { createCertFetcher } from './cert-fetcher';
import { payPalCertTrust, paypalSubjects, simulatorCertTrust, type CertTrust } from './cert-trust';
import { webscrUrl } from './endpoints';
import { invoiceSignaller, TemporalUnavailableError, type InvoiceSignaller } from './invoice-signal';
import { checkoutByOrderId } from '../db/checkouts';
import { signalOrderApproved } from '../domain/checkout-client';
import { checkoutWorkflowId } from '../domain/invoice-ids';
import { createIpnIntake } from './ipn-intake';
import { createIpnVerifier, type IpnVerifier } from './ipn-postback';
import { createPdtClient, type PdtClient } from './pdt-client';
import { createPdtIntake } from './pdt-intake';
import type { PayPalRestClient } from './rest/client';
import { createWebhookIntake, type OrderApprovedHandler } from './webhook-intake';
import { createOnlineWebhookVerifier } from './webhook-online-verifier';
import { createOfflineWebhookVerifier, type WebhookVerifier } from './webhook-verifier';

export interface PayPalIntakeOptions {
  /** The time certificates and the replay window are judged at. */
  clock?: () => Date;
  ipnVerifier?: IpnVerifier;
  webhookVerifier?: WebhookVerifier;
  signal?: InvoiceSignaller;
  /** Overrides PAYPAL_MAX_IN_FLIGHT (api/paypal.ts's load shedding). */
  maxInFlight?: number;
}

export function webhookCertTrust(config: Config['paypal']): CertTrust {
  if (config.mode === 'simulator') return simulatorCertTrust(config.simulatorUrl);
  return payPalCertTrust({ subjects: [config.mode === 'live' ? paypalSubjects.live : paypalSubjects.sandbox] });
}

/** `rest` is the process's REST client, which online verification asks through (its token shared). */
export function webhookVerifierFromConfig(config: Config['paypal'], rest: PayPalRestClient | undefined, clock?: () => Date): WebhookVerifier {
  const { webhookId } = config;
  if (webhookId === undefined) {
    // Kept raw and refused with the reason; an operator can re-check it once the id is set.
    const reason = 'PAYPAL_WEBHOOK_ID is not set, so no webhook can be verified; set it to the id of your REST app\'s webhook';
    return { verify: () => Promise.resolve({ ok: false, reason }) };
  }
  if (config.webhookVerify === 'online') {
    // loadConfig refuses online without the credentials, so only wiring that forgot the client gets here.
    if (!rest) throw new Error('PAYPAL_WEBHOOK_VERIFY=online needs the process\'s PayPal REST client; pass it (AppDeps.paypalRest) where the process is wired.');
    return createOnlineWebhookVerifier({ rest, webhookId });
  }
  const trust = webhookCertTrust(config);
  return createOfflineWebhookVerifier({ webhookId, trust, certs: createCertFetcher({ refuseUrl: trust.refuseUrl }), clock });
}

/** The PDT client, when a PDT identity token is configured (always in simulator mode). */
export function pdtClientFromConfig(config: Config['paypal']): PdtClient | undefined {
  if (!config.pdtToken) return undefined;
  return createPdtClient({ url: webscrUrl(config.mode, config.simulatorUrl), identityToken: config.pdtToken });
}

/** CHECKOUT.ORDER.APPROVED -> the checkout workflow of that order, within PayPal's patience. */
function orderApprovedHandler(pool: Pool, temporal: Client): OrderApprovedHandler {
  return async (orderId) => {
    const row = await checkoutByOrderId(pool, orderId);
    if (!row) return { unknown: `order ${orderId} was not created by this store's checkout; nothing to capture` };
    const workflowId = checkoutWorkflowId(row.ref);
    try {
      const running = await temporal.withDeadline(Date.now() + 8_000, () => signalOrderApproved(temporal, row.ref, orderId));
      return { workflowId, detail: running ? `order ${orderId} approved: its checkout captures it` : `order ${orderId} approved; its checkout had already ended (${row.status}), nothing to do` };
    } catch (error) {
      throw new TemporalUnavailableError(`Temporal could not be reached to tell ${workflowId} (${(error as Error).message}); PayPal will resend.`);
    }
  };
}

export function createPayPalIntakes(deps: { config: Config; pool: Pool; temporal: Client; paypalRest?: PayPalRestClient }, options: PayPalIntakeOptions = {}) {
  const { pool } = deps;
  const paypal = deps.config.paypal;
  const signal = options.signal ?? invoiceSignaller(deps.temporal, deps.config.temporal.taskQueue);
  const pdtClient = pdtClientFromConfig(paypal);
  return {
    ipn: createIpnIntake({ pool, verifier: options.ipnVerifier ?? createIpnVerifier({ url: paypal.ipnVerifyUrl }), signal, mode: paypal.mode, receiverEmail: paypal.receiverEmail }),
    webhook: createWebhookIntake({
      pool,
      verifier: options.webhookVerifier ?? webhookVerifierFromConfig(paypal, deps.paypalRest, options.clock),
      signal,
      receiverEmail: paypal.receiverEmail,
      replayWindowSeconds: paypal.webhookReplayWindowSeconds,
      clock: options.clock,
      orderApproved: paypal.checkout === 'classic' ? undefined : orderApprovedHandler(pool, deps.temporal),
    }),
    /** For the thank-you page: confirm PayPal's `tx` with PDT (undefined without a PDT token). */
    pdt: pdtClient ? createPdtIntake({ pool, pdt: pdtClient, signal, receiverEmail: paypal.receiverEmail }) : undefined,
  };
}

export type PayPalIntakes = ReturnType<typeof createPayPalIntakes>;
