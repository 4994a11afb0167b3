// The side effects of the bulk actions (workflows/bulk-*.ts): finding the invoices of a package a
// page at a time, running an operator action on one invoice workflow, and the "new version" e-mail.
// The invoice workflow stays the only writer of its keys: a bulk action asks it through its update
// (with an update id, so a retried activity never extends twice), never touches download_keys.
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ActivityDeps } from './deps';
import { bulkTargets, bulkTargetsHead } from '../db/invoices';
import type { BulkScope } from '../domain/operator-actions';
import { formatTime } from '../domain/buyer-formats';
import { invoiceForMail } from './keys';
import { renderMailSource } from '../domain/mail-template';
import { sendRecordedMail } from './mail';
import { runInvoiceAction } from '../domain/invoice-client';
import type { OperatorAction } from '../domain/operator-actions';


export interface BulkTarget {
  invoiceId: number;
  txnId: string;
  number: string;
}

export interface BulkTargetPageInput {
  itemNumber: string;
  scope: BulkScope;
  afterInvoiceId: number;
  /** Fixed by the first page so that buyers who arrive during the run are left out. */
  upToInvoiceId?: number;
  limit: number;
}

export interface BulkTargetPage {
  targets: BulkTarget[];
  upToInvoiceId: number;
  /** Only on the first page (afterInvoiceId 0): how many invoices match in all. */
  total?: number;
}

export async function bulkTargetPage(deps: ActivityDeps, input: BulkTargetPageInput): Promise<BulkTargetPage> {
  let upTo = input.upToInvoiceId;
  let total: number | undefined;
  if (upTo === undefined) ({ upTo, total } = await bulkTargetsHead(deps.pool, input.itemNumber, input.scope));
  const targets = await bulkTargets(deps.pool, { itemNumber: input.itemNumber, scope: input.scope, afterInvoiceId: input.afterInvoiceId, upTo, limit: input.limit });
  return { targets, upToInvoiceId: upTo, total };
}

export type InvoiceActionOutcome = { ok: true; expiresAt?: string; status: string } | { ok: false; reason: string };

/**
 * Runs an operator action as an update of the invoice workflow (starting a run when none is
 * open), through the invoice client over the worker's own connection. A refusal is an answer, not
 * an error; anything else throws and is retried.
 */
export async function applyInvoiceAction(input: { txnId: string; action: OperatorAction; updateId: string }): Promise<InvoiceActionOutcome> {
  const context = Context.current();
  try {
    const view = await runInvoiceAction(context.client, context.info.taskQueue, input.txnId, input.action, { updateId: input.updateId, by: 'bulk' });
    return { ok: true, expiresAt: view.keys?.expiresAt, status: view.status };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) return { ok: false, reason: error.cause?.message ?? error.message };
    throw error;
  }
}

// The default text; a `new-version.txt` (and `.html`) in MAIL_TEMPLATES_DIR replaces it.
const defaultNewVersionTemplate = `Subject: A new version of {{packageName}} is out (invoice {{invoiceNumber}})

Hello{{#firstName}} {{firstName}}{{/firstName}},

A new version of {{packageName}} is ready for you.
{{#note}}

{{note}}
{{/note}}

Your download links have been renewed and now work until {{expiresAt}}. They come in a separate
e-mail from us, together with the new files' MD5 and SHA-256 checksums.

{{#supportText}}
{{supportText}}

{{/supportText}}
Invoice {{invoiceNumber}}, PayPal transaction {{txnId}}.
`;

export interface AnnounceNewVersionInput {
  invoiceId: number;
  note: string;
  expiresAt: string;
  /** One e-mail per invoice and bulk run, whatever the retries. */
  dedupeKey: string;
}

export async function announceNewVersion(deps: ActivityDeps, input: AnnounceNewVersionInput): Promise<{ sent: boolean }> {
  const invoice = await invoiceForMail(deps, input.invoiceId);
  const textPath = path.join(deps.settings.templatesDir, 'new-version.txt');
  const htmlPath = path.join(deps.settings.templatesDir, 'new-version.html');
  const text = existsSync(textPath) ? readFileSync(textPath, 'utf8') : defaultNewVersionTemplate;
  const html = existsSync(htmlPath) ? readFileSync(htmlPath, 'utf8') : undefined;
  const mail = renderMailSource(
    text,
    html,
    {
      invoiceNumber: invoice.number,
      txnId: invoice.txn_id,
      firstName: invoice.first_name ?? '',
      packageName: invoice.packageNames,
      supportText: invoice.supportText,
      note: input.note.trim(),
      expiresAt: formatTime(input.expiresAt),
    },
    'new-version.txt',
  );
  const result = await sendRecordedMail(deps, {
    kind: 'new-version',
    dedupeKey: input.dedupeKey,
    invoiceId: invoice.id,
    accountId: invoice.account_id ?? undefined,
    to: invoice.payer_email,
    ...mail,
  });
  return { sent: result.sent };
}

export function createBulkActivities(deps: ActivityDeps) {
  return {
    bulkTargetPage: (input: BulkTargetPageInput) => bulkTargetPage(deps, input),
    applyInvoiceAction: (input: { txnId: string; action: OperatorAction; updateId: string }) => applyInvoiceAction(input),
    announceNewVersion: (input: AnnounceNewVersionInput) => announceNewVersion(deps, input),
  };
}

export type BulkActivities = ReturnType<typeof createBulkActivities>;
