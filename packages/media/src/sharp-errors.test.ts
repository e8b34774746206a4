/** How sharp/libvips failures become typed media errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharpError } from './sharp-errors.ts';

test('a multi-line libvips message becomes a one-line corrupt_file reason', () => {
  const e = sharpError(
    new Error('Warning treated as error due to failOn setting\nerror in tile 0 x 24\n'),
    'decoding image for hashing',
  );
  assert.equal(e.code, 'corrupt_file');
  assert.equal(
    e.message,
    'decoding image for hashing: Warning treated as error due to failOn setting; error in tile 0 x 24',
  );
  assert.doesNotMatch(e.message, /\n/);
});

test('pixel limits, timeouts and missing decoders keep their own codes', () => {
  assert.equal(sharpError(new Error('Input image exceeds pixel limit'), 'x').code, 'too_many_pixels');
  assert.equal(sharpError(new Error('timeout: 60s'), 'x').code, 'timeout');
  assert.equal(sharpError(new Error('VipsForeignLoad: no decoding plugin'), 'x').code, 'unsupported_type');
});
