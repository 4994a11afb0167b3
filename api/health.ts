// GET /healthz: the process answers. GET /readyz: Postgres and Temporal answer too, so a load
// balancer only sends traffic to an api that can do its work.
import { Hono } from 'hono';
import type { AppDeps } from './deps';

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref()),
  ]);
}

export function healthRoutes({ pool, temporal }: Pick<AppDeps, 'pool' | 'temporal'>) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [postgres, temporalServer] = await Promise.allSettled([
      withTimeout(pool.query('SELECT 1'), 2_000, 'Postgres'),
      withTimeout(temporal.connection.workflowService.getSystemInfo({}), 2_000, 'Temporal'),
    ]);
    const status = (result: PromiseSettledResult<unknown>) =>
      result.status === 'fulfilled' ? 'ok' : result.reason instanceof Error ? result.reason.message : String(result.reason);
    const body = { postgres: status(postgres), temporal: status(temporalServer) };
    const ready = postgres.status === 'fulfilled' && temporalServer.status === 'fulfilled';
    return c.json({ status: ready ? 'ready' : 'not ready', ...body }, ready ? 200 : 503);
  });
  return app;
}
