// The answers to the two fresh-link forms.
import { Layout, MessagePage } from './layout';

export function RequestReceivedPage(props: { email: string }) {
  return (
    <Layout title="Request received">
      <h1>We have your request</h1>
      <p class="lead">A person will look at it and answer by e-mail to {props.email}, usually within one business day.</p>
      <p class="muted">If you find a working link in the meantime, you can simply use it; nothing else is needed.</p>
    </Layout>
  );
}

export type RenewalOutcome = 'sent' | 'already_sent' | 'passed_on' | 'not_allowed';

export function RenewalPage(props: { outcome: RenewalOutcome; maskedEmail?: string; days?: number; reason?: string }) {
  const to = props.maskedEmail ? `to ${props.maskedEmail}` : 'to the address you paid with';
  const body = {
    sent: {
      title: 'A fresh link is on its way',
      lead: `Your links now work for another ${props.days ?? ''} ${props.days === 1 ? 'day' : 'days'}, and we are e-mailing them ${to}. It usually arrives within a minute.`,
      next: 'The link you clicked works again too. Check your spam folder if the e-mail does not show up.',
    },
    already_sent: {
      title: 'A fresh link was sent recently',
      lead: `We already e-mailed fresh links ${to} within the last day.`,
      next: 'Please check your inbox and spam folder. If it is not there, ask a person with the form on the link’s page.',
    },
    passed_on: {
      title: 'Your request is with us',
      lead: 'We could not send the e-mail automatically just now, so a person will send your fresh link.',
      next: 'You will hear from us by e-mail, usually within one business day.',
    },
    not_allowed: {
      title: 'A fresh link cannot be sent automatically',
      lead: props.reason ?? 'This link cannot be renewed automatically.',
      next: 'Go back and use the request form; a person will help.',
    },
  }[props.outcome];
  return <MessagePage {...body} />;
}
