// The invoice settings a configuration names: who sends the e-mails, the public URL, the receiver
// the payments must go to, the secret the download keys are derived from, and the invoice timings.
// The worker's activities run on them and the api derives the thank-you page's keys from them.
import path from 'node:path';
import { ConfigError, type Config } from '../config/env';
import type { InvoiceTimings } from '../workflows/invoice-state';
import { signingKeyFromConfig, type MinisignKey } from './signing-key';

export interface InvoiceSettings {
  mailFrom: string;
  operatorEmail: string;
  /** Base of the keyed download URLs (`${publicUrl}/d/<key>`) and admin links. */
  publicUrl: string;
  /** Payments to any other PayPal account stop at needs review. */
  receiverEmail: string;
  /** HMAC secret the download keys are derived from (at least 32 bytes). */
  keySecret: Buffer;
  /** The seller's minisign key (SIGNING_KEY_FILE): deliveries link a signed SHA256SUMS; absent, nothing is signed. */
  signing?: MinisignKey;
  /** Folder of the seller-editable e-mail templates. */
  templatesDir: string;
  timings: InvoiceTimings;
}

export const defaultTemplatesDir = path.resolve(__dirname, '..', 'mail-templates');

/** Simulator mode takes no real money, so its keys may rest on a secret everyone knows. */
const simulatorKeySecret = 'keyship-simulator-mode-only-not-a-secret-for-real-sales';

/** The invoice settings a configuration names; throws a sentence when KEY_SECRET is needed and missing, or SIGNING_KEY_FILE is unusable. */
export function invoiceSettingsFromConfig(config: Config): InvoiceSettings {
  const keySecret = config.invoice.keySecret ?? (config.paypal.mode === 'simulator' ? simulatorKeySecret : undefined);
  if (keySecret === undefined) {
    throw new ConfigError(
      `KEY_SECRET is missing but PAYPAL_MODE ${config.paypal.mode} sells for real; set it to 32+ random characters (openssl rand -hex 32) and keep it, since changing it breaks issued keys.`,
    );
  }
  return {
    mailFrom: config.mailFrom,
    operatorEmail: config.operatorEmail,
    publicUrl: config.publicUrl,
    receiverEmail: config.paypal.receiverEmail,
    keySecret: Buffer.from(keySecret, 'utf8'),
    signing: signingKeyFromConfig(config),
    templatesDir: config.invoice.mailTemplatesDir ?? defaultTemplatesDir,
    timings: {
      pendingLimitSeconds: config.invoice.pendingLimitSeconds,
      pendingPollSeconds: config.invoice.pendingPollSeconds,
      retentionSeconds: config.invoice.retentionSeconds,
      defaultKeyTtlSeconds: config.keyTtlSeconds,
    },
  };
}

/** The settings where they can be made; undefined where KEY_SECRET is missing outside simulator mode (the api then shows no keys). */
export function optionalInvoiceSettings(config: Config): InvoiceSettings | undefined {
  try {
    return invoiceSettingsFromConfig(config);
  } catch {
    return undefined;
  }
}
