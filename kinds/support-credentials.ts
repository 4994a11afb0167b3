// Support logins (package kind 'support'): paid support whose access login the buyer gets by
// e-mail and on the thank-you page, one per purchased unit. The login comes from the seller's pool
// (uploaded at /admin/packages/:item/credentials; each given once, never to two buyers) or is
// generated from a pattern with a random password. docs/package-kinds.md, "Support logins".
//
//   reserve  the pool's credentials are claimed when the payment is checked; an empty pool holds
//            the invoice for review (the operator is alerted, the buyer told the login is coming);
//   issue    after the operator approves, claims what is still missing, or throws so the delivery
//            is retried (with backoff) until the seller uploads more; generates generated ones;
//   blockers meanwhile, what the operator is told the delivery waits for (how many to upload);
//   revoke   a refund or reversal marks the credential revoked; a pool credential is never given
//            again (the seller disables it at their end); a cancelled reversal restores it.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { storableText } from '../db/storable-text';
import {
  claimFromPool,
  fillWait,
  heldUnits,
  insertGenerated,
  invoiceCredentials,
  openWaits,
  poolCounts,
  recordWait,
} from '../db/support-credentials';
import type { DeliveryContext, DeliveryLine, DeliveryPart, KindDelivery, KindItem } from './kind';

export const credentialSources = ['pool', 'generated'] as const;
export const defaultLoginPattern = 'support-{invoice}-{unit}';
export const defaultPasswordLength = 16;
const randomLength = 8;
const placeholder = /\{(invoice|unit|random)\}/g;

/** Where the seller adds credentials (the pool page); named in the operator's sentences. */
export const poolPath = (itemNumber: string) => `/admin/packages/${encodeURIComponent(itemNumber)}/credentials`;

// The editor posts strings ('' = not set); the JSON API posts values. Both land here.
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const settingsSchema = z
  .object({
    source: z.preprocess(blank, z.enum(credentialSources).default('pool')),
    loginPattern: z.preprocess(
      blank,
      z
        .string()
        .trim()
        .max(100)
        .regex(/^(?:[A-Za-z0-9._@+-]|\{(?:invoice|unit|random)\})+$/, 'may hold letters, digits, . _ @ + - and the placeholders {invoice}, {unit} and {random}')
        .optional(),
    ),
    passwordLength: z.preprocess(blank, z.coerce.number().int().min(8).max(128).optional()),
    supportUrl: z.preprocess(blank, z.url({ protocol: /^https?$/ }).optional()),
    instructions: z.preprocess(blank, storableText().trim().max(4_000).optional()),
  })
  .superRefine((s, ctx) => {
    const p = s.loginPattern;
    // A pattern must make two logins differ: by chance ({random}) or by invoice and unit.
    if (p && /\{/.test(p) && !p.includes('{random}') && !(p.includes('{invoice}') && p.includes('{unit}'))) {
      ctx.addIssue({ code: 'custom', path: ['loginPattern'], message: 'needs {random}, or both {invoice} and {unit}, so that no two buyers get the same login' });
    }
  });

export type SupportSettings = z.output<typeof settingsSchema>;

function settingsOf(item: KindItem): SupportSettings {
  const parsed = settingsSchema.safeParse(item.settings);
  if (!parsed.success) throw new Error(`The support-login settings of package ${item.itemNumber} no longer read (${parsed.error.issues.map((i) => i.message).join('; ')}); save the package again in the admin.`);
  return parsed.data;
}

const supportItems = (items: KindItem[]) => items.filter((i) => i.kind === 'support');
const allUnits = (quantity: number) => Array.from({ length: quantity }, (_, i) => i + 1);

async function missingUnits(db: DeliveryContext['db'], invoiceId: number, item: KindItem): Promise<number[]> {
  const held = new Set(await heldUnits(db, invoiceId, item.packageId));
  return allUnits(item.quantity).filter((u) => !held.has(u));
}

// node:crypto's randomInt draws each character without bias; a password package would add a
// dependency for these three lines. No 0/O, 1/l/I: buyers type these from an e-mail.
const passwordAlphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const loginAlphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
const randomChars = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');

/** A generated login: the pattern's placeholders filled; a pattern without any is a prefix. */
export function generatedLogin(pattern: string | undefined, invoiceNumber: string, unit: number): string {
  const p = pattern ?? defaultLoginPattern;
  const full = /\{(invoice|unit|random)\}/.test(p) ? p : `${p}{invoice}-{unit}`;
  return full.replace(placeholder, (_, name: string) => (name === 'invoice' ? invoiceNumber : name === 'unit' ? String(unit) : randomChars(loginAlphabet, randomLength)));
}

export function generatedPassword(length = defaultPasswordLength): string {
  return randomChars(passwordAlphabet, length);
}

async function generate(ctx: DeliveryContext, item: KindItem, settings: SupportSettings, unit: number): Promise<void> {
  // A pattern without {random} may meet a login already in the package's pool: then try a few
  // times ({random} changes), and say which pattern to change when it keeps happening.
  for (let attempt = 0; attempt < 5; attempt++) {
    const login = generatedLogin(settings.loginPattern, ctx.invoiceNumber, unit);
    const added = await insertGenerated(ctx.db, { packageId: item.packageId, invoiceId: ctx.invoiceId, unit, login, password: generatedPassword(settings.passwordLength) });
    if (added || (await heldUnits(ctx.db, ctx.invoiceId, item.packageId)).includes(unit)) return;
  }
  throw new Error(
    `The login pattern of package ${item.itemNumber} gives invoice ${ctx.invoiceNumber} a login that package already holds; add {random} to the pattern in the package's editor. The delivery tries again by itself.`,
  );
}

const units = (n: number) => (n === 1 ? 'credential' : 'credentials');

/** The buyer's sentence while the pool is refilled (thank-you page, the "on its way" e-mail). */
function comingSentence(packageName: string, missing: number): string {
  return missing === 1
    ? `Your support login for ${packageName} is on its way: we are setting it up and e-mail it to you as soon as it is ready.`
    : `Your ${missing} support logins for ${packageName} are on their way: we are setting them up and e-mail them to you as soon as they are ready.`;
}

export const supportCredentials: KindDelivery = {
  name: 'support logins',
  kind: 'support',
  settings: {
    column: 'kind_settings',
    schema: settingsSchema,
    fields: [
      {
        name: 'source',
        label: 'Logins come from',
        type: 'select',
        options: [
          { value: 'pool', label: 'my pool (I upload them; each is given once)' },
          { value: 'generated', label: 'generated (a login from the pattern, a random password)' },
        ],
        help: 'Upload the pool at /admin/packages/<item>/credentials after saving.',
      },
      {
        name: 'loginPattern',
        label: 'Login pattern (generated)',
        type: 'text',
        help: `Placeholders {invoice}, {unit}, {random}; text without them is a prefix. Default ${defaultLoginPattern}.`,
      },
      { name: 'passwordLength', label: 'Password length (generated)', type: 'number', help: `8 to 128 characters; default ${defaultPasswordLength}.` },
      { name: 'supportUrl', label: 'Support URL', type: 'url', help: 'Where the buyer logs in; shown with the login.' },
      { name: 'instructions', label: 'Instructions', type: 'textarea', help: 'Shown under the login in the e-mail and on the thank-you page.' },
    ],
  },

  async reserve(db, invoiceId, items) {
    const problems: string[] = [];
    for (const item of supportItems(items)) {
      if (settingsOf(item).source !== 'pool') continue;
      const missing = await missingUnits(db, invoiceId, item);
      if (missing.length === 0 || (await claimFromPool(db, item.packageId, invoiceId, missing)) > 0) continue;
      await recordWait(db, invoiceId, item.packageId, missing.length);
      problems.push(
        `the support-login pool of ${item.itemNumber} (${item.packageName}) has fewer than the ${missing.length} ${units(missing.length)} this payment needs; ` +
          `upload more at ${poolPath(item.itemNumber)}, then approve this invoice (the buyer is told their login is on its way)`,
      );
    }
    return problems;
  },

  async issue(ctx) {
    for (const item of supportItems(ctx.items)) {
      const settings = settingsOf(item);
      const missing = await missingUnits(ctx.db, ctx.invoiceId, item);
      if (settings.source === 'generated') {
        for (const unit of missing) await generate(ctx, item, settings, unit);
      } else if (missing.length > 0 && (await claimFromPool(ctx.db, item.packageId, ctx.invoiceId, missing)) === 0) {
        // Never deliver without the login: the activity fails and Temporal retries it with backoff.
        throw new Error(
          `Invoice ${ctx.invoiceNumber} needs ${missing.length} more support ${units(missing.length)} for ${item.itemNumber} (${item.packageName}), but its pool has too few left; ` +
            `upload more at ${poolPath(item.itemNumber)}. The delivery tries again by itself until then.`,
        );
      }
      await fillWait(ctx.db, ctx.invoiceId, item.packageId);
    }
  },

  async parts(ctx) {
    const support = supportItems(ctx.items);
    if (support.length === 0) return [];
    const given = (await invoiceCredentials(ctx.db, ctx.invoiceId)).filter((c) => !c.revokedAt);
    const parts: DeliveryPart[] = [];
    for (const item of support) {
      const mine = given.filter((c) => c.packageId === item.packageId);
      if (mine.length === 0) continue;
      const settings = settingsOf(item);
      const n = (label: string, unit: number) => (mine.length > 1 ? `${label} ${unit}` : label);
      const lines: DeliveryLine[] = mine.flatMap((c) =>
        c.password === null
          ? [{ label: n('Access token', c.unit), value: c.login, secret: true }]
          : [
              { label: n('Login', c.unit), value: c.login, secret: true },
              { label: n('Password', c.unit), value: c.password, secret: true },
            ],
      );
      if (settings.supportUrl) lines.push({ label: 'Support', value: settings.supportUrl, url: true });
      parts.push({ kind: 'support', packageName: item.packageName, title: mine.length > 1 ? 'Support logins' : 'Support login', lines, note: settings.instructions });
    }
    return parts;
  },

  async waiting(db, invoiceId) {
    return (await openWaits(db, invoiceId)).map((w) => comingSentence(w.packageName, w.missing));
  },

  async blockers(db, invoiceId, items) {
    const phrases: string[] = [];
    for (const item of supportItems(items)) {
      if (settingsOf(item).source !== 'pool') continue;
      const missing = (await missingUnits(db, invoiceId, item)).length;
      if (missing === 0) continue;
      // All or none (claimFromPool): a pool holding enough is claimed at the delivery's next try.
      const { left } = await poolCounts(db, item.packageId);
      if (left >= missing) continue;
      phrases.push(
        `the support-login pool of ${item.itemNumber} (${item.packageName}) to be refilled (${missing} ${missing === 1 ? 'login' : 'logins'} needed, ${left} left): ` +
          `upload at least ${missing - left} more at ${poolPath(item.itemNumber)}`,
      );
    }
    return phrases;
  },

  revocable: { table: 'support_credentials' },
};
