// What the invoice activities are built over. The worker wires real ones from the configuration;
// tests hand in their own Postgres, SMTP server and PayPal status answerer.
import type { Transporter } from 'nodemailer';
import type { Pool } from '../db/pool';
import type { InvoiceSettings } from '../domain/invoice-settings';
import type { PayPalStatusClient } from './paypal-status';
import type { PayPalRestClient } from '../paypal/rest/client';

export interface ActivityDeps {
  pool: Pool;
  mailer: Transporter;
  paypalStatus: PayPalStatusClient;
  settings: InvoiceSettings;
  /** PayPal's REST API (PayPal Checkout, refunds through PayPal); absent without a REST app. */
  paypalRest?: PayPalRestClient;
}
