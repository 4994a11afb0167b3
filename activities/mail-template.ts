// The seller-editable e-mail templates: a small, logic-less subset of Mustache, chosen because a
// seller can edit it safely (no code runs) and every value is escaped for HTML bodies.
//   {{name}}                 a value (HTML-escaped in .html templates, as is in .txt)
//   {{#list}}...{{/list}}    repeated for each element of a list, or shown once when a value is set
//   {{^name}}...{{/name}}    shown when the value is missing, false or an empty list
//   {{! a comment }}
// A .txt template starts with a "Subject: ..." line and a blank line; the rest is the text body.
// A .html template of the same name, when present, is the HTML body.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type TemplateValue = string | number | boolean | null | undefined | TemplateContext | TemplateContext[];
export interface TemplateContext {
  [name: string]: TemplateValue;
}

type Node =
  | { type: 'text'; text: string }
  | { type: 'value'; name: string }
  | { type: 'section'; name: string; inverted: boolean; children: Node[] };

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const tag = /\{\{\s*([#^/!]?)\s*([\s\S]*?)\s*\}\}/g;

// A line holding only a section tag ({{#files}}, {{/files}}, {{^x}}, {{! ...}}) leaves no blank line.
const standaloneTag = /^[ \t]*(\{\{\s*[#^/!][^}]*\}\})[ \t]*\r?\n/gm;

export function parseTemplate(template: string, label: string): Node[] {
  const source = template.replace(standaloneTag, '$1');
  const root: Node[] = [];
  const stack: { name: string; children: Node[] }[] = [{ name: '', children: root }];
  let last = 0;
  for (const match of source.matchAll(tag)) {
    const [whole, sigil, rawName] = match;
    const name = rawName ?? '';
    const top = stack[stack.length - 1]!;
    if (match.index > last) top.children.push({ type: 'text', text: source.slice(last, match.index) });
    last = match.index + whole.length;
    if (sigil === '!') continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TemplateError(`${label}: "${whole}" is not a template tag; names are letters, digits and _ (e.g. {{invoiceNumber}})`);
    }
    if (sigil === '#' || sigil === '^') {
      const section: Node = { type: 'section', name, inverted: sigil === '^', children: [] };
      top.children.push(section);
      stack.push({ name, children: section.children });
    } else if (sigil === '/') {
      if (top.name !== name) throw new TemplateError(`${label}: {{/${name}}} closes nothing open; the open section is ${top.name ? `{{#${top.name}}}` : 'none'}`);
      stack.pop();
    } else {
      top.children.push({ type: 'value', name });
    }
  }
  if (stack.length > 1) throw new TemplateError(`${label}: {{#${stack[stack.length - 1]!.name}}} is never closed; add {{/${stack[stack.length - 1]!.name}}}`);
  if (last < source.length) root.push({ type: 'text', text: source.slice(last) });
  return root;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function lookup(contexts: TemplateContext[], name: string, label: string): TemplateValue {
  for (let i = contexts.length - 1; i >= 0; i--) {
    if (Object.prototype.hasOwnProperty.call(contexts[i], name)) return contexts[i]![name];
  }
  const known = [...new Set(contexts.flatMap((c) => Object.keys(c)))].sort().join(', ');
  throw new TemplateError(`${label}: {{${name}}} is not a known name; use one of: ${known}`);
}

function renderNodes(nodes: Node[], contexts: TemplateContext[], html: boolean, label: string): string {
  let out = '';
  for (const node of nodes) {
    if (node.type === 'text') out += node.text;
    else if (node.type === 'value') {
      const value = lookup(contexts, node.name, label);
      if (value !== null && typeof value === 'object') throw new TemplateError(`${label}: {{${node.name}}} is a list; use {{#${node.name}}}...{{/${node.name}}}`);
      const text = value === undefined || value === null || value === false ? '' : String(value);
      out += html ? escapeHtml(text) : text;
    } else {
      const value = lookup(contexts, node.name, label);
      const items = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : value ? [{}] : [];
      if (node.inverted) {
        if (items.length === 0) out += renderNodes(node.children, contexts, html, label);
      } else {
        for (const item of items) out += renderNodes(node.children, [...contexts, item], html, label);
      }
    }
  }
  return out;
}

export function renderTemplate(source: string, context: TemplateContext, options: { html: boolean; label: string }): string {
  return renderNodes(parseTemplate(source, options.label), [context], options.html, options.label);
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
