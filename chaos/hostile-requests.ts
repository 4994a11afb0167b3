// Hostile requests for each public endpoint, as fast-check arbitraries: malformed charsets and
// percent-encoding, random bytes, bodies past every limit, CR/LF, NUL, path traversal, SQL
// meta-characters in every field, and download keys of every length.
import fc from 'fast-check';

export interface RequestSpec {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** Pieces a hostile string is built from. */
const metas = [
  "'", '"', ';', '--', '/*', '*/', '\\', '%', '_', '\r\n', '\n', '\r', '\0', '../', '..\\', '%00', '%0d%0a', '%2e%2e%2f',
  'Bcc: victim@evil.test', "' OR '1'='1", "'); DROP TABLE invoices;--", '$1', '\\x00', 'é', '€', 'ÿ', '\uFFFD', '\uD800', '\u202E',
  '😀', '<script>alert(1)</script>', '${7*7}', '{{x}}', '&', '=', '+', '#', '?', ' ', '\t', 'NULL', '\u0085', '\u2028',
];

export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.oneof(fc.constantFrom(...metas), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 10 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'A'.repeat(n)) },
);

/** Header values a client can send at all (no CR, LF or NUL, Latin-1 only). */
const headerText: fc.Arbitrary<string> = hostileText.map((s) => [...s].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) <= 0xff && ch !== '\x7f').join('').slice(0, 4000));

/** A value written into a form body: properly escaped, raw, broken percent-escapes, or random bytes. */
const formValue: fc.Arbitrary<Buffer> = fc.oneof(
  hostileText.map((s) => Buffer.from(encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?')))),
  hostileText.map((s) => Buffer.from(s, 'utf8')),
  hostileText.map((s) => Buffer.from(s, 'latin1')),
  fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from([...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''))),
  fc.constantFrom('%', '%z', '%e2%82', '%C0%AF', '%ff%fe', '+++', '%%%').map((s) => Buffer.from(s)),
);

const ipnFields = [
  'txn_id', 'parent_txn_id', 'payment_status', 'pending_reason', 'mc_gross', 'mc_currency', 'item_number', 'item_name', 'quantity',
  'receiver_email', 'business', 'payer_email', 'payer_id', 'first_name', 'last_name', 'charset', 'ipn_track_id', 'txn_type',
  'num_cart_items', 'item_number1', 'item_name1', 'mc_gross_1', 'quantity1', 'custom', 'invoice', 'payment_date', 'test_ipn', 'reason_code',
];
const charsets = ['windows-1252', 'utf-8', 'UTF-8', 'iso-8859-1', 'utf-16', 'UTF16_PlatformEndian', 'UTF16_OppositeEndian', 'shift_jis', 'x-mac-roman', 'utf-7', 'big5', 'nonsense', '', 'utf-8\0'];

const formBody: fc.Arbitrary<Buffer> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...ipnFields).map((s) => Buffer.from(s)), formValue),
      fc.oneof(formValue, fc.constantFrom(...charsets).map((s) => Buffer.from(encodeURIComponent(s)))),
    ),
    { maxLength: 30 },
  )
  .map((pairs) => Buffer.concat(pairs.flatMap(([name, value], i) => [...(i ? [Buffer.from('&')] : []), name, Buffer.from('='), value])));

const hugeBody: fc.Arbitrary<Buffer> = fc.integer({ min: 60_000, max: 400_000 }).map((n) => Buffer.alloc(n, 'a=b&'));

const anyBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: formBody },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: hugeBody },
);

const contentTypes = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded; charset=nonsense',
  'text/plain',
  'application/json',
  'multipart/form-data; boundary=x',
  'multipart/form-data',
  '',
);

function withType(contentType: string, extra: Record<string, string> = {}): Record<string, string> {
  return contentType ? { 'content-type': contentType, ...extra } : extra;
}

export const ipnRequest: fc.Arbitrary<RequestSpec> = fc.tuple(anyBody, contentTypes).map(([body, type]) => ({ method: 'POST', path: '/paypal/ipn', headers: withType(type), body }));

const webhookJson: fc.Arbitrary<Buffer> = fc
  .record({
    id: hostileText,
    event_type: fc.oneof(fc.constantFrom('PAYMENT.CAPTURE.COMPLETED', 'PAYMENT.CAPTURE.REFUNDED', 'CHECKOUT.ORDER.APPROVED', 'CUSTOMER.DISPUTE.CREATED'), hostileText),
    create_time: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), hostileText),
    resource: fc.record({
      id: hostileText,
      status: hostileText,
      amount: fc.record({ value: hostileText, currency_code: hostileText }),
      links: fc.array(fc.record({ rel: fc.constantFrom('up', 'self', ''), href: hostileText }), { maxLength: 3 }),
    }),
  })
  .map((event) => Buffer.from(JSON.stringify(event)));

export function webhookRequest(simulatorUrl: string): fc.Arbitrary<RequestSpec> {
  const certUrl = fc.oneof(
    fc.constantFrom(`${simulatorUrl}/v1/notifications/certs/CERT-x`, `${simulatorUrl}/../../etc/passwd`, 'file:///etc/passwd', 'http://169.254.169.254/latest/meta-data/', 'https://api.paypal.com.evil.test/cert', ''),
    headerText,
  );
  return fc
    .record({
      body: fc.oneof({ weight: 4, arbitrary: webhookJson }, { weight: 2, arbitrary: anyBody }, { weight: 1, arbitrary: fc.json().map((j) => Buffer.from(j)) }),
      type: fc.constantFrom('application/json', 'text/plain', ''),
      id: headerText,
      time: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), headerText),
      sig: fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')), headerText),
      cert: certUrl,
      algo: fc.oneof(fc.constantFrom('SHA256withRSA', 'SHA1withRSA', 'none'), headerText),
      omit: fc.boolean(),
    })
    .map(({ body, type, id, time, sig, cert, algo, omit }) => ({
      method: 'POST',
      path: '/paypal/webhook',
      headers: withType(type, omit ? {} : { 'paypal-transmission-id': id, 'paypal-transmission-time': time, 'paypal-transmission-sig': sig, 'paypal-cert-url': cert, 'paypal-auth-algo': algo }),
      body,
    }));
}

const segment = fc.oneof(
  hostileText.map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'))),
  fc.constantFrom('..', '../..', '..%2f..%2fetc%2fpasswd', '%2e%2e', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '.%00.', '%c0%ae%c0%ae', '....//', '%', '%zz', '%ff'),
  fc.stringMatching(/^[A-Za-z0-9]{1,40}$/),
);

export const thanksRequest: fc.Arbitrary<RequestSpec> = fc
  .record({ form: fc.integer({ min: 0, max: 2 }), tx: segment, n: segment })
  .map(({ form, tx, n }) => ({
    method: 'GET',
    path: form === 0 ? `/thanks?tx=${tx}&n=${n}` : form === 1 ? `/thanks/${tx}?n=${n}` : `/thanks/${tx}/${n}`,
    headers: {},
  }));

/** Keys of every length from 0 to 200, in the key alphabet and out of it, and paths that try to leave /d/. */
const keyLike = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 200 }).chain((length) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${length}}$`))) },
  { weight: 2, arbitrary: segment },
  { weight: 1, arbitrary: fc.constantFrom('../../../../etc/passwd', '..%2F..%2F..%2Fetc%2Fpasswd', '%2e%2e/%2e%2e/etc/passwd', 'x/../../y', '/etc/passwd', 'C:%5Cwindows%5Cwin.ini') },
);

const formOf = (fields: Record<string, string>) =>
  Buffer.from(Object.entries(fields).map(([k, v]) => `${k}=${encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, '?'))}`).join('&'));

export const downloadRequest: fc.Arbitrary<RequestSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        head: fc.boolean(),
        key: keyLike,
        range: fc.oneof(fc.constant(undefined), fc.constantFrom('bytes=0-', 'bytes=-1', 'bytes=99999999999999999999-', 'bytes=5-1', 'bytes=0-1,2-3', 'bytes=-0', 'items=0-1'), headerText),
        ifRange: fc.oneof(fc.constant(undefined), headerText),
      })
      .map(({ head, key, range, ifRange }) => ({
        method: head ? 'HEAD' : 'GET',
        path: `/d/${key}`,
        headers: { ...(range !== undefined ? { range } : {}), ...(ifRange !== undefined ? { 'if-range': ifRange } : {}) },
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ key: hostileText, email: fc.oneof(hostileText, fc.emailAddress()), invoice: hostileText, message: hostileText, problem: hostileText, raw: fc.option(anyBody), type: contentTypes })
      .map(({ raw, type, ...fields }) => ({ method: 'POST', path: '/d/request', headers: withType(type || 'application/x-www-form-urlencoded'), body: raw ?? formOf(fields) })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ key: fc.oneof(keyLike, hostileText), raw: fc.option(anyBody), type: contentTypes }).map(({ key, raw, type }) => ({
      method: 'POST',
      path: '/d/renew',
      headers: withType(type || 'application/x-www-form-urlencoded'),
      body: raw ?? formOf({ key }),
    })),
  },
);

export function adminLoginRequest(origin: string): fc.Arbitrary<RequestSpec> {
  return fc.oneof(
    { weight: 1, arbitrary: segment.map((next) => ({ method: 'GET', path: `/admin/login?next=${next}`, headers: {} })) },
    {
      weight: 4,
      arbitrary: fc
        .record({ token: hostileText, next: hostileText, raw: fc.option(anyBody, { freq: 3 }), type: contentTypes, from: fc.constantFrom(origin, 'http://evil.test', 'null', '') })
        .map(({ token, next, raw, type, from }) => ({
          method: 'POST',
          path: '/admin/login',
          headers: withType(type || 'application/x-www-form-urlencoded', from ? { origin: from } : {}),
          body: raw ?? formOf({ token, next }),
        })),
    },
  );
}

/** The other keyed links a buyer is sent (/a/, /t/, /d/sums/, /d/more-time/, /library/open/) and the store's own pages, each with the methods it answers. */
const keyedRoutes: Record<string, string[]> = {
  '/a/': ['GET'],
  '/t/': ['GET'],
  '/d/sums/': ['GET', 'HEAD'],
  '/d/more-time/': ['GET', 'POST'],
  '/library/open/': ['GET'],
  '/store?cancelled=': ['GET'],
  '/checkout/cancelled?token=': ['GET'],
  '/minisign.pub?': ['GET'],
};

export const keyedLinkRequest: fc.Arbitrary<RequestSpec> = fc
  .constantFrom(...Object.keys(keyedRoutes))
  .chain((route) =>
    fc.record({
      method: fc.constantFrom(...keyedRoutes[route]!),
      key: keyLike,
      path: route === '/d/sums/' ? fc.constantFrom('SHA256SUMS', 'SHA256SUMS.minisig', '').map((file) => (key: string) => `${route}${key}/${file}`) : fc.constant((key: string) => `${route}${key}`),
    }),
  )
  .map(({ method, key, path }) => ({ method, path: path(key), headers: {} }));

const jsonOf = (value: unknown) => Buffer.from(JSON.stringify(value));

/** Mostly the fields as a client would send them, one case in four a body of anything. */
const rawNow: fc.Arbitrary<Buffer | undefined> = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyBody });

/** What a buyer's browser or program posts: a license check, a library request, a checkout order and its capture. */
export const buyerPostRequest: fc.Arbitrary<RequestSpec> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({ key: fc.oneof(hostileText, fc.stringMatching(/^KS(-[A-Z0-9]{5}){4}$/)), pkg: fc.oneof(hostileText, fc.constant('GUIDE-1')), raw: rawNow, type: fc.constantFrom('application/json', 'text/plain', '') })
      .map(({ key, pkg, raw, type }) => ({ method: 'POST', path: '/api/licenses/verify', headers: withType(type), body: raw ?? jsonOf({ key, package: pkg }) })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ email: fc.oneof(hostileText, fc.emailAddress()), raw: rawNow, type: contentTypes }).map(({ email, raw, type }) => ({
      method: 'POST',
      path: '/library',
      headers: withType(type || 'application/x-www-form-urlencoded'),
      body: raw ?? formOf({ email }),
    })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ item: hostileText, quantity: fc.oneof(hostileText, fc.integer({ min: -5, max: 500 }).map(String)), json: fc.boolean(), raw: rawNow })
      .map(({ item, quantity, json, raw }) => ({
        method: 'POST',
        path: '/checkout/orders',
        headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
        body: raw ?? (json ? jsonOf({ items: [{ itemNumber: item, quantity }] }) : formOf({ item_number: item, quantity })),
      })),
  },
  { weight: 1, arbitrary: segment.map((id) => ({ method: 'POST', path: `/checkout/orders/${id}/capture`, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') })) },
);
