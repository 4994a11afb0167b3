// The buyer's library, the way back for a buyer who has nothing but their e-mail address:
//   GET  /library             the form (or, with a library session, the library itself)
//   POST /library             records the request and answers one sentence, whatever the address;
//                             an address with purchases gets one e-mail with a single-use link
//   GET  /library/open/:token uses the link (once, before it expires) and opens a short session
//                             bound to the link's address
//   POST /library/leave       ends the session
// Limited per client address (in memory, like the download limiter) and per e-mail address (in
// Postgres, see db/library-links.ts); every request is a row of library_links.
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { keyHash } from '../domain/download-keys';
import { optionalInvoiceSettings } from '../domain/invoice-settings';
import { libraryLinkRefusal, recordLibraryRequest, useLibraryLink } from '../db/library-links';
import type { AppDeps } from './deps';
import { clientAddress } from './client-address';
import { libraryEntries } from './library-entries';
import { libraryMailer } from './library-mail';
import { librarySecrets, linkTokenShape } from './library-session';
import {
  LibraryLinkRefusedPage,
  LibraryPage,
  LibraryRateLimitedPage,
  LibraryRequestedPage,
  LibraryRequestPage,
  LibraryUnavailablePage,
} from './pages/library-views';
import { createRateLimiter } from './rate-limit';
import { renderPage } from './pages/render';

export function libraryRoutes(deps: Pick<AppDeps, 'config' | 'pool' | 'shutdown'>) {
  const { config, pool } = deps;
  const settings = optionalInvoiceSettings(config);
  const secrets = settings && librarySecrets(settings.keySecret, { sessionSeconds: config.library.sessionSeconds, secure: config.publicUrl.startsWith('https:') });
  const mailer = settings && secrets && libraryMailer({ pool, smtpUrl: config.smtpUrl, settings, secrets });
  // Only a serving process (api/main.ts hands in its shutdown) sweeps for unsent e-mails; tests call retryDue.
  if (mailer && deps.shutdown) {
    const stop = mailer.startSweeper();
    (deps.shutdown.beforeClose ??= []).push(async () => stop());
  }
  const limiter = createRateLimiter(config.library.ratePerMinute);
  const app = new Hono();

  app.get('/library', async (c) => {
    const session = await secrets?.read(c);
    if (!session) return renderPage(c, <LibraryRequestPage />);
    const entries = await libraryEntries(pool, session.email, { settings, defaultTtlSeconds: config.keyTtlSeconds });
    return renderPage(c, <LibraryPage email={session.email} entries={entries} sessionExpiresAt={session.expiresAt} />);
  });

  app.post(
    '/library',
    zValidator('form', z.object({ email: z.email().max(254) }), async (result, c) => {
      if (result.success) return;
      const typed = (result.data as { email?: unknown }).email;
      return renderPage(
        c,
        <LibraryRequestPage email={typeof typed === 'string' ? typed.slice(0, 254) : undefined} error="That is not a whole e-mail address; type it as name@example.com." />,
        400,
      );
    }),
    async (c) => {
      const { email } = c.req.valid('form');
      const address = clientAddress(c, config.downloads.trustedProxies);
      if (!limiter.take(address)) {
        const retryAfterSeconds = limiter.retryAfterSeconds(address);
        console.warn(`library: too many requests from ${address}; answered 429 for ${retryAfterSeconds} s`);
        return renderPage(c, <LibraryRateLimitedPage retryAfterSeconds={retryAfterSeconds} />, 429, { 'Retry-After': String(retryAfterSeconds) });
      }
      if (!secrets || !mailer) return renderPage(c, <LibraryUnavailablePage />, 503);
      // Every address costs the same work before the answer (a salt, a link, one recorded row), and
      // the e-mail goes out after it, so neither the words nor the time tell whether it bought anything.
      const salt = randomBytes(16);
      const request = await recordLibraryRequest(pool, {
        email,
        salt,
        tokenHash: keyHash(secrets.linkToken(salt)),
        remoteAddr: address,
        userAgent: c.req.header('user-agent') ?? null,
        linkTtlSeconds: config.library.linkTtlSeconds,
        emailsPerHour: config.library.emailsPerHour,
      });
      // Stored first, sent after the answer, retried by the sweeper: an outage delays the e-mail and never loses it.
      if (request.status === 'pending') mailer.sendSoon(request.id);
      if (request.status === 'limited') console.warn(`library request ${request.id}: the address had ${config.library.emailsPerHour} library e-mails this hour; none sent`);
      return renderPage(c, <LibraryRequestedPage linkTtlSeconds={config.library.linkTtlSeconds} />);
    },
  );

  app.get('/library/open/:token', async (c) => {
    if (!secrets) return renderPage(c, <LibraryUnavailablePage />, 503);
    const token = c.req.param('token');
    if (!linkTokenShape.test(token)) return renderPage(c, <LibraryLinkRefusedPage reason="unknown" />, 404);
    const hash = keyHash(token);
    const email = await useLibraryLink(pool, hash, clientAddress(c, config.downloads.trustedProxies));
    if (email === undefined) {
      const refusal = await libraryLinkRefusal(pool, hash);
      // The same browser clicking its used link again (a reload, a second click) still has its library.
      const session = refusal.reason === 'used' ? await secrets.read(c) : undefined;
      if (session && session.email.toLowerCase() === refusal.email?.toLowerCase()) return c.redirect('/library', 303);
      return renderPage(c, <LibraryLinkRefusedPage reason={refusal.reason} />, refusal.reason === 'unknown' ? 404 : 410);
    }
    await secrets.start(c, email);
    c.header('Cache-Control', 'no-store');
    return c.redirect('/library', 303);
  });

  app.post('/library/leave', (c) => {
    secrets?.end(c);
    return c.redirect('/library', 303);
  });

  return app;
}
