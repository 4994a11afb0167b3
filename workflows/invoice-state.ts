// The invoice workflow's state and the pure rules over it: which PayPal status may move an invoice
// where, and which operator action makes sense when. No I/O here, so the rules are unit-testable
// and the workflow, the update validators and the handler bodies all apply the same ones.
import type { PaymentNotification, PaymentStatus } from './notification';

export type InvoiceStatus =
  | 'new' // a run that has not yet heard anything it could act on
  | 'awaiting_payment' // PayPal said Pending (pendingReason says why)
  | 'paid' // cleared and checked, delivery under way
  | 'fulfilled' // keys live
  | 'keys_expired'
  | 'needs_review' // cleared but does not match the package: an operator approves or rejects
  | 'rejected' // an operator rejected a payment under review
  | 'failed' // Denied, Failed, Expired, Voided, or never cleared within the pending limit
  | 'refunded'
  | 'reversed'
  | 'reinstated'; // a reversal was cancelled: keys live again

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
    status: 'new',
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
    files: s.files.map((f) => ({ ...f })),
    closesAt: s.closesAt,
    events: s.events.map((e) => ({ ...e })),
  };
}

// ---- PayPal notifications --------------------------------------------------------------------

export type NotificationEffect =
  | { kind: 'pending' }
  | { kind: 'cleared' }
  | { kind: 'failed' }
  | { kind: 'revoke'; as: 'refunded' | 'reversed' }
  | { kind: 'reinstate' }
  | { kind: 'ignore'; why: string };

const failureStatuses: PaymentStatus[] = ['Denied', 'Declined', 'Failed', 'Expired', 'Voided'];
const paidStatuses: InvoiceStatus[] = ['paid', 'fulfilled', 'keys_expired', 'needs_review', 'rejected', 'reinstated'];
const awaiting: InvoiceStatus[] = ['new', 'awaiting_payment'];

/** True when the buyer's money was taken (and may be disputed for 180 days). */
export function moneyTaken(status: InvoiceStatus): boolean {
  return paidStatuses.includes(status) || status === 'refunded' || status === 'reversed';
}

/**
 * What a PayPal status does to an invoice in `status`. A message never moves an invoice backwards:
 * a Pending after Completed, a Completed after a refund, are recorded and ignored.
 */
export function notificationEffect(s: InvoiceState, n: PaymentNotification): NotificationEffect {
  const late = (what: string): NotificationEffect => ({ kind: 'ignore', why: `${what} arrived while the invoice is ${s.status}; recorded, no change` });
  switch (n.status) {
    case 'Created':
    case 'Pending':
      return s.status === 'new' || (s.status === 'awaiting_payment' && n.pendingReason !== s.pendingReason) ? { kind: 'pending' } : late(n.status);
    case 'Completed':
    case 'Processed':
      // A payment we gave up on (pending limit) that clears after all is still the buyer's money.
      return awaiting.includes(s.status) || (s.status === 'failed' && s.paymentStatus === 'Pending') ? { kind: 'cleared' } : late(n.status);
    case 'Refunded':
    case 'Reversed':
      return s.status === 'refunded' || s.status === 'reversed' || s.status === 'failed'
        ? late(n.status)
        : { kind: 'revoke', as: n.status === 'Refunded' ? 'refunded' : 'reversed' };
    case 'Canceled_Reversal':
      return s.status === 'reversed' ? { kind: 'reinstate' } : late(n.status);
    default:
      return failureStatuses.includes(n.status) && awaiting.includes(s.status) ? { kind: 'failed' } : late(n.status);
  }
}

// ---- Operator actions ------------------------------------------------------------------------

export interface ResendKeysInput {
  /** Who asked, for the invoice's history (an operator's name or "admin"). */
  by?: string;
}
export interface ExtendKeysInput {
  days: number;
  by?: string;
}
export interface RegenerateKeysInput {
  by?: string;
}
export interface RefundInput {
  reason?: string;
  by?: string;
}
export interface ApproveInput {
  by?: string;
}
export interface RejectInput {
  reason?: string;
  by?: string;
}

export type OperatorAction =
  | { kind: 'resendKeys'; input: ResendKeysInput }
  | { kind: 'extendKeys'; input: ExtendKeysInput }
  | { kind: 'regenerateKeys'; input: RegenerateKeysInput }
  | { kind: 'refund'; input: RefundInput }
  | { kind: 'approve'; input: ApproveInput }
  | { kind: 'reject'; input: RejectInput };

export const maxExtendDays = 3650;

/** Checks that need no state: the shape of the input. Returns a sentence, or undefined when fine. */
export function inputProblem(a: OperatorAction): string | undefined {
  const input = (a.input ?? {}) as unknown;
  if (typeof input !== 'object' || input === null) return `${a.kind} takes one object argument, e.g. {}`;
  if (a.kind === 'extendKeys') {
    const days = (input as { days?: unknown }).days;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > maxExtendDays) {
      return `extendKeys needs a whole number of days from 1 to ${maxExtendDays}, got ${JSON.stringify(days)}`;
    }
  }
  return undefined;
}

const keysHeld: InvoiceStatus[] = ['fulfilled', 'keys_expired', 'reinstated'];

/** Whether the action makes sense for this invoice now. Returns a sentence, or undefined when fine. */
export function actionProblem(s: InvoiceState, a: OperatorAction): string | undefined {
  const shape = inputProblem(a);
  if (shape) return shape;
  if (s.loaded && !s.invoiceId) return `there is no invoice for PayPal transaction ${s.txnId}; check the transaction id`;
  const where = `invoice ${s.invoiceNumber ?? s.txnId} is ${s.status}`;
  switch (a.kind) {
    case 'resendKeys':
    case 'extendKeys':
    case 'regenerateKeys':
      if (!keysHeld.includes(s.status) || !s.keys) return `${where}, so it has no keys to ${a.kind === 'resendKeys' ? 'resend' : a.kind === 'extendKeys' ? 'extend' : 'regenerate'}`;
      return undefined;
    case 'refund':
      if (!paidStatuses.includes(s.status)) return `${where}; only a paid invoice can be refunded`;
      return undefined;
    case 'approve':
    case 'reject':
      if (s.status !== 'needs_review') return `${where}; only an invoice that needs review can be ${a.kind === 'approve' ? 'approved' : 'rejected'}`;
      return undefined;
  }
}

/** Keeps the event list (carried through continueAsNew and shown to operators) bounded. */
export const maxEvents = 200;
export const maxSeenMessages = 200;
