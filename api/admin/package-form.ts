// The package editor's form and the input create and edit take. A kind's settings are posted as
// `kindSettings.<kind>.<name>`: the form shows every kind's fieldset at once (the admin runs no
// JavaScript), so two kinds may both have, say, an `opensAt`; only the chosen kind's are read.
// A client posting the documented flat `kindSettings.<name>` works too. License-key settings are
// `license.<name>`, switched on and off by `licenseKeys` (on: the object; off: null).
import { kindDeliveries, packageKinds, type EditorField, type KindSettings, type PackageKind } from '../../kinds';
import type { PackageRow } from '../../db/packages';

/** The kinds' names in the editor. */
export const kindLabels: Record<PackageKind, string> = { files: 'files', access: 'access link', event: 'event seat', support: 'support login' };

/** The registered modules whose settings the editor shows, per kind. */
export function kindEditors(): { kind: PackageKind; label: string; settings: KindSettings }[] {
  return kindDeliveries.flatMap((k) => (k.kind && k.settings?.column === 'kind_settings' ? [{ kind: k.kind, label: kindLabels[k.kind], settings: k.settings }] : []));
}

/** The license-key module's settings; undefined while none is registered (the form then has no such fieldset). */
export function licenseEditor(): KindSettings | undefined {
  return kindDeliveries.find((k) => k.settings?.column === 'license_settings')?.settings;
}

const isKind = (v: unknown): v is PackageKind => typeof v === 'string' && (packageKinds as readonly string[]).includes(v);

/** The posted form as packageInputSchema takes it: the chosen kind's settings and the license as objects. */
export function formInput(body: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const nested: Record<string, unknown> = {};
  const flat: Record<string, unknown> = {};
  const license: Record<string, unknown> = {};
  const kind = isKind(body.kind) ? body.kind : undefined;
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith('kindSettings.')) {
      const rest = name.slice('kindSettings.'.length);
      const dot = rest.indexOf('.');
      const owner = dot > 0 ? rest.slice(0, dot) : undefined;
      if (owner !== undefined && isKind(owner)) {
        if (owner === kind) nested[rest.slice(dot + 1)] = value;
      } else flat[rest] = value;
    } else if (name.startsWith('license.')) license[name.slice('license.'.length)] = value;
    else if (name !== 'licenseKeys' && name !== '_csrf') input[name] = value;
  }
  if (body.kind !== undefined) input.kind = body.kind;
  // A kind chosen in the form is checked with its own fieldset's values (none: an empty object).
  if (kind) input.kindSettings = { ...flat, ...nested };
  if (body.licenseKeys === 'off') input.license = null;
  else if (body.licenseKeys === 'on') input.license = license;
  return input;
}

/** What the form shows: as typed (after an error) or as stored. */
export interface PackageFormValues {
  itemNumber?: string;
  name?: string;
  currency?: string;
  price?: string;
  keyTtl?: string;
  downloadLimit?: string;
  reminderHours?: string;
  selfService?: boolean;
  refundPolicy?: string;
  disputePolicy?: string;
  supportText?: string;
  active?: boolean;
  kind?: string;
  description?: string;
  /** Per kind, its fields as strings. */
  kindSettings?: Partial<Record<string, Record<string, string>>>;
  licenseKeys?: 'on' | 'off';
  license?: Record<string, string>;
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const ticked = (v: unknown) => v === 'on' || v === true || v === 'true';

/** The values a refused form is shown again with: exactly as posted. */
export function postedValues(body: Record<string, unknown>): PackageFormValues {
  const kindSettings: Record<string, Record<string, string>> = {};
  const license: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string') continue;
    const m = /^kindSettings\.([a-z]+)\.(.+)$/.exec(name);
    if (m) (kindSettings[m[1]!] ??= {})[m[2]!] = value;
    else if (name.startsWith('license.')) license[name.slice('license.'.length)] = value;
  }
  return {
    itemNumber: text(body.itemNumber),
    name: text(body.name),
    currency: text(body.currency),
    price: text(body.price),
    keyTtl: text(body.keyTtl),
    downloadLimit: text(body.downloadLimit),
    reminderHours: text(body.reminderHours),
    selfService: ticked(body.selfService),
    refundPolicy: text(body.refundPolicy),
    disputePolicy: text(body.disputePolicy),
    supportText: text(body.supportText),
    active: ticked(body.active),
    kind: text(body.kind),
    description: text(body.description),
    kindSettings,
    licenseKeys: body.licenseKeys === 'on' ? 'on' : 'off',
    license,
  };
}

/** A stored setting as its field shows it (a time as the datetime-local field's UTC "YYYY-MM-DDTHH:MM"). */
export function fieldText(field: EditorField, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (field.type === 'checkbox') return value === true || value === 'on' ? 'on' : '';
  if (field.type === 'datetime' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return value.slice(0, 16);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const fieldTexts = (fields: EditorField[], stored: Record<string, unknown>) => Object.fromEntries(fields.map((f) => [f.name, fieldText(f, stored[f.name])]));

export function formValues(p: PackageRow): PackageFormValues {
  const ttl = p.keyTtlSeconds;
  const editor = kindEditors().find((e) => e.kind === p.kind);
  const license = licenseEditor();
  return {
    itemNumber: p.itemNumber,
    name: p.name,
    currency: p.currency,
    price: p.price,
    keyTtl: ttl === null ? '' : ttl % 86400 === 0 ? `${ttl / 86400}d` : ttl % 3600 === 0 ? `${ttl / 3600}h` : `${ttl}s`,
    downloadLimit: p.downloadLimit?.toString() ?? '',
    reminderHours: p.reminderHours?.toString() ?? '',
    selfService: p.selfService,
    refundPolicy: p.refundPolicy,
    disputePolicy: p.disputePolicy,
    supportText: p.supportText,
    active: p.active,
    kind: p.kind,
    description: p.description,
    kindSettings: editor ? { [p.kind]: fieldTexts(editor.settings.fields, p.kindSettings) } : {},
    licenseKeys: p.license ? 'on' : 'off',
    license: license && p.license ? fieldTexts(license.fields, p.license) : {},
  };
}
