import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMediaError } from './errors.ts';
import { h264CodecString, h264Level } from './h264.ts';
import { readHeaderDimensions } from './image-header.ts';
import { maxKbpsForShortSide, planLadder } from './ladder.ts';
import { assertDuration, assertPixels } from './limits.ts';
import { fitInside, fitPixels, sizeForHeight } from './video-geometry.ts';

test('ladder: never upscales, portrait uses the short side', () => {
  assert.deepEqual(
    planLadder({ width: 720, height: 405 }).map((r) => `${r.width}x${r.height}`),
    ['426x240', '640x360'],
  );
  assert.deepEqual(
    planLadder({ width: 1920, height: 1080 }).map((r) => r.name),
    ['240p', '360p', '480p', '720p', '1080p'],
  );
  assert.deepEqual(
    planLadder({ width: 1080, height: 1920 }, undefined, 720).map((r) => `${r.width}x${r.height}`),
    ['240x426', '360x640', '480x854', '720x1280'],
  );
  assert.deepEqual(
    planLadder({ width: 320, height: 180 }).map((r) => `${r.name} ${r.width}x${r.height}`),
    ['180p 320x180'],
  );
  assert.equal(maxKbpsForShortSide(300), 700);
});

test('rounding to even sides never upscales an odd-sized source', () => {
  assert.deepEqual(fitInside({ width: 720, height: 405 }), { width: 720, height: 404 });
  assert.deepEqual(fitPixels({ width: 720, height: 405 }, 10_000_000), { width: 720, height: 404 });
});

test('geometry helpers keep aspect and even sides', () => {
  assert.deepEqual(fitInside({ width: 1920, height: 1080 }, undefined, 720), { width: 1280, height: 720 });
  assert.deepEqual(
    fitInside({ width: 640, height: 360 }, 1280, 720),
    { width: 640, height: 360 },
    'no upscale',
  );
  assert.deepEqual(sizeForHeight({ width: 720, height: 405 }, 240), { width: 426, height: 240 });
  const small = fitPixels({ width: 1920, height: 1080 }, 100_000);
  assert.ok(small.width * small.height <= 101_000 && small.width % 2 === 0 && small.height % 2 === 0);
});

test('H.264 levels and codec strings', () => {
  assert.equal(h264Level(640, 360, 30, 900), 3.0);
  assert.equal(h264Level(1280, 720, 30, 2800), 3.1);
  assert.equal(h264Level(1920, 1080, 30, 5000), 4.0);
  assert.equal(h264Level(1920, 1080, 60, 5000), 4.2);
  assert.equal(h264CodecString('baseline', 3.0), 'avc1.42C01E');
  assert.equal(h264CodecString('main', 3.1), 'avc1.4D401F');
  assert.equal(h264CodecString('high', 4.0), 'avc1.640028');
});

test('header dimensions without a decoder', () => {
  const png = Buffer.alloc(24);
  png.writeUInt32BE(50_000, 16);
  png.writeUInt32BE(40_000, 20);
  assert.deepEqual(readHeaderDimensions(png, 'png'), { width: 50_000, height: 40_000 });
  const gif = Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x10, 0x27, 0x20, 0x4e]);
  assert.deepEqual(readHeaderDimensions(gif, 'gif'), { width: 10_000, height: 20_000 });
  // SOI, APP0 (length 4), SOF0 with height 300, width 400
  const jpeg = Buffer.from([
    0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0x01, 0x2c, 0x01, 0x90, 3, 0, 0, 0,
  ]);
  assert.deepEqual(readHeaderDimensions(jpeg, 'jpeg'), { width: 400, height: 300 });
  assert.equal(readHeaderDimensions(Buffer.alloc(4), 'png'), undefined);
});

test('limit assertions', () => {
  assert.throws(
    () => assertPixels(20_000, 20_000, 100_000_000),
    (e) => isMediaError(e, 'too_many_pixels'),
  );
  assert.throws(
    () => assertPixels(0, 10, 100),
    (e) => isMediaError(e, 'corrupt_file'),
  );
  assert.throws(
    () => assertPixels(9000, 100, 100_000_000, 8192),
    (e) => isMediaError(e, 'too_many_pixels'),
  );
  assert.throws(
    () => assertDuration(901, 900),
    (e) => isMediaError(e, 'too_long'),
  );
  assert.throws(
    () => assertDuration(undefined, 900),
    (e) => isMediaError(e, 'corrupt_file'),
  );
  assert.doesNotThrow(() => assertDuration(12, 900));
});
