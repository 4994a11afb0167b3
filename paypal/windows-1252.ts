// windows-1252, PayPal's default IPN charset. Decoding is the platform's TextDecoder (the WHATWG
// Encoding Standard, as browsers decode it); TextEncoder writes UTF-8 only, so the encoder the
// simulator needs is derived from that decoder here (iconv-lite would be a runtime dependency for it).

const decoder = new TextDecoder('windows-1252');

/** Throws unless `decode` reads 0x80..0x9F as windows-1252 (the euro sign, curly quotes), not as latin1. */
export function assertWindows1252Decoder(decode: (bytes: Uint8Array) => string): void {
  const text = decode(Uint8Array.of(0x80, 0x93, 0x94, 0x9f));
  if (text !== '€“”Ÿ') {
    throw new Error(
      `This Node.js (${process.version}) decodes windows-1252 as latin1, so PayPal's notifications would lose their euro signs and curly quotes; run Keyship on Node.js 24 (npm start and npm test use the Node.js 24 that npm install brings).`,
    );
  }
}

// Node.js 20's TextDecoder treats this label as latin1; refuse to read IPNs wrongly on such a runtime.
assertWindows1252Decoder((bytes) => decoder.decode(bytes));

export function decodeWindows1252(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

// Code point -> byte for 0x80..0x9F; the five bytes windows-1252 leaves undefined decode to C1
// controls (U+0081 ...), as browsers do, so they encode back to themselves and no byte is lost.
const reverse = new Map<number, number>(
  [...decoder.decode(Uint8Array.from({ length: 0x20 }, (_, i) => 0x80 + i))].map((char, i) => [char.codePointAt(0)!, 0x80 + i]),
);

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
