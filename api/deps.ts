import type { Client } from '@temporalio/client';
import type { Config } from '../config/env';
import type { Pool } from '../db/pool';
import type { Logger } from '../logging/logger';
import type { PayPalRestClient } from '../paypal/rest/client';

/** Everything the api needs from outside; api/main.ts wires real ones, tests hand in their own. */
export interface AppDeps {
  config: Config;
  pool: Pool;
  temporal: Client;
  /** The process's JSON logger (api/main.ts); without it requests are counted but not logged. */
  logger?: Logger;
  /**
   * Set to draining by api/main.ts on SIGTERM: /readyz answers 503, responses close their
   * connection. Routes add what must be written before the pool closes (queued download settles).
   */
  shutdown?: { draining: boolean; beforeClose?: (() => Promise<void>)[] };
  /**
   * The process's one PayPal REST client (api/main.ts), shared so its OAuth token is asked for once
   * and reused until it is about to expire; absent without a REST app. createApp builds one from
   * the configuration when none is given.
   */
  paypalRest?: PayPalRestClient;
  /** The clock the access links' windows are judged by (api/access.ts); tests hand in their own. Default: the system clock. */
  now?: () => Date;
}
