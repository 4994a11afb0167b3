// The Node.js Keyship runs on is written in three places that must agree: package.json's
// devDependency `node` (the exact Node.js npm scripts run on), its `engines`, and the Dockerfile's
// base images (what production runs). These tests hold them together and check that the test run
// itself, and any `node` a script starts by name, is that pinned Node.js.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import semver from 'semver';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const pinned = pkg.devDependencies.node ?? '';
const through = 'run the tests through npm (npm test, or npx tsx test/run.ts FILE), which puts node_modules/.bin first on PATH';

test('the pinned Node.js is one exact version of an LTS line, and engines admits it and nothing older', () => {
  assert.ok(semver.valid(pinned), `devDependencies.node is "${pinned}"; pin one exact version (npm install -DE node@24)`);
  assert.ok(semver.satisfies(pinned, pkg.engines.node), `engines.node "${pkg.engines.node}" does not admit the pinned ${pinned}`);
  assert.ok(!semver.satisfies('20.19.0', pkg.engines.node) && !semver.satisfies('22.20.0', pkg.engines.node), `engines.node "${pkg.engines.node}" admits a line CI does not test`);
});

test('this test run is on the pinned Node.js, an LTS release', () => {
  assert.equal(process.versions.node, pinned, `the tests run on Node.js ${process.version}, not the pinned ${pinned}; ${through}`);
  assert.equal(typeof process.release.lts, 'string', `Node.js ${process.version} is not an LTS release`);
});

test('a `node` started by name, as npm scripts and tsx start it, is the pinned Node.js too', () => {
  const version = execFileSync('node', ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 30_000 }).trim();
  assert.equal(version, pinned, `\`node\` on PATH is ${version}, not the pinned ${pinned}; ${through}`);
});

test("the production image's every stage is built on the pinned Node.js", () => {
  const bases = [...readFileSync(path.join(root, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(bases.length >= 2, 'the Dockerfile has a build and a runtime stage');
  for (const base of bases) assert.equal(base, `node:${pinned}-bookworm-slim`, `the Dockerfile builds FROM ${base}; use the pinned node:${pinned}-bookworm-slim`);
});
