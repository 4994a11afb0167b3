// How the admin answers what it cannot do: JSON input that fails validation (400, one sentence
// naming each field), input well formed but refused (an *InputError, whose message says why), and a
// package that does not exist (404, on a page or as JSON).
import type { Context } from 'hono';

type Issues = { issues: { path: PropertyKey[]; message: string }[] };

/** zod's issues as one sentence's list: "price must be an amount such as 19.95; name must not be empty". */
export function issueList(error: Issues, whole = 'input'): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || whole} ${i.message}`).join('; ');
}

export function validationError(result: { success: boolean; error?: Issues }, c: Context) {
  if (result.success) return undefined;
  return c.json({ error: `The request was not understood: ${issueList(result.error ?? { issues: [] }, 'body')}. See docs/runbook.md, Admin JSON API.` }, 400);
}

/** Runs `work`; an error of class `refusal` becomes `refuse(its message)`, any other is thrown on. */
export async function unlessRefused<T, R>(refusal: new (message: string) => Error, work: () => Promise<T>, refuse: (message: string) => R): Promise<T | R> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof refusal) return refuse(error.message);
    throw error;
  }
}

export const noPackage = (c: Context, item: string) => c.text(`There is no package ${item}; see /admin/packages.`, 404);

export const noPackageJson = (c: Context, item: string) => c.json({ error: `There is no package ${item}; list them with GET /api/admin/packages.` }, 404);
