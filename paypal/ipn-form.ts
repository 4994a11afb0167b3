// The IPN body codec: application/x-www-form-urlencoded bytes in the charset the body names in its
// `charset` field. Parsing never changes the raw bytes; they are what gets posted back.
import { decodeBytes, defaultIpnCharset, encodeText } from './charset';

export interface IpnForm {
  /** The charset the fields were decoded with. */
  charset: string;
  /** The charset the body named, if it named one. */
  declaredCharset?: string;
  /** Every name=value pair in order, duplicates kept. */
  pairs: [string, string][];
  /** The first value of each name. */
  fields: Record<string, string>;
}

function percentDecode(segment: Buffer): Buffer {
  const out = Buffer.alloc(segment.length);
  let length = 0;
  for (let i = 0; i < segment.length; i++) {
    const byte = segment[i] ?? 0;
    if (byte === 0x2b) {
      out[length++] = 0x20;
    } else if (byte === 0x25 && i + 2 < segment.length && isHex(segment[i + 1]) && isHex(segment[i + 2])) {
      out[length++] = parseInt(segment.subarray(i + 1, i + 3).toString('latin1'), 16);
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

function isHex(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));
}

function splitBytes(raw: Buffer, separator: number): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === separator) {
      parts.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/** Name/value byte pairs, percent-decoded but not yet charset-decoded. */
export function splitForm(raw: Buffer): [Buffer, Buffer][] {
  if (raw.length === 0) return [];
  return splitBytes(raw, 0x26)
    .filter((part) => part.length > 0)
    .map((part) => {
      const eq = part.indexOf(0x3d);
      return eq < 0 ? [percentDecode(part), Buffer.alloc(0)] : [percentDecode(part.subarray(0, eq)), percentDecode(part.subarray(eq + 1))];
    });
}

/** Decodes byte pairs with the charset that the `charset` pair names (windows-1252 when absent). */
export function decodePairs(bytePairs: [Buffer, Buffer][]): IpnForm {
  // Field names are ASCII, so the charset field can be found before the charset is known.
  const declared = bytePairs.find(([name]) => name.toString('latin1') === 'charset')?.[1].toString('latin1').trim() || undefined;
  const charset = decodeBytes(Buffer.alloc(0), declared ?? defaultIpnCharset).charset;
  const pairs = bytePairs.map(([name, value]): [string, string] => [decodeBytes(name, charset).text, decodeBytes(value, charset).text]);
  const fields: Record<string, string> = {};
  for (const [name, value] of pairs) if (!(name in fields)) fields[name] = value;
  return { charset, declaredCharset: declared, pairs, fields };
}

export function parseIpnBody(raw: Buffer): IpnForm {
  return decodePairs(splitForm(raw));
}

// PayPal encodes like Java's URLEncoder: letters, digits and . - * _ stay; a space is "+".
function formEscape(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-*_]/.test(c)) out += c;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Writes pairs the way PayPal does, in the given charset (the simulator's side of the codec). */
export function encodeIpnForm(pairs: [string, string][], charset: string): Buffer {
  const text = pairs.map(([name, value]) => `${formEscape(encodeText(name, charset))}=${formEscape(encodeText(value, charset))}`).join('&');
  return Buffer.from(text, 'latin1');
}
