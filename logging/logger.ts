// Structured JSON logs (pino) for the api and the worker: one object a line on stdout, every line
// passed through the redactor first. A container runtime or journald collects stdout; nothing here
// writes files or rotates them.
import { format } from 'node:util';
import pino, { type Logger, type LevelWithSilent } from 'pino';
import { createRedactor } from './redact';

export type { Logger };

export interface LoggerOptions {
  /** Which process writes: "api", "worker". */
  service: string;
  level: LevelWithSilent;
  /** Values that must never reach the log (secretsOf(config)). */
  secrets?: Iterable<string | undefined>;
  /** Where the lines go; stdout when absent (tests hand in a collector). */
  write?: (line: string) => void;
}

/** Field names whose values are secret wherever they appear in a logged object. */
const secretFields = ['password', 'secret', 'token', 'apiKey', 'authorization', 'cookie', 'key', 'downloadKey'];

export function createLogger(options: LoggerOptions): Logger {
  const redact = createRedactor(options.secrets ?? []);
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...secretFields, ...secretFields.map((f) => `*.${f}`)], censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    { write: (line: string) => write(redact(line)) },
  );
}

/**
 * Sends console.* of this process into the logger, so that a stray console.error in a library or
 * a route is a JSON line and goes through the redactor like every other.
 */
export function routeConsoleTo(logger: Logger): void {
  const to = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => logger[level](format(...args));
  console.log = to('info');
  console.info = to('info');
  console.warn = to('warn');
  console.error = to('error');
  console.debug = to('debug');
}
