// Every PayPal sample kept in paypal/samples: IPN bodies parse and are echoed byte for byte in the
// postback; every webhook vector verifies at a time inside its certificate's life and fails when
// one byte of the body, the webhook id or the signature changes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { payPalCertTrust, paypalSubjects } from '../../paypal/cert-trust';
import type { CertFetcher } from '../../paypal/cert-fetcher';
import { parseIpnBody } from '../../paypal/ipn-form';
import { ipnToNotification } from '../../paypal/ipn-notification';
import { createIpnVerifier } from '../../paypal/ipn-postback';
import { createOfflineWebhookVerifier } from '../../paypal/webhook-verifier';
import { bodyCrc32, readTransmission, signedString } from '../../paypal/webhook-transmission';
import { webhookToNotification, type WebhookEvent } from '../../paypal/webhook-notification';

const samples = path.join(__dirname, '..', '..', 'paypal', 'samples');
const read = (name: string) => fs.readFileSync(path.join(samples, name));

interface Vector {
  body: string;
  headers: string;
  webhook_id: string;
  crc32: number;
  signed_string: string;
  cert: string;
  expected_valid: boolean;
  event_type: string;
}
const vectors = JSON.parse(read('webhook-vectors.json').toString('utf8')) as Vector[];

// A clock inside each certificate's validity period (both are expired today).
const clockFor: Record<string, Date> = {
  'cert-sandbox-CERT-360caa42-fca2a594-a5cafa77.pem': new Date('2015-06-01T00:00:00Z'),
  'cert-live-CERT-360caa42-fca2a594-1a5f47cb.pem': new Date('2024-08-03T00:00:00Z'),
};

/** Serves the stored certificate for the vector's cert URL, as PayPal's cert endpoint would. */
function storedCert(vector: Vector): CertFetcher & { urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    get(url) {
      urls.push(url);
      return Promise.resolve(read(vector.cert).toString('latin1'));
    },
  };
}

function verifierFor(vector: Vector, webhookId = vector.webhook_id, clock = clockFor[vector.cert]) {
  const trust = payPalCertTrust({ subjects: [paypalSubjects.live, paypalSubjects.sandbox] });
  return createOfflineWebhookVerifier({ webhookId, trust, certs: storedCert(vector), clock: () => clock ?? new Date() });
}

test('every IPN sample parses into the fields PayPal sent', () => {
  const one = parseIpnBody(read('ipn-01-web_accept-completed-simulator.txt'));
  assert.equal(one.charset, 'windows-1252');
  assert.equal(one.declaredCharset, undefined);
  assert.equal(one.fields.payment_date, '23:04:06 Feb 02, 2009 PDT');
  assert.equal(one.fields.address_street, '123 any street');
  assert.equal(one.fields.payer_email, 'buyer@paypalsandbox.com');
  const three = parseIpnBody(read('ipn-03-web_accept-completed-cad-2005.txt'));
  assert.equal(three.fields.address_name, 'Tobias Luetke');
  assert.equal(three.fields.custom, '');
  assert.equal(three.pairs.length, 35);
  const nine = parseIpnBody(read('ipn-09-refunded-subscr_payment.txt'));
  assert.equal(nine.declaredCharset, 'windows-1252');
  assert.equal(nine.fields.txn_type, undefined);
  assert.equal(nine.fields.mc_gross, '-5.95');
});

test('IPN samples map to the notification the invoice workflow needs', () => {
  const context = { source: 'ipn' as const, messageId: 1, dedupeKey: 'k' };
  const one = ipnToNotification(parseIpnBody(read('ipn-01-web_accept-completed-simulator.txt')).fields, context);
  assert.ok(one.ok);
  assert.deepEqual(
    { txn: one.notification.txnId, status: one.notification.status, items: one.notification.items, gross: one.notification.gross, sandbox: one.notification.sandbox, date: one.notification.paymentDate },
    { txn: '593976436', status: 'Completed', items: [{ itemNumber: 'AK-1234', itemName: 'something', quantity: 1, gross: '12.34' }], gross: '12.34', sandbox: true, date: '2009-02-03T06:04:06.000Z' },
  );
  const three = ipnToNotification(parseIpnBody(read('ipn-03-web_accept-completed-cad-2005.txt')).fields, context);
  assert.ok(three.ok);
  assert.equal(three.notification.currency, 'CAD');
  assert.equal(three.notification.receiverEmail, 'tobi@leetsoft.com');
  const nine = ipnToNotification(parseIpnBody(read('ipn-09-refunded-subscr_payment.txt')).fields, context);
  assert.ok(nine.ok);
  assert.deepEqual(
    [nine.notification.txnId, nine.notification.eventTxnId, nine.notification.status, nine.notification.reasonCode, nine.notification.gross],
    ['6SR99524AP993094V', '33R88456DU653693H', 'Refunded', 'refund', '-5.95'],
  );
});

test('the postback carries every IPN sample byte for byte, with a User-Agent', async () => {
  const received: { body: Buffer; userAgent?: string; contentType?: string }[] = [];
  const peer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks), userAgent: req.headers['user-agent'], contentType: req.headers['content-type'] });
      res.end(received.length === 1 ? 'VERIFIED' : 'INVALID');
    });
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  try {
    const verifier = createIpnVerifier({ url: `http://127.0.0.1:${(peer.address() as AddressInfo).port}/cgi-bin/webscr` });
    const names = fs.readdirSync(samples).filter((name) => /^ipn-.*\.txt$/.test(name) && !name.endsWith('.source.txt'));
    assert.equal(names.length, 3);
    const verdicts = [];
    for (const name of names) verdicts.push(await verifier.verify(read(name)));
    assert.deepEqual(verdicts, ['VERIFIED', 'INVALID', 'INVALID']);
    names.forEach((name, i) => {
      assert.ok(received[i]?.body.equals(Buffer.concat([Buffer.from('cmd=_notify-validate&'), read(name)])), name);
      assert.match(received[i]?.userAgent ?? '', /\S/);
      assert.equal(received[i]?.contentType, 'application/x-www-form-urlencoded');
    });
  } finally {
    peer.close();
  }
});

for (const vector of vectors) {
  test(`webhook vector ${vector.body}`, async (t) => {
    const raw = read(vector.body);
    const headers = JSON.parse(read(vector.headers).toString('utf8')) as Record<string, string>;
    const transmission = readTransmission(headers);
    assert.ok(!('missing' in transmission));
    assert.equal(bodyCrc32(raw), vector.crc32);
    assert.equal(signedString(transmission, vector.webhook_id, raw), vector.signed_string);

    await t.test('verifies inside the certificate validity', async () => {
      assert.deepEqual(await verifierFor(vector).verify({ headers, raw }), { ok: vector.expected_valid } as never);
    });
    await t.test('fails when one byte of the body changes', async () => {
      for (const at of [0, Math.floor(raw.length / 2), raw.length - 1]) {
        const changed = Buffer.from(raw);
        changed[at] = (changed[at] ?? 0) ^ 0x01;
        const verdict = await verifierFor(vector).verify({ headers, raw: changed });
        assert.equal(verdict.ok, false, `byte ${at}`);
      }
    });
    await t.test('fails with another webhook id', async () => {
      const other = vector.webhook_id.slice(0, -1) + (vector.webhook_id.endsWith('X') ? 'Y' : 'X');
      assert.equal((await verifierFor(vector, other).verify({ headers, raw })).ok, false);
    });
    await t.test('fails when one byte of the signature changes', async () => {
      const sig = Buffer.from(transmission.signature, 'base64');
      sig[10] = (sig[10] ?? 0) ^ 0x80;
      const key = Object.keys(headers).find((name) => name.toLowerCase() === 'paypal-transmission-sig') ?? '';
      assert.equal((await verifierFor(vector).verify({ headers: { ...headers, [key]: sig.toString('base64') }, raw })).ok, false);
    });
    await t.test('fails outside the certificate validity', async () => {
      const verdict = await verifierFor(vector, vector.webhook_id, new Date('2030-01-01T00:00:00Z')).verify({ headers, raw });
      assert.equal(verdict.ok, false);
      assert.match(verdict.ok ? '' : verdict.reason, /valid .* not at 2030/);
    });
    await t.test('maps to a notification when it is a capture', () => {
      const mapped = webhookToNotification(JSON.parse(raw.toString('utf8')) as WebhookEvent, { messageId: 7 });
      assert.ok(mapped.ok, vector.event_type);
      if (vector.event_type === 'PAYMENT.CAPTURE.REFUNDED') {
        assert.deepEqual([mapped.notification.txnId, mapped.notification.eventTxnId, mapped.notification.gross], ['0JF852973C016714D', '1Y107995YT783435V', '-0.99']);
      }
      if (vector.event_type === 'PAYMENT.CAPTURE.COMPLETED') {
        assert.deepEqual([mapped.notification.txnId, mapped.notification.status, mapped.notification.gross], ['12A34567BC123456S', 'Completed', '30.00']);
      }
    });
  });
}

test('a sandbox certificate is refused where only the live subject is trusted', async () => {
  const vector = vectors.find((v) => v.cert.includes('sandbox'));
  assert.ok(vector);
  const trust = payPalCertTrust({ subjects: [paypalSubjects.live] });
  const verifier = createOfflineWebhookVerifier({ webhookId: vector.webhook_id, trust, certs: storedCert(vector), clock: () => new Date('2015-06-01T00:00:00Z') });
  const verdict = await verifier.verify({ headers: JSON.parse(read(vector.headers).toString('utf8')) as Record<string, string>, raw: read(vector.body) });
  assert.equal(verdict.ok, false);
  assert.match(verdict.ok ? '' : verdict.reason, /messageverificationcerts\.sandbox\.paypal\.com is not messageverificationcerts\.paypal\.com/);
});

test('a leaf that does not chain to the bundled DigiCert root is refused', async () => {
  const vector = vectors[0];
  assert.ok(vector);
  // Trusting only the leaf's intermediate as a root, without the real root, still chains; trusting nothing must not.
  const trust = payPalCertTrust({ subjects: [paypalSubjects.live], intermediates: [], roots: [] });
  const verifier = createOfflineWebhookVerifier({ webhookId: vector.webhook_id, trust, certs: storedCert(vector), clock: () => new Date('2024-08-03T00:00:00Z') });
  const verdict = await verifier.verify({ headers: JSON.parse(read(vector.headers).toString('utf8')) as Record<string, string>, raw: read(vector.body) });
  assert.match(verdict.ok ? '' : verdict.reason, /does not chain to a trusted root/);
});
