// The expiry reminder's "more time" link: the page it opens (one button: mail scanners open links,
// so only the button acts), and what it says when the link is spent, expired or unknown.
import { Layout, MessagePage } from './layout';

export type MoreTimeState = 'ready' | 'already_used' | 'expired' | 'unknown';

export function MoreTimePage(props: { state: MoreTimeState; token?: string; invoiceNumber?: string; selfService?: boolean; usedAt?: Date; outcome?: string | null }) {
  if (props.state === 'ready') {
    return (
      <Layout title="More time for your download">
        <h1>Need more time?</h1>
        <p class="lead">
          {props.selfService
            ? `One click extends your download links for invoice ${props.invoiceNumber} and e-mails them again to the address you paid with.`
            : `One click asks us for more time on invoice ${props.invoiceNumber}; a person answers by e-mail to the address you paid with.`}
        </p>
        <form class="box" method="post" action={`/d/more-time/${props.token}`}>
          <button type="submit">{props.selfService ? 'Extend my links' : 'Ask for more time'}</button>
        </form>
        <p class="muted">This link works once.</p>
      </Layout>
    );
  }
  const body = {
    already_used: {
      title: 'This link was already used',
      lead: `It was used ${props.usedAt ? `on ${props.usedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'before'}${props.outcome === 'renewed' ? ', and your links were extended then' : props.outcome === 'requested' ? ', and your request reached us then' : ''}.`,
      next: 'Check your inbox and spam folder for our e-mail. For anything else, use the request form on your download link’s page.',
    },
    expired: {
      title: 'This link has expired',
      lead: 'The reminder’s link for more time only works while the purchase is still being looked after here.',
      next: 'Use the request form on your download link’s page, and a person will help.',
    },
    unknown: {
      title: 'This link is not known',
      lead: 'It may have been copied incompletely from the e-mail.',
      next: 'Open it again from the reminder e-mail, or use the request form on your download link’s page.',
    },
  }[props.state];
  return <MessagePage {...body} />;
}
