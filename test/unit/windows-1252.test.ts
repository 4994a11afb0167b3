// windows-1252 as the Encoding Standard defines it, on the Node.js that runs Keyship: every byte
// decodes to its code point and encodes back, every label PayPal sends for it decodes the same,
// and a runtime that reads the label as latin1 (Node.js 20) is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBytes } from '../../paypal/charset';
import { assertWindows1252Decoder, decodeWindows1252, encodeWindows1252 } from '../../paypal/windows-1252';

// The Encoding Standard's index-windows-1252 for 0x80..0x9F; its five gaps (0x81, 0x8D, 0x8F,
// 0x90, 0x9D) decode to the C1 control of the same number. 0x00..0x7F and 0xA0..0xFF are themselves.
const high = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const codePointOf = (byte: number) => (byte >= 0x80 && byte <= 0x9f ? high[byte - 0x80]! : byte);
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);

test('every byte decodes to the code point the Encoding Standard gives it', () => {
  const decoded = [...decodeWindows1252(everyByte)].map((char) => char.codePointAt(0));
  assert.deepEqual(decoded, [...everyByte].map(codePointOf));
});

test('every byte encodes back to itself, and what windows-1252 cannot hold becomes "?"', () => {
  assert.deepEqual([...encodeWindows1252(decodeWindows1252(everyByte))], [...everyByte]);
  assert.deepEqual([...encodeWindows1252('\u0080\u009e東😀')], [0x3f, 0x3f, 0x3f, 0x3f]);
});

test('the labels PayPal uses for it (and a charset unknown here) all decode as windows-1252', () => {
  for (const label of ['windows-1252', 'WINDOWS-1252', 'cp1252', 'iso-8859-1', 'latin1', 'us-ascii', 'ascii', 'no-such-charset', undefined]) {
    assert.deepEqual(decodeBytes(Uint8Array.of(0x80, 0x93, 0xe9, 0x94), label), { text: '€“é”', charset: 'windows-1252' }, String(label));
  }
});

test('a decoder that reads windows-1252 as latin1, as Node.js 20 does, is refused with what to do', () => {
  const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
  assert.throws(() => assertWindows1252Decoder(latin1), /decodes windows-1252 as latin1.*run Keyship on Node\.js 24/);
  assert.doesNotThrow(() => assertWindows1252Decoder(decodeWindows1252));
});
