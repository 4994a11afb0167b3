// Bulk action: extend every live key of a package by N days. Each invoice is extended through its
// own workflow's `extendKeys` update, so its expiry timer, its e-mail and its history stay right.
//   temporal workflow start --task-queue keyship --type bulkExtendKeys --workflow-id bulk-extend-GUIDE-1-now \
//     --input '{"itemNumber":"GUIDE-1","days":7,"by":"ops"}'
//   temporal workflow query --workflow-id bulk-extend-GUIDE-1-now --name bulkProgress
import { workflowInfo } from '@temporalio/workflow';
import { bulkActivities, fanOut, newProgress } from './bulk-fan-out';
import type { BulkExtendKeysInput, BulkProgress } from './bulk-messages';

export async function bulkExtendKeys(input: BulkExtendKeysInput): Promise<BulkProgress> {
  const progress = input.resume?.progress ?? newProgress('bulkExtendKeys', input);
  const by = input.by ? `${input.by} (bulk)` : 'bulk extend';
  return fanOut<typeof bulkExtendKeys>({
    input,
    progress,
    scope: 'live',
    perInvoice: async (target) => {
      const outcome = await bulkActivities.applyInvoiceAction({
        txnId: target.txnId,
        action: { kind: 'extendKeys', input: { days: input.days, by } },
        updateId: `${workflowInfo().workflowId}:${target.invoiceId}`,
      });
      return outcome.ok ? { ok: true } : { ok: false, refused: true, reason: outcome.reason };
    },
    continueAsNew: (resume) => [{ ...input, resume }],
  });
}
