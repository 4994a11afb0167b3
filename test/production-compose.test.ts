// CI's checks of docker-compose.yml and the Dockerfile, with no Docker engine: the compose file
// is valid against the Compose Specification's JSON schema; every image it and the Dockerfile
// name is pinned and on the checked list (docker/images.txt; no registry is reachable here, so a
// name is checked against that list, not against Docker Hub); every build path, Dockerfile and
// bind-mounted file exists; ports are published on loopback only; the image runs as a non-root
// user and holds every folder the entry points import; the search attributes created are the
// code's; the environment the compose file gives Keyship passes its configuration check.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { loadConfig } from '../config/env';
import { cliSearchAttributeArgs } from '../workflows/search-attributes';
import { workerNodeOptions } from '../worker/memory';

const root = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  ports?: (string | { host_ip?: string; published?: string | number })[];
  volumes?: (string | { type?: string; source?: string })[];
  environment?: Record<string, string | number | null> | string[];
  entrypoint?: string[];
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
    for (const [, source] of read('Dockerfile').matchAll(/^COPY\s+(?!--from)(\S+)/gm)) {
      assert.ok(existsSync(path.join(root, source!)), `Dockerfile copies ${source}, which is missing`);
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

  test('the image is multi-stage, runs as a non-root user and holds every folder the api and worker import', () => {
    const dockerfile = read('Dockerfile');
    assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', 'the runtime stage sets a non-root USER');
    const copied = new Set([...runtime.matchAll(/^COPY\s+(?!--from)(\S+)/gm)].map((m) => m[1]!.replace(/\/$/, '')));
    const needed = foldersImportedBy(['api/main.ts', 'worker/main.ts']);
    // The worker bundles workflows/index.ts at start (require.resolve), so workflows/ is needed too.
    assert.ok(needed.has('workflows') && needed.has('logging'));
    for (const folder of needed) assert.ok(copied.has(folder), `the Dockerfile does not copy ${folder}/, which the api or the worker imports`);
    for (const [name, service] of services.filter(([, s]) => s.build)) {
      assert.match(JSON.stringify(service.entrypoint ?? (service as { command?: unknown }).command), /(api|worker)\/main\.ts/, name);
    }
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
