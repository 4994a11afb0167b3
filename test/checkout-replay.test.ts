// Replays the saved histories of the checkout workflow's paths (test/histories-checkout) against the
// current code, so a change that would break a checkout in flight fails CI. Save them anew with
// KEYSHIP_SAVE_HISTORIES=1 npx tsx test/run.ts test/paypal-checkout.test.ts test/paypal-checkout-time.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './harness';
import { checkoutHistoriesDir } from './fixtures/checkout-histories';

test('every saved checkout history replays on the current workflow code', async () => {
  const files = readdirSync(checkoutHistoriesDir).filter((name) => name.endsWith('.binpb')).sort();
  const paths = files.map((name) => name.split('--')[0]!);
  for (const needed of ['return', 'closed-tab', 'double-capture', 'declined', 'echeck', 'abandoned']) assert.ok(paths.includes(needed), `a saved history of the ${needed} path`);
  const histories = files.map((name) => ({
    workflowId: name.replace(/^.*--/, '').replace(/\.binpb$/, ''),
    history: temporal.api.history.v1.History.decode(readFileSync(path.join(checkoutHistoriesDir, name))),
  }));
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
    assert.equal(result.error, undefined, `${paths[replayed]}: ${(result.error as Error | undefined)?.message}`);
    replayed += 1;
  }
  assert.equal(replayed, histories.length);
});
