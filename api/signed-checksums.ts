// GET and HEAD /d/sums/<key>/SHA256SUMS and /d/sums/<key>/SHA256SUMS.minisig: an invoice's
// checksums and their minisign signature (kinds/signed-checksums.ts issues the links), and
// /minisign.pub: the seller's public key, for a buyer to fetch once. The link is judged like a
// download key on every request, by its invoice's status and its generation's keys (revoked,
// expired); it is not counted: the files are small and hold nothing but names and hashes.
//
// Both files are made on each request from what Postgres holds now, the same files the download
// links serve; Ed25519 is deterministic and the trusted comment names the generation's issue
// time, so the same link always answers the same bytes.
import { Hono, type Context } from 'hono';
import { keyHash, keyProblem, keyShape } from '../domain/download-keys';
import { signingKeyFromConfig } from '../domain/signing-key';
import { generationKeys } from '../db/keys';
import { findChecksumLink } from '../db/signed-checksums';
import { signatureFileName, sumsFileName } from '../kinds/signed-checksums';
import type { AppDeps } from './deps';
import { clientAddress } from './client-address';
import { contentDisposition, savedFileName } from './download-headers';
import { renderKeyPage } from './pages/key-pages';
import type { RateLimiter } from './rate-limit';

/**
 * SHA256SUMS of the files: sha256sum's text-mode line per file, under the name its download is
 * saved as (which has no backslash or line break, the characters sha256sum would escape).
 */
export function sha256sums(files: { name: string; sha256: string }[]): string {
  return files.map((f) => `${f.sha256.toLowerCase()}  ${savedFileName(f.name)}\n`).join('');
}

const plain = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };

/** Mounted by downloadRoutes under its /d/ rate limit: an unknown key costs what a guessed download key costs. */
export function signedChecksumRoutes(deps: Pick<AppDeps, 'config' | 'pool'>, limiter: RateLimiter, unknownKeyCost: number) {
  const { config, pool } = deps;
  // Read at start: an unusable SIGNING_KEY_FILE stops the api with its sentence (api/main.ts builds the app before listening).
  const signing = signingKeyFromConfig(config);
  const app = new Hono();

  app.get('/minisign.pub', (c) => {
    if (!signing) return c.text('This shop does not sign its checksums, so it has no public key to give.', 404);
    return c.body(signing.publicKeyFile, 200, { ...plain, 'Content-Disposition': 'inline; filename="minisign.pub"', 'Cache-Control': 'public, max-age=3600' });
  });

  const serve = (file: typeof sumsFileName | typeof signatureFileName) => async (c: Context) => {
    const linkKey = c.req.param('key') ?? '';
    if (!keyShape.test(linkKey)) {
      limiter.penalise(clientAddress(c, config.downloads.trustedProxies), unknownKeyCost - 1);
      return renderKeyPage(c, { problem: 'unknown' });
    }
    const link = await findChecksumLink(pool, keyHash(linkKey));
    if (!link) {
      limiter.penalise(clientAddress(c, config.downloads.trustedProxies), unknownKeyCost - 1);
      return renderKeyPage(c, { problem: 'unknown' });
    }
    const problem = keyProblem({
      invoice_status: link.invoiceStatus,
      expired: link.expired,
      revoked_at: link.revoked ? new Date() : null,
      download_limit: null,
      bytes_charged: 0,
      size_bytes: 0,
    });
    if (problem) {
      return renderKeyPage(c, {
        problem,
        fileName: file,
        expiresAt: link.expiresAt?.toISOString(),
        revokedReason: link.revokedReason,
        invoiceStatus: link.invoiceStatus,
      });
    }
    if (!signing) return c.text(`This shop no longer signs its checksums. Each file's SHA-256 is in your delivery e-mail (invoice ${link.invoiceNumber}).`, 404);
    const sums = sha256sums(await generationKeys(pool, link.invoiceId, link.generation));
    const body =
      file === sumsFileName
        ? sums
        : signing.sign(sums, `timestamp:${Math.floor(link.issuedAt.getTime() / 1000)}\tfile:${sumsFileName}\thashed\tinvoice:${link.invoiceNumber}`);
    const headers = { ...plain, 'Content-Length': String(Buffer.byteLength(body)), 'Content-Disposition': contentDisposition(file), 'Cache-Control': 'private, no-store' };
    return c.req.method === 'HEAD' ? c.body(null, 200, headers) : c.body(body, 200, headers);
  };

  app.on(['GET', 'HEAD'], `/d/sums/:key/${sumsFileName}`, serve(sumsFileName));
  app.on(['GET', 'HEAD'], `/d/sums/:key/${signatureFileName}`, serve(signatureFileName));
  return app;
}
