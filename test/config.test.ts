// Configuration: defaults fit the embedded stack; every bad value is named in one sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseDurationSeconds, secretsOf } from '../config/env';

test('defaults describe the embedded stack of npm start', () => {
  const config = loadConfig({});
  assert.equal(config.databaseUrl, 'postgres://keyship@127.0.0.1:5433/keyship');
  assert.equal(config.temporal.address, '127.0.0.1:7233');
  assert.equal(config.temporal.namespace, 'default');
  assert.equal(config.smtpUrl, 'smtp://127.0.0.1:1025');
  assert.equal(config.paypal.mode, 'simulator');
  assert.equal(config.paypal.ipnVerifyUrl, 'http://127.0.0.1:8090/cgi-bin/webscr');
  assert.equal(config.keyTtlSeconds, 3 * 86400);
});

test('PAYPAL_MODE picks the postback endpoint and PAYPAL_IPN_VERIFY_URL overrides it', () => {
  assert.equal(loadConfig({ PAYPAL_MODE: 'live' }).paypal.ipnVerifyUrl, 'https://ipnpb.paypal.com/cgi-bin/webscr');
  assert.equal(loadConfig({ PAYPAL_MODE: 'sandbox' }).paypal.ipnVerifyUrl, 'https://ipnpb.sandbox.paypal.com/cgi-bin/webscr');
  assert.equal(
    loadConfig({ PAYPAL_MODE: 'live', PAYPAL_IPN_VERIFY_URL: 'http://127.0.0.1:9/x' }).paypal.ipnVerifyUrl,
    'http://127.0.0.1:9/x',
  );
});

test('KEY_TTL takes s, m, h and d', () => {
  assert.equal(parseDurationSeconds('90m'), 5400);
  assert.equal(parseDurationSeconds('72h'), 259200);
  assert.equal(parseDurationSeconds('3600'), 3600);
  assert.equal(parseDurationSeconds('0d'), undefined);
  assert.equal(parseDurationSeconds('3 weeks'), undefined);
  assert.equal(loadConfig({ KEY_TTL: '7d' }).keyTtlSeconds, 7 * 86400);
});

test('each bad variable gets one sentence naming it, the problem and the fix', () => {
  const bad = {
    DATABASE_URL: 'mysql://x',
    PAYPAL_MODE: 'production',
    KEY_TTL: 'soon',
    API_PORT: '70000',
    TEMPORAL_ADDRESS: 'temporal',
    ADMIN_TOKEN: 'short-secret',
    PAYPAL_RECEIVER_EMAIL: 'not-an-address',
  };
  assert.throws(
    () => loadConfig(bad),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const lines = error.message.split('\n');
      assert.equal(lines.length, Object.keys(bad).length);
      for (const name of Object.keys(bad)) {
        const line = lines.find((l) => l.startsWith(`${name} `));
        assert.ok(line, `no sentence about ${name}`);
        assert.match(line, /but .+; set it in the environment/);
      }
      assert.ok(!error.message.includes('short-secret'), 'a secret was echoed back');
      assert.match(error.message, /PAYPAL_MODE is "production" but must be live, sandbox or simulator/);
      return true;
    },
  );
});

test('a required variable that is missing is named', () => {
  assert.throws(() => loadConfig({}, { require: ['ADMIN_TOKEN'] }), { name: 'ConfigError', message: /^ADMIN_TOKEN is missing; set it in the environment/ });
});

test('mTLS needs both the certificate and the key', () => {
  assert.throws(() => loadConfig({ TEMPORAL_TLS_CERT: '/etc/tls/client.pem' }), /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/);
});

test('every secret the configuration holds is handed to the log redaction', () => {
  const secrets = {
    ADMIN_TOKEN: 'admin-token-0123456789',
    KEY_SECRET: 'key-secret-0123456789-0123456789-0123',
    TEMPORAL_API_KEY: 'temporal-api-key',
    PAYPAL_CLIENT_SECRET: 'paypal-client-secret',
    PAYPAL_PDT_TOKEN: 'paypal-pdt-token',
  };
  assert.deepEqual(secretsOf(loadConfig({ ...secrets, PAYPAL_CLIENT_ID: 'client-id' })).sort(), Object.values(secrets).sort());
  assert.deepEqual(secretsOf(loadConfig({})).sort(), ['SIMULATOR-PDT-IDENTITY-TOKEN', 'simulator-client-secret']);
});

test('PayPal Checkout (Orders v2) needs the REST app: a missing client id, secret or webhook id is named', () => {
  const simulator = loadConfig({});
  assert.deepEqual([simulator.paypal.checkout, simulator.paypal.clientId, simulator.paypal.webhookId], ['both', 'simulator-client-id', 'WEBHOOK_ID'], 'the simulator plays the REST app');
  assert.equal(loadConfig({ PAYPAL_MODE: 'live' }).paypal.checkout, 'classic', 'no REST app: the classic buttons only');
  assert.throws(
    () => loadConfig({ PAYPAL_MODE: 'live', PAYPAL_CHECKOUT: 'orders' }),
    (error: Error) => error instanceof ConfigError && /PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID are missing/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ PAYPAL_MODE: 'sandbox', PAYPAL_CLIENT_ID: 'app', PAYPAL_CLIENT_SECRET: 'secret' }),
    (error: Error) => error instanceof ConfigError && /PAYPAL_CHECKOUT=both .*PAYPAL_WEBHOOK_ID is missing/.test(error.message) && !error.message.includes('secret.'),
  );
  const rest = loadConfig({ PAYPAL_MODE: 'live', PAYPAL_CLIENT_ID: 'app', PAYPAL_CLIENT_SECRET: 'secret', PAYPAL_WEBHOOK_ID: '1JE4291016473214C', PAYPAL_CHECKOUT: 'orders' });
  assert.deepEqual([rest.paypal.checkout, rest.paypal.apiUrl], ['orders', 'https://api-m.paypal.com']);
});
