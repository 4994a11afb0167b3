import type { Client } from '@temporalio/client';
import type { Config } from '../config/env';
import type { Pool } from '../db/pool';

/** Everything the api needs from outside; api/main.ts wires real ones, tests hand in their own. */
export interface AppDeps {
  config: Config;
  pool: Pool;
  temporal: Client;
}
