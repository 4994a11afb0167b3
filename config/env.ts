// Every environment variable Keyship reads, each written once below: its name, type, default and
// meaning together. Parsed and validated once at start; a bad value stops the process with one
// sentence naming the variable, what is wrong and how to fix it. docs/configuration.md is generated
// from the same schema (npm run docs:config).
import { z } from 'zod';

const durationUnits: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "3d", "72h", "90m", "3600s" or a bare number of seconds. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(text);
  if (!match) return undefined;
  const seconds = Number(match[1]) * (durationUnits[match[2] || 's'] ?? 1);
  return seconds > 0 ? seconds : undefined;
}

// The value types. Defaults are given as prefaults, the text one would set, so they pass through
// the same parsing as a set value and the reference shows them as written ("3d", not 259200).
const text = z.string();

const seconds = (example: string) =>
  z.string().transform((value, ctx) => {
    const parsed = parseDurationSeconds(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as ${example} (s, m, h or d)` });
      return z.NEVER;
    }
    return parsed;
  });

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const baseUrl = url(['http:', 'https:']).transform((value) => value.replace(/\/+$/, ''));

const wholeNumber = (message: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);

const port = wholeNumber('must be a port number from 1 to 65535', 1, 65535);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be ${values.slice(0, -1).join(', ')} or ${values.at(-1)}` });

/** What the reference and the error sentences know about a variable. */
interface VariableMeta {
  name: string;
  description: string;
  /** Never echoed in an error sentence and replaced in every log line. */
  secret: boolean;
}

const variableMeta = z.registry<VariableMeta>();

declare const variableName: unique symbol;
/** A schema that reads one environment variable; its name stays in the type for `require`. */
type Variable<Name extends string, T extends z.ZodType> = T & { readonly [variableName]: Name };

function variable<Name extends string, T extends z.ZodType>(name: Name, type: T, description: string, secret = false): Variable<Name, T> {
  const own = type.clone(); // its own instance, so a shared type (port) carries each variable's name
  variableMeta.add(own, { name, description, secret });
  return own as Variable<Name, T>;
}

const secret = <Name extends string, T extends z.ZodType>(name: Name, type: T, description: string) => variable(name, type, description, true);

const variables = z.object({
  databaseUrl: variable('DATABASE_URL', url(['postgres:', 'postgresql:']).prefault('postgres://keyship@127.0.0.1:5433/keyship'), "Keyship's Postgres database; migrations run forward on start"),
  temporal: z.object({
    address: variable('TEMPORAL_ADDRESS', text.regex(/^[^\s:/]+:\d+$/, 'must be host:port, for example 127.0.0.1:7233').prefault('127.0.0.1:7233'), 'Temporal frontend (host:port)'),
    namespace: variable('TEMPORAL_NAMESPACE', text.prefault('default'), 'Temporal namespace'),
    taskQueue: variable('TEMPORAL_TASK_QUEUE', text.prefault('keyship'), 'task queue the worker polls and the api starts workflows on'),
    apiKey: secret('TEMPORAL_API_KEY', text.optional(), 'API key for Temporal Cloud (turns TLS on)'),
    tlsCertPath: variable('TEMPORAL_TLS_CERT', text.optional(), 'client certificate file for mTLS (with TEMPORAL_TLS_KEY: both or neither)'),
    tlsKeyPath: variable('TEMPORAL_TLS_KEY', text.optional(), 'client key file for mTLS (with TEMPORAL_TLS_CERT: both or neither)'),
  }),
  smtpUrl: variable('SMTP_URL', url(['smtp:', 'smtps:']).prefault('smtp://127.0.0.1:1025'), 'outgoing mail server, e.g. `smtps://user:pass@smtp.example.com:465`'),
  mailFrom: variable('MAIL_FROM', text.min(3, 'must be a sender such as Keyship <sales@example.com>').prefault('Keyship <sales@keyship.localhost>'), 'sender of every e-mail'),
  operatorEmail: variable('OPERATOR_EMAIL', z.email('must be an e-mail address').prefault('operator@keyship.localhost'), 'where alerts for operators go (needs review, failures)'),
  publicUrl: variable('PUBLIC_URL', baseUrl.prefault('http://127.0.0.1:3000'), 'the address buyers and PayPal reach the api at; download links and `notify_url` are built from it'),
  apiHost: variable('API_HOST', text.prefault('127.0.0.1'), 'the address the api listens on'),
  apiPort: variable('API_PORT', port.prefault('3000'), 'the port the api listens on'),
  paypal: z.object({
    mode: variable('PAYPAL_MODE', oneOf(['live', 'sandbox', 'simulator']).prefault('simulator'), '`live`, `sandbox` or `simulator` (the local simulator, no real money); picks the IPN postback endpoint and the REST API'),
    ipnVerifyUrl: variable('PAYPAL_IPN_VERIFY_URL', url(['http:', 'https:']).optional(), "overrides the IPN postback endpoint PAYPAL_MODE picks (PayPal's live or sandbox one, or the simulator's)"),
    simulatorUrl: variable('PAYPAL_SIMULATOR_URL', baseUrl.prefault('http://127.0.0.1:8090'), 'the local PayPal simulator (simulator mode)'),
    receiverEmail: variable('PAYPAL_RECEIVER_EMAIL', z.email('must be the e-mail address of your PayPal business account').prefault('seller@keyship.localhost'), 'your PayPal business account; payments to anyone else stop at needs review'),
    checkout: variable('PAYPAL_CHECKOUT', oneOf(['orders', 'classic', 'both']).optional(), "what the store offers: `orders` (PayPal Checkout, Orders v2: a REST app and webhooks, no IPN), `classic` (Buy Now buttons with IPN) or `both`; unset: `both` when PAYPAL_CLIENT_ID is set (always in simulator mode), `classic` otherwise"),
    orderLifetimeSeconds: variable('PAYPAL_ORDER_LIFETIME', seconds('3h').prefault('3h'), 'how long a PayPal Checkout order waits for the buyer to approve it; after that the checkout ends quietly, with no invoice'),
    webhookId: variable('PAYPAL_WEBHOOK_ID', text.optional(), "the id of your REST app's webhook (developer dashboard, Webhooks): PayPal signs every webhook with it; in simulator mode `WEBHOOK_ID`, the simulator's"),
    webhookVerify: variable('PAYPAL_WEBHOOK_VERIFY', oneOf(['offline', 'online']).prefault('offline'), "`offline` checks webhook signatures here with PayPal's certificate; `online` asks PayPal's verify endpoint (needs PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET)"),
    webhookReplayWindowSeconds: variable('PAYPAL_WEBHOOK_REPLAY_WINDOW', seconds('3d').prefault('3d'), 'webhooks whose transmission time is older than this are refused'),
    maxInFlight: variable('PAYPAL_MAX_IN_FLIGHT', wholeNumber('must be a whole number, at least 1', 1).prefault('64'), 'PayPal messages one api process works on at once; past it a message is stored raw and answered 503, and PayPal resends it (load shedding in a flood)'),
    pdtToken: secret('PAYPAL_PDT_TOKEN', text.optional(), "your PDT identity token (PayPal profile, Website preferences): confirms the thank-you page's `tx` and looks up silent pending payments; in simulator mode the simulator's when unset"),
    apiUrl: variable('PAYPAL_API_URL', baseUrl.optional(), "overrides PayPal's REST API base PAYPAL_MODE picks (api-m.paypal.com, api-m.sandbox.paypal.com or the simulator)"),
    clientId: variable('PAYPAL_CLIENT_ID', text.optional(), "your REST app's client id (developer dashboard, Apps & Credentials): PayPal Checkout, refunds through PayPal, status lookups and `PAYPAL_WEBHOOK_VERIFY=online`; in simulator mode the simulator's when unset"),
    clientSecret: secret('PAYPAL_CLIENT_SECRET', text.optional(), "your REST app's secret, with PAYPAL_CLIENT_ID; in simulator mode the simulator's when unset"),
  }),
  adminToken: secret('ADMIN_TOKEN', text.min(16, 'must be at least 16 characters (generate one with: openssl rand -hex 24)').optional(), 'admin login and `Authorization: Bearer` token, 16+ characters; the api requires it (`npm start` keeps one in `.data/admin-token`)'),
  filesDir: variable('FILES_DIR', text.prefault('.data/files'), 'the package store: every downloadable file lives under it'),
  keyTtlSeconds: variable('KEY_TTL', seconds('3d').prefault('3d'), 'lifetime of download keys (`s`, `m`, `h`, `d`); a package may set its own'),
  invoice: z.object({
    keySecret: secret('KEY_SECRET', text.min(32, 'must be at least 32 characters (generate one with: openssl rand -hex 32)').optional(), 'download keys are derived from it, so changing it breaks every key sent; 32+ characters, the worker requires it in live and sandbox mode (`npm start` keeps one in `.data/key-secret`)'),
    signingKeyFile: variable('SIGNING_KEY_FILE', text.optional(), "a minisign secret key file without a password (`minisign -G -W -s FILE`): every delivery then links `SHA256SUMS` of the invoice's files and its minisign signature, and `/store`, the thank-you page and `/minisign.pub` show the public key; the worker and the api refuse to start when it cannot be read; unset: no signed checksums (`npm start` keeps one in `.data/minisign.key`)"),
    pendingLimitSeconds: variable('PENDING_LIMIT', seconds('30d').prefault('30d'), 'how long a pending payment (eCheck) is waited for before the invoice fails and the buyer is told'),
    pendingPollSeconds: variable('PENDING_POLL_AFTER', seconds('1d').prefault('1d'), 'a pending payment silent this long is looked up at PayPal, and again after as long'),
    retentionSeconds: variable('INVOICE_RETENTION', seconds('180d').prefault('180d'), "how long a paid invoice's workflow stays open to meet refunds and chargebacks (PayPal's dispute window)"),
    mailTemplatesDir: variable('MAIL_TEMPLATES_DIR', text.optional(), "folder of the e-mail templates; unset: the repository's `mail-templates/`"),
  }),
  downloads: z.object({
    offload: variable('DOWNLOAD_OFFLOAD', oneOf(['stream', 'x-accel']).prefault('stream'), '`stream`: the api sends the file; `x-accel`: the api checks and charges the key, then answers `X-Accel-Redirect` and nginx sends the file'),
    xAccelPrefix: variable('X_ACCEL_PREFIX', text.regex(/^\/([A-Za-z0-9._~-]+\/)+$/, 'must be an nginx internal location such as /_keyship_files/ (starting and ending with /)').prefault('/_keyship_files/'), "nginx's internal location that maps onto FILES_DIR (`x-accel`)"),
    ratePerMinute: variable('DOWNLOAD_RATE_LIMIT', wholeNumber('must be 0 (off) or a whole number of requests a minute', 0).prefault('60'), 'requests a minute per address to the keyed links together (`/d/`, `/t/`, `/a/`); an unknown key costs 10; `0` turns the limit off'),
    chargeCommit: variable('DOWNLOAD_CHARGE_COMMIT', oneOf(['durable', 'async']).prefault('durable'), "`durable`: a download's charge and log entry are on disk before its first byte leaves; `async`: committed at once, flushed by Postgres within 0.6 s (a crash of Postgres or the machine can lose the last moment's)"),
    trustedProxies: variable('TRUSTED_PROXIES', text.transform((value) => value.split(',').map((a) => a.trim()).filter(Boolean)).prefault(''), 'comma-separated addresses whose `X-Forwarded-For` is believed (`127.0.0.1` behind a local nginx)'),
    thanksLinksForSeconds: variable('THANKS_LINKS_FOR', seconds('1h').prefault('1h'), 'how long after payment the thank-you page itself shows the download links (later it points to the e-mail)'),
  }),
  licenses: z.object({
    ratePerMinute: variable('LICENSE_RATE_LIMIT', wholeNumber('must be 0 (off) or a whole number of requests a minute', 0).prefault('30'), 'license-key checks a minute per client address (`POST /api/licenses/verify`); `0` turns the limit off'),
  }),
  library: z.object({
    linkTtlSeconds: variable('LIBRARY_LINK_TTL', seconds('1h').prefault('1h'), "how long the single-use link in a library e-mail (a buyer's way back to every purchase of their address) stays valid"),
    sessionSeconds: variable('LIBRARY_SESSION', seconds('30m').prefault('30m'), 'how long a library opened from that link stays open in the browser (a signed cookie bound to the address)'),
    ratePerMinute: variable('LIBRARY_RATE_LIMIT', wholeNumber('must be 0 (off) or a whole number of requests a minute', 0).prefault('5'), 'library e-mail requests a minute per client address (`/library` form); `0` turns the limit off'),
    emailsPerHour: variable('LIBRARY_EMAIL_LIMIT', wholeNumber('must be a whole number, at least 1', 1).prefault('3'), 'library e-mails one address receives an hour at most; further requests get the same answer and no e-mail'),
  }),
  logLevel: variable('LOG_LEVEL', oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'), '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`'),
  worker: z.object({
    maxConcurrentActivities: variable('WORKER_MAX_CONCURRENT_ACTIVITIES', wholeNumber('must be a whole number, at least 1', 1).prefault('100'), 'activities one worker runs at once'),
    maxConcurrentWorkflowTasks: variable('WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', wholeNumber('must be a whole number, at least 2', 2).prefault('40'), 'workflow tasks one worker runs at once'),
    // Not the SDK's default, which grows with the heap limit and took the worker past 512 MiB with
    // 10,000 pending invoices; a pending invoice's history replays in milliseconds.
    maxCachedWorkflows: variable('WORKER_MAX_CACHED_WORKFLOWS', wholeNumber('must be a whole number, at least 2', 2).prefault('500'), 'open workflows the worker keeps in memory, about 0.3 MiB each; the rest are replayed from their history when they next have work'),
    metricsHost: variable('WORKER_METRICS_HOST', text.prefault('127.0.0.1'), "the address of the worker's Prometheus `/metrics` (the Temporal SDK's and Keyship's)"),
    metricsPort: variable('WORKER_METRICS_PORT', wholeNumber('must be a port number, or 0 for no metrics endpoint', 0, 65535).prefault('9464'), "the port of the worker's Prometheus `/metrics`; `0` turns it off"),
  }),
  shutdownGraceSeconds: variable('SHUTDOWN_GRACE', seconds('30s').prefault('30s'), 'after SIGTERM, how long the api lets requests in flight (downloads) finish and the worker lets running activities finish'),
});

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
/** The local simulator's REST app credentials and webhook id (not secrets either). */
export const simulatorRestApp = { clientId: 'simulator-client-id', clientSecret: 'simulator-client-secret', webhookId: 'WEBHOOK_ID' } as const;
export const simulatorClientId = simulatorRestApp.clientId;
export const simulatorClientSecret = simulatorRestApp.clientSecret;

/** The settings PAYPAL_MODE fills in when their variable is unset. */
const schema = variables.transform((config) => {
  const { mode, simulatorUrl } = config.paypal;
  const simulator = mode === 'simulator';
  const clientId = config.paypal.clientId ?? (simulator ? simulatorRestApp.clientId : undefined);
  return {
    ...config,
    paypal: {
      ...config.paypal,
      ipnVerifyUrl: config.paypal.ipnVerifyUrl ?? (simulator ? `${simulatorUrl}/cgi-bin/webscr` : ipnEndpoints[mode]),
      pdtToken: config.paypal.pdtToken ?? (simulator ? simulatorPdtToken : undefined),
      apiUrl: config.paypal.apiUrl ?? (simulator ? simulatorUrl : restEndpoints[mode]),
      clientId,
      clientSecret: config.paypal.clientSecret ?? (simulator && config.paypal.clientId === undefined ? simulatorRestApp.clientSecret : undefined),
      webhookId: config.paypal.webhookId ?? (simulator ? simulatorRestApp.webhookId : undefined),
      checkout: config.paypal.checkout ?? (clientId ? 'both' : 'classic'),
    },
  };
});

export type Config = z.infer<typeof schema>;

type NamesIn<T> = T extends { readonly [variableName]: infer Name }
  ? Name
  : T extends z.ZodObject<infer Shape>
    ? { [K in keyof Shape]: NamesIn<Shape[K]> }[keyof Shape]
    : never;
export type VariableName = NamesIn<typeof variables>;

export interface EnvironmentVariable extends VariableMeta {
  /** Where its value sits in Config, e.g. ['temporal', 'address']. */
  path: string[];
  /** What an unset variable means: the value as one would set it, or undefined (left unset). */
  defaultText: string | undefined;
}

function collect(object: z.ZodObject, path: string[] = []): EnvironmentVariable[] {
  return Object.entries(object.shape).flatMap(([key, field]) => {
    const meta = variableMeta.get(field);
    if (meta) {
      const defaultText = field instanceof z.ZodPrefault ? String(field.def.defaultValue) : undefined;
      return [{ ...meta, path: [...path, key], defaultText }];
    }
    if (field instanceof z.ZodObject) return collect(field, [...path, key]);
    throw new Error(`config/env.ts: ${[...path, key].join('.')} is neither a variable(...) nor a group of them.`);
  });
}

/** Every variable, in the schema's order: for the reference and the error sentences. */
export const environmentVariables: readonly EnvironmentVariable[] = collect(variables);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const fix = 'set it in the environment (see docs/configuration.md)';
const restVariables = { clientId: 'PAYPAL_CLIENT_ID', clientSecret: 'PAYPAL_CLIENT_SECRET', webhookId: 'PAYPAL_WEBHOOK_ID' } as const;

/** Parses the environment; throws ConfigError whose message has one sentence per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { require?: VariableName[] } = {}): Config {
  // An empty variable means "not set": shells and compose files often export FOO= .
  const present = (name: string) => (env[name] === '' ? undefined : env[name]);
  const input: Record<string, unknown> = {};
  for (const { name, path } of environmentVariables) {
    let group = input;
    for (const key of path.slice(0, -1)) group = (group[key] ??= {}) as Record<string, unknown>;
    group[path[path.length - 1] as string] = present(name);
  }
  const parsed = schema.safeParse(input);
  const problems: string[] = [];
  for (const issue of parsed.error?.issues ?? []) {
    const at = issue.path.map(String).join('.');
    const named = environmentVariables.find((v) => at === v.path.join('.') || at.startsWith(`${v.path.join('.')}.`));
    if (!named) {
      problems.push(issue.message);
      continue;
    }
    const given = present(named.name);
    const shown = given === undefined ? 'is missing' : `is "${named.secret ? '…' : given}"`;
    problems.push(`${named.name} ${shown} but ${issue.message}; ${fix}.`);
  }
  for (const name of options.require ?? []) {
    if (present(name) === undefined) problems.push(`${name} is missing; ${fix}.`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems.join('\n'));
  const config = parsed.data;
  const restMissing = (['clientId', 'clientSecret', 'webhookId'] as const).filter((key) => config.paypal[key] === undefined).map((key) => restVariables[key]);
  if (config.paypal.checkout !== 'classic' && restMissing.length > 0) {
    throw new ConfigError(
      `PAYPAL_CHECKOUT=${config.paypal.checkout} (PayPal Checkout, Orders v2) needs your REST app: ${restMissing.join(', ')} ${restMissing.length === 1 ? 'is' : 'are'} missing. Create the app and its webhook in PayPal's developer dashboard (docs/paypal.md says how) and set them, or set PAYPAL_CHECKOUT=classic.`,
    );
  }
  if (config.paypal.webhookVerify === 'online' && (config.paypal.clientId === undefined || config.paypal.clientSecret === undefined)) {
    throw new ConfigError('PAYPAL_WEBHOOK_VERIFY=online needs PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET (your REST app credentials); set them, or use offline.');
  }
  if ((config.temporal.tlsCertPath === undefined) !== (config.temporal.tlsKeyPath === undefined)) {
    throw new ConfigError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together; set both paths for mTLS, or neither.');
  }
  return config;
}

/** For entry points: parse or print the sentences and exit, without a stack trace. */
export function loadConfigOrExit(options?: { require?: VariableName[] }): Config {
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

/** The configured values that must never be written: tokens, API keys, the key derivation secret. */
export function secretsOf(config: Config): string[] {
  return environmentVariables
    .filter((v) => v.secret)
    .map((v) => v.path.reduce<unknown>((group, key) => (group as Record<string, unknown> | undefined)?.[key], config))
    .filter((value): value is string => typeof value === 'string');
}
