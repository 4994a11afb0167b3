// The admin's pages for an event package: the door's check-in (a scanner types the ticket's URL
// into the focused field and presses Enter; a person can type the code) and the attendee list, as a
// page and as CSV. No JavaScript: the field is focused again by `autofocus` after every answer.
import { Hono, type Context } from 'hono';
import type { AppDeps } from '../deps';
import { renderPage } from '../pages/render';
import { attendeesCsv } from './attendees-csv';
import { attendeeCounts, attendeesOf, checkInTicket, findEvent, type CheckInAnswer } from './event-check-in';
import type { AdminEnv } from './guards';
import { AdminLayout, CsrfField, Flash, Table, when } from './layout';
import type { PackageRow } from '../../db/packages';
import { eventSettings, eventWhen } from '../../kinds/event-seats';

const doorCss = `
.answer { font-size: 1.3rem; padding: 1rem; border-radius: 8px; margin: 1rem 0; font-weight: 700; }
.answer.ok { background: rgba(26,127,55,.18); border-left: 6px solid #1a7f37; }
.answer.refused { background: rgba(180,35,24,.15); border-left: 6px solid #b42318; }
form.door { display: flex; gap: .5rem; } form.door input { font-size: 1.2rem; }
`;

export function eventPages({ pool }: AppDeps) {
  const app = new Hono<AdminEnv>();

  const notEvent = (c: Context<AdminEnv>, error: string) =>
    renderPage(
      c,
      <AdminLayout title="Not an event" csrf={c.var.csrf}>
        <Flash message={error} error />
      </AdminLayout>,
      404,
    );

  const door = async (c: Context<AdminEnv>, event: PackageRow, answer?: CheckInAnswer) => {
    const counts = attendeeCounts(event, await attendeesOf(pool, event));
    const settings = eventSettings(event.kindSettings);
    return renderPage(
      c,
      <AdminLayout title={`Check-in: ${settings.title}`} csrf={c.var.csrf}>
        <style>{doorCss}</style>
        <h1>Check-in: {settings.title}</h1>
        <p class="muted">
          {eventWhen(settings)}
          {settings.venue ? `, ${settings.venue}` : ''}. {counts.checkedIn} of {counts.valid} valid seats checked in; capacity {counts.capacity}.
        </p>
        {answer && (
          <p class={answer.ok ? 'answer ok' : 'answer refused'} role="status" data-refusal={answer.refusal ?? ''}>
            {answer.message}
          </p>
        )}
        <form class="door" method="post" action={`/admin/events/${encodeURIComponent(event.itemNumber)}/check-in`}>
          <CsrfField token={c.var.csrf} />
          <input name="ticket" autofocus autocomplete="off" aria-label="Ticket link or code" placeholder="Scan the QR code or type the ticket code" />
          <button type="submit">Check in</button>
        </form>
        <p>
          <a href={`/admin/packages/${encodeURIComponent(event.itemNumber)}/attendees`}>Attendee list</a>
        </p>
      </AdminLayout>,
    );
  };

  app.get('/admin/events/:item/check-in', async (c) => {
    const found = await findEvent(pool, c.req.param('item'));
    return 'error' in found ? notEvent(c, found.error) : door(c, found.event);
  });

  app.post('/admin/events/:item/check-in', async (c) => {
    const found = await findEvent(pool, c.req.param('item'));
    if ('error' in found) return notEvent(c, found.error);
    const body = await c.req.parseBody();
    const answer = await checkInTicket(pool, found.event, typeof body.ticket === 'string' ? body.ticket : '', 'admin (web)');
    return door(c, found.event, answer);
  });

  app.get('/admin/packages/:item/attendees.csv', async (c) => {
    const found = await findEvent(pool, c.req.param('item'));
    if ('error' in found) return c.text(found.error, 404);
    const csv = attendeesCsv(await attendeesOf(pool, found.event));
    return c.body(csv, 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="attendees-${found.event.itemNumber}.csv"` });
  });

  app.get('/admin/packages/:item/attendees', async (c) => {
    const found = await findEvent(pool, c.req.param('item'));
    if ('error' in found) return notEvent(c, found.error);
    const { event } = found;
    const attendees = await attendeesOf(pool, event);
    const counts = attendeeCounts(event, attendees);
    const settings = eventSettings(event.kindSettings);
    const item = encodeURIComponent(event.itemNumber);
    return renderPage(
      c,
      <AdminLayout title={`Attendees: ${settings.title}`} csrf={c.var.csrf}>
        <h1>Attendees: {settings.title}</h1>
        <p class="muted">
          {eventWhen(settings)}. {counts.valid} valid seats of a capacity of {counts.capacity}; {counts.checkedIn} checked in.
        </p>
        <p>
          <a href={`/admin/events/${item}/check-in`}>Check-in</a> · <a href={`/admin/packages/${item}/attendees.csv`}>Download as CSV</a> ·{' '}
          <a href={`/admin/packages/${item}`}>The package</a>
        </p>
        <Table
          head={['Name', 'E-mail', 'Invoice', 'Seat', 'Status', 'Checked in at']}
          rows={attendees}
          row={(a) => (
            <tr>
              <td>{a.name || '–'}</td>
              <td>{a.email}</td>
              <td>
                <a href={`/admin/invoices/${encodeURIComponent(a.invoice)}`}>{a.invoice}</a>
              </td>
              <td>{a.seat}</td>
              <td>
                <span class="status">{a.status}</span> {a.reason && <small>{a.reason}</small>}
              </td>
              <td>{when(a.checkedInAt)}</td>
            </tr>
          )}
          empty="No seats sold yet."
        />
      </AdminLayout>,
    );
  });

  return app;
}
