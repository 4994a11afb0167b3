// Starting a bulk action (workflows/bulk-*.ts) for a package and reading its progress back.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { Pool } from '../../db/pool';
import { recordBulkAction } from '../../db/bulk-actions';
import { maxExtendDays, minExtendDays } from '../../domain/operator-actions';
import { bulkProgress, bulkWorkflowId, type BulkKind, type BulkProgress } from '../../workflows/bulk-messages';

export const bulkInputSchema = z.object({
  days: z.coerce.number({ error: `must be a whole number of days from ${minExtendDays} to ${maxExtendDays}` }).int().min(minExtendDays).max(maxExtendDays),
  note: storableText().trim().max(5000).optional(),
  concurrency: z.coerce.number().int().min(1).max(20).optional(),
});

export async function startBulk(
  deps: { pool: Pool; temporal: Client; taskQueue: string },
  kind: BulkKind,
  pkg: { id: number; itemNumber: string },
  input: z.output<typeof bulkInputSchema>,
  by: string,
): Promise<string> {
  const workflowId = bulkWorkflowId(kind, pkg.itemNumber, new Date());
  const args = { itemNumber: pkg.itemNumber, days: input.days, by, concurrency: input.concurrency, ...(kind === 'bulkNewVersion' ? { note: input.note ?? '' } : {}) };
  try {
    await deps.temporal.workflow.start(kind, {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [args],
      staticSummary: kind === 'bulkExtendKeys' ? `Extend live keys of ${pkg.itemNumber} by ${input.days} day(s)` : `New version of ${pkg.itemNumber}: renew keys by ${input.days} day(s), tell every buyer`,
      memo: { itemNumber: pkg.itemNumber, by },
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new Error(`A ${kind} for ${pkg.itemNumber} was started this very second; wait a moment and look at the package page.`);
    throw error;
  }
  await recordBulkAction(deps.pool, { workflowId, kind, packageId: pkg.id, days: input.days, note: input.note ?? null, startedBy: by });
  return workflowId;
}

export interface BulkStatus {
  workflowId: string;
  status: string;
  progress?: BulkProgress;
  error?: string;
}

export async function bulkStatus(temporal: Client, workflowId: string): Promise<BulkStatus | undefined> {
  const handle = temporal.workflow.getHandle(workflowId);
  try {
    return await temporal.withDeadline(Date.now() + 5_000, async () => {
      const description = await handle.describe();
      if (!['bulkExtendKeys', 'bulkNewVersion'].includes(description.type)) return undefined;
      const status = description.status.name;
      const progress = status === 'COMPLETED' ? ((await handle.result()) as BulkProgress) : status === 'RUNNING' ? await handle.query(bulkProgress) : undefined;
      return { workflowId, status, progress };
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'WorkflowNotFoundError') return undefined;
    return { workflowId, status: 'UNKNOWN', error: `Temporal did not answer (${error instanceof Error ? error.message : String(error)}); try again in a moment.` };
  }
}
