// The kinds of an invoice's packages, for kinds/: each item with its package's kind and settings.
import type { Queryable } from './pool';
import type { KindItem } from '../kinds/kind';

export async function invoiceKindItems(db: Queryable, invoiceId: number): Promise<KindItem[]> {
  const { rows } = await db.query<KindItem>(
    `SELECT p.id AS "packageId", p.item_number AS "itemNumber", p.name AS "packageName", ii.quantity,
            p.kind, p.kind_settings AS settings, p.license_settings AS license
       FROM invoice_items ii
       JOIN packages p ON p.id = ii.package_id
      WHERE ii.invoice_id = $1
      ORDER BY p.id`,
    [invoiceId],
  );
  return rows;
}
