// Package kinds: what a package delivers besides (or instead of) its files. A package has one kind
// (files, an access link, an event seat, a support login) and, for software, license keys. Each
// kind is one module in this folder that the invoice's delivery calls at fixed points, so the same
// e-mail, thank-you page, resend, extend, regenerate, refund and revoke carry every kind:
//
//   reserve  when a cleared payment is checked (activities/packages.ts): claims what is scarce
//            (a seat, a credential) and answers why not, which holds the invoice for review;
//   issue    in the delivery's transaction (activities/keys.ts), the invoice's row locked:
//            creates the kind's rows for this generation, idempotently (a retry issues nothing new);
//   parts    what the buyer is shown, in the e-mail and on the thank-you page (reads only);
//   revocable  the table of what it hands out: a refund or reversal revokes its rows, a cancelled
//            reversal gives back what the reversal took (db/revocations.ts);
//   waiting  while the invoice is held for what reserve lacked: what the buyer is told is coming;
//   blockers what keeps an approved delivery from finishing now (an empty pool): what the operator
//            who just acted is told it waits for.
//
// Shared by the worker and the api; nothing here may import either.
import type { z } from 'zod';
import type { Queryable } from '../db/pool';
import type { InvoiceSettings } from '../domain/invoice-settings';
import type { RevocableTable } from '../db/revocations';

export const packageKinds = ['files', 'access', 'event', 'support'] as const;
export type PackageKind = (typeof packageKinds)[number];

/** One package of an invoice, with its kind's settings as stored (each kind parses its own). */
export interface KindItem {
  packageId: number;
  itemNumber: string;
  packageName: string;
  quantity: number;
  kind: PackageKind;
  settings: Record<string, unknown>;
  /** The package's license-key settings, or null when it issues none. */
  license: Record<string, unknown> | null;
}

/** One line the buyer reads: a label and a value (a URL, a key, a login). */
export interface DeliveryLine {
  label: string;
  value: string;
  /** The value is a link. */
  url?: boolean;
  /** The value is the buyer's alone (a key, a password): the copy of the e-mail Postgres keeps withholds it. */
  secret?: boolean;
}

/** One section of the e-mail and the thank-you page, for one package. */
export interface DeliveryPart {
  kind: string;
  packageName: string;
  title: string;
  lines: DeliveryLine[];
  /** A sentence under the lines (how to use them, when access opens). */
  note?: string;
  /** It stops working when the invoice's keys expire (an access link for the key's lifetime): the expiry reminder shows it. */
  expiresWithKeys?: boolean;
}

/** What a kind is handed: the invoice, its newest key generation, and the items of the invoice. */
export interface DeliveryContext {
  db: Queryable;
  settings: InvoiceSettings;
  invoiceId: number;
  invoiceNumber: string;
  payerEmail: string;
  buyerName: string;
  generation: number;
  /** The generation's salt: keyed URLs of a kind derive from it like download keys (domain/download-keys.ts). */
  salt: Buffer;
  /** ISO 8601: when this generation's keys expire. */
  expiresAt: string;
  /** Every item of the invoice; a kind picks its own. */
  items: KindItem[];
}

/** One field of a kind's settings in the package editor (api/admin); `name` is the settings' key. */
export interface EditorField {
  name: string;
  label: string;
  type: 'text' | 'url' | 'number' | 'datetime' | 'textarea' | 'select' | 'checkbox';
  options?: { value: string; label: string }[];
  help?: string;
}

/** What a package's editor and the admin JSON API check and store for a kind. */
export interface KindSettings {
  /** `kind_settings` for the package's kind; `license_settings` for license keys (any kind). */
  column: 'kind_settings' | 'license_settings';
  /** The settings as submitted (the form's strings or the API's JSON) to what is stored; its issues are the editor's errors. */
  schema: z.ZodType<Record<string, unknown>>;
  fields: EditorField[];
  /** What only Postgres can judge (a capacity below the seats sold): a sentence, or undefined when fine. */
  problem?(db: Queryable, packageId: number, settings: Record<string, unknown>): Promise<string | undefined>;
}

export interface KindDelivery {
  /** Names the kind in errors and logs. */
  name: string;
  /** The package kind this delivers; absent for what any package may add (license keys, signed checksums). */
  kind?: PackageKind;
  settings?: KindSettings;
  reserve?(db: Queryable, invoiceId: number, items: KindItem[]): Promise<string[]>;
  issue?(ctx: DeliveryContext): Promise<void>;
  parts?(ctx: DeliveryContext): Promise<DeliveryPart[]>;
  /** The table of what it hands out; `newestGeneration`: its rows are per key generation (keyed links). */
  revocable?: { table: RevocableTable; newestGeneration?: boolean };
  /**
   * While the invoice is held for review because reserve came up short: one sentence per thing the
   * buyer is still owed and will get after the seller's refill ("Your support login ... is on its
   * way"). The buyer is told once by e-mail (activities/notices.ts) and on the thank-you page.
   */
  waiting?(db: Queryable, invoiceId: number, items: KindItem[]): Promise<string[]>;
  /**
   * What the invoice's delivery cannot get now, so that it retries until the seller acts: one
   * phrase per thing it waits for, naming what the seller does ("the support-login pool of ... to
   * be refilled ..."). The admin tells the operator whose action waits behind it (api/admin).
   */
  blockers?(db: Queryable, invoiceId: number, items: KindItem[]): Promise<string[]>;
}
