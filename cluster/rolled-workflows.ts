// The "new code" a rolling upgrade deploys in the cluster test: a copy of workflows/ whose invoice
// workflow has one more patched() branch (a one-millisecond timer, a new command), bundled and
// placed where a dist/ worker looks for its bundle (WORKFLOW_BUNDLE_CACHE, under the name the
// worker computes), so the deployed worker runs it with no change to the worker itself.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { warningsOnly } from '../worker/workflow-bundle';

const root = path.resolve(__dirname, '..');

/** The patch id new invoice runs record (a marker in their history). */
export const rollPatchId = 'cluster-rolled-timer';

/** Builds the rolled bundle; answers the folder to start a worker with (WORKFLOW_BUNDLE_CACHE). */
export async function buildRolledBundle(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyship-rolled-'));
  cpSync(path.join(root, 'workflows'), path.join(dir, 'workflows'), { recursive: true });
  // The copy's relative imports and packages resolve to the real ones.
  for (const name of ['domain', 'activities', 'node_modules']) symlinkSync(path.join(root, name), path.join(dir, name));
  const file = path.join(dir, 'workflows', 'invoice.ts');
  const anchor = '  registerHandlers(run);\n';
  const source = readFileSync(file, 'utf8');
  if (!source.includes(anchor) || !/^\s+patched,$/m.test(source)) {
    throw new Error('workflows/invoice.ts no longer has `registerHandlers(run);` in invoice() or no longer imports patched; update cluster/rolled-workflows.ts to add its patched() branch elsewhere.');
  }
  writeFileSync(file, `import { sleep as rolledSleep } from '@temporalio/workflow';\n${source.replace(anchor, `${anchor}  if (patched('${rollPatchId}')) await rolledSleep(1);\n`)}`);
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows', 'index.ts'), logger: warningsOnly });
  // The name dist/'s worker looks for (its own source hash), holding the rolled code.
  const compiled = (await import(path.join(root, 'dist', 'worker', 'workflow-bundle.js'))) as { workflowBundleFile(): string };
  const cache = path.join(dir, 'bundle');
  mkdirSync(cache);
  writeFileSync(path.join(cache, path.basename(compiled.workflowBundleFile())), code);
  return cache;
}
