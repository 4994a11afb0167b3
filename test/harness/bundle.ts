// Bundling workflow code takes seconds; each test process does it once per workflows file.
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { warningsOnly } from '../../worker/workflow-bundle';

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

export function workflowBundle(workflowsPath = require.resolve('../../workflows')): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: warningsOnly });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}
