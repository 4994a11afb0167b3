// kubeconform, the Kubernetes manifest validator, built from the Go module proxy into .cache/, and
// the JSON schemas it validates against, made offline: kubeconform downloads its schemas from a
// repository on the web, which the test machines cannot reach, so they are generated here from the
// OpenAPI description in the k8s.io/kubernetes Go module (api/openapi-spec/swagger.json), one
// stand-alone, strict file per kind under the names kubeconform's -schema-location template asks for.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
export const kubeconformVersion = 'v0.8.0';
/** The Kubernetes release whose API the manifests are checked against. */
export const kubernetesVersion = 'v1.34.2';

function go(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): string {
  const result = spawnSync('go', args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('The Go toolchain (go) was not found on PATH; install Go to build kubeconform.');
  if (result.status !== 0) throw new Error(`go ${args.join(' ')} failed or took over ${timeoutMs / 1000} s (exit ${result.signal ?? result.status}):\n${result.stderr.slice(-3000)}`);
  return result.stdout;
}

/** kubeconform's executable, built once (a minute or two). */
export function kubeconform(): string {
  const dir = path.join(root, '.cache', `kubeconform-${kubeconformVersion}`);
  const file = path.join(dir, 'kubeconform');
  if (!existsSync(file)) {
    // Ten minutes bound a build on a busy two-core machine.
    go(['install', `github.com/yannh/kubeconform/cmd/kubeconform@${kubeconformVersion}`], { GOBIN: dir, CGO_ENABLED: '0' }, 600_000);
  }
  return file;
}

type Schema = Record<string, unknown>;

/** What kubectl's validation does and kubeconform's strict schemas do: an unknown field is an error. */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) out[key] = strict(value);
  if (out.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  if (out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

/**
 * A folder of schemas for `-schema-location <folder>/{{.ResourceKind}}{{.KindSuffix}}.json`
 * (e.g. deployment-apps-v1.json, service-v1.json), generated once from the module's OpenAPI.
 */
export function kubernetesSchemas(): string {
  const dir = path.join(root, '.cache', `kubernetes-schemas-${kubernetesVersion}`);
  if (existsSync(path.join(dir, 'deployment-apps-v1.json'))) return dir;
  // The module is large (the whole Kubernetes source): minutes on a slow link, once.
  const downloaded = JSON.parse(go(['mod', 'download', '-json', `k8s.io/kubernetes@${kubernetesVersion}`], {}, 600_000)) as { Dir?: string };
  const spec = JSON.parse(readFileSync(path.join(downloaded.Dir ?? '', 'api', 'openapi-spec', 'swagger.json'), 'utf8')) as { definitions: Record<string, Schema> };
  const definitions = strict(spec.definitions) as Record<string, Schema>;
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  // Each kind's file holds the definitions it reaches, so it stands alone (and stays small).
  const reached = (name: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(name)) return seen;
    seen.add(name);
    for (const match of JSON.stringify(definitions[name] ?? {}).matchAll(/"#\/definitions\/([^"]+)"/g)) reached(match[1]!, seen);
    return seen;
  };
  for (const [name, definition] of Object.entries(spec.definitions)) {
    const kinds = (definition['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[];
    for (const { group, version, kind } of kinds) {
      // kubeconform's KindSuffix: -<first part of the group>-<version>, or -<version> for the core group.
      const suffix = group ? `-${group.split('.')[0]}-${version}` : `-${version}`;
      const own = Object.fromEntries([...reached(name)].map((n) => [n, definitions[n]]));
      writeFileSync(path.join(partial, `${kind.toLowerCase()}${suffix}.json`), JSON.stringify({ $ref: `#/definitions/${name}`, definitions: own }));
    }
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return dir;
}
