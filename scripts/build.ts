// `npm run build`: the production build. Compiles the api, the worker, the migrations and the
// workflows to plain JavaScript in dist/ (tsconfig.build.json), copies the files they read at run
// time beside them, and prebuilds the workflow bundle from the compiled workflows, so production
// runs `node dist/api/main.js` and `node dist/worker/main.js` with neither tsx nor webpack at start.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function run(what: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: ${what} failed (exit ${result.signal ?? result.status}); see the output above.`);
    process.exit(1);
  }
}

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
run('compiling the TypeScript (tsc -p tsconfig.build.json)', process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);

// Files read next to the code at run time: SQL migrations, mail templates, PayPal's certificates.
for (const name of readdirSync(path.join(root, 'db', 'migrations')).filter((n) => n.endsWith('.sql'))) {
  cpSync(path.join(root, 'db', 'migrations', name), path.join(dist, 'db', 'migrations', name));
}
for (const folder of ['mail-templates', path.join('paypal', 'trust')]) {
  cpSync(path.join(root, folder), path.join(dist, folder), { recursive: true });
}

// The compiled bundler builds dist/workflow-bundles/ from dist/workflows (plain node, no tsx).
run('bundling the workflows', process.execPath, [path.join(dist, 'worker', 'workflow-bundle.js')]);
console.log(`build: dist/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
