// Which invoice number belongs to which invoice workflow, so that every worker log line about an
// invoice carries the number beside the workflow id. Learned from the workflow's own lines and the
// activities' results; looked up in Postgres when an activity about a recorded invoice runs on a
// worker that has not seen it yet. A number never changes once given, so nothing here expires
// except by room.
import type { Pool } from '../db/pool';
import { invoiceNumberOfWorkflow } from '../db/invoices';

export class InvoiceNumbers {
  private readonly numbers = new Map<string, string>();

  constructor(private readonly room = 10_000) {}

  get(workflowId: string): string | undefined {
    return this.numbers.get(workflowId);
  }

  learn(workflowId: string, invoiceNumber: string): void {
    if (this.numbers.get(workflowId) === invoiceNumber) return;
    this.numbers.set(workflowId, invoiceNumber);
    // Oldest first out: a Map iterates in insertion order.
    if (this.numbers.size > this.room) this.numbers.delete(this.numbers.keys().next().value!);
  }

  async lookUp(pool: Pool, workflowId: string): Promise<string | undefined> {
    const known = this.get(workflowId);
    if (known) return known;
    const found = await invoiceNumberOfWorkflow(pool, workflowId);
    if (found) this.learn(workflowId, found);
    return found;
  }
}
