// What a buyer sees when a download link does not give the file: what happened, in one or two
// sentences, and how to get a working link.
import type { Context } from 'hono';
import { formatTime } from '../../domain/buyer-formats';
import { revokedSentence, standingSentence } from '../../domain/invoice-status';
import { Layout } from './layout';
import { renderPage } from './render';
import { LinkRequestForm, SelfServiceForm, type RequestFormValues } from './link-request-form';

export type KeyPageProblem = 'unknown' | 'expired' | 'exhausted' | 'revoked' | 'suspended' | 'unpaid' | 'rate_limited' | 'missing_file';

export const keyPageStatus = { unknown: 404, expired: 410, exhausted: 410, revoked: 403, suspended: 403, unpaid: 403, rate_limited: 429, missing_file: 500 } as const;

export interface KeyPageProps {
  problem: KeyPageProblem;
  downloadKey?: string;
  fileName?: string;
  /** ISO 8601. */
  expiresAt?: string;
  downloadLimit?: number | null;
  revokedReason?: string | null;
  invoiceStatus?: string;
  /** Days a self-service renewal adds; set only when the buyer may renew now. */
  selfServiceDays?: number;
  retryAfterSeconds?: number;
  formError?: string;
  formValues?: RequestFormValues;
}

function explain(p: KeyPageProps): { title: string; lead: string; next: string } {
  const file = p.fileName ? `“${p.fileName}”` : 'this file';
  switch (p.problem) {
    case 'unknown':
      return {
        title: 'This download link is not valid',
        lead: 'We do not recognise this link. Links are long: check that the whole address was copied from the e-mail, with nothing cut off at the end.',
        next: 'If it still does not work, ask for a fresh link below.',
      };
    case 'expired':
      return {
        title: 'This download link has expired',
        lead: `The link for ${file} was valid until ${p.expiresAt ? formatTime(p.expiresAt) : 'a date that has passed'}.`,
        next: p.selfServiceDays ? 'You can get a fresh one straight away, or ask a person below.' : 'Ask for a fresh link below and we will send one.',
      };
    case 'exhausted':
      return {
        title: 'This download link has been used up',
        lead: `The link for ${file} allows ${p.downloadLimit ?? 'a limited number of'} ${p.downloadLimit === 1 ? 'download' : 'downloads'}, and all of them have been used.`,
        next: 'If a download broke off, your browser or download manager can still resume it from where it stopped. If you need the file again, ask for a fresh link below.',
      };
    case 'revoked':
      if (p.revokedReason === 'regenerated') {
        return {
          title: 'This download link has been replaced',
          lead: 'A newer link was sent for this file, and this one no longer works.',
          next: 'Use the link in the most recent e-mail from us; if you cannot find it, ask for a fresh link below.',
        };
      }
      return {
        title: 'This download link has been withdrawn',
        lead: revokedSentence(p.revokedReason, p.invoiceStatus ?? ''),
        next: 'If you think this is a mistake, tell us below.',
      };
    case 'suspended':
      return {
        title: 'This download is paused',
        lead: standingSentence(p.invoiceStatus ?? '') ?? '',
        next: 'If you have questions, ask below.',
      };
    case 'unpaid':
      return {
        title: 'This download is not available yet',
        lead: standingSentence(p.invoiceStatus ?? '') ?? '',
        next: 'We e-mail you as soon as that changes. If you have questions, ask below.',
      };
    case 'rate_limited':
      return {
        title: 'Too many requests',
        lead: `Too many download requests came from your address in a short time.`,
        next: `Wait ${p.retryAfterSeconds ?? 60} seconds and try the link again.`,
      };
    case 'missing_file':
      return {
        title: 'This file is not available right now',
        lead: `Your link is fine, but ${file} is missing from our file store. That is our mistake, and nothing was counted against your downloads.`,
        next: 'Try again later, or tell us below and we will sort it out.',
      };
  }
}

export function KeyProblemPage(props: KeyPageProps) {
  const text = explain(props);
  const offerRequest = props.problem !== 'rate_limited';
  return (
    <Layout title={text.title}>
      <h1>{text.title}</h1>
      <p class="lead">{text.lead}</p>
      <p>{text.next}</p>
      {props.selfServiceDays !== undefined && props.downloadKey && <SelfServiceForm downloadKey={props.downloadKey} days={props.selfServiceDays} />}
      {offerRequest && <LinkRequestForm downloadKey={props.downloadKey} problem={props.problem} values={props.formValues} error={props.formError} />}
    </Layout>
  );
}

export function renderKeyPage(c: Context, props: KeyPageProps) {
  const headers: Record<string, string> = props.retryAfterSeconds ? { 'Retry-After': String(props.retryAfterSeconds) } : {};
  return renderPage(c, <KeyProblemPage {...props} />, keyPageStatus[props.problem], headers);
}
