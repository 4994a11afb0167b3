// The side effects of the bulk actions (workflows/bulk-*.ts): finding the invoices of a package a
// page at a time, running an operator action on one invoice workflow, and the "new version" e-mail.
// The invoice workflow stays the only writer of its keys: a bulk action asks it through its update
// (with an update id, so a retried activity never extends twice), never touches download_keys.
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ActivityDeps } from './deps';
import { formatTime } from '../domain/buyer-formats';
import { invoiceForMail } from './keys';
import { renderMailSource } from './mail-template';
import { sendRecordedMail } from './mail';
import { runInvoiceAction } from '../domain/invoice-client';
import { keysHeldStatuses, keysLiveStatuses, sqlList } from '../domain/invoice-status';
import type { OperatorAction } from '../workflows/invoice-state';

/** live: keys not yet expired (extend); buyers: every paid invoice that holds keys (new version). */
export type BulkScope = 'live' | 'buyers';

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

const scopeCondition: Record<BulkScope, string> = {
  live: `i.status IN (${sqlList(keysLiveStatuses)}) AND i.keys_expire_at > now()`,
  buyers: `i.status IN (${sqlList(keysHeldStatuses)})`,
};

export async function bulkTargetPage(deps: ActivityDeps, input: BulkTargetPageInput): Promise<BulkTargetPage> {
  const from = `FROM invoices i JOIN invoice_items ii ON ii.invoice_id = i.id JOIN packages p ON p.id = ii.package_id
                WHERE p.item_number = $1 AND ${scopeCondition[input.scope]}`;
  let upTo = input.upToInvoiceId;
  let total: number | undefined;
  if (upTo === undefined) {
    const head = await deps.pool.query<{ up_to: string | null; total: number }>(`SELECT max(i.id) AS up_to, count(*)::int AS total ${from}`, [input.itemNumber]);
    upTo = Number(head.rows[0]?.up_to ?? 0);
    total = head.rows[0]?.total ?? 0;
  }
  const { rows } = await deps.pool.query<{ id: string; txn_id: string; number: string }>(
    `SELECT i.id, i.txn_id, i.number ${from} AND i.id > $2 AND i.id <= $3 ORDER BY i.id LIMIT $4`,
    [input.itemNumber, input.afterInvoiceId, upTo, input.limit],
  );
  return { targets: rows.map((r) => ({ invoiceId: Number(r.id), txnId: r.txn_id, number: r.number })), upToInvoiceId: upTo, total };
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
