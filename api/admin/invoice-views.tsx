// The invoice pages' markup: the searchable list and one invoice with everything about it.
import type { InvoiceStateView } from '../../workflows/invoice-state';
import { maxExtendDays, minExtendDays, operatorActionKinds, type OperatorActionKind } from '../../domain/operator-actions';
import { invoiceStatuses } from '../../domain/invoice-status';
import { actionLabels } from './invoice-actions';
import type { InvoiceHead, InvoiceListRow } from '../../db/invoices';
import type { PayPalFacts } from '../../paypal/paypal-facts';
import type { InvoiceDetail, InvoiceSearch, TimelineEntry } from './invoice-queries';
import { AdminLayout, CsrfField, Flash, Notices, PostButton, Table, bytes, when } from './layout';
import { InvoiceCredentials } from './support-credentials';
import { LicenseKeysSection, type LicenseSectionProps } from './license-views';

export function searchLink(search: Partial<InvoiceSearch>, page: number): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...search, page })) if (value !== undefined && value !== '') params.set(name, String(value));
  return `/admin/invoices?${params.toString()}`;
}

export function InvoiceRows(props: { rows: InvoiceListRow[] }) {
  return (
    <Table
      head={['Invoice', 'Date', 'Buyer', 'Items', 'Amount', 'Status', 'Keys until']}
      rows={props.rows}
      empty="No invoices match."
      row={(r) => (
        <tr>
          <td>
            <a href={`/admin/invoices/${encodeURIComponent(r.number)}`}>{r.number}</a>
            <br />
            <small>{r.txnId}</small>
          </td>
          <td>{when(r.createdAt)}</td>
          <td>{r.payerEmail}</td>
          <td>{r.items}</td>
          <td>
            {r.amount} {r.currency}
          </td>
          <td>
            <span class="status">{r.status}</span>
          </td>
          <td>{when(r.keysExpireAt)}</td>
        </tr>
      )}
    />
  );
}

export function InvoiceListPage(props: { csrf: string; search: InvoiceSearch; rows: InvoiceListRow[]; hasMore: boolean; error?: string }) {
  const s = props.search;
  return (
    <AdminLayout title="Invoices" csrf={props.csrf}>
      <h1>Invoices{s.item ? ` of ${s.item}` : ''}</h1>
      <Flash message={props.error} error />
      <form method="get" action="/admin/invoices" class="search" role="search">
        {s.item && <input type="hidden" name="item" value={s.item} />}
        <div>
          <label for="q">E-mail, invoice number or PayPal transaction</label>
          <input id="q" name="q" value={s.q ?? ''} />
        </div>
        <div>
          <label for="status">Status</label>
          <select id="status" name="status">
            <option value="">any</option>
            {invoiceStatuses.map((status) => (
              <option value={status} selected={s.status === status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="from">From</label>
          <input id="from" name="from" type="date" value={s.from ?? ''} />
        </div>
        <div>
          <label for="to">To</label>
          <input id="to" name="to" type="date" value={s.to ?? ''} />
        </div>
        <div>
          <button type="submit">Search</button>
        </div>
      </form>
      <InvoiceRows rows={props.rows} />
      <p class="pager">
        {s.page > 1 && <a href={searchLink(s, s.page - 1)}>← newer</a>}
        <span class="muted">page {s.page}</span>
        {props.hasMore && <a href={searchLink(s, s.page + 1)}>older →</a>}
      </p>
    </AdminLayout>
  );
}

/** Re-checks a PayPal message that was not verified (POST /admin/messages/:id/recheck). */
export const RecheckButton = (props: { csrf: string; id: number }) => <PostButton csrf={props.csrf} action={`/admin/messages/${props.id}/recheck`} label="Re-check" />;

const recheckable = (m: { channel: string; verification: string; outcome: string }) =>
  (m.channel === 'ipn' || m.channel === 'webhook') && m.verification !== 'verified' && (m.outcome === 'rejected' || m.outcome === 'retry');

/** Paid, refunded and disputed, and each routed PayPal message that moved the money. */
function MoneyFacts(props: { detail: InvoiceDetail; view?: InvoiceStateView }) {
  const i = props.detail.invoice;
  const refunded = props.view?.refunded ?? i.refundedAmount;
  const disputed = props.view?.disputed ?? i.disputedAmount;
  const dispute = props.view?.dispute ?? (i.disputeCaseId && i.disputeState ? { caseId: i.disputeCaseId, state: i.disputeState } : undefined);
  return (
    <>
      <h2>Money</h2>
      <dl id="money">
        <dt>Paid</dt>
        <dd>
          {i.paidAt ? `${i.amount} ${i.currency}` : '–'}
        </dd>
        <dt>Refunded</dt>
        <dd id="money-refunded">
          {refunded} {i.currency}
        </dd>
        <dt>Disputed</dt>
        <dd id="money-disputed">
          {disputed} {i.currency}
          {dispute ? ` · case ${dispute.caseId}: ${dispute.state === 'open' ? 'open' : `resolved (${dispute.state})`}` : ''}
        </dd>
      </dl>
      <Table
        rows={props.detail.moneyEvents}
        row={(e) => (
          <tr>
            <td>
              <small>{when(e.receivedAt)}</small>
            </td>
            <td>
              #{e.id} {e.channel}
            </td>
            <td>
              {e.status}
              {e.disputeStage ? ` ${e.disputeStage}${e.disputeOutcome ? ` (${e.disputeOutcome})` : ''}` : ''}
              {e.reasonCode ? ` · ${e.reasonCode}` : ''}
            </td>
            <td>
              {e.gross ?? ''} {e.currency ?? ''}
            </td>
          </tr>
        )}
      />
    </>
  );
}

function ActionForms(props: { csrf: string; number: string }) {
  const forms: OperatorActionKind[] = [...operatorActionKinds];
  return (
    <div>
      {forms.map((kind) => (
        <form method="post" action={`/admin/invoices/${encodeURIComponent(props.number)}/actions/${kind}`} class="inline">
          <CsrfField token={props.csrf} />
          {kind === 'extendKeys' && (
            <span>
              <label for="days">Days</label>
              <input id="days" name="days" type="number" min={minExtendDays} max={maxExtendDays} value="7" required />
            </span>
          )}
          {kind === 'refund' && (
            <span>
              <label for="refund-amount">Amount</label>
              <input id="refund-amount" name="amount" inputmode="decimal" placeholder="all" size={8} />
            </span>
          )}
          {(kind === 'reject' || kind === 'refund') && (
            <span>
              <label for={`reason-${kind}`}>Reason</label>
              <input id={`reason-${kind}`} name="reason" />
            </span>
          )}
          <button type="submit" class={kind === 'refund' || kind === 'reject' ? 'danger' : undefined}>
            {actionLabels[kind]}
          </button>
        </form>
      ))}
    </div>
  );
}

export function InvoiceDetailPage(props: {
  csrf: string;
  detail: InvoiceDetail;
  view?: InvoiceStateView;
  timeline: TimelineEntry[];
  flash?: string;
  error?: string;
  /** The invoice's license keys (kinds/license-keys.ts), when it has any. */
  licenses?: LicenseSectionProps;
}) {
  const { invoice: i, items, messages, keys, emails, downloads, linkRequests } = props.detail;
  const view = props.view;
  return (
    <AdminLayout title={`Invoice ${i.number}`} csrf={props.csrf}>
      <h1>
        Invoice {i.number} <span class="status" id="invoice-status">{view?.status ?? i.status}</span>
      </h1>
      <Notices flash={props.flash} error={props.error} />
      <dl>
        <dt>Buyer</dt>
        <dd>
          {i.accountId ? <a href={`/admin/accounts/${i.accountId}`}>{i.payerEmail}</a> : i.payerEmail}
          {i.accountName ? ` (${i.accountName})` : ''}
        </dd>
        <dt>Amount</dt>
        <dd>
          {i.amount} {i.currency}
        </dd>
        <dt>Items</dt>
        <dd>{items.map((it) => `${it.itemNumber} × ${it.quantity}${it.itemName ? ` (${it.itemName})` : ''}`).join(', ') || '–'}</dd>
        <dt>PayPal transaction</dt>
        <dd>
          <code>{i.txnId}</code> · PayPal status {i.paymentStatus ?? '–'}
          {i.pendingReason ? ` (pending: ${i.pendingReason})` : ''}
        </dd>
        <dt>Workflow</dt>
        <dd>
          <code>{i.workflowId}</code>
          {view?.closesAt ? ` · run closes ${when(view.closesAt)}` : ''}
        </dd>
        <dt>Created · paid</dt>
        <dd>
          {when(i.createdAt)} · {when(i.paidAt)}
        </dd>
        <dt>Keys expire</dt>
        <dd id="keys-expire">{when(view?.keys?.expiresAt ?? i.keysExpireAt)}</dd>
        {view?.reviewProblems.length ? (
          <>
            <dt>Needs review</dt>
            <dd class="error">{view.reviewProblems.join('; ')}</dd>
          </>
        ) : null}
        {view?.failureReason ? (
          <>
            <dt>Failure</dt>
            <dd class="error">{view.failureReason}</dd>
          </>
        ) : null}
      </dl>
      {!view && <p class="muted">The workflow did not answer just now; the page shows what Postgres holds.</p>}

      <MoneyFacts detail={props.detail} view={view} />

      <h2>Actions</h2>
      <ActionForms csrf={props.csrf} number={i.number} />
      <p>
        <a href={`/admin/invoices/${encodeURIComponent(i.number)}/paypal`}>Ask PayPal</a> for its current facts about this payment, beside the invoice's.
      </p>

      <h2>Timeline</h2>
      <Table
        rows={props.timeline}
        row={(e) => (
          <tr>
            <td>
              <small>{when(e.at)}</small>
            </td>
            <td>{e.kind}</td>
            <td>{e.detail}</td>
          </tr>
        )}
      />

      <h2>Keys</h2>
      <Table
        head={['File', 'Gen.', 'Expires', 'Uses', 'Revoked']}
        rows={keys}
        empty="No key issued."
        row={(k) => (
          <tr>
            <td>{k.file}</td>
            <td>{k.generation}</td>
            <td>{when(k.expiresAt)}</td>
            <td>
              {k.downloadCount}
              {k.downloadLimit ? ` of ${k.downloadLimit}` : ''}
            </td>
            <td>{k.revokedAt ? `${when(k.revokedAt)} (${k.revokedReason ?? ''})` : '–'}</td>
          </tr>
        )}
      />
      {props.licenses && <LicenseKeysSection {...props.licenses} />}

      <InvoiceCredentials rows={props.detail.supportLogins} />

      <h2>E-mails sent ({emails.length})</h2>
      {emails.map((e) => (
        <details>
          <summary>
            {when(e.createdAt)} · {e.kind} · {e.subject} · <span class="status">{e.status}</span> to {e.to}
            {e.error ? <span class="error"> {e.error}</span> : null}
          </summary>
          <pre>{e.textBody ?? ''}</pre>
        </details>
      ))}

      <h2>PayPal messages ({messages.length})</h2>
      {messages.map((m) => (
        <details>
          <summary>
            {when(m.receivedAt)} · {m.channel} · {m.paymentStatus ?? '?'} · verification <strong>{m.verification}</strong>
            {m.verificationDetail ? ` (${m.verificationDetail})` : ''} · {m.outcome}
            {m.outcomeDetail ? ` (${m.outcomeDetail})` : ''}
          </summary>
          <p class="muted">
            #{m.id} from {m.remoteAddr ?? 'unknown'}
          </p>
          {recheckable(m) && <RecheckButton csrf={props.csrf} id={m.id} />}
          <pre>{m.rawBody}</pre>
          <pre>{JSON.stringify(m.headers, null, 2)}</pre>
        </details>
      ))}

      <h2>Downloads ({downloads.length})</h2>
      <Table
        rows={downloads}
        row={(d) => (
          <tr>
            <td>{when(d.startedAt)}</td>
            <td>{d.file ?? '?'}</td>
            <td>{d.statusCode ?? ''}</td>
            <td>
              {bytes(d.bytesSent)}
              {d.completed ? ' complete' : ''}
              {d.refused ? ` refused: ${d.refused}` : ''}
            </td>
            <td>
              <small>
                {d.remoteAddr} {d.range ?? ''} {d.userAgent ?? ''}
              </small>
            </td>
          </tr>
        )}
      />

      {props.detail.accessUses.length > 0 && (
        <>
          <h2 id="access-uses">Access link uses ({props.detail.accessUses.length})</h2>
          <Table
            rows={props.detail.accessUses}
            row={(u) => (
              <tr>
                <td>{when(u.at)}</td>
                <td>
                  {u.packageName} (generation {u.generation})
                </td>
                <td>{u.statusCode}</td>
                <td>{u.outcome}</td>
                <td>
                  <small>
                    {u.remoteAddr} {u.userAgent ?? ''}
                  </small>
                </td>
              </tr>
            )}
          />
        </>
      )}

      {linkRequests.length > 0 && (
        <>
          <h2>Fresh-link requests</h2>
          <ul>
            {linkRequests.map((r) => (
              <li>
                {when(r.createdAt)} · {r.kind} · {r.status} · {r.email} {r.keyProblem ? `(${r.keyProblem})` : ''} {r.message ?? ''}
              </li>
            ))}
          </ul>
        </>
      )}
    </AdminLayout>
  );
}

/** The step before money leaves: what is refunded, to whom, through PayPal; confirmed with a fresh request id. */
export function RefundConfirmPage(props: { csrf: string; invoice: InvoiceHead; amount?: string; reason?: string; requestId: string }) {
  const i = props.invoice;
  const action = `/admin/invoices/${encodeURIComponent(i.number)}/actions/refund`;
  return (
    <AdminLayout title={`Refund invoice ${i.number}?`}>
      <h1>Refund invoice {i.number}?</h1>
      <p>
        PayPal returns <strong>{props.amount ? `${props.amount} ${i.currency}` : `everything not yet refunded of ${i.amount} ${i.currency}`}</strong> to {i.payerEmail} (transaction {i.txnId}).
        {props.amount ? ' A partial refund keeps or revokes access as the package says.' : ' The buyer loses access to the downloads.'}
      </p>
      {props.reason && <p>Reason: {props.reason}</p>}
      <form method="post" action={action}>
        <CsrfField token={props.csrf} />
        {props.amount && <input type="hidden" name="amount" value={props.amount} />}
        {props.reason && <input type="hidden" name="reason" value={props.reason} />}
        <input type="hidden" name="requestId" value={props.requestId} />
        <input type="hidden" name="confirm" value="yes" />
        <button type="submit" class="danger">Refund through PayPal</button> <a href={`/admin/invoices/${encodeURIComponent(i.number)}`}>Cancel</a>
      </form>
      {!props.amount && (
        <form method="post" action={action}>
          <CsrfField token={props.csrf} />
          {props.reason && <input type="hidden" name="reason" value={props.reason} />}
          <input type="hidden" name="through" value="record" />
          <button type="submit">Only record it: the money was already returned in PayPal</button>
        </form>
      )}
    </AdminLayout>
  );
}

/** PayPal's current facts beside the invoice's, row by row; a row that differs is marked. */
export function PayPalFactsPage(props: { csrf: string; invoice: InvoiceHead; asked: PayPalFacts }) {
  const i = props.invoice;
  const f = props.asked.facts;
  const rows: [string, string, string | undefined][] = [
    ['Status', i.paymentStatus ?? '–', f?.status],
    ['Pending reason', i.pendingReason ?? '–', f ? (f.pendingReason ?? '–') : undefined],
    ['Amount', `${i.amount} ${i.currency}`, f ? `${f.gross} ${f.currency}` : undefined],
    ['Buyer', i.payerEmail, f?.payer.email],
    ['Receiver', '(PAYPAL_RECEIVER_EMAIL)', f ? (f.receiverEmail ?? '–') : undefined],
    ['Items', '(see the invoice)', f ? f.items.map((it) => `${it.itemNumber} × ${it.quantity}`).join(', ') || '–' : undefined],
    ['Payment date', when(i.paidAt ?? i.createdAt), f?.paymentDate ? when(f.paymentDate) : undefined],
  ];
  return (
    <AdminLayout title={`PayPal on ${i.number}`} csrf={props.csrf}>
      <h1>
        PayPal's facts on invoice <a href={`/admin/invoices/${encodeURIComponent(i.number)}`}>{i.number}</a>
      </h1>
      <p class="muted">
        Transaction <code>{i.txnId}</code>, asked {props.asked.via === 'none' ? 'nowhere' : `by ${props.asked.via.toUpperCase()}`} just now. The invoice is <span class="status">{i.status}</span>. Nothing was changed: approve, reject or refund on the invoice's page.
      </p>
      <Flash message={props.asked.problem} error />
      <table id="paypal-facts">
        <thead>
          <tr>
            <th></th>
            <th>Invoice</th>
            <th>PayPal now</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, ours, theirs]) => (
            <tr class={theirs !== undefined && name !== 'Receiver' && name !== 'Items' && ours !== theirs ? 'differs' : undefined}>
              <th>{name}</th>
              <td>{ours}</td>
              <td>{theirs ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </AdminLayout>
  );
}
