// The library e-mail, sent by the api itself rather than through a workflow (it belongs to an
// address, not to one invoice): the request row is committed first, the e-mail is recorded in
// `notifications` and sent right after the answer, and a sweeper in each api process retries any
// that did not go out (SMTP away, the process stopped) until its link expires, so an outage delays
// the e-mail and never loses it. The retry derives the same link from the stored salt.
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Pool } from '../db/pool';
import { claimEmail, markEmailFailed, markEmailSent } from '../db/emails';
import { claimLibraryRetries, libraryMailDue, markLibraryMailFailed, markLibraryMailSent, type LibraryMailDue } from '../db/library-links';
import { formatTime } from '../domain/buyer-formats';
import type { InvoiceSettings } from '../domain/invoice-settings';
import { readMailTemplate } from '../domain/mail-template';
import type { LibrarySecrets } from './library-session';

export interface LibraryMailer {
  /** Sends a request's e-mail now, in the background; a failure is recorded and left to the sweeper. */
  sendSoon(id: number): void;
  /** Sends every e-mail whose retry is due; how many were tried. */
  retryDue(): Promise<number>;
  /** Runs retryDue every `intervalMs`; returns the stop. */
  startSweeper(intervalMs?: number): () => void;
}

type Settings = Pick<InvoiceSettings, 'mailFrom' | 'publicUrl' | 'templatesDir'>;

/** How long (ms) the api waits for the SMTP server at each step before the attempt counts as failed. */
const smtpTimeouts = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export function libraryMailer(deps: { pool: Pool; smtpUrl: string; settings: Settings; secrets: LibrarySecrets }): LibraryMailer {
  const { pool, settings, secrets } = deps;
  const transport = nodemailer.createTransport({ url: deps.smtpUrl, ...smtpTimeouts });
  const domain = /@([^>\s]+)>?\s*$/.exec(settings.mailFrom)?.[1] ?? 'keyship.localhost';

  async function send(due: LibraryMailDue): Promise<void> {
    const dedupeKey = `library-${due.id}`;
    try {
      const render = readMailTemplate(settings.templatesDir, 'library-link');
      const context = (libraryUrl: string) => ({
        email: due.email,
        libraryUrl,
        expiresAt: formatTime(due.expires_at.toISOString()),
        requestUrl: `${settings.publicUrl}/library`,
      });
      const sent = render(context(`${settings.publicUrl}/library/open/${secrets.linkToken(due.salt)}`));
      // The copy Postgres keeps names the link by the row, never by the link itself.
      const stored = render(context(`${settings.publicUrl}/library/open/[link withheld; library request ${due.id}]`));
      // Derived from the row, so a retried copy carries the same Message-ID.
      const messageId = `<library-${due.id}.${createHash('sha256').update(due.salt).digest('hex').slice(0, 16)}@${domain}>`;
      const claimed = await claimEmail(pool, {
        invoiceId: null,
        accountId: null,
        kind: 'library',
        dedupeKey,
        to: due.email,
        from: settings.mailFrom,
        subject: sent.subject,
        headers: { From: settings.mailFrom, To: due.email, Subject: sent.subject, 'Message-ID': messageId },
        textBody: stored.text,
        htmlBody: stored.html ?? null,
        messageId,
      });
      if (claimed) {
        await transport.sendMail({ from: settings.mailFrom, to: due.email, subject: sent.subject, text: sent.text, html: sent.html, messageId });
        await markEmailSent(pool, dedupeKey);
      }
      await markLibraryMailSent(pool, due.id);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      console.error(`library e-mail ${due.id} to ${due.email} did not go out (${reason}); it is tried again within minutes, check SMTP_URL if this repeats`);
      await Promise.all([markEmailFailed(pool, dedupeKey, reason), markLibraryMailFailed(pool, due.id, reason)]).catch(() => undefined);
    }
  }

  const retryDue = async () => {
    const due = await claimLibraryRetries(pool);
    for (const row of due) await send(row);
    return due.length;
  };

  return {
    sendSoon(id) {
      void libraryMailDue(pool, id)
        .then((due) => (due ? send(due) : undefined))
        .catch((error: unknown) => console.error(`library e-mail ${id}: could not be read for sending (${(error as Error).message}); the sweeper tries again`));
    },
    retryDue,
    startSweeper(intervalMs = 30_000) {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        void retryDue()
          .catch((error: unknown) => console.error(`library e-mail retries failed (${(error as Error).message}); trying again in ${intervalMs / 1000} s`))
          .finally(() => (running = false));
      }, intervalMs).unref();
      return () => clearInterval(timer);
    },
  };
}
