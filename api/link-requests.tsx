// POST /d/request: a buyer asks a person for a fresh link (stored in link_requests, where the
// operator works through the open ones). POST /d/renew: the self-service renewal, for a package
// that allows it and a paid invoice whose link expired: the invoice workflow's `extendKeys`
// signal extends the same keys (so their download counts stand) and e-mails them to the address
// the buyer paid with, never to an address typed into the form. At most once a day per invoice.
// /d/more-time/<link>: the expiry reminder's single-use link does the same before expiry where the
// package allows self-service, and otherwise files the same request for a person.
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { storableText, nulRefused } from '../db/storable-text';
import { isExhausted, keyHash, keyProblem, keyShape, type KeyFacts } from '../domain/download-keys';
import { keysHeldStatuses, standingSentence, type InvoiceStatus } from '../domain/invoice-status';
import { findReminderLink, spendReminderLink, type ReminderLinkRow } from '../db/reminder-links';
import { MoreTimePage } from './pages/more-time';
import { signalInvoiceAction } from '../domain/invoice-client';
import { inTransaction, type Pool } from '../db/pool';
import type { AppDeps } from './deps';
import { clientAddress } from './client-address';
import { invoiceIdForBuyer } from '../db/invoices';
import { findKey, type KeyRow } from '../db/keys';
import { insertOperatorRequest, insertRenewalUnlessRecent, lockRenewals, reopenRequest } from '../db/link-requests';
import { renderKeyPage } from './pages/key-pages';
import { RenewalPage, RequestReceivedPage } from './pages/link-request-done';
import { LinkRequestPage } from './pages/link-request-form';
import { renderPage } from './pages/render';

/** Days a self-service renewal adds (the package's key lifetime), or undefined when this key may not renew itself. */
export function selfServiceDays(key: KeyFacts & Pick<KeyRow, 'self_service' | 'key_ttl_seconds'>, defaultTtlSeconds: number): number | undefined {
  if (!key.self_service || keyProblem(key) !== 'expired' || isExhausted(key)) return undefined;
  return Math.max(1, Math.ceil((key.key_ttl_seconds ?? defaultTtlSeconds) / 86400));
}

/** "b***@example.com": enough for the buyer to recognise, too little to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 1 ? '***' : `${email[0]}***${email.slice(at)}`;
}

const problems = ['unknown', 'expired', 'exhausted', 'revoked', 'suspended', 'unpaid', 'missing_file'] as const;

const requestForm = z.object({
  email: z.email().max(254),
  invoice: storableText().trim().max(64).optional(),
  message: storableText().trim().max(2000).optional(),
  key: storableText().max(128).optional(),
  problem: z.enum(problems).catch('unknown'),
});

export function linkRequestRoutes({ config, pool, temporal }: Pick<AppDeps, 'config' | 'pool' | 'temporal'>) {
  const app = new Hono();

  app.post(
    '/d/request',
    zValidator('form', requestForm, async (result, c) => {
      if (result.success) return;
      const raw = result.data as Record<string, string | undefined>;
      return renderPage(
        c,
        <LinkRequestPage
          downloadKey={raw.key}
          problem={raw.problem ?? 'unknown'}
          values={{ email: raw.email, invoice: raw.invoice, message: raw.message }}
          error={
            result.error.issues.some((issue) => issue.message === nulRefused)
              ? 'The form held a character we cannot keep (a NUL, U+0000); please type it again without it.'
              : 'Please give an e-mail address we can answer to.'
          }
        />,
        400,
      );
    }),
    async (c) => {
      const form = c.req.valid('form');
      const key = form.key ? await findKey(pool, keyHash(form.key)) : undefined;
      const invoiceId = key?.invoice_id ?? (form.invoice ? await invoiceIdForBuyer(pool, form.invoice, form.email) : undefined);
      await insertOperatorRequest(pool, {
        email: form.email,
        invoiceRef: form.invoice || null,
        message: form.message || null,
        keyProblem: key ? (keyProblem(key) ?? 'none') : form.problem,
        downloadKeyId: key?.id ?? null,
        invoiceId: invoiceId ?? null,
        remoteAddr: clientAddress(c, config.downloads.trustedProxies),
        userAgent: c.req.header('user-agent') ?? null,
      });
      // The same answer whether or not anything matched, so the form tells nobody which orders exist.
      return renderPage(c, <RequestReceivedPage email={form.email} />);
    },
  );

  app.post('/d/renew', zValidator('form', z.object({ key: storableText().max(128) })), async (c) => {
    const { key: downloadKey } = c.req.valid('form');
    const key = await findKey(pool, keyHash(downloadKey));
    if (!key) return renderKeyPage(c, { problem: 'unknown' });
    const days = selfServiceDays(key, config.keyTtlSeconds);
    if (days === undefined) {
      const problem = keyProblem(key);
      const reason = !key.self_service
        ? 'Fresh links for this purchase are sent by a person.'
        : problem === undefined
          ? 'Your link still works: go back and use it to download.'
          : problem === 'expired' || problem === 'exhausted'
            ? 'All the downloads this link allows have been used.'
            : (standingSentence(key.invoice_status) ?? 'This link has been withdrawn or replaced by a newer one.');
      return renderPage(c, <RenewalPage outcome="not_allowed" reason={reason} />, 409);
    }
    const requestId = await reserveRenewal(pool, key, clientAddress(c, config.downloads.trustedProxies), c.req.header('user-agent'), days);
    const maskedEmail = maskEmail(key.payer_email);
    if (requestId === undefined) return renderPage(c, <RenewalPage outcome="already_sent" maskedEmail={maskedEmail} />, 429);
    try {
      await temporal.withDeadline(Date.now() + 5_000, () =>
        signalInvoiceAction(temporal, config.temporal.taskQueue, key.txn_id, { kind: 'extendKeys', input: { days, by: 'buyer (self-service)' } }),
      );
    } catch (error) {
      console.error(`self-service renewal of invoice ${key.invoice_number}: Temporal did not take the signal (${(error as Error).message})`);
      await reopenRequest(pool, requestId, `automatic renewal failed (${(error as Error).message}); extend the keys by ${days} day(s) by hand`);
      return renderPage(c, <RenewalPage outcome="passed_on" />, 202);
    }
    return renderPage(c, <RenewalPage outcome="sent" maskedEmail={maskedEmail} days={days} />);
  });

  /** What a reminder link is now: its row, or the page that says why it cannot be used. */
  const moreTimeLink = async (token: string): Promise<{ link: ReminderLinkRow; selfService: boolean } | { page: 'unknown' | 'expired' | 'already_used'; link?: ReminderLinkRow }> => {
    const link = keyShape.test(token) ? await findReminderLink(pool, keyHash(token)) : undefined;
    if (!link) return { page: 'unknown' };
    if (link.usedAt) return { page: 'already_used', link };
    if (link.expired) return { page: 'expired', link };
    const selfService = link.selfService && link.downloadKeyId !== null && keysHeldStatuses.includes(link.status as InvoiceStatus);
    return { link, selfService };
  };
  const moreTimeStatus = { unknown: 404, expired: 410, already_used: 409 } as const;

  app.get('/d/more-time/:token', async (c) => {
    const found = await moreTimeLink(c.req.param('token'));
    if ('page' in found) return renderPage(c, <MoreTimePage state={found.page} usedAt={found.link?.usedAt ?? undefined} outcome={found.link?.outcome} />, moreTimeStatus[found.page]);
    return renderPage(c, <MoreTimePage state="ready" token={c.req.param('token')} invoiceNumber={found.link.invoiceNumber} selfService={found.selfService} />);
  });

  app.post('/d/more-time/:token', async (c) => {
    const token = c.req.param('token');
    const found = await moreTimeLink(token);
    if ('page' in found) return renderPage(c, <MoreTimePage state={found.page} usedAt={found.link?.usedAt ?? undefined} outcome={found.link?.outcome} />, moreTimeStatus[found.page]);
    const { link, selfService } = found;
    const days = Math.max(1, Math.ceil((link.keyTtlSeconds ?? config.keyTtlSeconds) / 86400));
    const remoteAddr = clientAddress(c, config.downloads.trustedProxies);
    const spent = await spendMoreTime(pool, keyHash(token), link, selfService, days, remoteAddr, c.req.header('user-agent') ?? null);
    if (spent === 'already_used') {
      const now = await moreTimeLink(token);
      return renderPage(c, <MoreTimePage state="already_used" usedAt={'link' in now ? (now.link?.usedAt ?? undefined) : undefined} outcome={'link' in now ? now.link?.outcome : undefined} />, 409);
    }
    const maskedEmail = maskEmail(link.payerEmail);
    if (spent === 'requested') return renderPage(c, <RequestReceivedPage email={maskedEmail} />);
    if (spent === 'recently_renewed') return renderPage(c, <RenewalPage outcome="already_sent" maskedEmail={maskedEmail} />, 429);
    try {
      await temporal.withDeadline(Date.now() + 5_000, () =>
        signalInvoiceAction(temporal, config.temporal.taskQueue, link.txnId, { kind: 'extendKeys', input: { days, by: 'buyer (reminder link)' } }),
      );
    } catch (error) {
      console.error(`reminder-link renewal of invoice ${link.invoiceNumber}: Temporal did not take the signal (${(error as Error).message})`);
      await reopenRequest(pool, spent.requestId, `automatic renewal from the reminder failed (${(error as Error).message}); extend the keys by ${days} day(s) by hand`);
      return renderPage(c, <RenewalPage outcome="passed_on" />, 202);
    }
    return renderPage(c, <RenewalPage outcome="sent" maskedEmail={maskedEmail} days={days} />);
  });

  return app;
}

/**
 * Spends a reminder link and records what it asks for, in one transaction: a self-service renewal
 * (unless one was made for this invoice in the last day), or a request for a person.
 */
async function spendMoreTime(
  pool: Pool,
  tokenHash: Buffer,
  link: ReminderLinkRow,
  selfService: boolean,
  days: number,
  remoteAddr: string,
  userAgent: string | null,
): Promise<'already_used' | 'requested' | 'recently_renewed' | { requestId: number }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await lockRenewals(client, link.invoiceId);
    const detail = selfService ? `extendKeys by ${days} day(s) from the expiry reminder` : 'more time asked for from the expiry reminder';
    if (!(await spendReminderLink(client, tokenHash, selfService ? 'renewed' : 'requested', detail))) {
      await client.query('ROLLBACK');
      return 'already_used';
    }
    let answer: 'requested' | 'recently_renewed' | { requestId: number };
    if (selfService) {
      const requestId = await insertRenewalUnlessRecent(client, { email: link.payerEmail, downloadKeyId: link.downloadKeyId!, invoiceId: link.invoiceId, remoteAddr, userAgent, detail });
      answer = requestId === undefined ? 'recently_renewed' : { requestId };
    } else {
      await insertOperatorRequest(client, {
        email: link.payerEmail,
        invoiceRef: link.invoiceNumber,
        message: 'The buyer asked for more time with the link in the expiry reminder.',
        keyProblem: 'expiring',
        downloadKeyId: link.downloadKeyId,
        invoiceId: link.invoiceId,
        remoteAddr,
        userAgent,
      });
      answer = 'requested';
    }
    await client.query('COMMIT');
    return answer;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** Records the renewal unless one was made for this invoice in the last day; undefined then. */
async function reserveRenewal(pool: Pool, key: KeyRow, remoteAddr: string, userAgent: string | undefined, days: number): Promise<number | undefined> {
  return inTransaction(pool, async (tx) => {
    // Two clicks at once must not both pass the once-a-day check.
    await lockRenewals(tx, key.invoice_id);
    return insertRenewalUnlessRecent(tx, {
      email: key.payer_email,
      downloadKeyId: key.id,
      invoiceId: key.invoice_id,
      remoteAddr,
      userAgent: userAgent ?? null,
      detail: `extendKeys by ${days} day(s) signalled`,
    });
  });
}
