// The SQL of bulk_actions: the record of each bulk action an operator started for a package (the
// progress itself lives in its workflow).
import type { Queryable } from './pool';

export async function recordBulkAction(
  db: Queryable,
  action: { workflowId: string; kind: string; packageId: number; days: number; note: string | null; startedBy: string },
): Promise<void> {
  await db.query('INSERT INTO bulk_actions (workflow_id, kind, package_id, days, note, started_by) VALUES ($1, $2, $3, $4, $5, $6)', [
    action.workflowId,
    action.kind,
    action.packageId,
    action.days,
    action.note,
    action.startedBy,
  ]);
}

export interface BulkActionRow {
  workflowId: string;
  kind: string;
  days: number;
  note: string | null;
  startedBy: string;
  createdAt: Date;
}

/** A package's 20 newest bulk actions. */
export async function packageBulkActions(db: Queryable, packageId: number): Promise<BulkActionRow[]> {
  const { rows } = await db.query<BulkActionRow>(
    `SELECT workflow_id AS "workflowId", kind, days, note, started_by AS "startedBy", created_at AS "createdAt"
       FROM bulk_actions WHERE package_id = $1 ORDER BY created_at DESC LIMIT 20`,
    [packageId],
  );
  return rows;
}
