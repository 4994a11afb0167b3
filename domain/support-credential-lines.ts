// The seller's upload of support logins, one credential per line (docs/package-kinds.md, "Support
// logins", says the same to the seller):
//
//   login<TAB>password   the first tab separates, so a login or password may hold spaces and colons
//   login:password       without a tab: the first colon or space separates; the password is the rest
//   login password
//   token                a line without a separator is a single token (an access code, a licence)
//
// Blank lines and lines starting with # are skipped. Line numbers count every line, as an editor
// shows them. Pure: the admin page and the JSON API judge an upload with it before anything is stored.

/** The most credentials one upload may hold (a bigger pool goes in several uploads). */
export const maxCredentialsPerUpload = 10_000;
const maxLoginLength = 200;
const maxLineLength = 1_000;

export interface CredentialLine {
  /** 1-based, counting blank and comment lines. */
  line: number;
  login: string;
  /** null: a single token. */
  password: string | null;
}

export interface LineProblem {
  line: number;
  problem: string;
}

export type ParsedUpload = { ok: true; credentials: CredentialLine[] } | { ok: false; problems: LineProblem[] };

// A tab (U+0009) separates; any other control character is a copy-paste accident.
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const controlCharacter = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function parseLine(text: string, line: number): CredentialLine | LineProblem {
  if (text.length > maxLineLength) return { line, problem: `is longer than ${maxLineLength} characters` };
  if (controlCharacter.test(text)) return { line, problem: 'holds a control character' };
  const tab = text.indexOf('\t');
  const split = tab >= 0 ? tab : text.search(/[: ]/);
  if (split < 0) return text.length > maxLoginLength ? { line, problem: `is a token longer than ${maxLoginLength} characters` } : { line, login: text, password: null };
  const login = text.slice(0, split).trim();
  const password = text.slice(split + 1).trim();
  if (!login) return { line, problem: 'has a password but no login before the separator' };
  if (!password) return { line, problem: `has a login (${login}) but nothing after the separator` };
  if (login.length > maxLoginLength) return { line, problem: `has a login longer than ${maxLoginLength} characters` };
  if (tab < 0 && password.includes('\t')) return { line, problem: 'mixes separators; use one tab, colon or space between login and password' };
  return { line, login, password };
}

/**
 * Reads an upload; every malformed line and every login given twice in it (ignoring case) is a
 * problem with its line number, and any problem refuses the whole upload.
 */
export function parseCredentialLines(text: string): ParsedUpload {
  const credentials: CredentialLine[] = [];
  const problems: LineProblem[] = [];
  const firstLine = new Map<string, number>();
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const trimmed = raw.trim();
      if (!trimmed || trimmed.startsWith('#')) return;
      const parsed = parseLine(trimmed, i + 1);
      if ('problem' in parsed) return void problems.push(parsed);
      const key = parsed.login.toLowerCase();
      const earlier = firstLine.get(key);
      if (earlier !== undefined) return void problems.push({ line: parsed.line, problem: `repeats the login ${parsed.login} of line ${earlier}` });
      firstLine.set(key, parsed.line);
      credentials.push(parsed);
    });
  if (problems.length > 0) return { ok: false, problems };
  if (credentials.length === 0) return { ok: false, problems: [{ line: 0, problem: 'the upload holds no credential (one per line: login, a tab, colon or space, and the password; or a single token)' }] };
  if (credentials.length > maxCredentialsPerUpload) return { ok: false, problems: [{ line: maxCredentialsPerUpload + 1, problem: `is past the ${maxCredentialsPerUpload} credentials one upload may hold; upload the rest separately` }] };
  return { ok: true, credentials };
}

/** Problems as one sentence for a person, e.g. "line 3 repeats the login alice of line 1; line 5 ...". */
export function describeProblems(problems: LineProblem[]): string {
  return problems.map((p) => (p.line > 0 ? `line ${p.line} ${p.problem}` : p.problem)).join('; ');
}
