// The access-link kind: a web-cast, a stream, a course or a meeting. The buyer gets one keyed link
// per package (`${publicUrl}/a/<key>`), never the target itself; the api's /a/ route (api/access.ts)
// redirects it to the seller's https:// target only inside the access window and while the
// invoice's status allows (domain/access-window.ts), judged on every request. The window is either
// fixed dates (a live event) or the key's lifetime (a recording: the operator's extend moves it).
//
// A link is derived like a download key (HMAC over KEY_SECRET, the generation's salt, the package
// and the generation) with a label of its own; Postgres keeps its SHA-256 (db/access-links.ts).
import { z } from 'zod';
import { generationAccessHashes, storeAccessLinks } from '../db/access-links';
import { deriveLinkKey, keyHash } from '../domain/download-keys';
import type { AccessWindow } from '../domain/access-window';
import { formatTime } from '../domain/buyer-formats';
import type { DeliveryContext, DeliveryPart, KindDelivery, KindItem } from './kind';

export function deriveAccessKey(secret: Buffer, salt: Buffer, packageId: number, generation: number): string {
  return deriveLinkKey('access link', secret, salt, packageId, generation);
}

export const accessPath = (key: string) => `/a/${key}`;

const blank = (v: unknown) => (v === '' || v === null ? undefined : v);
// The editor's datetime-local field has no zone: it is read as UTC (the form says so).
const utc = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v.trim()) ? `${v.trim()}Z` : v);
const moment = z.preprocess(
  (v) => utc(blank(v)),
  z.coerce.date({ error: 'must be a date and time such as 2026-12-01T18:00 (UTC)' }).optional(),
);

/** The access settings as the editor posts them (strings) or the JSON API sends them; stored with ISO 8601 times. */
export const accessSettingsSchema = z
  .object({
    targetUrl: z.preprocess(
      (v) => (typeof v === 'string' ? v.trim() : v),
      z
        .string({ error: 'must be given: the https:// address buyers are sent to' })
        .min(1, 'must be given: the https:// address buyers are sent to')
        .refine((v) => URL.canParse(v) && new URL(v).protocol === 'https:' && new URL(v).hostname !== '', {
          message: 'must be an https:// address (buyers are sent there with their keyed link; plain http:// and other schemes are refused)',
        }),
    ),
    window: z.preprocess(blank, z.enum(['key', 'fixed'], { error: 'must be "key" (the key\'s lifetime) or "fixed" (dates)' }).default('key')),
    opensAt: moment,
    closesAt: moment,
  })
  .superRefine((s, ctx) => {
    if (s.window !== 'fixed') return;
    if (!s.opensAt) ctx.addIssue({ code: 'custom', path: ['opensAt'], message: 'must be given for fixed dates: when access opens (UTC)' });
    if (!s.closesAt) ctx.addIssue({ code: 'custom', path: ['closesAt'], message: 'must be given for fixed dates: when access closes (UTC)' });
    if (s.opensAt && s.closesAt && s.closesAt <= s.opensAt) ctx.addIssue({ code: 'custom', path: ['closesAt'], message: 'must be after the opening time' });
  })
  .transform((s) => ({
    targetUrl: s.targetUrl,
    window: s.window,
    // Dates are kept only for a fixed window: a "key lifetime" package has none to go stale.
    ...(s.window === 'fixed' ? { opensAt: s.opensAt!.toISOString(), closesAt: s.closesAt!.toISOString() } : {}),
  }));

export type AccessSettings = z.output<typeof accessSettingsSchema>;

/** A package's stored settings as a window and a target; undefined when they no longer parse (the route then refuses). */
export function accessSettings(stored: Record<string, unknown>): { targetUrl: string; window: AccessWindow } | undefined {
  const parsed = accessSettingsSchema.safeParse(stored);
  if (!parsed.success) return undefined;
  const s = parsed.data;
  const window: AccessWindow = s.window === 'fixed' ? { kind: 'fixed', opensAt: new Date(s.opensAt!), closesAt: new Date(s.closesAt!) } : { kind: 'key' };
  return { targetUrl: s.targetUrl, window };
}

const accessItems = (items: KindItem[]) => items.filter((i) => i.kind === 'access');

/** The sentence under the link: when it works. */
export function windowNote(window: AccessWindow | undefined, expiresAt: string): string {
  if (window?.kind === 'fixed') return `Access opens ${formatTime(window.opensAt.toISOString())} and closes ${formatTime(window.closesAt.toISOString())}. Open the link then; it takes you straight in.`;
  return `The link works until ${formatTime(expiresAt)}.`;
}

export const access: KindDelivery = {
  name: 'access link',
  kind: 'access',
  settings: {
    column: 'kind_settings',
    schema: accessSettingsSchema as unknown as z.ZodType<Record<string, unknown>>,
    fields: [
      { name: 'targetUrl', label: 'Target address (https://)', type: 'url', help: 'Where the buyer\'s link leads: the stream, course or meeting. Buyers never see it; they get a keyed link.' },
      {
        name: 'window',
        label: 'Access window',
        type: 'select',
        options: [
          { value: 'key', label: 'the key\'s lifetime (a recording; extend moves its end)' },
          { value: 'fixed', label: 'fixed dates (a live event)' },
        ],
      },
      { name: 'opensAt', label: 'Opens (UTC; fixed dates only)', type: 'datetime' },
      { name: 'closesAt', label: 'Closes (UTC; fixed dates only)', type: 'datetime' },
    ],
  },

  async issue(ctx: DeliveryContext) {
    const items = accessItems(ctx.items);
    if (items.length === 0) return;
    await storeAccessLinks(ctx.db, {
      invoiceId: ctx.invoiceId,
      generation: ctx.generation,
      expiresAt: ctx.expiresAt,
      links: items.map((i) => ({ packageId: i.packageId, keyHash: keyHash(deriveAccessKey(ctx.settings.keySecret, ctx.salt, i.packageId, ctx.generation)) })),
    });
  },

  async parts(ctx: DeliveryContext): Promise<DeliveryPart[]> {
    const items = accessItems(ctx.items);
    if (items.length === 0) return [];
    const stored = await generationAccessHashes(ctx.db, ctx.invoiceId, ctx.generation);
    return items.flatMap((i) => {
      const key = deriveAccessKey(ctx.settings.keySecret, ctx.salt, i.packageId, ctx.generation);
      // A link that is not the one stored (another KEY_SECRET than the worker's) would not work: show none.
      if (!stored.get(i.packageId)?.equals(keyHash(key))) return [];
      const window = accessSettings(i.settings)?.window;
      return [
        {
          kind: 'access',
          packageName: i.packageName,
          title: 'Your access link',
          // The keyed link is the buyer's alone: the copy of the e-mail Postgres keeps withholds it.
          lines: [{ label: 'Access link', value: ctx.settings.publicUrl + accessPath(key), url: true, secret: true }],
          note: windowNote(window, ctx.expiresAt),
          expiresWithKeys: window?.kind !== 'fixed',
        },
      ];
    });
  },

  revocable: { table: 'access_links', newestGeneration: true },
};
