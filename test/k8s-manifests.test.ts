// deploy/k8s: every manifest is valid for Kubernetes' API (kubeconform, strict, against schemas made
// from the k8s.io/kubernetes module's OpenAPI; test/harness/kubeconform.ts), and says what
// Keyship needs: the api's probes on /healthz and /readyz, its Service and PodDisruptionBudget
// selecting its pods, the worker's metrics port and a grace period of SHUTDOWN_GRACE, the
// configuration from the Secret, and the compiled entry points of the image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../config/env';
import { kubeconform, kubernetesSchemas, kubernetesVersion } from './harness/kubeconform';

const dir = path.resolve(__dirname, '..', 'deploy', 'k8s');
const files = ['files.yaml', 'api.yaml', 'worker.yaml', 'secret.example.yaml'];

// Loose shapes: the schema check above is the strict one.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Resource = { kind: string; metadata: { name: string }; spec?: any; stringData?: Record<string, string> };
const resources: Resource[] = files.flatMap((file) => parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((d) => d.toJS() as Resource));
const find = (kind: string, name: string): Resource => {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  assert.ok(found, `deploy/k8s has no ${kind} ${name}`);
  return found;
};
const container = (deployment: Resource) => deployment.spec.template.spec.containers[0];
const envOf = (deployment: Resource): Record<string, string> => Object.fromEntries((container(deployment).env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]));

/** The configuration a pod of the deployment gets: the example Secret's variables and its own. */
const configOf = (deployment: Resource) => loadConfig({ ...find('Secret', 'keyship').stringData, ...envOf(deployment) }, { require: ['ADMIN_TOKEN', 'KEY_SECRET'] });

function validate(paths: string[]): { status: number | null; summary: { valid: number; invalid: number; errors: number; skipped: number }; output: string } {
  const schemas = kubernetesSchemas();
  const result = spawnSync(kubeconform(), ['-strict', '-summary', '-output', 'json', '-schema-location', `${schemas}/{{.ResourceKind}}{{.KindSuffix}}.json`, ...paths], { encoding: 'utf8', timeout: 60_000 });
  const output = `${result.stdout}${result.stderr}`;
  const summary = (JSON.parse(result.stdout) as { summary: { valid: number; invalid: number; errors: number; skipped: number } }).summary;
  return { status: result.status, summary, output };
}

describe('deploy/k8s manifests', () => {
  test(`kubeconform -strict finds every resource valid for Kubernetes ${kubernetesVersion}, and a misspelt field invalid`, { timeout: 1_200_000 }, () => {
    const checked = validate(files.map((f) => path.join(dir, f)));
    assert.equal(checked.status, 0, checked.output);
    assert.deepEqual(checked.summary, { valid: resources.length, invalid: 0, errors: 0, skipped: 0 }, checked.output);
    // The check can fail: a field Kubernetes does not know, and a probe port of the wrong type.
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'keyship-k8s-'));
    try {
      const api = readFileSync(path.join(dir, 'api.yaml'), 'utf8');
      writeFileSync(path.join(scratch, 'typo.yaml'), api.replace('terminationGracePeriodSeconds:', 'terminationGracePeriodSecond:'));
      writeFileSync(path.join(scratch, 'type.yaml'), api.replace('replicas: 2', 'replicas: two'));
      const broken = validate([path.join(scratch, 'typo.yaml'), path.join(scratch, 'type.yaml')]);
      assert.notEqual(broken.status, 0);
      assert.equal(broken.summary.invalid, 2, broken.output);
      assert.match(broken.output, /terminationGracePeriodSecond/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('the api: probes on /healthz and /readyz, a Service and a PodDisruptionBudget that select its pods, drained within its grace period', () => {
    const api = find('Deployment', 'keyship-api');
    const c = container(api);
    assert.deepEqual(c.command, ['node', 'dist/api/main.js']);
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    const port = c.ports.find((p: { name: string }) => p.name === c.readinessProbe.httpGet.port).containerPort;
    assert.equal(String(port), envOf(api).API_PORT);
    assert.equal(envOf(api).API_HOST, '0.0.0.0');
    const labels = api.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    assert.ok(matches(api.spec.selector.matchLabels));
    const service = find('Service', 'keyship-api');
    assert.ok(matches(service.spec.selector), 'the Service selects the api pods');
    assert.equal(service.spec.ports[0].targetPort, 'http');
    const budget = find('PodDisruptionBudget', 'keyship-api');
    assert.ok(matches(budget.spec.selector.matchLabels), 'the PodDisruptionBudget covers the api pods');
    assert.ok(budget.spec.minAvailable >= 1 && budget.spec.minAvailable < api.spec.replicas, 'a drain keeps one api and can still move the others');
    assert.ok(api.spec.template.spec.terminationGracePeriodSeconds > configOf(api).shutdownGraceSeconds, 'the api may finish its drain before SIGKILL');
  });

  test('the worker: its metrics port, a grace period equal to SHUTDOWN_GRACE, the compiled entry point', () => {
    const worker = find('Deployment', 'keyship-worker');
    const c = container(worker);
    const env = envOf(worker);
    assert.deepEqual(c.command, ['node', 'dist/worker/main.js']);
    const config = configOf(worker);
    assert.equal(worker.spec.template.spec.terminationGracePeriodSeconds, config.shutdownGraceSeconds);
    const metrics = c.ports.find((p: { name: string }) => p.name === 'metrics');
    assert.equal(metrics?.containerPort, config.worker.metricsPort);
    assert.equal(config.worker.metricsHost, '0.0.0.0', 'reachable by Prometheus from outside the pod');
    assert.equal(worker.spec.template.metadata.annotations['prometheus.io/port'], env.WORKER_METRICS_PORT);
  });

  test('configuration comes from the Secret; the example Secret with the pods\' own variables passes the configuration check', () => {
    for (const name of ['keyship-api', 'keyship-worker']) {
      const deployment = find('Deployment', name);
      assert.deepEqual(container(deployment).envFrom, [{ secretRef: { name: 'keyship' } }], name);
      const config = configOf(deployment);
      assert.equal(config.filesDir, '/files');
      const mount = container(deployment).volumeMounts.find((m: { name: string }) => m.name === 'files');
      assert.equal(mount.mountPath, config.filesDir, `${name} mounts the package store at FILES_DIR`);
    }
    const kustomization = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    assert.deepEqual([...kustomization.resources].sort(), files.filter((f) => f !== 'secret.example.yaml').sort(), 'the base applies every manifest but the example Secret');
  });
});
