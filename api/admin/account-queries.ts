// The admin's reads of client accounts: the search form, and one account with its invoices.
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { Pool } from '../../db/pool';
import { findAccount, type AccountRow } from '../../db/accounts';
import { accountInvoices, type InvoiceListRow } from '../../db/invoices';

export const accountSearchSchema = z.object({
  q: storableText().trim().max(200).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
export type AccountSearch = z.output<typeof accountSearchSchema>;

export async function accountDetail(pool: Pool, id: number): Promise<{ account: AccountRow; invoices: InvoiceListRow[] } | undefined> {
  const account = await findAccount(pool, id);
  if (!account) return undefined;
  return { account, invoices: await accountInvoices(pool, account.id) };
}
