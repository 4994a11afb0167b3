// docs/configuration.md is what the schema generates, and what the schema documents as a default
// is what an unset variable gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { environmentVariables, loadConfig } from '../../config/env';
import { configurationReference, referencePath } from '../../config/reference';

test('docs/configuration.md is the reference the schema generates', () => {
  assert.equal(readFileSync(referencePath, 'utf8'), configurationReference(), 'docs/configuration.md is stale: run npm run docs:config and commit it');
});

test('every variable the design names is read', () => {
  const names = new Set(environmentVariables.map((v) => v.name));
  const contract = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'SMTP_URL', 'MAIL_FROM', 'PUBLIC_URL', 'PAYPAL_MODE', 'PAYPAL_IPN_VERIFY_URL', 'PAYPAL_RECEIVER_EMAIL', 'PAYPAL_WEBHOOK_ID', 'PAYPAL_API_URL', 'PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET', 'PAYPAL_WEBHOOK_VERIFY', 'ADMIN_TOKEN', 'FILES_DIR', 'KEY_TTL'];
  assert.deepEqual(contract.filter((name) => !names.has(name)), []);
  assert.equal(names.size, environmentVariables.length, 'a variable is read twice');
});

test('each variable has a one-line meaning', () => {
  for (const { name, description } of environmentVariables) {
    assert.match(description, /^[^\n]{10,}$/, `${name} needs a one-line description`);
  }
});

// Unset, these take what PAYPAL_MODE picks (the simulator's own in simulator mode), which their descriptions say.
const pickedByMode = ['PAYPAL_IPN_VERIFY_URL', 'PAYPAL_API_URL', 'PAYPAL_PDT_TOKEN', 'PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET', 'PAYPAL_WEBHOOK_ID', 'PAYPAL_CHECKOUT'];

test('a variable documented as unset gives no value, and a documented default is the value an unset one gives', () => {
  const unset = loadConfig({});
  const at = (config: unknown, path: string[]) => path.reduce<unknown>((group, key) => (group as Record<string, unknown>)[key], config);
  for (const { name, path, defaultText } of environmentVariables) {
    if (defaultText === undefined) {
      if (!pickedByMode.includes(name)) assert.equal(at(unset, path), undefined, `${name} has a value when unset but documents none`);
      continue;
    }
    assert.deepEqual(at(loadConfig({ [name]: defaultText }), path), at(unset, path), `${name}'s documented default "${defaultText}" is not what an unset ${name} gives`);
  }
});
