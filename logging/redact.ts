// The last line of defence between a log call and the log: every serialized line passes through
// here, so a secret that slipped into a message, an error or a stack trace is replaced before it
// is written. Covers the configured secrets by value, download keys by their shape and in /d/
// URLs, bearer tokens, and passwords inside URLs.

export const redacted = '[redacted]';

/** Below this length a "secret" is too likely to be an ordinary word to replace by value. */
const minimumSecretLength = 8;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const patterns: [RegExp, string][] = [
  // A keyed download URL, whatever the key looks like (not the route pattern /d/:key).
  [/\/d\/(?!:)[^\s"'/?#\\]+/g, `/d/${redacted}`],
  // A download key on its own: base64url of 32 bytes, 43 characters, not part of a longer token.
  [/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, redacted],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${redacted}`],
  // user:password@ in postgres://, smtp:// and other URLs.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/"]*:)[^\s@/"]+@/gi, `$1${redacted}@`],
];

export type Redactor = (text: string) => string;

export function createRedactor(secrets: Iterable<string | undefined>): Redactor {
  const values = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < minimumSecretLength) continue;
    values.add(secret);
    // The same secret as it appears inside a JSON string (quotes, backslashes, control characters escaped).
    values.add(JSON.stringify(secret).slice(1, -1));
  }
  const byValue = values.size > 0 ? new RegExp([...values].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g') : undefined;
  return (text) => {
    let out = byValue ? text.replace(byValue, redacted) : text;
    for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
    return out;
  };
}
