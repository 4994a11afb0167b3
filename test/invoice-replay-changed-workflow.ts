// For the replay test only: an `invoice` workflow whose first step differs from the real one,
// which the saved histories must refuse to replay on.
import { proxyActivities } from '@temporalio/workflow';
import type { InvoiceActivities } from '../activities';

const { ensureAccount } = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '1 minute' });

export async function invoice(): Promise<void> {
  await ensureAccount({ email: 'changed@example.test' });
}
