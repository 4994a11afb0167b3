// GET /healthz: the process answers. GET /readyz: Postgres and Temporal answer too, so a load
// balancer only sends traffic to an api that can do its work; during a shutdown's drain it
// answers 503 at once, so the balancer stops sending before the listener closes.
import { Hono } from 'hono';
import type { AppDeps } from './deps';

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref()),
  ]);
}

export function healthRoutes({ pool, temporal, shutdown }: Pick<AppDeps, 'pool' | 'temporal' | 'shutdown'>) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    if (shutdown?.draining) return c.json({ status: 'shutting down' }, 503);
    const [postgres, temporalServer] = await Promise.allSettled([
      withTimeout(pool.query('SELECT 1'), 2_000, 'Postgres'),
      withTimeout(temporal.connection.workflowService.getSystemInfo({}), 2_000, 'Temporal'),
    ]);
    const status = (result: PromiseSettledResult<unknown>) =>
      result.status === 'fulfilled' ? 'ok' : `unreachable: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`;
    const body = { postgres: status(postgres), temporal: status(temporalServer) };
    const down = [postgres.status === 'rejected' ? 'Postgres' : '', temporalServer.status === 'rejected' ? 'Temporal' : ''].filter(Boolean);
    if (down.length === 0) return c.json({ status: 'ready', ...body });
    return c.json({ status: 'not ready', down, ...body }, 503);
  });
  return app;
}
