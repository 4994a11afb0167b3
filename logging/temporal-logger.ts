// The Temporal SDK's logger backed by pino: the worker's own lines, the workflow logger (workflow
// id, run id and type on every line) and the activity logger (workflow id, activity type, attempt)
// all reach the same JSON log. Lines about an invoice also get its number (see invoice-numbers.ts).
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from 'pino';
import type { InvoiceNumbers } from './invoice-numbers';

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export function temporalLogger(logger: Logger, invoiceNumbers?: InvoiceNumbers): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const fields: Record<string, unknown> = { ...meta };
    // pino serializes errors only under `err`.
    if (fields.error instanceof Error) {
      fields.err = fields.error;
      delete fields.error;
    }
    if (typeof fields.sdkComponent === 'string') {
      fields.component = fields.sdkComponent;
      delete fields.sdkComponent;
    }
    // Activity and Nexus lines carry a task token: opaque, long, of no use to a reader.
    delete fields.taskToken;
    const workflowId = typeof fields.workflowId === 'string' ? fields.workflowId : undefined;
    if (workflowId && invoiceNumbers) {
      if (typeof fields.invoiceNumber === 'string') invoiceNumbers.learn(workflowId, fields.invoiceNumber);
      else {
        const known = invoiceNumbers.get(workflowId);
        if (known) fields.invoiceNumber = known;
      }
    }
    logger[levels[level]](fields, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
