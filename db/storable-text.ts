// Text from outside (a form, a JSON body, a query string) that Postgres can store, as a zod schema.
// Postgres refuses a NUL (U+0000) in text and jsonb with an error, so a value that could hold one is
// refused here, with a sentence, before it reaches a query; api/app.ts answers 400 to one that slips
// past a schema. (db/paypal-messages.ts keeps PayPal's raw messages instead, NUL replaced.)
import { z } from 'zod';

export const nulRefused = 'must not contain a NUL character (U+0000)';

/** z.string() that refuses NUL; chain .trim(), .max() and the rest as usual. */
export function storableText() {
  return z.string().refine((value) => !value.includes('\0'), nulRefused);
}
