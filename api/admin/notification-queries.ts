// A package's "other notifications" (package_notifications: sent once per invoice after delivery,
// activities/notices.ts): what add and edit take, from a form or JSON, and the check that their
// templates render with the names the sender fills in, so a typo is refused at save time rather
// than failing a buyer's delivery.
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { Pool } from '../../db/pool';
import { insertNotification, updateNotification, type NotificationRow, type NotificationValues } from '../../db/packages';
import { renderMailSource, TemplateError } from '../../domain/mail-template';

const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1', z.boolean());

export const notificationInputSchema = z.object({
  name: z.string().trim().regex(/^[A-Za-z0-9._-]{1,60}$/, 'must be 1 to 60 letters, digits, dot, dash or underscore (it names the e-mail in the log)'),
  subject: storableText().trim().min(1, 'must not be empty').max(300),
  textBody: storableText().min(1, 'must not be empty').max(50_000),
  /** Empty: a text-only e-mail. */
  htmlBody: z.preprocess((v) => (v === '' || v === undefined ? null : v), storableText().max(100_000).nullable()),
  /** Absent from JSON: active; a form's unticked box: inactive. */
  active: z.preprocess((v) => (v === undefined ? true : v), checkbox),
});
export type NotificationInput = z.output<typeof notificationInputSchema>;

/** Input that is well formed but cannot be saved (a template that does not render, a taken name). */
export class NotificationInputError extends Error {
  override name = 'NotificationInputError';
}

// The names sendPackageNotifications fills in; a template may use only these.
const sample = { invoiceNumber: 'KS-0001', firstName: 'Ada', packageName: 'Sample', supportText: 'Write to support.' };

function checkTemplates(input: NotificationInput): void {
  try {
    renderMailSource(`Subject: ${input.subject}\n\n${input.textBody}`, input.htmlBody ?? undefined, sample, `notification "${input.name}"`);
  } catch (error) {
    if (error instanceof TemplateError) throw new NotificationInputError(error.message);
    throw error;
  }
}

const values = (input: NotificationInput): NotificationValues => ({ ...input, htmlBody: input.htmlBody });

export async function addNotification(pool: Pool, packageId: number, input: NotificationInput): Promise<NotificationRow> {
  checkTemplates(input);
  const row = await insertNotification(pool, packageId, values(input));
  if (!row) throw new NotificationInputError(`this package already has a notification named ${input.name}; pick another name or edit that one`);
  return row;
}

/** Undefined when the package has no such notification. */
export async function editNotification(pool: Pool, packageId: number, id: number, input: NotificationInput): Promise<NotificationRow | undefined> {
  checkTemplates(input);
  const row = await updateNotification(pool, packageId, id, values(input));
  if (row === 'taken') throw new NotificationInputError(`this package already has a notification named ${input.name}; pick another name`);
  return row === 'missing' ? undefined : row;
}
