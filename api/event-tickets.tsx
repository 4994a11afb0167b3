// /t/:key: the buyer's ticket for one event seat. It shows the event, the seat and a QR code of the
// ticket's own URL (what the door's scanner reads into the check-in), judged on every request so a
// refund, a reversal, a dispute or new tickets take effect at once (kinds/event-tickets.ts).
import { Hono, type Context } from 'hono';
import QRCode from 'qrcode';
import type { AppDeps } from './deps';
import { clientAddress } from './client-address';
import { unknownKeyCost } from './downloads';
import { Layout } from './pages/layout';
import { renderPage } from './pages/render';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import { ticketByHash, type TicketRow } from '../db/event-seats';
import { keyHash } from '../domain/download-keys';
import { ticketKeyFrom, ticketPath, ticketProblem } from '../kinds/event-tickets';
import { formatTime } from '../domain/buyer-formats';
import { eventSettings, eventWhen } from '../kinds/event-seats';

// The page carries its QR code as a data: image, which the default policy (api/pages/render.ts) forbids.
const csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const css = `
.ticket { text-align: center; }
.ticket img { width: 18rem; max-width: 100%; height: auto; image-rendering: pixelated; background: #fff; }
.valid { color: #1a7f37; font-weight: 700; }
`;

export function ticketRoutes({ config, pool }: Pick<AppDeps, 'config' | 'pool'>, limiter: RateLimiter = createRateLimiter(config.downloads.ratePerMinute)) {
  const app = new Hono();

  app.get('/t/:key', async (c) => {
    const address = clientAddress(c, config.downloads.trustedProxies);
    if (!limiter.take(address)) {
      return refusal(c, 429, 'Too many requests', `Too many tickets were asked for from your address; wait ${limiter.retryAfterSeconds(address)} s and reload.`);
    }
    const key = ticketKeyFrom(c.req.param('key'));
    const ticket = key ? await ticketByHash(pool, keyHash(key)) : undefined;
    if (!key || !ticket) {
      // A guessed key costs like a guessed download key, so guessing stays slow.
      limiter.penalise(address, unknownKeyCost - 1);
      return refusal(c, 404, 'Unknown ticket', 'There is no ticket at this address. Check that the whole link from your e-mail was copied.');
    }
    const problem = ticketProblem(ticket);
    if (problem) {
      const status = problem.problem === 'suspended' || problem.problem === 'unpaid' ? 403 : 410;
      const title = problem.problem === 'suspended' ? 'This ticket is paused' : 'This ticket is not valid';
      return refusal(c, status, title, `${problem.sentence} Questions? Reply to your purchase e-mail (invoice ${ticket.invoice_number}).`, ticket);
    }
    const url = `${config.publicUrl}${ticketPath(key)}`;
    const qr = await QRCode.toDataURL(url, { errorCorrectionLevel: 'M', margin: 2, scale: 8 });
    return renderPage(c, <TicketPage ticket={ticket} ticketKey={key} qr={qr} />, 200, { 'Content-Security-Policy': csp });
  });

  return app;
}

function refusal(c: Context, status: 404 | 403 | 410 | 429, title: string, lead: string, ticket?: TicketRow) {
  const event = ticket ? eventSettings(ticket.kind_settings) : undefined;
  return renderPage(
    c,
    <Layout title={title}>
      <h1>{title}</h1>
      {event && (
        <p>
          {event.title}, {eventWhen(event)}
        </p>
      )}
      <p class="lead error" data-refusal>
        {lead}
      </p>
    </Layout>,
    status,
  );
}

function TicketPage(props: { ticket: TicketRow; ticketKey: string; qr: string }) {
  const { ticket } = props;
  const event = eventSettings(ticket.kind_settings);
  return (
    <Layout title={`Ticket: ${event.title}`}>
      <style>{css}</style>
      <h1>{event.title}</h1>
      <div class="box ticket">
        <p class="valid">Valid ticket{ticket.quantity > 1 ? `, seat ${ticket.unit} of ${ticket.quantity}` : ''}</p>
        <img id="ticket-qr" src={props.qr} alt="QR code of this ticket: show it at the entrance" />
        <p>
          <small>Ticket code</small>
          <br />
          <code>{props.ticketKey}</code>
        </p>
        {ticket.checked_in_at && <p class="muted">Checked in at {formatTime(ticket.checked_in_at.toISOString())}.</p>}
      </div>
      <table>
        <tbody>
          <tr>
            <th>When</th>
            <td>{eventWhen(event)}</td>
          </tr>
          {event.venue && (
            <tr>
              <th>Where</th>
              <td>{event.venue}</td>
            </tr>
          )}
          <tr>
            <th>Name</th>
            <td>{ticket.buyer_name || ticket.payer_email}</td>
          </tr>
          <tr>
            <th>Invoice</th>
            <td>{ticket.invoice_number}</td>
          </tr>
        </tbody>
      </table>
      {event.details && <p style="white-space: pre-line">{event.details}</p>}
      <p class="muted">Show this QR code at the entrance (on your phone or printed). It lets one person in, once; keep the link to yourself.</p>
    </Layout>
  );
}
