// Kept, not range-parser: 1.x answers 416 to a reversed range (RFC 9110: ignore it) and to a suffix longer than the file (RFC 9110: the whole file); 2.x is an ES module only, which this CommonJS code base's TypeScript settings cannot import.
// The one `Range` a download honours (bytes=a-b, bytes=a-, bytes=-n) and its `If-Range`
// precondition. Several ranges in one request are answered with the whole file (allowed by
// RFC 9110, and no download tool needs multipart/byteranges); a syntactically wrong header is
// ignored the same way, while a range starting past the end is 416.

export type RangeAnswer =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number } // end inclusive
  | { kind: 'unsatisfiable' };

const single = /^bytes=(\d*)-(\d*)$/;

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'full' };
  const match = single.exec(header.replace(/\s+/g, ''));
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: 'unsatisfiable' };
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}

/**
 * Whether `If-Range` lets the Range apply: only a strong ETag equal to ours, or exactly our
 * Last-Modified date. Anything else means the client holds another version: send it all.
 */
export function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: string): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('W/')) return false;
  if (value.startsWith('"')) return value === etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === Date.parse(lastModified);
}
