// The PayPal protocol pieces on their own: charsets, the form codec both ways, PayPal's dates, the
// certificate URL policy and the certificate fetcher's cache, the webhook replay window.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { CertRefusedError, createCertFetcher } from '../../paypal/cert-fetcher';
import { refusePayPalCertUrl } from '../../paypal/cert-trust';
import { encodeIpnForm, parseIpnBody } from '../../paypal/ipn-form';
import { formatPayPalDate, parsePayPalDate } from '../../paypal/payment-date';
import { parsePdtAnswer } from '../../paypal/pdt-client';
import { PayPalUnavailableError } from '../../paypal/unavailable-error';
import { replayProblem } from '../../paypal/webhook-intake';
import { decodeWindows1252, encodeWindows1252 } from '../../paypal/windows-1252';

test('windows-1252 decodes the euro sign and curly quotes (0x80..0x9F), unlike latin1', () => {
  assert.equal(decodeWindows1252(Buffer.from([0x80, 0x93, 0x94, 0xe9, 0x9f])), '€“”éŸ');
  assert.deepEqual([...encodeWindows1252('€“”éŸ東')], [0x80, 0x93, 0x94, 0xe9, 0x9f, 0x3f]);
});

test('an IPN body decodes with its charset field, windows-1252 when there is none', () => {
  const cp1252 = parseIpnBody(Buffer.from('first_name=Zo%EB&item_name=Caf%E9+%80+5&custom=a%2Bb+c', 'latin1'));
  assert.deepEqual(cp1252.fields, { first_name: 'Zoë', item_name: 'Café € 5', custom: 'a+b c' });
  assert.equal(cp1252.charset, 'windows-1252');
  const utf8 = parseIpnBody(Buffer.from('first_name=Zo%C3%AB&last_name=%E5%B1%B1%E7%94%B0&charset=UTF-8', 'latin1'));
  assert.deepEqual([utf8.fields.first_name, utf8.fields.last_name, utf8.charset], ['Zoë', '山田', 'utf-8']);
  const latin2 = parseIpnBody(Buffer.from('last_name=%A3ukasz&charset=iso-8859-2', 'latin1'));
  assert.equal(latin2.fields.last_name, 'Łukasz');
  // Duplicates and order are kept; a stray % stays as it is.
  const odd = parseIpnBody(Buffer.from('a=1&a=2&b=100%&c', 'latin1'));
  assert.deepEqual(odd.pairs, [['a', '1'], ['a', '2'], ['b', '100%'], ['c', '']]);
  assert.equal(odd.fields.a, '1');
});

test('the simulator writes forms as PayPal does and the parser reads them back', () => {
  const pairs: [string, string][] = [['payment_date', '15:23:54 Apr 15, 2005 PDT'], ['address_street', '164 Waverley Street'], ['first_name', 'Zoë'], ['payer_email', 'a.b-c_d*e@example.com']];
  const cp1252 = encodeIpnForm(pairs, 'windows-1252');
  assert.equal(cp1252.toString('latin1'), 'payment_date=15%3A23%3A54+Apr+15%2C+2005+PDT&address_street=164+Waverley+Street&first_name=Zo%EB&payer_email=a.b-c_d*e%40example.com');
  assert.deepEqual(parseIpnBody(cp1252).pairs, pairs);
  assert.deepEqual(parseIpnBody(encodeIpnForm([...pairs, ['charset', 'utf-8']], 'utf-8')).pairs.slice(0, 4), pairs);
});

test('PayPal dates (Pacific time) become ISO 8601 and back', () => {
  assert.equal(parsePayPalDate('15:23:54 Apr 15, 2005 PDT'), '2005-04-15T22:23:54.000Z');
  assert.equal(parsePayPalDate('17:42:05 Mar 13, 2012 PDT'), '2012-03-14T00:42:05.000Z');
  assert.equal(parsePayPalDate('01:02:03 Jan 05, 2024 PST'), '2024-01-05T09:02:03.000Z');
  assert.equal(parsePayPalDate('yesterday'), undefined);
  for (const iso of ['2024-01-05T09:02:03.000Z', '2024-07-01T12:00:00.000Z']) assert.equal(parsePayPalDate(formatPayPalDate(new Date(iso))), iso);
  assert.match(formatPayPalDate(new Date('2024-07-01T12:00:00Z')), /^05:00:00 Jul 01, 2024 PDT$/);
});

test('a PDT answer: SUCCESS with form-escaped lines in its charset, or FAIL with the reason', () => {
  const success = parsePdtAnswer(Buffer.from('SUCCESS\nfirst_name=Zo%EB\nmc_gross=19.95\ncharset=windows-1252\npayer_email=a%40b.example\n', 'latin1'));
  assert.equal(success.status, 'SUCCESS');
  assert.deepEqual(success.status === 'SUCCESS' && [success.form.fields.first_name, success.form.fields.payer_email], ['Zoë', 'a@b.example']);
  const failure = parsePdtAnswer(Buffer.from('FAIL\nError: 4003\n'));
  assert.deepEqual(failure.status === 'FAIL' && failure.reason, 'Error: 4003');
  assert.equal(parsePdtAnswer(Buffer.from('<html>')).status, 'FAIL');
});

test('webhook certificates are fetched only over HTTPS from paypal.com hosts', () => {
  assert.equal(refusePayPalCertUrl('https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb'), undefined);
  assert.equal(refusePayPalCertUrl('https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1'), undefined);
  assert.match(refusePayPalCertUrl('http://api.paypal.com/cert') ?? '', /not HTTPS/);
  assert.match(refusePayPalCertUrl('https://evilpaypal.com/cert') ?? '', /not a paypal\.com host/);
  assert.match(refusePayPalCertUrl('https://api.paypal.com.evil.example/cert') ?? '', /not a paypal\.com host/);
  assert.match(refusePayPalCertUrl('https://user@api.paypal.com/cert') ?? '', /credentials or a port/);
  assert.match(refusePayPalCertUrl('https://api.paypal.com:8443/cert') ?? '', /credentials or a port/);
  assert.match(refusePayPalCertUrl('file:///etc/passwd') ?? '', /not HTTPS/);
  assert.match(refusePayPalCertUrl('not a url') ?? '', /is not a URL/);
});

test('the certificate fetcher caches, follows no redirect, and tells refusal from outage', async () => {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/cert') return res.end('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    if (req.url === '/moved') return res.writeHead(302, { location: 'https://example.com/' }).end();
    if (req.url === '/down') return res.writeHead(503).end();
    return res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const fetcher = createCertFetcher({ refuseUrl: (url) => (url.startsWith(base) ? undefined : 'not allowed here') });
    assert.match(await fetcher.get(`${base}/cert`), /BEGIN CERTIFICATE/);
    await fetcher.get(`${base}/cert`);
    assert.deepEqual(hits, ['/cert']);
    await assert.rejects(fetcher.get('https://example.com/cert'), CertRefusedError);
    await assert.rejects(fetcher.get(`${base}/missing`), CertRefusedError);
    await assert.rejects(fetcher.get(`${base}/moved`), PayPalUnavailableError);
    await assert.rejects(fetcher.get(`${base}/down`), PayPalUnavailableError);
    // A failure is not cached: the next delivery asks again.
    await assert.rejects(fetcher.get(`${base}/down`), PayPalUnavailableError);
    assert.deepEqual(hits, ['/cert', '/missing', '/moved', '/down', '/down']);
  } finally {
    server.close();
  }
});

test('the replay window refuses old and future transmissions', () => {
  const now = new Date('2024-08-03T00:00:00Z');
  assert.equal(replayProblem('2024-08-02T19:33:35Z', now, 86400), undefined);
  assert.match(replayProblem('2024-07-30T19:33:35Z', now, 86400) ?? '', /outside the 86400 s replay window/);
  assert.match(replayProblem('2024-08-05T00:00:00Z', now, 86400) ?? '', /outside/);
  assert.match(replayProblem('soon', now, 86400) ?? '', /is not a time/);
});
