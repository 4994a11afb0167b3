// Replays the saved histories of every invoice-workflow path (test/histories/<version>/*.binpb)
// against the current workflow code, so a change that would break running invoices fails CI. Each
// folder holds the histories one version of the workflow code wrote; a change guarded by patched()
// starts a new folder and keeps the old ones, which then prove the guard.
// Save the current version's (after a patched() change, or when a change is meant to be
// incompatible, together with a versioning plan for running workflows):
// KEYSHIP_SAVE_HISTORIES=1 npx tsx test/run.ts test/invoice-workflow.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './harness';
import { currentHistoriesVersion } from './invoice-fixtures';

const dir = path.join(__dirname, 'histories');
const versions = readdirSync(dir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const histories = versions.flatMap((version) =>
  readdirSync(path.join(dir, version))
    .filter((name) => name.endsWith('.binpb'))
    .sort()
    .map((name) => ({
      path: `${version}/${name.split('--')[0]!}`,
      // Saved as <path>--<workflow id>.binpb: the workflow reads its transaction id from its id.
      workflowId: name.replace(/^.*--/, '').replace(/\.binpb$/, ''),
      history: temporal.api.history.v1.History.decode(readFileSync(path.join(dir, version, name))),
    })),
);

async function replay(workflowsPath?: string) {
  const results: { path: string; error?: Error }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(workflowsPath) }, histories)) {
    // Answers come in the order the histories went in (two paths may share a workflow id).
    const replayed = histories[results.length]!;
    assert.equal(result.workflowId, replayed.workflowId);
    results.push({ path: replayed.path, error: result.error as Error | undefined });
  }
  return results;
}

test('every saved invoice history replays on the current workflow code', async () => {
  assert.ok(versions.includes(currentHistoriesVersion), `test/histories/${currentHistoriesVersion} (the current code's) is replayed`);
  assert.ok(versions.length >= 2, 'the histories of the code before the local-activities patch are replayed too');
  for (const version of versions) {
    const saved = histories.filter((h) => h.path.startsWith(`${version}/`)).length;
    assert.ok(saved >= 15, `expected the saved histories of every path in ${version}, found ${saved}`);
  }
  const results = await replay();
  assert.equal(results.length, histories.length);
  for (const result of results) assert.equal(result.error, undefined, `${result.path}: ${result.error?.message}`);
});

test('a workflow that acts in another order fails the replay (the check can fail)', async () => {
  const results = await replay(require.resolve('./invoice-replay-changed-workflow'));
  const cards = results.filter((r) => r.path.endsWith('/card'));
  assert.equal(cards.length, versions.length);
  for (const card of cards) assert.match(String(card.error?.name), /DeterminismViolationError/, card.path);
});
