// The Range header a download honours (api/download-range.ts), table-driven against a 1000-byte
// file, including the two answers for which Keyship keeps its own parser: a reversed range is
// ignored (the whole file) and a suffix longer than the file asks for all of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ifRangeHolds, parseRange, type RangeAnswer } from '../../api/download-range';

test('one range is served, anything else is the whole file or 416', () => {
  const full: RangeAnswer = { kind: 'full' };
  const unsatisfiable: RangeAnswer = { kind: 'unsatisfiable' };
  const part = (start: number, end: number): RangeAnswer => ({ kind: 'partial', start, end });
  const cases: [string | undefined, RangeAnswer][] = [
    [undefined, full],
    ['bytes=0-99', part(0, 99)],
    ['bytes=990-', part(990, 999)],
    ['bytes=-10', part(990, 999)],
    ['bytes=-5000', part(0, 999)],
    ['bytes=100-99999999', part(100, 999)],
    ['bytes = 5 - 9', part(5, 9)],
    ['bytes=50-10', full],
    ['bytes=0-0,10-20', full],
    ['items=0-10', full],
    ['bytes=abc', full],
    ['bytes=-', full],
    ['bytes=1000-', unsatisfiable],
    ['bytes=-0', unsatisfiable],
  ];
  for (const [header, answer] of cases) assert.deepEqual(parseRange(header, 1000), answer, header);
  assert.deepEqual(parseRange('bytes=0-', 0), unsatisfiable, 'an empty file has no bytes to range over');
});

test('If-Range keeps the Range only for our strong ETag or our exact Last-Modified', () => {
  const etag = '"65f0a1b2-3e8"';
  const modified = 'Tue, 12 Mar 2024 18:00:18 GMT';
  assert.equal(ifRangeHolds(undefined, etag, modified), true);
  assert.equal(ifRangeHolds(etag, etag, modified), true);
  assert.equal(ifRangeHolds(modified, etag, modified), true);
  assert.equal(ifRangeHolds(`W/${etag}`, etag, modified), false);
  assert.equal(ifRangeHolds('"0-0"', etag, modified), false);
  assert.equal(ifRangeHolds('Tue, 12 Mar 2024 18:00:17 GMT', etag, modified), false);
  assert.equal(ifRangeHolds('yesterday', etag, modified), false);
});
