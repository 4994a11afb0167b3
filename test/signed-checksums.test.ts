// Signed checksums end to end: a key pair made by the real minisign, a purchase paid through the
// PayPal simulator, the real invoice workflow and activities on the Temporal dev server, the
// delivery e-mail read back from a real SMTP server, and everything fetched over real HTTP. The
// buyer's SHA256SUMS matches the files they download (sha256sum -c), minisign accepts its
// signature with the public key /store shows and refuses a tampered copy; the link stops at once
// with a refund, with new links and with the keys' expiry, pauses in a dispute and follows an
// extension; a shop without SIGNING_KEY_FILE shows nothing about signatures.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseContentDisposition } from 'content-disposition';
import type { Pool } from '../db/pool';
import { invoiceSettingsFromConfig } from '../domain/invoice-settings';
import type { CapturedMail } from './harness';
import { findMinisign, requireProgram, skipWithout } from './harness/programs';
import { artifactsDir, chromium, launchChromium, screenshotPath } from './fixtures/browser';
import { startShop, type Shop } from './fixtures/shop';

const minisign = findMinisign();
const commandTimeoutMs = 10_000;

interface Run {
  code: number;
  output: string;
}

/** Runs a program in `cwd`; its exit code and what it printed (never throws on a non-zero exit). */
function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: commandTimeoutMs }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error && typeof error.code !== 'number') return reject(new Error(`${file} ${args.join(' ')} did not finish within ${commandTimeoutMs / 1000} s or could not start (${error.message}): ${output}`));
      resolve({ code: error ? (error.code as number) : 0, output });
    });
  });
}

const files = [
  { name: 'field-notes.txt', content: Buffer.from('Field notes, signed edition.\n') },
  { name: 'survey data.csv', content: Buffer.from('site,count\nnorth,12\nsouth,7\n') },
  { name: 'été-map.bin', content: Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251)) },
];

/** A package "SIGNED-1" whose files are real, under FILES_DIR, with their real checksums. */
async function seedSignedPackage(pool: Pool, filesDir: string): Promise<void> {
  await mkdir(path.join(filesDir, 'signed'), { recursive: true });
  await pool.query(`INSERT INTO packages (item_number, name, currency, price) VALUES ('SIGNED-1', 'Signed Atlas', 'USD', 12.00)`);
  for (const [i, f] of files.entries()) {
    await writeFile(path.join(filesDir, 'signed', `file-${i}`), f.content);
    await pool.query(
      `INSERT INTO package_files (package_id, name, storage_path, size_bytes, md5, sha256, position)
       SELECT id, $1, $2, $3, $4, $5, $6 FROM packages WHERE item_number = 'SIGNED-1'`,
      [f.name, `signed/file-${i}`, f.content.length, createHash('md5').update(f.content).digest('hex'), createHash('sha256').update(f.content).digest('hex'), i + 1],
    );
  }
}

describe('signed checksums', { skip: skipWithout(minisign) }, () => {
  let dir: string;
  let signed: Shop;
  let unsigned: Shop;
  let publicKeyFile: string;

  /** A shop selling SIGNED-1 from the files under `dir`, on the classic checkout, signing when `env` says so. */
  function sellingShop(name: string, env: Record<string, string>): Promise<Shop> {
    const filesDir = path.join(dir, 'files');
    return startShop({
      name,
      env: { PAYPAL_CHECKOUT: 'classic', FILES_DIR: filesDir, ...env },
      // The worker's settings as worker/main.ts makes them: the same configuration, so the same SIGNING_KEY_FILE.
      settings: invoiceSettingsFromConfig,
      webhooks: false,
      seed: (pool) => seedSignedPackage(pool, filesDir),
    });
  }

  /** Pays for SIGNED-1 and waits for its delivery e-mail. */
  async function buy(shop: Shop, label: string): Promise<{ txnId: string; mail: CapturedMail; text: string }> {
    const email = shop.buyer(label);
    const { txnId } = await shop.sim.pay({ items: [{ itemNumber: 'SIGNED-1', itemName: 'Signed Atlas', amount: '12.00' }], payer: { email, firstName: 'Ines' } });
    await shop.until(txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    const [mail] = await shop.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email));
    return { txnId, mail: mail!, text: mail!.parsed.text ?? '' };
  }

  before(async () => {
    const minisignPath = requireProgram(minisign);
    dir = await mkdtemp(path.join(os.tmpdir(), 'keyship-signed-'));
    // The seller's key, made by minisign itself without a password, as docs/package-kinds.md says.
    const made = await run(minisignPath, ['-G', '-W', '-p', 'seller.pub', '-s', 'seller.key'], dir);
    assert.equal(made.code, 0, `minisign -G failed: ${made.output}`);
    publicKeyFile = await readFile(path.join(dir, 'seller.pub'), 'utf8');
    [signed, unsigned] = await Promise.all([sellingShop('signed', { SIGNING_KEY_FILE: path.join(dir, 'seller.key') }), sellingShop('unsigned', {})]);
  });

  after(async () => {
    await Promise.all([signed?.close(), unsigned?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const publicKey = () => publicKeyFile.split('\n')[1]!;
  const keyId = () => /minisign public key ([0-9A-F]+)/.exec(publicKeyFile)![1]!;

  test('the store and /minisign.pub show the public key minisign made, with its key id', async () => {
    const store = await (await fetch(`${signed.url}/store`)).text();
    assert.match(store, /Signed checksums/);
    assert.ok(store.includes(`<pre>${publicKey()}</pre>`), 'the store shows the public key');
    assert.ok(store.includes(keyId()), 'the store shows the key id');
    const pub = await fetch(`${signed.url}/minisign.pub`);
    assert.equal(pub.status, 200);
    assert.equal(await pub.text(), publicKeyFile, '/minisign.pub is byte for byte the file minisign -G wrote');
  });

  test("the delivery e-mail links SHA256SUMS and its signature; minisign accepts it, sha256sum -c passes on the downloads, a tampered copy is refused", async () => {
    const minisignPath = requireProgram(minisign);
    const { txnId, mail, text } = await buy(signed, 'signed');
    const sumsUrl = new RegExp(`SHA256SUMS: (${signed.url}/d/sums/[A-Za-z0-9_-]{43}/SHA256SUMS)\\n`).exec(text)?.[1];
    const sigUrl = new RegExp(`SHA256SUMS\\.minisig: (${signed.url}/d/sums/[A-Za-z0-9_-]{43}/SHA256SUMS\\.minisig)\\n`).exec(text)?.[1];
    assert.ok(sumsUrl && sigUrl, `the e-mail links SHA256SUMS and SHA256SUMS.minisig:\n${text}`);
    assert.ok(text.includes(`minisign public key: ${publicKey()}`), 'the e-mail gives the public key');
    assert.ok(text.includes(`Key ID: ${keyId()}`), 'the e-mail gives the key id');
    assert.ok(text.includes(`minisign -Vm SHA256SUMS -P ${publicKey()} && sha256sum -c SHA256SUMS`), 'Linux command');
    assert.ok(text.includes(`minisign -Vm SHA256SUMS -P ${publicKey()} && shasum -a 256 -c SHA256SUMS`), 'macOS command');
    assert.ok(text.includes(`minisign.exe -Vm SHA256SUMS -P ${publicKey()}; if ($?) {`) && text.includes('Get-FileHash -Algorithm SHA256'), 'Windows command');
    const html = typeof mail.parsed.html === 'string' ? mail.parsed.html : '';
    assert.ok(html.includes(`href="${sigUrl}"`), 'the HTML e-mail links the signature');
    // The e-mail as the buyer reads it, for a person to look at after the run.
    await mkdir(artifactsDir, { recursive: true });
    await writeFile(path.join(artifactsDir, 'kind-checksums-delivery.txt'), text);

    // What the buyer does: download everything into one folder, then run the e-mail's Linux line.
    const folder = await mkdtemp(path.join(dir, 'buyer-'));
    const downloadUrls = [...text.matchAll(new RegExp(`${signed.url}/d/[A-Za-z0-9_-]{43}(?=\\s)`, 'g'))].map((m) => m[0]);
    assert.equal(downloadUrls.length, files.length);
    for (const url of [...downloadUrls, sumsUrl, sigUrl]) {
      const response = await fetch(url);
      assert.equal(response.status, 200, url);
      const saveAs = parseContentDisposition(response.headers.get('content-disposition') ?? '').parameters.filename!;
      await writeFile(path.join(folder, saveAs), Buffer.from(await response.arrayBuffer()));
    }
    const sums = await readFile(path.join(folder, 'SHA256SUMS'), 'utf8');
    assert.equal(sums.trim().split('\n').length, files.length, sums);
    const verified = await run(minisignPath, ['-Vm', 'SHA256SUMS', '-P', publicKey()], folder);
    assert.equal(verified.code, 0, `minisign -V refused Keyship's signature: ${verified.output}`);
    const { rows } = await signed.db.pool.query<{ number: string }>('SELECT number FROM invoices WHERE txn_id = $1', [txnId]);
    assert.match(verified.output, new RegExp(`Trusted comment: timestamp:\\d+\\tfile:SHA256SUMS\\thashed\\tinvoice:${rows[0]!.number}`));
    await writeFile(path.join(folder, 'minisign.pub'), await (await fetch(`${signed.url}/minisign.pub`)).text());
    assert.equal((await run(minisignPath, ['-Vm', 'SHA256SUMS', '-p', 'minisign.pub'], folder)).code, 0, 'minisign -V -p with the fetched minisign.pub');
    const checked = await run('sha256sum', ['-c', 'SHA256SUMS'], folder);
    assert.equal(checked.code, 0, `sha256sum -c failed: ${checked.output}`);
    assert.equal(checked.output.match(/: OK$/gm)?.length, files.length, checked.output);
    // The same link always answers the same signature (the api signs on request).
    assert.equal(await (await fetch(sigUrl)).text(), await readFile(path.join(folder, 'SHA256SUMS.minisig'), 'utf8'));

    // One changed hash: minisign refuses it.
    const [first, ...rest] = sums.split('\n');
    await writeFile(path.join(folder, 'SHA256SUMS'), [`${first![0] === '0' ? '1' : '0'}${first!.slice(1)}`, ...rest].join('\n'));
    const tampered = await run(minisignPath, ['-Vm', 'SHA256SUMS', '-P', publicKey()], folder);
    assert.notEqual(tampered.code, 0, 'minisign accepted a tampered SHA256SUMS');
    assert.match(tampered.output, /Signature verification failed/);

    // The copy Postgres keeps withholds the link keys, like the download keys.
    const stored = await signed.db.pool.query<{ text_body: string }>(`SELECT n.text_body FROM notifications n JOIN invoices i ON i.id = n.invoice_id WHERE i.txn_id = $1 AND n.kind = 'delivery'`, [txnId]);
    assert.ok(!stored.rows[0]!.text_body.includes(new URL(sumsUrl).pathname), 'the stored copy has no link key');
    assert.match(stored.rows[0]!.text_body, /SHA256SUMS: \[withheld; sha256 [0-9a-f]{12}…\]/);
  });

  test('the thank-you page shows the links, the public key and its key id (screenshot)', { skip: skipWithout(chromium) }, async () => {
    const { txnId } = await buy(signed, 'thanks');
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${signed.url}/thanks/${txnId}`, { timeout: 15_000 });
      const part = page.locator('[data-kind="signed-checksums"]');
      const shown = await part.innerText({ timeout: 5_000 });
      assert.ok(shown.includes(publicKey()) && shown.includes(keyId()), shown);
      assert.equal(await part.locator('a', { hasText: /\/SHA256SUMS\.minisig$/ }).count(), 1);
      await part.scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath('kind-checksums-thanks'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  test('a refund stops the checksum links at once; an unknown link is not found', async () => {
    const { txnId, text } = await buy(signed, 'refunded');
    const sumsUrl = new RegExp(`${signed.url}/d/sums/[A-Za-z0-9_-]{43}/SHA256SUMS`).exec(text)![0];
    assert.equal((await fetch(sumsUrl)).status, 200);
    const { rows } = await signed.db.pool.query<{ id: string }>('SELECT id FROM invoices WHERE txn_id = $1', [txnId]);
    // The refund's own activity (what the workflow runs on a refund), then the very next request.
    await signed.activities.revokeKeys({ invoiceId: Number(rows[0]!.id), reason: 'refunded' });
    const refused = await fetch(sumsUrl);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /refunded, so its links no longer work/);
    assert.equal((await fetch(`${sumsUrl}.minisig`)).status, 403);
    assert.equal((await fetch(`${signed.url}/d/sums/${'A'.repeat(43)}/SHA256SUMS`)).status, 404);
  });

  test('new links stop the old checksum links; a dispute pauses them; they expire with the download keys', async () => {
    const { txnId, text } = await buy(signed, 'regenerated');
    const linkIn = (mailText: string) => new RegExp(`${signed.url}/d/sums/[A-Za-z0-9_-]{43}/SHA256SUMS`).exec(mailText)![0];
    const oldLink = linkIn(text);
    const { rows } = await signed.db.pool.query<{ id: string; payer_email: string }>('SELECT id, payer_email FROM invoices WHERE txn_id = $1', [txnId]);
    const invoiceId = Number(rows[0]!.id);
    // What an operator's "new links" runs: the delivery activity for generation 2.
    const expiresAt = new Date(Date.now() + 86400_000).toISOString();
    await signed.activities.sendKeys({ invoiceId, generation: 2, expiresAt, purpose: 'regenerate', dedupeKey: `regenerate-${txnId}` });
    const [again] = await signed.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(rows[0]!.payer_email) && /^New download links/.test(m.parsed.subject ?? ''));
    const newLink = linkIn(again!.parsed.text ?? '');
    assert.notEqual(newLink, oldLink);
    assert.equal((await fetch(oldLink)).status, 403, "the first generation's link is withdrawn");
    assert.equal((await fetch(newLink)).status, 200);

    await signed.db.pool.query(`UPDATE invoices SET status = 'disputed' WHERE id = $1`, [invoiceId]);
    const paused = await fetch(newLink);
    assert.equal(paused.status, 403);
    assert.match(await paused.text(), /dispute/);
    await signed.db.pool.query(`UPDATE invoices SET status = 'fulfilled' WHERE id = $1`, [invoiceId]);
    assert.equal((await fetch(newLink)).status, 200, 'the dispute resolved, the link works again');

    await signed.db.pool.query(`UPDATE download_keys SET expires_at = now() - interval '1 minute' WHERE invoice_id = $1 AND generation = 2`, [invoiceId]);
    assert.equal((await fetch(newLink)).status, 410, 'expired with the download keys');
    // An extension (the same generation, a later expiry) brings it back.
    await signed.activities.sendKeys({ invoiceId, generation: 2, expiresAt, purpose: 'extend', dedupeKey: `extend-${txnId}` });
    assert.equal((await fetch(newLink)).status, 200, 'extended with the download keys');
  });

  test('without SIGNING_KEY_FILE nothing about signatures appears', async () => {
    const { text, mail } = await buy(unsigned, 'unsigned');
    assert.ok(text.includes('/d/'), 'the files are delivered');
    assert.doesNotMatch(text, /SHA256SUMS|minisign|Signed checksums/);
    assert.equal(typeof mail.parsed.html, 'string', 'the e-mail has an HTML part to check');
    assert.doesNotMatch(mail.parsed.html as string, /SHA256SUMS|minisign/);
    assert.doesNotMatch(await (await fetch(`${unsigned.url}/store`)).text(), /minisign|Signed checksums/);
    assert.equal((await fetch(`${unsigned.url}/minisign.pub`)).status, 404);
  });
});
