// windows-1252, PayPal's default IPN charset. Node 20's TextDecoder treats the label as latin1 and
// gets 0x80..0x9F wrong (the euro sign, curly quotes), so the table lives here.

// Code points for bytes 0x80..0x9F; the five bytes windows-1252 leaves undefined map to C1 controls,
// as browsers do, so no byte is ever lost.
const high = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

const reverse = new Map<number, number>(high.map((codePoint, i) => [codePoint, 0x80 + i]));

export function decodeWindows1252(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) {
    text += String.fromCharCode(byte >= 0x80 && byte <= 0x9f ? (high[byte - 0x80] ?? byte) : byte);
  }
  return text;
}

/** Characters windows-1252 cannot hold become "?", as PayPal's own pages do. */
export function encodeWindows1252(text: string): Buffer {
  const bytes: number[] = [];
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0x3f;
    const mapped = reverse.get(codePoint);
    if (mapped !== undefined) bytes.push(mapped);
    else if (codePoint < 0x80 || (codePoint >= 0xa0 && codePoint <= 0xff)) bytes.push(codePoint);
    else bytes.push(0x3f);
  }
  return Buffer.from(bytes);
}
