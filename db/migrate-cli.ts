// `npm run migrate`: applies pending migrations to DATABASE_URL.
import { loadConfigOrExit } from '../config/env';
import { migrate } from './migrate';

const config = loadConfigOrExit();
migrate(config.databaseUrl, { log: console.log }).then(
  (ran) => console.log(ran.length ? `Applied ${ran.join(', ')}.` : 'The database is up to date.'),
  (error: unknown) => {
    console.error(`Migration failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
