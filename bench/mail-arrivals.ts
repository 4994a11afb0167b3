// When each e-mail reached the benchmarks' mailbox (bench/mail-sink.ts, its own process), by
// recipient: the end of a purchase as the buyer sees it.
import { freePort } from '../test/harness/ports';
import { startNodeProcess, type NodeProcess } from './node-process';

export type MailKind = 'delivery' | 'pending' | 'other';

export function mailKind(subject: string | undefined): MailKind {
  if (subject?.startsWith('Your download:')) return 'delivery';
  if (subject && /is pending/.test(subject)) return 'pending';
  return 'other';
}

export interface MailArrivals {
  /** performance.now() of the first e-mail of this kind to this recipient. */
  at(kind: MailKind, to: string): number | undefined;
  count(kind: MailKind): number;
  /** Resolves once `n` e-mails of `kind` arrived, or after `ms` (false). */
  waitFor(kind: MailKind, n: number, ms: number): Promise<boolean>;
}

export interface MailSink {
  url: string;
  process: NodeProcess;
  arrivals: MailArrivals;
}

export async function startMailSink(): Promise<MailSink> {
  const seen: Record<MailKind, Map<string, number>> = { delivery: new Map(), pending: new Map(), other: new Map() };
  const port = await freePort();
  const child = await startNodeProcess({
    script: 'bench/mail-sink.ts',
    env: { SMTP_SINK_PORT: String(port) },
    ready: /^mail sink ready/,
    onLine(line) {
      const [word, kind, epochMs, ...to] = line.split(' ');
      const map = word === 'mail' ? seen[kind as MailKind] : undefined;
      if (!map) return;
      const at = Number(epochMs) - performance.timeOrigin; // the sink's clock → this process's performance.now()
      for (const address of to) if (!map.has(address)) map.set(address, at);
    },
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    process: child,
    arrivals: {
      at: (kind, to) => seen[kind].get(to),
      count: (kind) => seen[kind].size,
      async waitFor(kind, n, ms) {
        const deadline = performance.now() + ms;
        while (seen[kind].size < n) {
          if (performance.now() > deadline) return false;
          await new Promise((r) => setTimeout(r, 20));
        }
        return true;
      },
    },
  };
}
