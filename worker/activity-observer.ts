// One activity interceptor for what the worker observes about each activity: the invoice number
// on its log lines (learned from results, or looked up for an invoice already recorded) and the
// delivery count.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Pool } from '../db/pool';
import type { InvoiceNumbers } from '../logging/invoice-numbers';
import type { WorkerMetrics } from './worker-metrics';

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** recordInvoice answers { number }, loadInvoice { invoice: { number } }. */
function numberIn(result: unknown): string | undefined {
  const direct = field(result, 'number');
  if (typeof direct === 'string') return direct;
  const nested = field(field(result, 'invoice'), 'number');
  return typeof nested === 'string' ? nested : undefined;
}

export function activityObserver(deps: { pool: Pool; invoiceNumbers: InvoiceNumbers; metrics: Pick<WorkerMetrics, 'delivered'> }): ActivityInterceptorsFactory {
  const { pool, invoiceNumbers, metrics } = deps;
  return (ctx) => {
    const workflowId = ctx.info.workflowExecution?.workflowId;
    return {
      inbound: {
        async execute(input, next) {
          // An input naming an invoice id means the invoice is recorded: its number can be known.
          if (workflowId && field(input.args[0], 'invoiceId') !== undefined && !invoiceNumbers.get(workflowId)) {
            await invoiceNumbers.lookUp(pool, workflowId).catch(() => undefined);
          }
          const result = await next(input);
          const number = numberIn(result);
          if (workflowId && number) invoiceNumbers.learn(workflowId, number);
          if (ctx.info.activityType === 'sendKeys' && field(result, 'sent') === true) {
            metrics.delivered(String(field(input.args[0], 'purpose') ?? 'delivery'));
          }
          return result;
        },
      },
      outbound: {
        getLogAttributes(input, next) {
          const number = workflowId ? invoiceNumbers.get(workflowId) : undefined;
          return next(number ? { ...input, invoiceNumber: number } : input);
        },
      },
    };
  };
}
