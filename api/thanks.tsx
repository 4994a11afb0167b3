// GET /thanks and /thanks/:txn: PayPal's return URL. The classic buttons append the transaction as
// `tx` (the PDT convention); PayPal Checkout appends the order as `token` (its capture, then this
// page for the capture: api/checkout.ts). The page reads the invoice from Postgres; before the
// invoice exists it asks the invoice workflow's `state` query; before any workflow exists it
// confirms `tx` with PDT (the PayPal intake's code, which stores the answer and starts the
// workflow) and shows a page that refreshes itself until the workflow knows the payment.
import { Hono, type Context } from 'hono';
import { optionalInvoiceSettings } from '../domain/invoice-settings';
import { createPdtClient } from '../paypal/pdt-client';
import { createPdtIntake } from '../paypal/pdt-intake';
import { webscrUrl } from '../paypal/endpoints';
import { invoiceSignaller } from '../paypal/invoice-signal';
import type { IntakeResult } from '../paypal/intake-result';
import { queryInvoiceState } from '../domain/invoice-client';
import { invoiceStatus, isInvoiceStatus, standingSentence, type InvoiceStatus } from '../domain/invoice-status';
import type { InvoiceStateView } from '../workflows/invoice-state';
import type { AppDeps } from './deps';
import { maskEmail } from './link-requests';
import { renderPage } from './pages/render';
import { ThanksPage, type ThanksModel } from './pages/thanks-views';
import { thanksInvoice, type ThanksInvoice } from './thanks-invoice';
import { checkoutReturn } from './checkout';

/** Confirms PayPal's `tx` with PDT and routes the answer to the invoice workflow. */
export interface PdtConfirmer {
  confirm(tx: string): Promise<IntakeResult | undefined>;
}

const txShape = /^[A-Za-z0-9-]{1,64}$/;
/** The processing page reloads every few seconds for about two minutes, then says an e-mail will follow. */
const refreshSeconds = 3;
const maxRefreshes = 40;

type Deps = Pick<AppDeps, 'config' | 'pool' | 'temporal'>;

function defaultPdt({ config, pool, temporal }: Deps): PdtConfirmer | undefined {
  if (!config.paypal.pdtToken) return undefined;
  const pdt = createPdtClient({ url: webscrUrl(config.paypal.mode, config.paypal.simulatorUrl), identityToken: config.paypal.pdtToken });
  return createPdtIntake({ pool, pdt, signal: invoiceSignaller(temporal, config.temporal.taskQueue), receiverEmail: config.paypal.receiverEmail });
}

/** What the buyer's page says in each status; the compiler keeps it complete when a status is added. Its words are the invoice's standing's (domain/invoice-status.ts). */
const pageFor: Record<InvoiceStatus, 'processing' | 'keys' | 'pending' | 'review' | 'paused' | 'failed' | 'refunded' | 'reversed'> = {
  new: 'processing',
  awaiting_payment: 'pending',
  paid: 'keys',
  fulfilled: 'keys',
  keys_expired: 'keys',
  needs_review: 'review',
  rejected: 'failed',
  failed: 'failed',
  refunded: 'refunded',
  reversed: 'reversed',
  reinstated: 'keys',
  disputed: 'paused',
};

function fromInvoice(invoice: ThanksInvoice): ThanksModel | undefined {
  const maskedEmail = maskEmail(invoice.payerEmail);
  switch (isInvoiceStatus(invoice.status) ? pageFor[invoice.status] : 'processing') {
    case 'keys':
      if (!invoice.delivered) return undefined; // paid, keys not issued yet: still processing
      return invoice.keysExpired ? { kind: 'expired', invoice } : { kind: 'paid', invoice, maskedEmail };
    case 'pending':
      return { kind: 'pending', invoiceNumber: invoice.number, pendingReason: invoice.pendingReason, maskedEmail };
    case 'review':
      return { kind: 'review', invoiceNumber: invoice.number, maskedEmail, coming: invoice.coming };
    case 'paused':
      return { kind: 'paused', invoiceNumber: invoice.number, sentence: standingSentence(invoice.status)! };
    case 'failed':
      return { kind: 'failed', sentence: standingSentence(invoice.status) };
    case 'refunded':
      return refunded(false);
    case 'reversed':
      return refunded(true);
    case 'processing':
      return undefined;
  }
}

const refunded = (reversed: boolean): ThanksModel => ({ kind: 'refunded', reversed, sentence: standingSentence(reversed ? invoiceStatus.reversed : invoiceStatus.refunded)! });

function fromWorkflow(view: InvoiceStateView): ThanksModel | undefined {
  const maskedEmail = view.customerEmail ? maskEmail(view.customerEmail) : undefined;
  switch (pageFor[view.status]) {
    case 'pending':
      return { kind: 'pending', invoiceNumber: view.invoiceNumber, pendingReason: view.pendingReason, maskedEmail };
    case 'review':
      return { kind: 'review', invoiceNumber: view.invoiceNumber, maskedEmail };
    case 'paused':
      return { kind: 'paused', invoiceNumber: view.invoiceNumber, sentence: standingSentence(view.status)! };
    case 'failed':
      return { kind: 'failed', reason: view.failureReason, sentence: standingSentence(view.status) };
    case 'refunded':
      return refunded(false);
    case 'reversed':
      return refunded(true);
    case 'keys':
    case 'processing':
      return undefined; // no invoice row yet, or paid without keys: processing
  }
}

export function thanksRoutes(deps: Deps, options: { pdt?: PdtConfirmer | null } = {}) {
  const { config, pool, temporal } = deps;
  const settings = optionalInvoiceSettings(config);
  const pdt = options.pdt === undefined ? defaultPdt(deps) : (options.pdt ?? undefined);
  const app = new Hono();

  const workflowView = async (tx: string): Promise<InvoiceStateView | undefined> => {
    try {
      // A query needs a worker; without one, answer the buyer rather than wait.
      return await temporal.withDeadline(Date.now() + 2_000, () => queryInvoiceState(temporal, tx));
    } catch (error) {
      console.error(`thank-you page: the state of invoice workflow for ${tx} could not be read (${(error as Error).message})`);
      return undefined;
    }
  };

  const page = async (c: Context) => {
    const token = c.req.query('token');
    if (token && !c.req.query('tx') && !c.req.param('txn')) return checkoutPage(c, token);
    const tx = c.req.query('tx') ?? c.req.param('txn');
    if (!tx || !txShape.test(tx)) return renderPage(c, <ThanksPage model={{ kind: 'no_payment' }} />, 400);
    const refreshes = Math.min(Math.max(Number.parseInt(c.req.query('n') ?? '0', 10) || 0, 0), maxRefreshes);

    const invoice = await thanksInvoice(pool, tx, { settings, linksForSeconds: config.downloads.thanksLinksForSeconds });
    let model = invoice && fromInvoice(invoice);
    let paypalSays: string | undefined;
    if (!invoice) {
      const view = await workflowView(tx);
      if (view) model = fromWorkflow(view);
      else if (refreshes === 0 && pdt) {
        // Only on arrival: the reloads that follow wait for the workflow rather than ask PayPal again.
        try {
          paypalSays = (await pdt.confirm(tx))?.notification?.status;
        } catch (error) {
          console.error(`thank-you page: PDT confirmation of ${tx} failed (${(error as Error).message}); waiting for the IPN`);
        }
      }
    }
    const checkUrl = `/thanks/${tx}`;
    model ??= {
      kind: 'processing',
      checkUrl,
      refreshUrl: refreshes < maxRefreshes ? `${checkUrl}?n=${refreshes + 1}` : undefined,
      refreshSeconds,
      paypalSays,
    };
    return renderPage(c, <ThanksPage model={model} />);
  };

  /** PayPal Checkout's return (token = the order id): capture if nobody has, then the invoice's page. */
  const checkoutPage = async (c: Context, orderId: string) => {
    const back = await checkoutReturn(deps, orderId);
    if ('redirect' in back) return c.redirect(back.redirect, 303);
    if ('failed' in back) return renderPage(c, <ThanksPage model={{ kind: 'failed', reason: back.failed }} />);
    if ('unknown' in back) return renderPage(c, <ThanksPage model={{ kind: 'no_payment' }} />, 404);
    const refreshes = Math.min(Math.max(Number.parseInt(c.req.query('n') ?? '0', 10) || 0, 0), maxRefreshes);
    const checkUrl = `/thanks?token=${encodeURIComponent(orderId)}`;
    const model: ThanksModel = { kind: 'processing', checkUrl, refreshUrl: refreshes < maxRefreshes ? `${checkUrl}&n=${refreshes + 1}` : undefined, refreshSeconds };
    return renderPage(c, <ThanksPage model={model} />);
  };

  app.get('/thanks', page);
  app.get('/thanks/:txn', page);
  return app;
}
