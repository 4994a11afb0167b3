// The bulk actions' shared definitions: their inputs, the progress they report (a query, the
// Temporal UI's current details and memo), and their workflow ids. The admin api, the worker and
// the runbook's CLI examples use these names.
import { defineQuery } from '@temporalio/workflow';

export type BulkKind = 'bulkExtendKeys' | 'bulkNewVersion';

export interface BulkFailure {
  invoiceNumber: string;
  txnId: string;
  reason: string;
}

export interface BulkProgress {
  kind: BulkKind;
  itemNumber: string;
  days: number;
  /** Invoices matching when the run started (new buyers after the start are not included). */
  total: number;
  done: number;
  succeeded: number;
  /** The invoice workflow refused the action (e.g. refunded meanwhile): nothing to do there. */
  refused: number;
  /** The action could not be completed after its retries. */
  failed: number;
  /** The newest problems, at most 50 (refusals and failures). */
  problems: BulkFailure[];
  startedAt: string;
  finishedAt?: string;
  by?: string;
}

/** Where a run carries on after continueAsNew: the next invoice id and the fixed upper bound. */
export interface BulkCursor {
  afterInvoiceId: number;
  upToInvoiceId?: number;
}

export interface BulkExtendKeysInput {
  itemNumber: string;
  days: number;
  by?: string;
  /** How many invoice workflows are worked on at once (default 4). */
  concurrency?: number;
  resume?: { progress: BulkProgress; cursor: BulkCursor };
}

export interface BulkNewVersionInput extends BulkExtendKeysInput {
  /** What is new, for the buyers' e-mail. */
  note: string;
}

export const bulkProgress = defineQuery<BulkProgress>('bulkProgress');

/** `bulk-extend-GUIDE-1-20260101T120000Z`: the package and the start time, readable in the UI. */
export function bulkWorkflowId(kind: BulkKind, itemNumber: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const safeItem = itemNumber.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${kind === 'bulkExtendKeys' ? 'bulk-extend' : 'bulk-new-version'}-${safeItem}-${stamp}`;
}

export function progressLine(p: BulkProgress): string {
  const what = p.kind === 'bulkExtendKeys' ? `Extend live keys of ${p.itemNumber} by ${p.days} day(s)` : `New version of ${p.itemNumber}: renew keys by ${p.days} day(s) and tell every buyer`;
  const state = p.finishedAt ? `finished ${p.finishedAt}` : 'running';
  return `${what}: ${p.done}/${p.total} done, ${p.succeeded} ok, ${p.refused} refused, ${p.failed} failed (${state})`;
}
