// CI's checks of docker-compose.yml and the Dockerfile, with no Docker engine: the compose file
// is valid against the Compose Specification's JSON schema; every image it and the Dockerfile
// name is pinned and on the checked list (docker/images.txt; no registry is reachable here, so a
// name is checked against that list, not against Docker Hub); every build path, Dockerfile and
// bind-mounted file exists; ports are published on loopback only; the image builds every folder
// the entry points import and runs dist/ with production dependencies only, as a non-root user;
// the production shape (the plain Temporal server at the cluster test's release, its schema from
// a one-shot temporal-sql-tool service, no development image); an explicit start order and
// nothing that stops --scale; the search attributes created are the code's; the environment the
// compose file gives Keyship passes its configuration check.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { loadConfig } from '../config/env';
import { cliSearchAttributeArgs } from '../workflows/search-attributes';
import { workerNodeOptions } from '../worker/memory';
import { temporalServerVersion } from '../temporal-server/server-build';

const root = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  ports?: (string | { host_ip?: string; published?: string | number })[];
  volumes?: (string | { type?: string; source?: string })[];
  environment?: Record<string, string | number | null> | string[];
  entrypoint?: string[];
  command?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] };
  restart?: string;
  container_name?: string;
}

/** What the COPY lines (not --from another stage) of a Dockerfile's text take from the build context. */
function copySources(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).slice(0, -1).map((source) => source.replace(/\/$/, '')));
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);

/** ${VAR:-default} and ${VAR-default} take the default, ${VAR:?message} a stand-in, ${VAR} empty. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    if (kind === '-') return rest ?? '';
    if (kind === '?') return `stand-in-for-${name.toLowerCase()}-0123456789abcdef0123456789abcdef`;
    return '';
  });
}

/** Relative imports from the entry points, followed through the tree: the top-level folders they reach. */
function foldersImportedBy(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const folders = new Set<string>();
  const resolve = (from: string, spec: string) => {
    const base = path.resolve(path.dirname(from), spec);
    return [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((f) => existsSync(f) && statSync(f).isFile());
  };
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    folders.add(path.relative(root, file).split(path.sep)[0]!);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:from\s+|import\(\s*|require(?:\.resolve)?\(\s*)'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(file, match[1]!);
      if (target && /\.tsx?$/.test(target)) visit(target);
    }
  };
  for (const entry of entries) visit(path.join(root, entry));
  return folders;
}

describe('docker-compose.yml and the Dockerfile', () => {
  test('the compose file is valid against the Compose Specification JSON schema', () => {
    // The schema as the dclint package (a maintained Compose linter) ships it; its $schema names a
    // draft-07 URL spelling Ajv does not know, and the schema is plain draft-07.
    const schemaFile = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
    assert.equal(schema.title, 'Compose Specification');
    delete schema.$schema;
    const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
    // The check can fail: a misspelt key is caught.
    assert.equal(validate({ ...compose, services: { ...compose.services, api: { ...compose.services.api, port: ['3000'] } } }), false);
  });

  test('every image is pinned and on the checked list, and the list names nothing unused', () => {
    const listed = read('docker/images.txt')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const built = new Set(services.filter(([, s]) => s.build).map(([, s]) => s.image));
    const fromCompose = services.map(([, s]) => s.image).filter((image): image is string => image !== undefined && !built.has(image));
    const fromDockerfile = [...read('Dockerfile').matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    const used = new Set([...fromCompose, ...fromDockerfile]);
    for (const image of used) {
      assert.match(image, /^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/, `${image} has no tag`);
      assert.doesNotMatch(image, /:latest$/, `${image} is not pinned`);
      assert.ok(listed.includes(image), `${image} is not in docker/images.txt; check it exists and add it`);
    }
    assert.deepEqual(listed.filter((image) => !used.has(image)), [], 'docker/images.txt lists images nothing uses');
  });

  test('every build context, Dockerfile and bind-mounted file exists', () => {
    for (const [name, service] of services) {
      if (service.build) {
        const build = typeof service.build === 'string' ? { context: service.build } : service.build;
        const context = path.join(root, build.context ?? '.');
        assert.ok(existsSync(context) && statSync(context).isDirectory(), `${name}: build context ${build.context} is missing`);
        assert.ok(existsSync(path.join(context, build.dockerfile ?? 'Dockerfile')), `${name}: ${build.dockerfile ?? 'Dockerfile'} is missing`);
      }
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0]! : volume.source ?? '';
        if (source.startsWith('.') || source.startsWith('/')) assert.ok(existsSync(path.join(root, source)), `${name}: ${source} is missing`);
      }
    }
    for (const source of copySources(read('Dockerfile'))) {
      assert.ok(existsSync(path.join(root, source)), `Dockerfile copies ${source}, which is missing`);
    }
  });

  test('ports are published on 127.0.0.1 only', () => {
    for (const [name, service] of services) {
      for (const port of service.ports ?? []) {
        const hostIp = typeof port === 'string' ? port.split(':').length === 3 && port.split(':')[0] : port.host_ip;
        assert.equal(hostIp, '127.0.0.1', `${name} publishes ${JSON.stringify(port)} beyond loopback`);
      }
    }
  });

  test('the image is multi-stage: the build stage compiles every folder the api and worker import; the runtime stage runs dist/ with production dependencies only, as a non-root user', () => {
    const dockerfile = read('Dockerfile');
    const stages = dockerfile.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '));
    assert.ok(stages.length >= 2, 'multi-stage');
    const runtime = stages.at(-1)!;
    const build = stages.find((s) => /npm run build|scripts\/build\.ts/.test(s));
    assert.ok(build, 'a stage runs the production build (scripts/build.ts)');
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', 'the runtime stage sets a non-root USER');
    const copied = new Set(copySources(build));
    const needed = foldersImportedBy(['api/main.ts', 'worker/main.ts', 'scripts/build.ts']);
    // The build bundles workflows/index.ts (its compiled copy) and copies mail-templates beside the code.
    assert.ok(needed.has('workflows') && needed.has('logging'));
    for (const folder of [...needed, 'mail-templates', 'tsconfig.build.json']) assert.ok(copied.has(folder), `the build stage does not copy ${folder}, which the build needs`);
    // The runtime stage: no sources, no tsx, production dependencies only.
    assert.deepEqual(copySources(runtime), ['package.json']);
    assert.match(runtime, /^COPY --from=\S+ \/app\/dist \.\/dist$/m);
    const installs = [...dockerfile.matchAll(/npm ci[^\n]*/g)].map((m) => m[0]);
    const runtimeModules = /^COPY --from=(\S+) \/app\/node_modules/m.exec(runtime)?.[1];
    const modulesStage = stages.find((s) => new RegExp(`AS ${runtimeModules}\\s*$`, 'm').test(s));
    assert.ok(modulesStage && /npm ci --omit=dev/.test(modulesStage), `the runtime's node_modules come from an npm ci --omit=dev stage (${installs.join('; ')})`);
    assert.doesNotMatch(runtime, /tsx/);
    assert.match(runtime, /^CMD \["node", "dist\/api\/main\.js"\]$/m);
    for (const [name, service] of services.filter(([, s]) => s.build || s.image === 'keyship:local')) {
      assert.deepEqual((service as { command?: unknown }).command, ['node', `dist/${name}/main.js`], name);
    }
  });

  test('the production shape: the plain Temporal server at the cluster test\'s version, its schema from a one-shot temporal-sql-tool service, no development image', () => {
    const images = services.map(([, s]) => s.image ?? '');
    assert.deepEqual(images.filter((i) => /auto-setup|temporalite|start-dev/.test(i)), [], 'no development image');
    for (const [, s] of services) assert.doesNotMatch(JSON.stringify(s.command ?? s.entrypoint ?? []), /start-dev/);
    assert.equal(compose.services.temporal?.image, `temporalio/server:${temporalServerVersion}`, 'the server test:cluster builds and runs');
    const schema = compose.services['temporal-schema']!;
    assert.ok(schema?.image?.startsWith(`temporalio/admin-tools:${temporalServerVersion}-`), 'admin tools of the same release');
    assert.equal(schema.restart, 'no', 'the schema service is a one-shot');
    const script = read('docker/temporal-schema.sh');
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d']) assert.ok(script.includes(step), `docker/temporal-schema.sh runs temporal-sql-tool ${step}`);
    assert.match(script, /postgresql\/v12/);
    assert.match(script, /\$DBNAME:temporal" "\$VISIBILITY_DBNAME:visibility/, 'both databases: persistence and visibility');
    const env = schema.environment as Record<string, string>;
    assert.deepEqual([env.DB, env.DBNAME, env.VISIBILITY_DBNAME], ['postgres12', 'temporal', 'temporal_visibility']);
    assert.deepEqual(compose.services.temporal?.environment, schema.environment, 'the server reads the databases the schema service set up');
    assert.match(read('docker/search-attributes.sh'), /temporal operator namespace create/, 'the namespace is created (auto-setup did it before)');
  });

  test('start order is explicit: every dependency names its condition, waits on a health check or a finished one-shot, and the api and worker can be scaled', () => {
    const condition = (from: string, to: string) => {
      const deps = compose.services[from]?.depends_on;
      return deps && !Array.isArray(deps) ? deps[to]?.condition : undefined;
    };
    for (const [name, service] of services) {
      const deps = service.depends_on ?? {};
      assert.ok(!Array.isArray(deps), `${name}: depends_on names conditions`);
      for (const [target, { condition: c }] of Object.entries(deps)) {
        assert.ok(c === 'service_healthy' || c === 'service_completed_successfully', `${name} waits for ${target} with ${c}`);
        if (c === 'service_healthy') assert.ok(compose.services[target]?.healthcheck?.test, `${target} has a health check ${name} waits on`);
        if (c === 'service_completed_successfully') assert.equal(compose.services[target]?.restart, 'no', `${target} is a one-shot`);
      }
    }
    assert.equal(condition('temporal', 'temporal-schema'), 'service_completed_successfully');
    assert.equal(condition('temporal-namespace', 'temporal'), 'service_healthy');
    for (const name of ['api', 'worker']) {
      assert.equal(condition(name, 'temporal-namespace'), 'service_completed_successfully', `${name} starts once the namespace exists`);
      assert.equal(condition(name, 'postgres'), 'service_healthy');
      const service = compose.services[name]!;
      assert.equal(service.container_name, undefined, `${name}: a fixed container name stops --scale`);
      assert.deepEqual(service.ports ?? [], [], `${name}: a published host port stops --scale`);
    }
    assert.equal(condition('proxy', 'api'), 'service_healthy');
    assert.match(read('docker/nginx.conf'), /server api:3000 resolve;/, 'the proxy balances every api replica');
  });

  test('the search attributes created are exactly the ones the code defines', () => {
    const script = read('docker/search-attributes.sh');
    const created = /for attribute in ([^;]+);/.exec(script)?.[1]?.trim().split(/\s+/) ?? [];
    const defined = cliSearchAttributeArgs().filter((_, i) => i % 2 === 1);
    assert.deepEqual(created, defined);
  });

  test('the environment compose gives the api and the worker passes the configuration check', () => {
    for (const name of ['api', 'worker']) {
      const environment = compose.services[name]?.environment;
      assert.ok(environment && !Array.isArray(environment), `${name} has an environment map`);
      const env = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, interpolate(String(v ?? ''))]));
      const config = loadConfig(env, { require: ['ADMIN_TOKEN', 'KEY_SECRET'] });
      assert.equal(config.temporal.address, 'temporal:7233');
      assert.match(config.databaseUrl, /@postgres:5432\/keyship$/);
      if (name === 'worker') {
        assert.deepEqual([config.worker.metricsHost, config.worker.metricsPort], ['0.0.0.0', 9464]);
        assert.equal(env.NODE_OPTIONS, workerNodeOptions(''), "the worker's heap limit is worker/memory.ts's");
        assert.equal(config.worker.maxCachedWorkflows, 500);
      }
      if (name === 'api') assert.equal(config.apiHost, '0.0.0.0');
    }
  });
});
