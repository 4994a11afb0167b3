// Replays the saved histories of every invoice-workflow path (test/histories/*.binpb) against the
// current workflow code, so a change that would break running invoices fails CI.
// Regenerate them (only when a change is meant to be incompatible, together with a versioning
// plan for running workflows): KEYSHIP_SAVE_HISTORIES=1 npx tsx test/run.ts test/invoice-workflow.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './harness';

const dir = path.join(__dirname, 'histories');
const histories = readdirSync(dir)
  .filter((name) => name.endsWith('.binpb'))
  .sort()
  .map((name) => ({
    path: name.split('--')[0]!,
    // Saved as <path>--<workflow id>.binpb: the workflow reads its transaction id from its id.
    workflowId: name.replace(/^.*--/, '').replace(/\.binpb$/, ''),
    history: temporal.api.history.v1.History.decode(readFileSync(path.join(dir, name))),
  }));

async function replay(workflowsPath?: string) {
  const results: { path: string; error?: Error }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(workflowsPath) }, histories)) {
    results.push({ path: histories.find((h) => h.workflowId === result.workflowId)!.path, error: result.error as Error | undefined });
  }
  return results;
}

test('every saved invoice history replays on the current workflow code', async () => {
  assert.ok(histories.length >= 15, `expected the saved histories of every path, found ${histories.length}`);
  const results = await replay();
  assert.equal(results.length, histories.length);
  for (const result of results) assert.equal(result.error, undefined, `${result.path}: ${result.error?.message}`);
});

test('a workflow that acts in another order fails the replay (the check can fail)', async () => {
  const results = await replay(require.resolve('./invoice-replay-changed-workflow'));
  const card = results.find((r) => r.path === 'card');
  assert.match(String(card?.error?.name), /DeterminismViolationError/);
});
