// The worker runs a prebuilt workflow bundle. Bundling (webpack) inside the worker's own process
// leaves its memory behind for the life of the process. So the bundle is built in a short-lived child process, once per
// content of the workflows' folder and SDK version, and kept in node_modules/.cache/keyship; later
// starts load the file. Compiled (`npm run build`, dist/) the same code bundles dist/workflows/*.js
// into dist/workflow-bundles/ at build time, so the production image ships the bundle ready.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Run from dist/ as plain JavaScript, or from the sources through tsx.
const compiled = path.extname(__filename) === '.js';
const sourceExt = compiled ? '.js' : '.ts';
const root = path.resolve(__dirname, '..');
const defaultWorkflowsPath = path.join(root, 'workflows', `index${sourceExt}`);
// WORKFLOW_BUNDLE_CACHE moves the cache (a test that needs a first start's bundling uses an empty one).
const cacheDir = path.resolve(process.env.WORKFLOW_BUNDLE_CACHE ?? (compiled ? path.join(root, 'workflow-bundles') : path.join(root, 'node_modules', '.cache', 'keyship')));

/**
 * What the bundle is made of: every .ts (compiled: .js) file in the entry's folder, in workflows/ and in domain/
 * (workflow code imports nothing else but them and the SDK; bench/floor-workflow.ts imports
 * workflows/messages.ts) and the versions of the SDK packages bundled with them.
 */
function sourceHash(workflowsPath: string): string {
  const hash = createHash('sha256').update(path.relative(root, workflowsPath));
  for (const dir of new Set([path.dirname(workflowsPath), path.dirname(defaultWorkflowsPath), path.join(root, 'domain')])) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith(sourceExt)).sort()) {
      hash.update(`\0${path.relative(root, dir)}/${name}\0`).update(readFileSync(path.join(dir, name)));
    }
  }
  for (const pkg of ['@temporalio/workflow', '@temporalio/common', '@temporalio/worker']) {
    hash.update(`\0${pkg}@${(JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version}`);
  }
  return hash.digest('hex').slice(0, 20);
}

/** Bundles of one entry share this prefix; the source hash follows it. */
function filePrefix(workflowsPath: string): string {
  return `${path.basename(path.dirname(workflowsPath))}-${path.basename(workflowsPath, path.extname(workflowsPath))}-`;
}

export function workflowBundleFile(workflowsPath = defaultWorkflowsPath): string {
  return path.join(cacheDir, `${filePrefix(workflowsPath)}${sourceHash(workflowsPath)}.js`);
}

/** The bundle's file for the worker's `workflowBundle: { codePath }`, built first if missing. */
export async function prebuiltWorkflowBundle(workflowsPath = defaultWorkflowsPath): Promise<{ codePath: string }> {
  const file = workflowBundleFile(workflowsPath);
  if (!existsSync(file)) await buildInChild(workflowsPath);
  return { codePath: file };
}

function buildInChild(workflowsPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Its output is kept out of the worker's log (JSON lines) and told only if the build fails.
    const child = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), __filename, workflowsPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    // The builder goes with the worker, also when only the worker was signalled (a container's PID 1).
    const stopBuilder = () => child.kill('SIGTERM');
    process.once('exit', stopBuilder);
    child.once('close', (code, signal) => {
      process.off('exit', stopBuilder);
      if (code === 0) resolve();
      else reject(new Error(`bundling the workflows in ${workflowsPath} failed (exit ${signal ?? code}): ${output.trim()}`));
    });
  });
}

/** Builds the bundle into the cache; answers its file. */
async function build(workflowsPath: string): Promise<string> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: warningsOnly });
  const file = workflowBundleFile(workflowsPath);
  mkdirSync(cacheDir, { recursive: true });
  // Written aside and renamed: two workers starting at once never load half a file.
  const partial = `${file}.${randomBytes(4).toString('hex')}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, file);
  // Older bundles of the same entry go (never another builder's .partial file).
  for (const old of readdirSync(cacheDir)) {
    if (old.startsWith(filePrefix(workflowsPath)) && old.endsWith('.js') && old !== path.basename(file)) rmSync(path.join(cacheDir, old), { force: true });
  }
  return file;
}

const quiet = () => undefined;
/** The bundler's logger: its warnings and errors, not its progress (the tests' bundles use it too). */
export const warningsOnly = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };

if (require.main === module) {
  build(path.resolve(process.argv[2] ?? defaultWorkflowsPath)).then(
    (file) => console.log(`workflow bundle: ${path.relative(process.cwd(), file)}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
