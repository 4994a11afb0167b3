// Bulk action: a new version of a package's files is out. Every buyer whose invoice holds keys
// gets them renewed by N days through the invoice workflow's `extendKeys` update (which issues keys
// for any new file and e-mails the links with the new checksums), then an e-mail saying what is
// new. The announcement goes only to buyers whose renewal succeeded.
//   temporal workflow start --task-queue keyship --type bulkNewVersion --workflow-id bulk-new-version-GUIDE-1-v2 \
//     --input '{"itemNumber":"GUIDE-1","days":3,"note":"Version 2 adds chapter 9."}'
import { workflowInfo } from '@temporalio/workflow';
import { bulkActivities, fanOut, newProgress } from './bulk-fan-out';
import type { BulkNewVersionInput, BulkProgress } from './bulk-messages';

export async function bulkNewVersion(input: BulkNewVersionInput): Promise<BulkProgress> {
  const progress = input.resume?.progress ?? newProgress('bulkNewVersion', input);
  const by = input.by ? `${input.by} (new version)` : 'new version';
  const runKey = workflowInfo().workflowId;
  return fanOut<typeof bulkNewVersion>({
    input,
    progress,
    scope: 'buyers',
    perInvoice: async (target) => {
      const outcome = await bulkActivities.applyInvoiceAction({
        txnId: target.txnId,
        action: { kind: 'extendKeys', input: { days: input.days, by } },
        updateId: `${runKey}:${target.invoiceId}`,
      });
      if (!outcome.ok) return { ok: false, refused: true, reason: outcome.reason };
      await bulkActivities.announceNewVersion({
        invoiceId: target.invoiceId,
        note: input.note,
        expiresAt: outcome.expiresAt ?? new Date(Date.now()).toISOString(),
        dedupeKey: `new-version:${runKey}:${target.invoiceId}`,
      });
      return { ok: true };
    },
    continueAsNew: (resume) => [{ ...input, resume }],
  });
}
