// The thank-you page in each state of a payment. No JavaScript: the processing state refreshes
// itself with <meta http-equiv="refresh">, which every browser honours.
import { formatBytes, formatTime } from '../../domain/buyer-formats';
import type { ThanksInvoice } from '../thanks-invoice';
import { KindParts } from './kind-parts';
import { Layout } from './layout';
import { LinkRequestForm } from './link-request-form';

export type ThanksModel =
  | { kind: 'paid'; invoice: ThanksInvoice; maskedEmail: string }
  | { kind: 'expired'; invoice: ThanksInvoice }
  | { kind: 'pending'; invoiceNumber?: string; pendingReason?: string | null; maskedEmail?: string }
  | { kind: 'processing'; checkUrl: string; refreshUrl?: string; refreshSeconds: number; paypalSays?: string }
  | { kind: 'review'; invoiceNumber?: string; maskedEmail?: string; coming?: string[] }
  | { kind: 'paused'; invoiceNumber?: string; sentence: string }
  | { kind: 'failed'; reason?: string; sentence?: string }
  | { kind: 'refunded'; reversed: boolean; sentence: string }
  | { kind: 'no_payment' };

const pendingReasons: Record<string, string> = {
  echeck: 'You paid by eCheck, which takes PayPal 3 to 5 business days to clear.',
  paymentreview: 'PayPal is reviewing the payment, which usually takes up to 24 hours.',
  multi_currency: 'The payment is in a currency our PayPal account has to accept first.',
  unilateral: 'The payment went to an e-mail address our PayPal account has not yet confirmed.',
  verify: 'Our PayPal account has to be verified before the payment completes.',
  address: 'PayPal holds the payment until the shipping address is confirmed.',
  authorization: 'The payment is authorised and will be captured shortly.',
  order: 'The order is authorised and will be captured shortly.',
  intl: 'The payment is being accepted by hand on our side.',
  upgrade: 'PayPal holds the payment until our account is upgraded.',
  delayed_disbursement: 'PayPal holds the funds for a short time before releasing them.',
};

function FileTable(props: { invoice: ThanksInvoice }) {
  return (
    <table>
      <thead>
        <tr>
          <th>File</th>
          <th>Size</th>
          <th>Checksums</th>
        </tr>
      </thead>
      <tbody>
        {props.invoice.files.map((f) => (
          <tr>
            <td>
              {f.downloadPath ? (
                <a class="download" href={f.downloadPath} download={f.name}>
                  {f.name}
                </a>
              ) : (
                <strong>{f.name}</strong>
              )}
              {f.downloadLimit !== null && (
                <div>
                  <small>
                    up to {f.downloadLimit} {f.downloadLimit === 1 ? 'download' : 'downloads'}; resuming a broken download does not use another
                  </small>
                </div>
              )}
            </td>
            <td>{formatBytes(f.sizeBytes)}</td>
            <td>
              <small>MD5</small> <code>{f.md5}</code>
              <br />
              <small>SHA-256</small> <code>{f.sha256}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The packages' support texts, as the delivery e-mail ends with them. */
function SupportText(props: { invoice: ThanksInvoice }) {
  return props.invoice.supportText ? (
    <p class="support" style="white-space: pre-line">
      {props.invoice.supportText}
    </p>
  ) : (
    <></>
  );
}

export function ThanksPage(props: { model: ThanksModel }) {
  const m = props.model;
  switch (m.kind) {
    case 'paid': {
      const hasFiles = m.invoice.files.length > 0;
      const linked = m.invoice.files.some((f) => f.downloadPath) || m.invoice.parts.length > 0;
      return (
        <Layout title={`Thank you: invoice ${m.invoice.number}`}>
          <h1>Thank you, your payment is complete</h1>
          <p class="lead">
            Invoice <strong>{m.invoice.number}</strong>, {m.invoice.amount} {m.invoice.currency}.{' '}
            {linked ? (hasFiles ? 'Your downloads are ready:' : 'Your purchase is ready:') : `Your links are in the e-mail we sent to ${m.maskedEmail}.`}
          </p>
          {hasFiles && (
            <div class="box">
              <FileTable invoice={m.invoice} />
              {m.invoice.keysExpireAt && <p class="muted">The links work until {formatTime(m.invoice.keysExpireAt.toISOString())}.</p>}
            </div>
          )}
          <KindParts parts={m.invoice.parts} />
          {hasFiles ? (
            <p>
              We also e-mailed the links and checksums to {m.maskedEmail}. Compare a file's SHA-256 with the one above (for example{' '}
              <code>sha256sum</code> or <code>certutil -hashfile FILE SHA256</code>) to be sure it arrived intact.
            </p>
          ) : (
            <p>We also e-mailed all of this to {m.maskedEmail}.</p>
          )}
          <SupportText invoice={m.invoice} />
        </Layout>
      );
    }
    case 'expired':
      return (
        <Layout title={`Invoice ${m.invoice.number}: links expired`}>
          <h1>Your download links have expired</h1>
          <p class="lead">
            Invoice <strong>{m.invoice.number}</strong> is paid, and its links were valid until{' '}
            {m.invoice.keysExpireAt ? formatTime(m.invoice.keysExpireAt.toISOString()) : 'a date that has passed'}.
          </p>
          <div class="box">
            <FileTable invoice={m.invoice} />
          </div>
          <SupportText invoice={m.invoice} />
          <LinkRequestForm problem="expired" values={{ invoice: m.invoice.number }} />
        </Layout>
      );
    case 'pending':
      return (
        <Layout title="Payment pending">
          <h1>Thank you, your payment is on its way</h1>
          <p class="lead">
            <span class="status">pending</span> {(m.pendingReason && pendingReasons[m.pendingReason]) || 'PayPal has not completed the payment yet.'}
          </p>
          <p>
            Nothing more is needed from you. As soon as PayPal tells us the payment has cleared, we e-mail your download links
            {m.maskedEmail ? ` to ${m.maskedEmail}` : ''}. You can close this page.
          </p>
          {m.invoiceNumber && <p class="muted">Invoice {m.invoiceNumber}</p>}
        </Layout>
      );
    case 'processing':
      return (
        <Layout title="Processing your payment" refreshSeconds={m.refreshUrl ? m.refreshSeconds : undefined} refreshUrl={m.refreshUrl}>
          <h1>Thank you, we are processing your payment</h1>
          {m.paypalSays && (
            <p>
              PayPal reports the payment as <span class="status">{m.paypalSays}</span>.
            </p>
          )}
          {m.refreshUrl ? (
            <p class="lead">
              This usually takes a few seconds. This page reloads by itself and shows your downloads as soon as they are ready; you can also{' '}
              <a href={m.refreshUrl}>reload it now</a>.
            </p>
          ) : (
            <p class="lead">
              This is taking longer than usual. You do not need to wait here: we e-mail your download links as soon as the payment is
              confirmed. <a href={m.checkUrl}>Check again</a>.
            </p>
          )}
        </Layout>
      );
    case 'review':
      return (
        <Layout title="Payment received">
          <h1>Thank you, we have received your payment</h1>
          {m.coming?.length ? (
            // Held only because something is being prepared for this buyer (a support login): say what is coming.
            <>
              {m.coming.map((sentence) => (
                <p class="lead coming">{sentence}</p>
              ))}
              <p>Nothing more is needed from you{m.maskedEmail ? `; the e-mail goes to ${m.maskedEmail}` : ''}.</p>
            </>
          ) : (
            <>
              <p class="lead">Before delivery, a person checks this order, usually within one business day.</p>
              <p>We e-mail your download links{m.maskedEmail ? ` to ${m.maskedEmail}` : ''} as soon as that is done.</p>
            </>
          )}
          {m.invoiceNumber && <p class="muted">Invoice {m.invoiceNumber}</p>}
        </Layout>
      );
    case 'paused':
      return (
        <Layout title="Purchase paused">
          <h1>This purchase is paused</h1>
          <p class="lead">{m.sentence}</p>
          <p>If you have questions, reply to any e-mail from us.</p>
          {m.invoiceNumber && <p class="muted">Invoice {m.invoiceNumber}</p>}
        </Layout>
      );
    case 'failed':
      return (
        <Layout title="Payment not completed">
          <h1>The payment did not go through</h1>
          <p class="lead">{m.reason ? `PayPal reported: ${m.reason}. No money was taken for this order.` : (m.sentence ?? 'PayPal did not complete the payment. No money was taken for this order.')}</p>
          <p>You can try again from the store, or reply to any e-mail from us if you need help.</p>
        </Layout>
      );
    case 'refunded':
      return (
        <Layout title="Payment refunded">
          <h1>{m.reversed ? 'This payment was reversed' : 'This payment was refunded'}</h1>
          <p class="lead">{m.sentence}</p>
        </Layout>
      );
    case 'no_payment':
      return (
        <Layout title="Which payment?">
          <h1>We could not tell which payment this is</h1>
          <p class="lead">This address is missing PayPal's transaction number, or it was changed on the way.</p>
          <p>If you have paid, your download links arrive by e-mail. If they do not, ask for them below.</p>
          <LinkRequestForm problem="unknown" />
        </Layout>
      );
  }
}
