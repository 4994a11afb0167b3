// The charsets an IPN or PDT body can name in its `charset` field, decoded to text. The raw bytes are
// kept elsewhere; this is only for reading the fields.
import { decodeWindows1252, encodeWindows1252 } from './windows-1252';

export const defaultIpnCharset = 'windows-1252';

/** PayPal spells some charsets its own way (UTF16_PlatformEndian, x-mac-...). */
function normalise(charset: string): string {
  const name = charset.trim().toLowerCase();
  if (name === 'utf16_platformendian' || name === 'utf16_oppositeendian') return 'utf-16le';
  return name;
}

// latin1 and ASCII are decoded as windows-1252, its superset, as every browser does.
const windows1252Labels = new Set(['windows-1252', 'cp1252', 'iso-8859-1', 'iso8859-1', 'latin1', 'us-ascii', 'ascii']);

export interface Decoded {
  text: string;
  /** The charset really used (windows-1252 when the named one is unknown here). */
  charset: string;
}

export function decodeBytes(bytes: Uint8Array, charset: string | undefined): Decoded {
  const name = normalise(charset ?? defaultIpnCharset);
  if (windows1252Labels.has(name)) return { text: decodeWindows1252(bytes), charset: 'windows-1252' };
  try {
    const decoder = new TextDecoder(name);
    return { text: decoder.decode(bytes), charset: decoder.encoding };
  } catch {
    return { text: decodeWindows1252(bytes), charset: 'windows-1252' };
  }
}

/** Only what the simulator writes: UTF-8 and windows-1252. */
export function encodeText(text: string, charset: string): Buffer {
  const name = normalise(charset);
  if (name === 'utf-8' || name === 'utf8') return Buffer.from(text, 'utf8');
  if (windows1252Labels.has(name)) return encodeWindows1252(text);
  throw new Error(`The simulator writes UTF-8 or windows-1252 only, not "${charset}"; pick one of those.`);
}
