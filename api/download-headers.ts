// Response headers of a keyed download that do not depend on the Range: the saved file's name,
// and validators in nginx's own format, so a download started through the api can be resumed
// when nginx serves (X-Accel mode) and the other way round.
import { create as createContentDisposition } from 'content-disposition';

/**
 * RFC 6266 with the exact UTF-8 name (RFC 8187, by content-disposition) and an ASCII fallback in
 * which nothing could end the header or be read as a path or a percent-escape.
 */
export function contentDisposition(fileName: string): string {
  const clean = savedFileName(fileName);
  return createContentDisposition(clean, { fallback: clean.replace(/[^\x20-\x7e]/g, '_').replace(/["%;]/g, '_') });
}

/** The name a download is saved under: no control characters, no path separators (SHA256SUMS lists files by it). */
export function savedFileName(fileName: string): string {
  return (
    [...fileName]
      .filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f)
      .join('')
      .replace(/[/\\]/g, '_') || 'download'
  );
}

/** nginx's strong ETag: "<mtime seconds, hex>-<size, hex>". */
export function fileEtag(size: number, mtimeMs: number): string {
  return `"${Math.floor(mtimeMs / 1000).toString(16)}-${size.toString(16)}"`;
}

export function lastModified(mtimeMs: number): string {
  return new Date(Math.floor(mtimeMs / 1000) * 1000).toUTCString();
}
