// /api/admin/events/:item/check-in and /api/admin/packages/:item/attendees: the door and the
// attendee list of an event package as JSON (the list also as CSV with ?format=csv).
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { AppDeps } from '../deps';
import { attendeesCsv } from './attendees-csv';
import { attendeeCounts, attendeesOf, checkInTicket, findEvent } from './event-check-in';
import { validationError } from './refusals';

export function eventApi({ pool }: AppDeps) {
  const app = new Hono();

  app.post('/api/admin/events/:item/check-in', zValidator('json', z.object({ ticket: storableText().max(2000) }), validationError), async (c) => {
    const found = await findEvent(pool, c.req.param('item'));
    if ('error' in found) return c.json({ error: found.error }, 404);
    const answer = await checkInTicket(pool, found.event, c.req.valid('json').ticket, 'admin (api)');
    // A refused ticket is an answer, not a failure of the request: 409 tells a script it did not get in.
    const status = answer.ok ? 200 : answer.refusal === 'unreadable' ? 400 : answer.refusal === 'unknown' ? 404 : 409;
    return c.json(answer, status);
  });

  app.get('/api/admin/packages/:item/attendees', async (c) => {
    const found = await findEvent(pool, c.req.param('item'));
    if ('error' in found) return c.json({ error: found.error }, 404);
    const attendees = await attendeesOf(pool, found.event);
    if (c.req.query('format') === 'csv') return c.body(attendeesCsv(attendees), 200, { 'Content-Type': 'text/csv; charset=utf-8' });
    return c.json({ ...attendeeCounts(found.event, attendees), attendees });
  });

  return app;
}
