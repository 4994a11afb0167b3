// GET /metrics: the api's Prometheus series. Counters live in this process; every api replica is
// its own scrape target. The worker serves its own (WORKER_METRICS_PORT): the Temporal SDK's
// worker metrics, deliveries and e-mail failures happen there.
import { Hono } from 'hono';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

export const httpRequests = new Counter({
  name: 'keyship_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'keyship_http_request_duration_seconds',
  help: 'Time from request to the last byte of the response (downloads included), by method and route pattern',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600],
  registers: [registry],
});

export const paypalNotifications = new Counter({
  name: 'keyship_paypal_notifications_total',
  help: 'PayPal messages taken in, by source (ipn, webhook) and outcome (routed, duplicate, rejected, retry; unstored when Postgres was away)',
  labelNames: ['source', 'outcome'] as const,
  registers: [registry],
});

const downloadBytes = new Counter({
  name: 'keyship_download_bytes_total',
  help: 'Bytes of package files the api streamed to buyers (X-Accel downloads are nginx\'s to count)',
  registers: [registry],
});

const downloads = new Counter({
  name: 'keyship_downloads_total',
  help: 'File transfers the api streamed, by whether they completed',
  labelNames: ['completed'] as const,
  registers: [registry],
});

/** Called once a streamed transfer settles, completed or cut off. */
export function countDownload(bytesSent: number, completed: boolean): void {
  downloadBytes.inc(bytesSent);
  downloads.inc({ completed: String(completed) });
}

let processMetrics = false;

/** Node.js process series (CPU, memory, event loop, handles); api/main.ts turns them on once. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

export function metricsRoutes() {
  const app = new Hono();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  return app;
}
