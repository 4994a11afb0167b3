// The README and docs/*.md stay a connected guide: every relative link points at a file that
// exists (and at a heading that exists, when it names one), and the README stays a short read.
// A regex reads the links: the docs use plain inline links, and a Markdown parser would be a new
// dependency for this one test.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(__dirname, '..', '..');
const readmeLimitBytes = 20 * 1024;

/** The text outside fenced code blocks (which may sit in a list item, indented). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^( {0,3})(```|~~~)[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm, '');
}

/** The text outside code blocks and inline code spans (which may wrap, never across a blank line), where a link is a link. */
function prose(markdown: string): string {
  return withoutFences(markdown).replace(/(`+)(?!`)(?:(?!\n\s*\n)[\s\S])*?\1(?!`)/g, '');
}

/** Link targets: inline links and images `[text](target "title")`, and reference definitions `[label]: target`. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const defined = [...text.matchAll(/^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]!);
  return [...inline, ...defined];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = match[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** What is wrong with one link from `fromFile`, or undefined when it resolves. */
function linkProblem(fromFile: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: ...: not a file here
  const [pathPart = '', anchor] = target.split('#', 2);
  const file = pathPart === '' ? fromFile : path.resolve(path.dirname(fromFile), decodeURIComponent(pathPart));
  const shown = `${path.relative(root, fromFile)} links to "${target}"`;
  if (!file.startsWith(root + path.sep)) return `${shown}, which is outside the repository`;
  if (!existsSync(file)) return `${shown}, but ${path.relative(root, file)} does not exist`;
  if (anchor && file.endsWith('.md') && statSync(file).isFile() && !headingAnchors(readFileSync(file, 'utf8')).has(anchor)) {
    return `${shown}, but ${path.relative(root, file)} has no heading with the anchor #${anchor}`;
  }
  return undefined;
}

function guideFiles(): string[] {
  const docs = path.join(root, 'docs');
  const inDocs = existsSync(docs) ? readdirSync(docs).filter((name) => name.endsWith('.md')).map((name) => path.join(docs, name)) : [];
  return [path.join(root, 'README.md'), ...inDocs.sort()];
}

test('the link reader finds links in prose and ignores code', () => {
  const sample = [
    'See [the runbook](docs/runbook.md#failures) and ![a diagram](img/a.png "title").',
    '[ref]: docs/paypal.md',
    'Not `[code](nope.md)`, nor:',
    '```sh',
    'echo "[x](inside-a-fence.md)"',
    '```',
    'Also [the web](https://example.com/page).',
  ].join('\n');
  assert.deepEqual(linkTargets(sample), ['docs/runbook.md#failures', 'img/a.png', 'https://example.com/page', 'docs/paypal.md']);
});

test('headings become the anchors GitHub gives them', () => {
  const anchors = headingAnchors('# Keyship\n## A five-minute tour\n### `npm start`, and more!\n## Notes\n## Notes\n');
  assert.deepEqual([...anchors], ['keyship', 'a-five-minute-tour', 'npm-start-and-more', 'notes', 'notes-1']);
});

test('a broken link or anchor is reported, a good one is not', () => {
  const readme = path.join(root, 'README.md');
  assert.equal(linkProblem(readme, 'package.json'), undefined);
  assert.equal(linkProblem(readme, 'https://example.com/missing.md'), undefined);
  assert.match(linkProblem(readme, 'docs/no-such-page.md') ?? '', /docs\/no-such-page\.md does not exist/);
  assert.match(linkProblem(readme, '#no-such-heading') ?? '', /no heading with the anchor #no-such-heading/);
  assert.match(linkProblem(readme, '../outside.md') ?? '', /outside the repository/);
});

test('every relative link in README.md and docs/*.md resolves', () => {
  const problems = new Set<string>();
  let relative = 0;
  for (const file of guideFiles()) {
    for (const target of linkTargets(readFileSync(file, 'utf8'))) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) relative++;
      const problem = linkProblem(file, target);
      if (problem) problems.add(problem);
    }
  }
  assert.ok(relative >= 10, `only ${relative} relative links were found in the guide; the link reader has likely stopped seeing them`);
  assert.ok(problems.size === 0, `broken links:\n${[...problems].join('\n')}`);
});

test('README.md stays a short guide (under 20 KB); reference and reports go to docs/', () => {
  const size = statSync(path.join(root, 'README.md')).size;
  assert.ok(size < readmeLimitBytes, `README.md is ${size} bytes, over ${readmeLimitBytes}; move reference or reports into docs/ and link them`);
});
