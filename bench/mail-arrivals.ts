// When each e-mail reached the SMTP capture, by recipient: the end of a purchase as the buyer sees
// it. The capture's parsed messages are dropped as they are counted, so 10,000 of them cost no memory.
import type { CapturedMail, SmtpCapture } from '../test/harness/smtp';

export type MailKind = 'delivery' | 'pending' | 'other';

export interface MailArrivals {
  /** performance.now() of the first e-mail of this kind to this recipient. */
  at(kind: MailKind, to: string): number | undefined;
  count(kind: MailKind): number;
  /** Resolves once `n` e-mails of `kind` arrived, or after `ms` (false). */
  waitFor(kind: MailKind, n: number, ms: number): Promise<boolean>;
}

function kindOf(mail: CapturedMail): MailKind {
  const subject = mail.parsed.subject ?? '';
  if (subject.startsWith('Your download:')) return 'delivery';
  if (/is pending/.test(subject)) return 'pending';
  return 'other';
}

export function trackMail(smtp: SmtpCapture): MailArrivals {
  const seen: Record<MailKind, Map<string, number>> = { delivery: new Map(), pending: new Map(), other: new Map() };
  const messages = smtp.messages;
  // The capture pushes each message once parsed; note the time then, and keep nothing.
  messages.push = (...mails: CapturedMail[]) => {
    const now = performance.now();
    for (const mail of mails) {
      const map = seen[kindOf(mail)];
      for (const to of mail.envelope.to) if (!map.has(to)) map.set(to, now);
    }
    return 0;
  };
  return {
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
  };
}
