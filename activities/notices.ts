// The invoice's e-mails other than keys: payment pending, payment failed, the operator's review
// alert (and, when the hold is for something a package kind lacked, the buyer's "on its way"),
// and the package's own notifications. Each is recorded and deduplicated by mail.ts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ActivityDeps } from './deps';
import { waitingKinds } from '../kinds';
import { defaultTemplatesDir } from '../domain/invoice-settings';
import { invoicePackageNotifications } from '../db/packages';
import { formatTime } from '../domain/buyer-formats';
import { invoiceForMail } from './keys';
import { renderMailSource, renderMailTemplate, type TemplateContext } from '../domain/mail-template';
import { sendRecordedMail } from './mail';

export type NoticeKind = 'pending' | 'payment-failed' | 'review-alert';

export interface SendNoticeInput {
  invoiceId: number;
  kind: NoticeKind;
  dedupeKey: string;
  /** PayPal's pending reason, or why the payment failed. */
  reason?: string;
  /** pending: when we stop waiting (ISO). */
  until?: string;
  /** review-alert: what did not match. */
  problems?: string[];
}

/** PayPal's pending_reason words, told to a buyer with what happens next. */
const pendingReasons: Record<string, string> = {
  echeck: 'You paid by eCheck. PayPal clears an eCheck in about 3 to 5 business days; your download follows as soon as it has.',
  multi_currency: 'The seller has to accept a payment in this currency first; this usually happens within a day.',
  paymentreview: 'PayPal is reviewing the payment, which usually takes up to 24 hours.',
  unilateral: 'The payment went to an address the seller has not yet confirmed with PayPal.',
  address: 'The seller has to accept payments without a confirmed shipping address first.',
  intl: 'The seller has to accept this international payment first.',
  upgrade: 'The seller has to upgrade the PayPal account before the payment can complete.',
  verify: 'The seller has to verify the PayPal account before the payment can complete.',
  authorization: 'The payment is authorised but not yet captured.',
  order: 'The payment is an order that is not yet captured.',
  delayed_disbursement: 'PayPal is holding the payment for a short while before releasing it.',
};

export function pendingReasonText(reason: string | undefined): string {
  return (reason && pendingReasons[reason]) || 'PayPal has not yet released the payment; you will hear from us as soon as it has.';
}

export async function sendInvoiceNotice(deps: ActivityDeps, input: SendNoticeInput): Promise<{ sent: boolean }> {
  const invoice = await invoiceForMail(deps, input.invoiceId);
  const context: TemplateContext = {
    invoiceNumber: invoice.number,
    txnId: invoice.txn_id,
    firstName: invoice.first_name ?? '',
    packageName: invoice.packageNames || 'your order',
    amount: invoice.amount,
    currency: invoice.currency,
    payerEmail: invoice.payer_email,
    supportText: invoice.supportText,
    reason: input.reason ?? '',
    reasonText: input.kind === 'pending' ? pendingReasonText(input.reason) : (input.reason ?? ''),
    until: input.until ? formatTime(input.until) : '',
    problems: (input.problems ?? []).map((problem) => ({ problem })),
    adminUrl: `${deps.settings.publicUrl}/admin`,
    workflowId: `invoice-${invoice.txn_id}`,
  };
  const mail = renderMailTemplate(deps.settings.templatesDir, input.kind, context);
  const toOperator = input.kind === 'review-alert';
  const result = await sendRecordedMail(deps, {
    kind: input.kind,
    dedupeKey: input.dedupeKey,
    invoiceId: invoice.id,
    accountId: toOperator ? undefined : (invoice.account_id ?? undefined),
    to: toOperator ? deps.settings.operatorEmail : invoice.payer_email,
    ...mail,
  });
  if (toOperator) await tellBuyerWhatIsComing(deps, context, invoice);
  return { sent: result.sent };
}

/**
 * An invoice held because a package kind ran short (a support-login pool ran empty) is waiting for
 * the seller, not doubted: its buyer is told, once, that the rest is on its way. A hold for any
 * other reason (an amount that does not match) tells the buyer nothing here.
 */
async function tellBuyerWhatIsComing(deps: ActivityDeps, context: TemplateContext, invoice: Awaited<ReturnType<typeof invoiceForMail>>): Promise<void> {
  const coming = await waitingKinds(deps.pool, invoice.id);
  if (coming.length === 0) return;
  // A MAIL_TEMPLATES_DIR copied before this template existed lacks it: the shipped one is used then,
  // rather than retrying (and holding up the invoice's approval) until someone adds the file.
  const dir = existsSync(path.join(deps.settings.templatesDir, 'delivery-waiting.txt')) ? deps.settings.templatesDir : defaultTemplatesDir;
  const mail = renderMailTemplate(dir, 'delivery-waiting', { ...context, coming: coming.map((sentence) => ({ sentence })) });
  await sendRecordedMail(deps, {
    kind: 'delivery-waiting',
    dedupeKey: `delivery-waiting:${invoice.id}`,
    invoiceId: invoice.id,
    accountId: invoice.account_id ?? undefined,
    to: invoice.payer_email,
    ...mail,
  });
}

/** Sends each active notification of the invoice's packages once (e.g. how to get support). */
export async function sendPackageNotifications(deps: ActivityDeps, input: { invoiceId: number }): Promise<{ sent: number }> {
  const rows = await invoicePackageNotifications(deps.pool, input.invoiceId);
  // Most packages have none: then the invoice need not be read at all.
  if (rows.length === 0) return { sent: 0 };
  const invoice = await invoiceForMail(deps, input.invoiceId);
  let sent = 0;
  for (const note of rows) {
    const context: TemplateContext = {
      invoiceNumber: invoice.number,
      firstName: invoice.first_name ?? '',
      packageName: note.package_name,
      supportText: note.support_text,
    };
    const label = `package notification "${note.name}"`;
    const mail = renderMailSource(`Subject: ${note.subject}\n\n${note.text_body}`, note.html_body ?? undefined, context, label);
    const result = await sendRecordedMail(deps, {
      kind: `package:${note.name}`,
      dedupeKey: `package-notification:${invoice.id}:${note.id}`,
      invoiceId: invoice.id,
      accountId: invoice.account_id ?? undefined,
      to: invoice.payer_email,
      ...mail,
    });
    if (result.sent) sent++;
  }
  return { sent };
}
