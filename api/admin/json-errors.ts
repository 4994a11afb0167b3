// The JSON API's answer to input that fails validation: 400 and one sentence naming each field.
import type { Context } from 'hono';

export function validationError(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }, c: Context) {
  if (result.success) return undefined;
  const problems = (result.error?.issues ?? []).map((i) => `${i.path.map(String).join('.') || 'body'} ${i.message}`).join('; ');
  return c.json({ error: `The request was not understood: ${problems}. See docs/runbook.md, Admin JSON API.` }, 400);
}
