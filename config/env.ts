// Every environment variable Keyship reads, parsed and validated once at start. A bad value stops
// the process with one sentence naming the variable, what is wrong and how to fix it.
import { z } from 'zod';

const durationUnits: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "3d", "72h", "90m", "3600s" or a bare number of seconds. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(text);
  if (!match) return undefined;
  const seconds = Number(match[1]) * (durationUnits[match[2] || 's'] ?? 1);
  return seconds > 0 ? seconds : undefined;
}

const duration = (example: string) =>
  z.string().transform((text, ctx) => {
    const seconds = parseDurationSeconds(text);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as ${example} (s, m, h or d)` });
      return z.NEVER;
    }
    return seconds;
  });

const url = (protocols: string[]) =>
  z.string().refine(
    (text) => {
      try {
        return protocols.includes(new URL(text).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const port = z.coerce.number({ error: 'must be a port number' }).int().min(1, 'must be a port number from 1 to 65535').max(65535, 'must be a port number from 1 to 65535');

const schema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://keyship@127.0.0.1:5433/keyship'),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, for example 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('keyship'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  SMTP_URL: url(['smtp:', 'smtps:']).default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().min(3).default('Keyship <sales@keyship.localhost>'),
  OPERATOR_EMAIL: z.email('must be an e-mail address').default('operator@keyship.localhost'),
  PUBLIC_URL: url(['http:', 'https:'])
    .transform((text) => text.replace(/\/+$/, ''))
    .default('http://127.0.0.1:3000'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  PAYPAL_MODE: z.enum(['live', 'sandbox', 'simulator'], { error: 'must be live, sandbox or simulator' }).default('simulator'),
  PAYPAL_IPN_VERIFY_URL: url(['http:', 'https:']).optional(),
  PAYPAL_SIMULATOR_URL: url(['http:', 'https:'])
    .transform((text) => text.replace(/\/+$/, ''))
    .default('http://127.0.0.1:8090'),
  PAYPAL_RECEIVER_EMAIL: z.email('must be the e-mail address of your PayPal business account').default('seller@keyship.localhost'),
  PAYPAL_WEBHOOK_ID: z.string().min(1).default('WEBHOOK_ID'),
  PAYPAL_WEBHOOK_VERIFY: z.enum(['offline', 'online'], { error: 'must be offline or online' }).default('offline'),
  PAYPAL_WEBHOOK_REPLAY_WINDOW: duration('3d').default(3 * 86400),
  // PayPal messages one api process works on at once; beyond it a message is stored raw and answered
  // 503 at once (PayPal resends it), so a flood gets quick answers instead of timeouts.
  PAYPAL_MAX_IN_FLIGHT: z.coerce.number({ error: 'must be a whole number' }).int().min(1, 'must be at least 1').default(64),
  PAYPAL_PDT_TOKEN: z.string().min(1).optional(),
  PAYPAL_API_URL: url(['http:', 'https:'])
    .transform((text) => text.replace(/\/+$/, ''))
    .optional(),
  PAYPAL_CLIENT_ID: z.string().min(1).optional(),
  PAYPAL_CLIENT_SECRET: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters (generate one with: openssl rand -hex 24)').optional(),
  FILES_DIR: z.string().min(1).default('.data/files'),
  KEY_TTL: duration('3d').default(3 * 86400),
  KEY_SECRET: z.string().min(32, 'must be at least 32 characters (generate one with: openssl rand -hex 32)').optional(),
  PENDING_LIMIT: duration('30d').default(30 * 86400),
  PENDING_POLL_AFTER: duration('1d').default(86400),
  INVOICE_RETENTION: duration('180d').default(180 * 86400),
  MAIL_TEMPLATES_DIR: z.string().min(1).optional(),
  DOWNLOAD_OFFLOAD: z.enum(['stream', 'x-accel'], { error: 'must be stream or x-accel' }).default('stream'),
  X_ACCEL_PREFIX: z
    .string()
    .regex(/^\/([A-Za-z0-9._~-]+\/)+$/, 'must be an nginx internal location such as /_keyship_files/ (starting and ending with /)')
    .default('/_keyship_files/'),
  DOWNLOAD_RATE_LIMIT: z.coerce.number({ error: 'must be a whole number of requests a minute' }).int().min(0, 'must be 0 (off) or more').default(60),
  DOWNLOAD_CHARGE_COMMIT: z.enum(['durable', 'async'], { error: 'must be durable or async' }).default('durable'),
  TRUSTED_PROXIES: z
    .string()
    .transform((text) => text.split(',').map((a) => a.trim()).filter(Boolean))
    .default([]),
  THANKS_LINKS_FOR: duration('1h').default(3600),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' })
    .default('info'),  // Production operation (issue 7): worker concurrency, its Prometheus endpoint, shutdown grace.
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number({ error: 'must be a whole number' }).int().min(1, 'must be at least 1').default(100),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number({ error: 'must be a whole number' }).int().min(2, 'must be at least 2').default(40),
  // How many open workflows the worker keeps in memory (the rest are replayed from history when they
  // next have work). Not the SDK's default, which grows with the heap limit (about 2,300 on a
  // 24 GiB machine) and let 10,000 pending invoices take the worker past 512 MiB; npm run bench:
  // about 0.3 MiB each, and a pending invoice's history replays in milliseconds.
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number({ error: 'must be a whole number' }).int().min(2, 'must be at least 2').default(500),
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_METRICS_PORT: z.coerce.number({ error: 'must be a port number, or 0 for no metrics endpoint' }).int().min(0, 'must be a port number, or 0 for no metrics endpoint').max(65535, 'must be a port number, or 0 for no metrics endpoint').default(9464),
  SHUTDOWN_GRACE: duration('30s').default(30),
});

const secretVariables = new Set(['KEY_SECRET', 'ADMIN_TOKEN', 'TEMPORAL_API_KEY', 'PAYPAL_PDT_TOKEN', 'PAYPAL_CLIENT_SECRET']);

export type RawConfig = z.output<typeof schema>;

export interface Config {
  databaseUrl: string;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    apiKey?: string;
    tlsCertPath?: string;
    tlsKeyPath?: string;
  };
  smtpUrl: string;
  mailFrom: string;
  operatorEmail: string;
  publicUrl: string;
  apiHost: string;
  apiPort: number;
  paypal: {
    mode: 'live' | 'sandbox' | 'simulator';
    /** Where IPN messages are posted back for verification: the override, or the mode's endpoint. */
    ipnVerifyUrl: string;
    simulatorUrl: string;
    receiverEmail: string;
    webhookId: string;
    /** offline: signature checked here with PayPal's certificate; online: PayPal's verify endpoint. */
    webhookVerify: 'offline' | 'online';
    webhookReplayWindowSeconds: number;
    /** PayPal messages worked on at once; more are stored and answered 503 (load shedding). */
    maxInFlight: number;
    /** PDT identity token; in simulator mode the simulator's own when unset. */
    pdtToken?: string;
    /** REST API base: the override, or the mode's (api-m.paypal.com, api-m.sandbox.paypal.com, the simulator). */
    apiUrl: string;
    clientId?: string;
    clientSecret?: string;
  };
  adminToken?: string;
  filesDir: string;
  keyTtlSeconds: number;
  /** The invoice workflow's settings (issue 3). */
  invoice: {
    /** HMAC secret the download keys are derived from; changing it breaks every issued key. The worker requires it outside simulator mode. */
    keySecret?: string;
    pendingLimitSeconds: number;
    /** A pending payment silent this long is looked up at PayPal (and again after as long). */
    pendingPollSeconds: number;
    /** How long a paid invoice's workflow run stays open (PayPal's 180-day dispute window). */
    retentionSeconds: number;
    /** Folder of the e-mail templates; the repository's mail-templates/ when unset. */
    mailTemplatesDir?: string;
  };
  /** Keyed downloads and the thank-you page (issue 5). */
  downloads: {
    /** stream: the api sends the bytes; x-accel: the api answers X-Accel-Redirect and nginx sends them. */
    offload: 'stream' | 'x-accel';
    /** nginx's internal location that maps onto FILES_DIR. */
    xAccelPrefix: string;
    /** Requests a minute per address to /d/ (an unknown key costs 10); 0 turns the limit off. */
    ratePerMinute: number;
    /**
     * durable: a download's charge and log entry are on disk before its first byte leaves. async:
     * committed (visible, limits enforced) but flushed by Postgres within 0.6 s, so only a crash of
     * Postgres or the machine can lose the last moment's charges and log entries; much faster
     * where a disk flush is slow. See api/download-usage.ts (CommitMode).
     */
    chargeCommit: 'durable' | 'async';
    /** Peers whose X-Forwarded-For names the client (a reverse proxy such as nginx). */
    trustedProxies: string[];
    /** How long after payment the thank-you page itself shows the download links. */
    thanksLinksForSeconds: number;
  };
  logLevel: RawConfig['LOG_LEVEL'];
  /** The worker process (issue 7). */
  worker: {
    maxConcurrentActivities: number;
    maxConcurrentWorkflowTasks: number;
    /** Unset: the Temporal SDK's default (about 0.6 per MiB of heap limit above 200 MiB). */
    maxCachedWorkflows: number;
    /** Where the worker serves Prometheus metrics (the Temporal SDK's and Keyship's); port 0: nowhere. */
    metricsHost: string;
    metricsPort: number;
  };
  /** After SIGTERM: how long the api lets in-flight requests (downloads) finish and the worker lets activities finish. */
  shutdownGraceSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ipnEndpoints = {
  live: 'https://ipnpb.paypal.com/cgi-bin/webscr',
  sandbox: 'https://ipnpb.sandbox.paypal.com/cgi-bin/webscr',
};

const restEndpoints = {
  live: 'https://api-m.paypal.com',
  sandbox: 'https://api-m.sandbox.paypal.com',
};

/** The local PayPal simulator's PDT identity token (it is not a secret: the simulator is local). */
export const simulatorPdtToken = 'SIMULATOR-PDT-IDENTITY-TOKEN';

/** Parses the environment; throws ConfigError whose message has one sentence per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { require?: (keyof RawConfig)[] } = {}): Config {
  // An empty variable means "not set": shells and compose files often export FOO= .
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      const given = present[name];
      const shown = given === undefined ? 'is missing' : `is "${secretVariables.has(name) ? '…' : given}"`;
      problems.push(`${name} ${shown} but ${issue.message}; set it in the environment (see README, Configuration).`);
    }
  }
  for (const name of options.require ?? []) {
    if (present[name] === undefined) {
      problems.push(`${name} is missing; set it in the environment (see README, Configuration).`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems.join('\n'));
  const raw = parsed.data;
  if (raw.PAYPAL_WEBHOOK_VERIFY === 'online' && (raw.PAYPAL_CLIENT_ID === undefined || raw.PAYPAL_CLIENT_SECRET === undefined)) {
    throw new ConfigError('PAYPAL_WEBHOOK_VERIFY=online needs PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET (your REST app credentials); set them, or use offline.');
  }
  if ((raw.TEMPORAL_TLS_CERT === undefined) !== (raw.TEMPORAL_TLS_KEY === undefined)) {
    throw new ConfigError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together; set both paths for mTLS, or neither.');
  }
  return {
    databaseUrl: raw.DATABASE_URL,
    temporal: {
      address: raw.TEMPORAL_ADDRESS,
      namespace: raw.TEMPORAL_NAMESPACE,
      taskQueue: raw.TEMPORAL_TASK_QUEUE,
      apiKey: raw.TEMPORAL_API_KEY,
      tlsCertPath: raw.TEMPORAL_TLS_CERT,
      tlsKeyPath: raw.TEMPORAL_TLS_KEY,
    },
    smtpUrl: raw.SMTP_URL,
    mailFrom: raw.MAIL_FROM,
    operatorEmail: raw.OPERATOR_EMAIL,
    publicUrl: raw.PUBLIC_URL,
    apiHost: raw.API_HOST,
    apiPort: raw.API_PORT,
    paypal: {
      mode: raw.PAYPAL_MODE,
      ipnVerifyUrl:
        raw.PAYPAL_IPN_VERIFY_URL ??
        (raw.PAYPAL_MODE === 'simulator' ? `${raw.PAYPAL_SIMULATOR_URL}/cgi-bin/webscr` : ipnEndpoints[raw.PAYPAL_MODE]),
      simulatorUrl: raw.PAYPAL_SIMULATOR_URL,
      receiverEmail: raw.PAYPAL_RECEIVER_EMAIL,
      webhookId: raw.PAYPAL_WEBHOOK_ID,
      webhookVerify: raw.PAYPAL_WEBHOOK_VERIFY,
      webhookReplayWindowSeconds: raw.PAYPAL_WEBHOOK_REPLAY_WINDOW,
      maxInFlight: raw.PAYPAL_MAX_IN_FLIGHT,
      pdtToken: raw.PAYPAL_PDT_TOKEN ?? (raw.PAYPAL_MODE === 'simulator' ? simulatorPdtToken : undefined),
      apiUrl: raw.PAYPAL_API_URL ?? (raw.PAYPAL_MODE === 'simulator' ? raw.PAYPAL_SIMULATOR_URL : restEndpoints[raw.PAYPAL_MODE]),
      clientId: raw.PAYPAL_CLIENT_ID,
      clientSecret: raw.PAYPAL_CLIENT_SECRET,
    },
    adminToken: raw.ADMIN_TOKEN,
    filesDir: raw.FILES_DIR,
    keyTtlSeconds: raw.KEY_TTL,
    invoice: {
      keySecret: raw.KEY_SECRET,
      pendingLimitSeconds: raw.PENDING_LIMIT,
      pendingPollSeconds: raw.PENDING_POLL_AFTER,
      retentionSeconds: raw.INVOICE_RETENTION,
      mailTemplatesDir: raw.MAIL_TEMPLATES_DIR,
    },
    downloads: {
      offload: raw.DOWNLOAD_OFFLOAD,
      xAccelPrefix: raw.X_ACCEL_PREFIX,
      ratePerMinute: raw.DOWNLOAD_RATE_LIMIT,
      chargeCommit: raw.DOWNLOAD_CHARGE_COMMIT,
      trustedProxies: raw.TRUSTED_PROXIES,
      thanksLinksForSeconds: raw.THANKS_LINKS_FOR,
    },
    logLevel: raw.LOG_LEVEL,
    worker: {
      maxConcurrentActivities: raw.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: raw.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: raw.WORKER_MAX_CACHED_WORKFLOWS,
      metricsHost: raw.WORKER_METRICS_HOST,
      metricsPort: raw.WORKER_METRICS_PORT,
    },
    shutdownGraceSeconds: raw.SHUTDOWN_GRACE,
  };
}

/** For entry points: parse or print the sentences and exit, without a stack trace. */
export function loadConfigOrExit(options?: { require?: (keyof RawConfig)[] }): Config {
  try {
    return loadConfig(process.env, options);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Keyship cannot start: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}
