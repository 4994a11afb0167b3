// The seller-editable e-mail templates: Mustache (the mustache package), limited to its logic-less
// part so a seller can edit them safely (no code runs, no partials, no unescaped output):
//   {{name}}                 a value (HTML-escaped in .html templates, as is in .txt)
//   {{#list}}...{{/list}}    repeated for each element of a list, or shown once when a value is set
//   {{^name}}...{{/name}}    shown when the value is missing, false or an empty list
//   {{! a comment }}
// A name the e-mail does not know is an error (listing the names it knows), never an empty string.
// A .txt template starts with a "Subject: ..." line and a blank line; the rest is the text body.
// A .html template of the same name, when present, is the HTML body.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Mustache from 'mustache';

export type TemplateValue = string | number | boolean | null | undefined | TemplateContext | TemplateContext[];
export interface TemplateContext {
  [name: string]: TemplateValue;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const isContext = (view: unknown): view is TemplateContext => view !== null && typeof view === 'object';

/** Looks a name up in the nearest section's element, then outwards; an unknown name throws. */
class StrictContext extends Mustache.Context {
  constructor(
    view: unknown,
    parent: StrictContext | undefined,
    private readonly label: string,
  ) {
    super(view, parent);
  }

  override push(view: unknown): StrictContext {
    return new StrictContext(view, this, this.label);
  }

  override lookup(name: string): TemplateValue {
    const views = viewChain(this);
    const found = views.find((view) => Object.prototype.hasOwnProperty.call(view, name));
    if (found) return found[name];
    const known = [...new Set(views.flatMap((view) => Object.keys(view)))].sort().join(', ');
    throw new TemplateError(`${this.label}: {{${name}}} is not a known name; use one of: ${known}`);
  }
}

/** The objects a name is looked up in, nearest section first (a section over a string pushes the string). */
function viewChain(context: Mustache.Context): TemplateContext[] {
  const views: TemplateContext[] = [];
  for (let at: Mustache.Context | undefined = context; at; at = at.parent) if (isContext(at.view)) views.push(at.view);
  return views;
}

/** Writes a value as text (HTML-escaped for an HTML body); a list in a value's place is an error. */
class MailWriter extends Mustache.Writer {
  constructor(
    private readonly html: boolean,
    private readonly label: string,
  ) {
    super();
  }

  override escapedValue(token: string[], context: Mustache.Context): string {
    const name = token[1]!;
    const value = context.lookup(name) as TemplateValue;
    if (isContext(value)) throw new TemplateError(`${this.label}: {{${name}}} is a list; use {{#${name}}}...{{/${name}}}`);
    const text = value === undefined || value === null || value === false ? '' : String(value);
    return this.html ? escapeHtml(text) : text;
  }
}

type Token = Mustache.TemplateSpans[number];
const allowedTags = new Set(['text', 'name', '#', '^', '!']);

/** Only plain names, sections and comments: no {{{raw}}}, {{&raw}}, partials or delimiter changes. */
function checkTokens(tokens: Token[], template: string, label: string): void {
  for (const token of tokens) {
    const [type, name, start, end] = token;
    if (type === 'text' || type === '!') continue;
    if (!allowedTags.has(type) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TemplateError(`${label}: "${template.slice(start, end)}" is not a template tag; names are letters, digits and _ (e.g. {{invoiceNumber}})`);
    }
    if (Array.isArray(token[4])) checkTokens(token[4], template, label);
  }
}

/** Mustache's parse errors, said as what to change in the template. */
function parseTokens(writer: Mustache.Writer, template: string, label: string): Token[] {
  try {
    return writer.parse(template) as Token[];
  } catch (error) {
    const message = (error as Error).message;
    const unclosed = /^Unclosed section "(.*)"/.exec(message);
    if (unclosed) throw new TemplateError(`${label}: {{#${unclosed[1]}}} is never closed; add {{/${unclosed[1]}}} where the section ends`);
    const unopened = /^Unopened section "(.*)"/.exec(message);
    if (unopened) throw new TemplateError(`${label}: {{/${unopened[1]}}} closes nothing open; remove it or add {{#${unopened[1]}}} before it`);
    throw new TemplateError(`${label}: a tag is never closed (${message}); end every {{ with }}`);
  }
}

export function renderTemplate(source: string, context: TemplateContext, options: { html: boolean; label: string }): string {
  // A writer per call: Mustache's shared one would keep every template it ever parsed.
  const writer = new MailWriter(options.html, options.label);
  const tokens = parseTokens(writer, source, options.label);
  checkTokens(tokens, source, options.label);
  return writer.renderTokens(tokens as string[][], new StrictContext(context, undefined, options.label), undefined, source);
}

export interface RenderedMail {
  subject: string;
  text: string;
  html?: string;
}

/** Splits "Subject: ...\n\nbody" and renders both parts. */
export function renderMailSource(textSource: string, htmlSource: string | undefined, context: TemplateContext, label: string): RenderedMail {
  const match = /^Subject:[ \t]*(.*)\r?\n(?:\r?\n)?([\s\S]*)$/.exec(textSource);
  if (!match) throw new TemplateError(`${label}: the first line must be "Subject: ..." followed by a blank line and the body`);
  // A header holds one line: a value with a line break cannot add headers.
  const subject = renderTemplate(match[1]!, context, { html: false, label }).replace(/[\r\n]+/g, ' ').trim();
  const text = renderTemplate(match[2]!, context, { html: false, label });
  const html = htmlSource === undefined ? undefined : renderTemplate(htmlSource, context, { html: true, label: label.replace(/\.txt$/, '.html') });
  return { subject, text, html };
}

/** Reads mail-templates/<name>.txt (and <name>.html when present), fresh, so edits apply at once. */
export function readMailTemplate(templatesDir: string, name: string): (context: TemplateContext) => RenderedMail {
  const textPath = path.join(templatesDir, `${name}.txt`);
  const htmlPath = path.join(templatesDir, `${name}.html`);
  if (!existsSync(textPath)) throw new TemplateError(`the e-mail template ${textPath} is missing; restore it from mail-templates/ in the Keyship sources`);
  const textSource = readFileSync(textPath, 'utf8');
  const htmlSource = existsSync(htmlPath) ? readFileSync(htmlPath, 'utf8') : undefined;
  return (context) => renderMailSource(textSource, htmlSource, context, `${name}.txt`);
}

export function renderMailTemplate(templatesDir: string, name: string, context: TemplateContext): RenderedMail {
  return readMailTemplate(templatesDir, name)(context);
}
