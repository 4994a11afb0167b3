// What a buyer sees when an access link (kinds/access.ts) does not take them in: not yet open
// (and when it opens), ended, paused by a dispute, withdrawn. The target address never appears here.
import type { Context } from 'hono';
import type { AccessProblem } from '../../domain/access-window';
import { formatTime } from '../../domain/buyer-formats';
import { revokedSentence, standingSentence } from '../../domain/invoice-status';
import { MessagePage } from './layout';
import { renderPage } from './render';

export type AccessPageProblem = AccessProblem | 'unknown' | 'rate_limited' | 'misconfigured';

export const accessPageStatus = { unknown: 404, not_open: 403, ended: 410, revoked: 403, suspended: 403, unpaid: 403, rate_limited: 429, misconfigured: 503 } as const;

export interface AccessPageProps {
  problem: AccessPageProblem;
  packageName?: string;
  opensAt?: Date;
  endedAt?: Date;
  revokedReason?: string | null;
  invoiceStatus?: string;
  /** The window is the key's lifetime: the seller can extend it. */
  extendable?: boolean;
  retryAfterSeconds?: number;
}

function explain(p: AccessPageProps): { title: string; lead: string; next: string } {
  const what = p.packageName ? `“${p.packageName}”` : 'this purchase';
  switch (p.problem) {
    case 'unknown':
      return {
        title: 'This access link is not valid',
        lead: 'We do not recognise this link. Links are long: check that the whole address was copied from the e-mail, with nothing cut off at the end.',
        next: 'If it still does not work, reply to the e-mail you got it in.',
      };
    case 'not_open':
      return {
        title: 'Access has not opened yet',
        lead: `Your link for ${what} works from ${p.opensAt ? formatTime(p.opensAt.toISOString()) : 'the announced time'}.`,
        next: 'Keep the link and open it again then; it takes you straight in.',
      };
    case 'ended':
      return {
        title: 'Access has ended',
        lead: `Your link for ${what} worked until ${p.endedAt ? formatTime(p.endedAt.toISOString()) : 'a time that has passed'}.`,
        next: p.extendable
          ? 'If you need more time, reply to your delivery e-mail: the seller can extend your access, and the same link then works again.'
          : 'If you think this is a mistake, reply to your delivery e-mail.',
      };
    case 'suspended':
      return {
        title: 'Access is paused',
        lead: standingSentence(p.invoiceStatus ?? '') ?? '',
        next: 'If you have questions, reply to your delivery e-mail.',
      };
    case 'unpaid':
      return {
        title: 'Access is not available yet',
        lead: standingSentence(p.invoiceStatus ?? '') ?? '',
        next: 'We e-mail you as soon as that changes.',
      };
    case 'revoked':
      if (p.revokedReason === 'regenerated') {
        return {
          title: 'This access link has been replaced',
          lead: 'A newer link was sent for this purchase, and this one no longer works.',
          next: 'Use the link in the most recent e-mail from us.',
        };
      }
      return {
        title: 'This access link has been withdrawn',
        lead: revokedSentence(p.revokedReason, p.invoiceStatus ?? ''),
        next: 'If you think this is a mistake, reply to your delivery e-mail.',
      };
    case 'rate_limited':
      return { title: 'Too many requests', lead: 'Too many requests came from your address in a short time.', next: `Wait ${p.retryAfterSeconds ?? 60} seconds and try the link again.` };
    case 'misconfigured':
      return {
        title: 'Access is not available right now',
        lead: `Your link is fine, but ${what} is not set up completely on our side. That is our mistake.`,
        next: 'Try again later, or reply to your delivery e-mail.',
      };
  }
}

export function renderAccessPage(c: Context, props: AccessPageProps) {
  const headers: Record<string, string> = props.retryAfterSeconds ? { 'Retry-After': String(props.retryAfterSeconds) } : {};
  return renderPage(c, <MessagePage {...explain(props)} />, accessPageStatus[props.problem], headers);
}
