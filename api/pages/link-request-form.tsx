// The two ways to a fresh link: the request a person answers (always offered), and the
// self-service button (only where the package allows it and the invoice is paid but expired).
import { Layout } from './layout';

export interface RequestFormValues {
  email?: string;
  invoice?: string;
  message?: string;
}

export function LinkRequestForm(props: { downloadKey?: string; problem: string; values?: RequestFormValues; error?: string }) {
  const v = props.values ?? {};
  return (
    <form class="box" method="post" action="/d/request">
      <h2>Ask for a fresh link</h2>
      <p class="muted">A person reads every request and answers within one business day, by e-mail.</p>
      {props.error && <p class="error">{props.error}</p>}
      <input type="hidden" name="problem" value={props.problem} />
      {props.downloadKey && <input type="hidden" name="key" value={props.downloadKey} />}
      <label for="email">Your e-mail address (the one you paid with, if you can)</label>
      <input id="email" name="email" type="email" required maxlength={254} value={v.email ?? ''} autocomplete="email" />
      <label for="invoice">Invoice number or PayPal transaction id (optional)</label>
      <input id="invoice" name="invoice" maxlength={64} value={v.invoice ?? ''} placeholder="KS-001234" />
      <label for="message">Anything we should know (optional)</label>
      <textarea id="message" name="message" maxlength={2000}>{v.message ?? ''}</textarea>
      <button type="submit">Send request</button>
    </form>
  );
}

export function SelfServiceForm(props: { downloadKey: string; days: number }) {
  return (
    <form class="box" method="post" action="/d/renew">
      <h2>Get a fresh link now</h2>
      <p>
        Your purchase allows this: we extend your links by {props.days} {props.days === 1 ? 'day' : 'days'} and e-mail them again to the
        address you paid with.
      </p>
      <input type="hidden" name="key" value={props.downloadKey} />
      <button type="submit">E-mail me a fresh link</button>
    </form>
  );
}

/** The request form on its own, when what was sent needs correcting. */
export function LinkRequestPage(props: { downloadKey?: string; problem: string; values?: RequestFormValues; error?: string }) {
  return (
    <Layout title="Ask for a fresh link">
      <h1>Ask for a fresh link</h1>
      <LinkRequestForm {...props} />
    </Layout>
  );
}
