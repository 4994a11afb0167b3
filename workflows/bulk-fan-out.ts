// The loop both bulk actions share: read the package's invoices a page at a time (ids ascending,
// bounded by the newest id at the start), work on each page with at most `concurrency` invoice
// workflows at once, and report progress as it goes: the `bulkProgress` query, the Temporal UI's
// current details (every invoice) and the memo (every page, to keep history small).
import { ActivityFailure, ApplicationFailure, continueAsNew, proxyActivities, setCurrentDetails, setHandler, upsertMemo, workflowInfo, type Workflow } from '@temporalio/workflow';
import type { BulkActivities, BulkTarget } from '../activities/bulk-actions';
import { extendDaysProblem, type BulkScope } from '../domain/operator-actions';
import { bulkProgress, progressLine, type BulkCursor, type BulkExtendKeysInput, type BulkProgress } from './bulk-messages';

const pageSize = 100;
const maxProblems = 50;

export const bulkActivities = proxyActivities<BulkActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export type ItemResult = { ok: true } | { ok: false; refused: boolean; reason: string };

/** Runs fn over items with at most `limit` running at once (deterministic: plain promises). */
export async function runBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

export function failureReason(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

export async function fanOut<W extends Workflow>(options: {
  input: BulkExtendKeysInput;
  progress: BulkProgress;
  scope: BulkScope;
  perInvoice: (target: BulkTarget) => Promise<ItemResult>;
  continueAsNew: (resume: { progress: BulkProgress; cursor: BulkCursor }) => Parameters<W>;
}): Promise<BulkProgress> {
  const { input, progress } = options;
  // The same rule the invoice workflow applies to each extension, checked once before any is asked.
  const daysProblem = extendDaysProblem(input.days);
  if (daysProblem) throw ApplicationFailure.nonRetryable(`${daysProblem}; start the bulk action again with a valid number of days.`, 'InvalidBulkInput');
  const cursor: BulkCursor = input.resume?.cursor ?? { afterInvoiceId: 0 };
  setHandler(bulkProgress, () => progress);
  const publishDetails = () => setCurrentDetails(progressLine(progress));
  const publishMemo = () => upsertMemo({ progress: { total: progress.total, done: progress.done, succeeded: progress.succeeded, refused: progress.refused, failed: progress.failed } });
  publishDetails();

  for (;;) {
    const page = await bulkActivities.bulkTargetPage({
      itemNumber: input.itemNumber,
      scope: options.scope,
      afterInvoiceId: cursor.afterInvoiceId,
      upToInvoiceId: cursor.upToInvoiceId,
      limit: pageSize,
    });
    if (page.total !== undefined) progress.total = page.total;
    cursor.upToInvoiceId = page.upToInvoiceId;
    if (page.targets.length === 0) break;
    await runBounded(page.targets, Math.min(20, Math.max(1, input.concurrency ?? 4)), async (target) => {
      let result: ItemResult;
      try {
        result = await options.perInvoice(target);
      } catch (error) {
        result = { ok: false, refused: false, reason: failureReason(error) };
      }
      progress.done += 1;
      if (result.ok) progress.succeeded += 1;
      else {
        if (result.refused) progress.refused += 1;
        else progress.failed += 1;
        progress.problems.push({ invoiceNumber: target.number, txnId: target.txnId, reason: result.reason });
        if (progress.problems.length > maxProblems) progress.problems.splice(0, progress.problems.length - maxProblems);
      }
      publishDetails();
    });
    cursor.afterInvoiceId = page.targets[page.targets.length - 1]!.invoiceId;
    publishMemo();
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<W>(...options.continueAsNew({ progress, cursor }));
    }
  }
  // Invoices that stopped matching during the run (keys expired, refunded) were never reached.
  progress.total = progress.done;
  progress.finishedAt = new Date(Date.now()).toISOString();
  publishDetails();
  publishMemo();
  return progress;
}

export function newProgress(kind: BulkProgress['kind'], input: BulkExtendKeysInput): BulkProgress {
  return {
    kind,
    itemNumber: input.itemNumber,
    days: input.days,
    total: 0,
    done: 0,
    succeeded: 0,
    refused: 0,
    failed: 0,
    problems: [],
    startedAt: new Date(Date.now()).toISOString(),
    by: input.by,
  };
}
