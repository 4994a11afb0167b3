// The invoice workflow's state: what a run carries (and hands to continueAsNew), what the `state`
// query shows, and the text the Temporal UI shows for a run. The rules over it are in
// invoice-decisions.ts.
import { invoiceStatus, type InvoiceStatus } from '../domain/invoice-status';
import type { DisputePolicy, DisputeState, RefundPolicy } from '../domain/money-policy';
import type { PaymentStatus } from './notification';

export interface InvoiceFileView {
  name: string;
  sizeBytes: number;
  md5: string;
  sha256: string;
}

export interface InvoiceEvent {
  /** ISO 8601, workflow time. */
  at: string;
  kind: string;
  detail: string;
}

export interface KeysView {
  generation: number;
  /** ISO 8601. */
  expiresAt: string;
  expired: boolean;
  revoked: boolean;
  /** The expiry a reminder was sent for (a new expiry arms a new reminder). */
  reminderSentFor?: string;
}

/** The invoice's current or last dispute. */
export interface InvoiceDispute {
  caseId: string;
  state: DisputeState;
  reason?: string;
  /** PayPal's own status of the case, as last heard. */
  paypalStatus?: string;
}

/** What the `state` query returns: plain data, never a key. */
export interface InvoiceStateView {
  txnId: string;
  status: InvoiceStatus;
  paymentStatus?: PaymentStatus;
  pendingReason?: string;
  failureReason?: string;
  reviewProblems: string[];
  invoiceId?: number;
  invoiceNumber?: string;
  customerEmail?: string;
  itemNumbers: string[];
  amount?: string;
  currency?: string;
  paidAt?: string;
  keys?: KeysView;
  /** Decimal strings: refunded so far, and the amount of the current or last dispute. */
  refunded?: string;
  disputed?: string;
  dispute?: InvoiceDispute;
  files: InvoiceFileView[];
  /** When this run plans to close (later actions start a new run that reads Postgres). */
  closesAt?: string;
  events: InvoiceEvent[];
}

/** Timings the worker's configuration decides; read once per run through an activity. */
export interface InvoiceTimings {
  pendingLimitSeconds: number;
  pendingPollSeconds: number;
  /** How long a paid invoice's run stays open after payment (PayPal's dispute window). */
  retentionSeconds: number;
  /** KEY_TTL, used when a package names none. */
  defaultKeyTtlSeconds: number;
}

/** Everything a run carries; passed whole to continueAsNew. */
export interface InvoiceState extends InvoiceStateView {
  loaded: boolean;
  accountId?: number;
  keyTtlSeconds?: number;
  /** NULL in the package: no reminder. */
  reminderHours?: number | null;
  /** The packages' strictest policies (unknown on runs begun before policies: the defaults). */
  refundPolicy?: RefundPolicy;
  disputePolicy?: DisputePolicy;
  /** PayPal's ids of the refunds counted in `refunded` (one refund comes by IPN and by webhook). */
  refundIds?: string[];
  /** When the current pending period started and when we last heard or asked (ISO). */
  pendingSince?: string;
  lastHeardAt?: string;
  lastPolledAt?: string;
  /** Dedupe keys of PayPal messages already applied (a repeat changes nothing). */
  seenMessages: string[];
  /** Numbers operator actions, to key their e-mails in Postgres. */
  actionSeq: number;
}

export function emptyState(txnId: string): InvoiceState {
  return {
    txnId,
    status: invoiceStatus.new,
    reviewProblems: [],
    itemNumbers: [],
    files: [],
    events: [],
    loaded: false,
    seenMessages: [],
    actionSeq: 0,
  };
}

export function stateView(s: InvoiceState): InvoiceStateView {
  return {
    txnId: s.txnId,
    status: s.status,
    paymentStatus: s.paymentStatus,
    pendingReason: s.pendingReason,
    failureReason: s.failureReason,
    reviewProblems: [...s.reviewProblems],
    invoiceId: s.invoiceId,
    invoiceNumber: s.invoiceNumber,
    customerEmail: s.customerEmail,
    itemNumbers: [...s.itemNumbers],
    amount: s.amount,
    currency: s.currency,
    paidAt: s.paidAt,
    keys: s.keys ? { ...s.keys } : undefined,
    refunded: s.refunded,
    disputed: s.disputed,
    dispute: s.dispute ? { ...s.dispute } : undefined,
    files: s.files.map((f) => ({ ...f })),
    closesAt: s.closesAt,
    events: s.events.map((e) => ({ ...e })),
  };
}

/** Keeps the event list (carried through continueAsNew and shown to operators) bounded. */
export const maxEvents = 200;
export const maxSeenMessages = 200;

/** The state with one more history event, the oldest dropped past maxEvents. */
export function withEvent(s: InvoiceState, event: InvoiceEvent): InvoiceState {
  return { ...s, events: [...s.events, event].slice(-maxEvents) };
}

/** The run's summary in the Temporal UI (markdown): who bought what, where it stands, what is wrong. */
export function stateDetails(s: InvoiceState): string {
  const keys = s.keys
    ? `keys generation ${s.keys.generation} ${s.keys.revoked ? 'revoked' : s.keys.expired ? `expired ${s.keys.expiresAt}` : `live until ${s.keys.expiresAt}`}`
    : 'no keys issued';
  return [
    `**Invoice ${s.invoiceNumber ?? '(not recorded yet)'}** · PayPal ${s.txnId} · **${s.status}**${s.pendingReason && s.status === invoiceStatus.awaiting_payment ? ` (pending: ${s.pendingReason})` : ''}`,
    `Buyer ${s.customerEmail ?? 'unknown'} · items ${s.itemNumbers.join(', ') || 'none'} · ${s.amount ?? '?'} ${s.currency ?? ''}`,
    keys + (s.closesAt ? ` · this run closes ${s.closesAt}` : ''),
    ...(s.refunded && s.refunded !== '0.00' ? [`Refunded ${s.refunded} ${s.currency ?? ''} of ${s.amount ?? '?'}`] : []),
    ...(s.dispute ? [`Dispute ${s.dispute.caseId}: ${s.dispute.state}${s.disputed ? ` (${s.disputed} ${s.currency ?? ''})` : ''}${s.dispute.reason ? `, ${s.dispute.reason}` : ''}`] : []),
    ...(s.reviewProblems.length && s.status === invoiceStatus.needs_review ? [`Needs review: ${s.reviewProblems.join('; ')}`] : []),
    ...(s.failureReason ? [`Failure: ${s.failureReason}`] : []),
  ].join('\n');
}
