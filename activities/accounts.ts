// Buyers' accounts: the activity that finds or creates the buyer's account (db/accounts.ts says
// how: payer id first, then e-mail; a retried creation is a find).
import { ensureAccount as findOrCreateAccount, type AccountInput } from '../db/accounts';
import type { ActivityDeps } from './deps';

export type EnsureAccountInput = AccountInput;

export async function ensureAccount(deps: ActivityDeps, input: EnsureAccountInput): Promise<{ accountId: number }> {
  return { accountId: await findOrCreateAccount(deps.pool, input) };
}
