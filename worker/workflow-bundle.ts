// The worker runs a prebuilt workflow bundle. Bundling (webpack) inside the worker's own process
// left its memory behind for the life of the process (npm run bench: about 300 MiB of the worker's
// RSS with nothing running). So the bundle is built in a short-lived child process, once per
// content of the workflows' folder and SDK version, and kept in node_modules/.cache/keyship; later
// starts load the file. The Docker image builds it at image build time (`tsx worker/workflow-bundle.ts`).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const defaultWorkflowsPath = path.join(root, 'workflows', 'index.ts');
const cacheDir = path.join(root, 'node_modules', '.cache', 'keyship');

/**
 * What the bundle is made of: every .ts file in the workflows' folder (workflows import nothing
 * from outside it but the SDK) and the versions of the SDK packages bundled with them.
 */
function sourceHash(workflowsPath: string): string {
  const hash = createHash('sha256').update(path.relative(root, workflowsPath));
  const dir = path.dirname(workflowsPath);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
    hash.update(`\0${name}\0`).update(readFileSync(path.join(dir, name)));
  }
  for (const pkg of ['@temporalio/workflow', '@temporalio/common', '@temporalio/worker']) {
    hash.update(`\0${pkg}@${(JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version}`);
  }
  return hash.digest('hex').slice(0, 20);
}

export function workflowBundleFile(workflowsPath = defaultWorkflowsPath): string {
  return path.join(cacheDir, `${path.basename(path.dirname(workflowsPath))}-${path.basename(workflowsPath, '.ts')}-${sourceHash(workflowsPath)}.js`);
}

/** The bundle's file for the worker's `workflowBundle: { codePath }`, built first if missing. */
export async function prebuiltWorkflowBundle(workflowsPath = defaultWorkflowsPath): Promise<{ codePath: string }> {
  const file = workflowBundleFile(workflowsPath);
  if (!existsSync(file)) await buildInChild(workflowsPath, file);
  return { codePath: file };
}

function buildInChild(workflowsPath: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Its output is kept out of the worker's log (JSON lines) and told only if the build fails.
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, workflowsPath, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0 && existsSync(file)) resolve();
      else reject(new Error(`bundling the workflows in ${workflowsPath} failed (exit ${signal ?? code}): ${output.trim()}`));
    });
  });
}

async function build(workflowsPath: string, file: string): Promise<void> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: warningsOnly });
  mkdirSync(path.dirname(file), { recursive: true });
  // Written aside and renamed: two workers starting at once never load half a file.
  const partial = `${file}.${randomBytes(4).toString('hex')}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, file);
  for (const old of readdirSync(path.dirname(file))) {
    const stale = old !== path.basename(file) && old.startsWith(path.basename(file).replace(/[0-9a-f]{20}\.js$/, '')) && !old.endsWith('.partial');
    if (stale) rmSync(path.join(path.dirname(file), old), { force: true });
  }
}

const quiet = () => undefined;
const warningsOnly = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };

if (require.main === module) {
  const [workflowsPath = defaultWorkflowsPath, file = workflowBundleFile(workflowsPath)] = process.argv.slice(2);
  build(path.resolve(workflowsPath), path.resolve(file)).then(
    () => console.log(`workflow bundle: ${path.relative(process.cwd(), path.resolve(file))}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
