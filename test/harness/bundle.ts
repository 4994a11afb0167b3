// Bundling workflow code takes seconds; each test process does it once per workflows file.
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

export function workflowBundle(workflowsPath = require.resolve('../../workflows')): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: quietLogger });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
