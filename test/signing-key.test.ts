// SIGNING_KEY_FILE: unset, nothing is signed; set, a key minisign made without a password signs;
// anything else (no such file, a folder, the public key, a password-protected key) is one
// sentence naming the variable and the fix, and the worker and the api refuse to start with it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../config/env';
import { invoiceSettingsFromConfig } from '../domain/invoice-settings';
import { generateSecretKeyFile } from '../domain/minisign';
import { signingKeyFromConfig } from '../domain/signing-key';
import { freshDatabase, type TestDatabase } from './harness';
import { findMinisign, requireProgram, skipWithout } from './harness/programs';
import { freePort } from './harness/ports';
import { startKeyship } from './production-processes';

const minisign = findMinisign();

/** minisign, its standard input empty; rejects on a non-zero exit. */
function runMinisign(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(requireProgram(minisign), args, { cwd, timeout: 10_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`minisign ${args.join(' ')} failed: ${error.message} ${stderr}`)) : resolve(`${stdout}${stderr}`),
    );
    child.stdin?.end();
  });
}

const configWith = (file: string | undefined) => loadConfig(file === undefined ? {} : { SIGNING_KEY_FILE: file });

function refusal(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, /^SIGNING_KEY_FILE is ".*" but /);
    assert.match(error.message, pattern);
    assert.match(error.message, /or unset SIGNING_KEY_FILE to deliver without signed checksums\.$/);
    return true;
  };
}

describe('SIGNING_KEY_FILE', { skip: skipWithout(minisign) }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'keyship-signing-key-'));
    await runMinisign(['-G', '-W', '-p', 'plain.pub', '-s', 'plain.key'], dir);
    // What `minisign -G` writes with a password: the key derivation "Sc" (scrypt) in bytes 2-3. Made
    // here rather than by minisign, whose scrypt takes a gigabyte and many seconds.
    const locked = Buffer.from(generateSecretKeyFile().split('\n')[1]!, 'base64');
    locked.write('Sc', 2, 'latin1');
    await writeFile(path.join(dir, 'locked.key'), `untrusted comment: minisign encrypted secret key\n${locked.toString('base64')}\n`);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('unset: signing is off', () => {
    assert.equal(signingKeyFromConfig(configWith(undefined)), undefined);
    assert.equal(invoiceSettingsFromConfig(configWith(undefined)).signing, undefined);
  });

  test("a key minisign made without a password is read, with minisign's key id", async () => {
    const key = invoiceSettingsFromConfig(configWith(path.join(dir, 'plain.key'))).signing;
    assert.ok(key);
    const pub = await readFile(path.join(dir, 'plain.pub'), 'utf8');
    assert.equal(key.publicKeyFile, pub);
  });

  test('no such file, a folder, the public key, a password-protected key: one sentence each, with the fix', () => {
    assert.throws(() => signingKeyFromConfig(configWith(path.join(dir, 'missing.key'))), refusal(/but there is no such file; create a key without a password with "minisign -G -W -s .*missing\.key"/));
    assert.throws(() => signingKeyFromConfig(configWith(dir)), refusal(/but it is a folder; create a key/));
    assert.throws(() => signingKeyFromConfig(configWith(path.join(dir, 'plain.pub'))), refusal(/not a minisign secret key Keyship can sign with: .*; point it at the secret key "minisign -G -W" wrote/));
    assert.throws(() => signingKeyFromConfig(configWith(path.join(dir, 'locked.key'))), refusal(/it is password-protected; Keyship signs unattended, so remove the password with "minisign -C -W -s .*locked\.key"/));
    // The worker's and the api's settings carry the same refusal (KEY_SECRET's place).
    assert.throws(() => invoiceSettingsFromConfig(configWith(path.join(dir, 'missing.key'))), refusal(/no such file/));
  });

  test('a damaged key (its public half not its secret half) is refused', async () => {
    const text = generateSecretKeyFile();
    const bytes = Buffer.from(text.split('\n')[1]!, 'base64');
    bytes[100]! ^= 1; // a bit of the stored public key
    await writeFile(path.join(dir, 'damaged.key'), `untrusted comment: x\n${bytes.toString('base64')}\n`);
    assert.throws(() => signingKeyFromConfig(configWith(path.join(dir, 'damaged.key'))), refusal(/does not match its secret half/));
  });

  test('a key Keyship generates is one minisign signs with', async () => {
    await writeFile(path.join(dir, 'made.key'), generateSecretKeyFile());
    await writeFile(path.join(dir, 'data'), 'data\n');
    await runMinisign(['-S', '-W', '-s', 'made.key', '-m', 'data'], dir);
    const key = signingKeyFromConfig(configWith(path.join(dir, 'made.key')))!;
    await writeFile(path.join(dir, 'made.pub'), key.publicKeyFile);
    assert.match(await runMinisign(['-Vm', 'data', '-p', 'made.pub'], dir), /Signature and comment signature verified/);
  });

  describe('at start', () => {
    let db: TestDatabase;
    before(async () => {
      db = await freshDatabase();
    });
    after(async () => {
      await db?.close();
    });

    for (const name of ['worker', 'api'] as const) {
      test(`the ${name} does not start with an unreadable SIGNING_KEY_FILE, and says why`, async () => {
        const missing = path.join(dir, 'nowhere', 'seller.key');
        const process = startKeyship(name, {
          DATABASE_URL: db.url,
          ADMIN_TOKEN: 'signing-key-test-admin-token',
          // Nothing listens there: the process must stop before it needs Temporal.
          TEMPORAL_ADDRESS: '127.0.0.1:9',
          API_PORT: String(await freePort()),
          WORKER_METRICS_PORT: '0',
          SIGNING_KEY_FILE: missing,
        });
        const timer = setTimeout(() => process.kill(), 30_000);
        try {
          const { code } = await process.exited;
          const output = process.lines.map((l) => l.text).join('\n');
          assert.notEqual(code, 0, output);
          const fatal = process.json().find((line) => line.level === 'fatal');
          assert.ok(String(fatal?.msg).includes(`: SIGNING_KEY_FILE is "${missing}" but there is no such file; create a key`), output);
        } finally {
          clearTimeout(timer);
          process.kill();
        }
      });
    }
  });
});
