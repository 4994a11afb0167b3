// The buyer's library: the form that e-mails a link to it, the one answer that form ever gives,
// the page a used or expired link shows, and the library itself.
import { formatBytes, formatTime } from '../../domain/buyer-formats';
import type { LibraryEntry } from '../library-entries';
import { KindParts } from './kind-parts';
import { Layout } from './layout';

/** "1 hour", "30 minutes": how long a link lasts, as the pages say it. */
export function spokenDuration(seconds: number): string {
  const [n, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The form's only answer, whatever the address: the same words and the same status for everyone. */
export function libraryRequestAnswer(linkTtlSeconds: number): string {
  return `If this address has bought anything here, an e-mail with a link to its purchases is on its way. The link works once, for ${spokenDuration(linkTtlSeconds)}; check your spam folder if it does not arrive within a few minutes.`;
}

function LibraryForm(props: { error?: string; email?: string }) {
  return (
    <form class="box" method="post" action="/library">
      <label for="email">The e-mail address you paid with</label>
      {props.error && <p class="error">{props.error}</p>}
      <input id="email" name="email" type="email" required maxlength={254} autocomplete="email" value={props.email ?? ''} />
      <button type="submit">E-mail me a link to my purchases</button>
    </form>
  );
}

export function LibraryRequestPage(props: { error?: string; email?: string; title?: string; lead?: string }) {
  const title = props.title ?? 'Get your purchases back';
  return (
    <Layout title={title} libraryLink={false}>
      <h1>{title}</h1>
      <p class="lead">
        {props.lead ??
          'Lost the e-mail with your download links? Type the address you paid with: we e-mail it a link that lists every purchase made with it, with a download link for each file you may still download.'}
      </p>
      <LibraryForm error={props.error} email={props.email} />
    </Layout>
  );
}

export function LibraryRequestedPage(props: { linkTtlSeconds: number }) {
  return (
    <Layout title="Check your e-mail" libraryLink={false}>
      <h1>Check your e-mail</h1>
      <p class="lead">{libraryRequestAnswer(props.linkTtlSeconds)}</p>
      <p class="muted">
        Nothing arrived? Make sure it is the address you gave PayPal when you paid, or <a href="/library">try another address</a>.
      </p>
    </Layout>
  );
}

export function LibraryRateLimitedPage(props: { retryAfterSeconds: number }) {
  return (
    <Layout title="Too many requests" libraryLink={false}>
      <h1>Too many requests</h1>
      <p class="lead">Too many requests for a library link came from your network in a short time.</p>
      <p>Wait {props.retryAfterSeconds} seconds, then send the form again.</p>
    </Layout>
  );
}

export function LibraryUnavailablePage() {
  return (
    <Layout title="Not available" libraryLink={false}>
      <h1>This shop cannot e-mail library links yet</h1>
      <p class="lead">Its setup is not finished. To get your download links, reply to any e-mail from us and a person will send them.</p>
    </Layout>
  );
}

const refusals = {
  used: { title: 'This link has already been used', lead: 'Each link opens your purchases once. Ask for a new one below; it arrives within a minute.' },
  expired: { title: 'This link has expired', lead: 'A link works for a limited time after it is sent. Ask for a new one below; it arrives within a minute.' },
  unknown: {
    title: 'This link is not valid',
    lead: 'We do not recognise this link. Check that the whole address was copied from the e-mail, or ask for a new one below.',
  },
} as const;

export function LibraryLinkRefusedPage(props: { reason: keyof typeof refusals }) {
  return <LibraryRequestPage title={refusals[props.reason].title} lead={refusals[props.reason].lead} />;
}

const statusWords: Record<LibraryEntry['status'], string> = {
  new: 'processing',
  awaiting_payment: 'payment pending',
  paid: 'paid',
  fulfilled: 'paid',
  keys_expired: 'paid, links expired',
  needs_review: 'being checked',
  rejected: 'not accepted',
  failed: 'payment failed',
  refunded: 'refunded',
  reversed: 'reversed',
  reinstated: 'paid',
  disputed: 'disputed at PayPal, paused',
  unknown: 'unknown',
};

function EntryFiles(props: { entry: LibraryEntry }) {
  return (
    <ul>
      {props.entry.files.map((f) => (
        <li>
          {f.downloadPath ? (
            <a class="download" href={f.downloadPath} download={f.name}>
              {f.name}
            </a>
          ) : (
            <strong>{f.name}</strong>
          )}{' '}
          <small>
            {formatBytes(f.sizeBytes)}
            {f.problem === 'exhausted' ? ', all its downloads used' : ''}
          </small>
        </li>
      ))}
    </ul>
  );
}

/** A request to a person for fresh links of one invoice, from the library's own address. */
function AskForm(props: { entry: LibraryEntry; email: string }) {
  return (
    <form class="inline" method="post" action="/d/request">
      <input type="hidden" name="email" value={props.email} />
      <input type="hidden" name="invoice" value={props.entry.number} />
      <input type="hidden" name="problem" value={props.entry.problem ?? 'unknown'} />
      <input type="hidden" name="message" value="Asked from the library." />
      <button type="submit">Ask for fresh links</button>
    </form>
  );
}

const expiredOn = (e: LibraryEntry) => (e.keysExpireAt ? formatTime(e.keysExpireAt.toISOString()) : 'a date that has passed');

function EntryAction(props: { entry: LibraryEntry; email: string }) {
  const e = props.entry;
  switch (e.state) {
    case 'live':
      return (
        <>
          {e.files.length > 0 && <EntryFiles entry={e} />}
          {e.files.length > 0 && e.keysExpireAt && <p class="muted">The links work until {formatTime(e.keysExpireAt.toISOString())}.</p>}
          <KindParts parts={e.parts} />
          {e.problem === 'exhausted' && (
            <>
              <p>A file whose downloads are all used has no link; a person sends a fresh one, usually within one business day.</p>
              <AskForm entry={e} email={props.email} />
            </>
          )}
        </>
      );
    case 'renewable':
      return (
        <>
          <EntryFiles entry={e} />
          <KindParts parts={e.parts} />
          <p>The links expired on {expiredOn(e)}. This purchase lets you renew them yourself.</p>
          <form class="inline" method="post" action="/d/renew">
            <input type="hidden" name="key" value={e.renewKey} />
            <button type="submit">
              Renew for {e.renewDays} {e.renewDays === 1 ? 'day' : 'days'} and e-mail me the links
            </button>
          </form>
        </>
      );
    case 'ask':
      return (
        <>
          <EntryFiles entry={e} />
          <KindParts parts={e.parts} />
          <p>
            {e.problem === 'exhausted'
              ? 'All the downloads of these links have been used.'
              : e.problem === 'expired'
                ? `The links expired on ${expiredOn(e)}.`
                : 'The links are in the e-mail we sent when you paid; they cannot be shown here.'}{' '}
            A person sends fresh ones, usually within one business day.
          </p>
          <AskForm entry={e} email={props.email} />
        </>
      );
    case 'withdrawn':
    case 'suspended':
      return <p class="muted">{e.notice}</p>;
    case 'unpaid':
      return <p class="muted">{e.notice} We e-mail the download links as soon as the payment clears.</p>;
    case 'preparing':
      return <p class="muted">Your download links are being prepared and e-mailed; this takes a minute.</p>;
  }
}

export function LibraryPage(props: { email: string; entries: LibraryEntry[]; sessionExpiresAt: number }) {
  return (
    <Layout title="Your purchases" libraryLink={false}>
      <h1>Your purchases</h1>
      <p class="lead">
        Everything bought with <strong>{props.email}</strong>, newest first.
      </p>
      {props.entries.length === 0 && <p>No purchases were made with this address.</p>}
      {props.entries.map((e) => (
        <section class="box">
          <h2>{e.packages || 'Purchase'}</h2>
          <p>
            Invoice <strong>{e.number}</strong> · {formatTime(e.createdAt.toISOString())} · {e.amount} {e.currency} ·{' '}
            <span class="status">{statusWords[e.status]}</span>
          </p>
          <EntryAction entry={e} email={props.email} />
        </section>
      ))}
      <p class="muted">
        This page stays open until {formatTime(new Date(props.sessionExpiresAt * 1000).toISOString())}; after that, ask for a new link.
      </p>
      <form class="inline" method="post" action="/library/leave">
        <button type="submit">Close my library</button>
      </form>
    </Layout>
  );
}
