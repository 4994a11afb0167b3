// License keys without a database: the random format and its check character (every single
// mistyped character and every swap of two different neighbours is caught), what typing is
// forgiven, and the signed payload (Ed25519 from the package's derived key: checks with the public
// key, refuses a changed payload or another package's key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { checkCharacter, deriveRandomKey, licensePublicKey, licenseStatus, parseLicenseKey, payloadText, signKey } from '../../domain/license-keys';
import { licenseExpiry, licenseSettingsSchema, makeLicenseKey } from '../../kinds/license-keys';

const secret = Buffer.from('unit-test-license-secret-0123456789abcdef');
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

test('a random key is KS- and four groups of five Crockford characters, the last one a check character; derived again it is the same', () => {
  const key = deriveRandomKey(secret, { invoiceId: 7, packageId: 3, unit: 1, serial: 1 });
  assert.match(key, /^KS-[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
  assert.equal(deriveRandomKey(secret, { invoiceId: 7, packageId: 3, unit: 1, serial: 1 }), key);
  const others = [{ unit: 2 }, { serial: 2 }, { packageId: 4 }, { invoiceId: 8 }].map((o) => deriveRandomKey(secret, { invoiceId: 7, packageId: 3, unit: 1, serial: 1, ...o }));
  assert.equal(new Set([key, ...others]).size, 5, 'unit, serial, package and invoice each give another key');
  const body = key.replace(/^KS-|-/g, '');
  assert.equal(checkCharacter(body.slice(0, 19)), body[19]);
  assert.deepEqual(parseLicenseKey(key), { ok: true, format: 'random', canonical: key });
});

test('the check character catches every single mistyped character and every swap of two different neighbours', () => {
  for (let n = 0; n < 40; n++) {
    const body = deriveRandomKey(secret, { invoiceId: n, packageId: 1, unit: 1, serial: 1 }).replace(/^KS-|-/g, '');
    for (let i = 0; i < body.length; i++) {
      for (const c of alphabet) {
        if (c === body[i]) continue;
        const typo = body.slice(0, i) + c + body.slice(i + 1);
        assert.equal(parseLicenseKey(typo).ok, false, `${body} with ${c} at ${i}`);
      }
      if (i + 1 < body.length && body[i] !== body[i + 1]) {
        const swapped = body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2);
        // Luhn mod 32 misses exactly one swap: of the characters worth 0 and 31 (0 and Z).
        if (!['0Z', 'Z0'].includes(body[i]! + body[i + 1]!)) assert.equal(parseLicenseKey(swapped).ok, false, `${body} swapped at ${i}`);
      }
    }
  }
});

test('what a person types is forgiven: lower case, spaces, no dashes, O for 0, I and L for 1; the rest is refused with a sentence', () => {
  const key = deriveRandomKey(secret, { invoiceId: 1, packageId: 1, unit: 1, serial: 1 });
  const loose = ` ${key.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l')} `;
  assert.deepEqual(parseLicenseKey(loose), { ok: true, format: 'random', canonical: key });
  assert.deepEqual(parseLicenseKey(key.slice(3).replace(/-/g, '')), { ok: true, format: 'random', canonical: key });
  for (const bad of ['', 'hello', key.slice(0, -1), `${key}X`, key.replace(/-[^-]+$/, '-UUUUU')]) {
    const parsed = parseLicenseKey(bad);
    assert.equal(parsed.ok, false, bad);
    if (!parsed.ok) assert.match(parsed.problem, /^This .+[.;] .+\.$/);
  }
  const typo = parseLicenseKey(key.slice(0, 3) + (key[3] === 'A' ? 'B' : 'A') + key.slice(4));
  assert.equal(typo.ok || typo.problem, 'This license key has a typing mistake (its check character does not match); compare it with the e-mail character by character.');
});

test('a signed key: compact payload and Ed25519 signature, checked with the public key; a changed payload or another package\'s key is refused', () => {
  const payload = payloadText({ id: 'KS-001001/1/1', b: 'ada@buyer.test', p: 'APP-2', v: '2.x', e: '2027-01-01T00:00:00.000Z' });
  assert.equal(payload, '{"id":"KS-001001/1/1","b":"ada@buyer.test","p":"APP-2","v":"2.x","e":"2027-01-01T00:00:00.000Z"}');
  const key = signKey(secret, 5, payload);
  assert.equal(signKey(secret, 5, payload), key, 'Ed25519 is deterministic: the same payload gives the same key');
  const [prefix, data, signature] = key.split('.');
  assert.equal(prefix, 'KSL1');
  assert.equal(Buffer.from(data!, 'base64url').toString(), payload);
  const { pem, raw } = licensePublicKey(secret, 5);
  assert.equal(Buffer.from(raw, 'base64').length, 32);
  const check = (d: string, s: string, p = pem) => verify(null, Buffer.from(d, 'base64url'), createPublicKey(p), Buffer.from(s, 'base64url'));
  assert.equal(check(data!, signature!), true);
  const tampered = Buffer.from(payload.replace('"2.x"', '"9.x"')).toString('base64url');
  assert.equal(check(tampered, signature!), false);
  assert.equal(check(data!, signature!, licensePublicKey(secret, 6).pem), false, 'each package has its own key');
  assert.equal(check(data!, signature!, licensePublicKey(Buffer.from('another-secret-0123456789abcdef0123'), 5).pem), false);
  const parsed = parseLicenseKey(key);
  assert.ok(parsed.ok && parsed.format === 'signed' && parsed.payload?.p === 'APP-2');
  assert.equal(parseLicenseKey(`KSL1.${data}.${signature!.slice(1)}`).ok, false, 'a cut signature is malformed');
  assert.equal(parseLicenseKey(`KSL1.${Buffer.from('{"x":1}').toString('base64url')}.${signature}`).ok, false, 'a payload without the fields is malformed');
});

test('settings: form strings and JSON, defaults, validity as a duration or a last day; a key keeps its facts', () => {
  assert.deepEqual(licenseSettingsSchema.parse({}), { format: 'random', version: '1', validity: '' });
  assert.deepEqual(licenseSettingsSchema.parse({ format: 'signed', version: 2, validity: '365d' }), { format: 'signed', version: '2', validity: '365d' });
  assert.deepEqual(licenseSettingsSchema.parse({ format: '', version: '2.x', validity: '2027-12-31' }), { format: 'random', version: '2.x', validity: '2027-12-31' });
  for (const bad of [{ format: 'rot13' }, { version: 'two words' }, { validity: 'forever' }, { validity: '2027-13-45' }]) assert.equal(licenseSettingsSchema.safeParse(bad).success, false, JSON.stringify(bad));
  const bought = new Date('2026-03-01T10:00:00Z');
  assert.equal(licenseExpiry('', bought), null);
  assert.equal(licenseExpiry('365d', bought)?.toISOString(), '2027-03-01T10:00:00.000Z');
  assert.equal(licenseExpiry('2027-12-31', bought)?.toISOString(), '2028-01-01T00:00:00.000Z');
  const made = makeLicenseKey(secret, { invoiceId: 1, invoiceNumber: 'KS-1', packageId: 2, itemNumber: 'APP', buyer: 'b@x.test', unit: 2, serial: 1, format: 'signed', version: '3', expiresAt: null });
  assert.equal(made.row.payload, '{"id":"KS-1/2/1","b":"b@x.test","p":"APP","v":"3","e":null}');
  assert.equal(made.row.keyTail, made.key.slice(-6));
});

test('a key is revoked when its row or its invoice says so, expired after its expiry, valid otherwise; a dispute alone changes nothing', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const live = { revoked_at: null, expires_at: new Date('2027-01-01T00:00:00Z'), invoice_status: 'fulfilled' };
  assert.equal(licenseStatus(live, now), 'valid');
  assert.equal(licenseStatus({ ...live, invoice_status: 'keys_expired' }, now), 'valid', 'download links expire; the license does not');
  assert.equal(licenseStatus({ ...live, invoice_status: 'disputed' }, now), 'valid');
  assert.equal(licenseStatus({ ...live, invoice_status: 'refunded' }, now), 'revoked');
  assert.equal(licenseStatus({ ...live, revoked_at: now }, now), 'revoked');
  assert.equal(licenseStatus({ ...live, expires_at: new Date('2026-01-01T00:00:00Z') }, now), 'expired');
  assert.equal(licenseStatus({ ...live, expires_at: new Date('2026-01-01T00:00:00Z'), invoice_status: 'reversed' }, now), 'revoked');
  assert.equal(licenseStatus({ ...live, expires_at: null }, now), 'valid');
});
