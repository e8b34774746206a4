import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { dataPath, exifHasGps, NEEDS_DATA } from '../test/helpers.ts';
import { isMediaError } from './errors.ts';
import { processImage } from './process-image.ts';

/** A 400×200 red/blue JPEG with camera + GPS EXIF and orientation 6 (display: rotate 90° clockwise). */
async function makeGpsJpeg(): Promise<Buffer> {
  const left = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  return sharp({ create: { width: 400, height: 200, channels: 3, background: '#0000ff' } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg()
    .withExif({
      IFD0: { Make: 'TestCam', Model: 'X1' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '51/1 30/1 0/1',
        GPSLongitudeRef: 'W',
        GPSLongitude: '0/1 7/1 0/1',
      },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

test('the GPS fixture really carries GPS EXIF and orientation', async () => {
  const meta = await sharp(await makeGpsJpeg()).metadata();
  assert.equal(meta.orientation, 6);
  assert.ok(exifHasGps(meta.exif));
});

test('strips EXIF/GPS and applies orientation', async () => {
  const input = await makeGpsJpeg();
  const result = await processImage({ input, formats: ['jpeg', 'webp', 'avif'] });
  assert.equal(result.width, 200);
  assert.equal(result.height, 400);
  assert.equal(result.sourceMime, 'image/jpeg');
  for (const rendition of result.renditions) {
    const meta = await sharp(rendition.bytes).metadata();
    assert.equal(meta.exif, undefined, `${rendition.name}/${rendition.format} has EXIF`);
    assert.equal(meta.xmp, undefined);
    assert.equal(meta.iptc, undefined);
    assert.equal(meta.icc, undefined);
    assert.ok(!meta.orientation || meta.orientation === 1);
    assert.equal(meta.width, rendition.width);
    assert.equal(meta.height, rendition.height);
    assert.ok(rendition.height > rendition.width, 'portrait after rotation');
    assert.ok(!rendition.bytes.includes(Buffer.from('TestCam')));
  }
  // Orientation 6 turns the red left half into the top half.
  const jpeg = result.renditions.find((r) => r.format === 'jpeg' && r.name === 'preview');
  assert.ok(jpeg);
  const { data, info } = await sharp(jpeg.bytes).raw().toBuffer({ resolveWithObject: true });
  const pixel = (x: number, y: number) => [
    ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
  ];
  const top = pixel(100, 50);
  const bottom = pixel(100, 350);
  assert.ok((top[0] ?? 0) > 200 && (top[2] ?? 255) < 60, `top should be red, got ${top}`);
  assert.ok((bottom[2] ?? 0) > 200 && (bottom[0] ?? 255) < 60, `bottom should be blue, got ${bottom}`);
});

test('renditions: sizes, formats, no upscaling, placeholder', async () => {
  const input = await makeGpsJpeg(); // 200×400 after orientation: smaller than the preview size
  const progress: number[] = [];
  const result = await processImage({ input, onProgress: (f) => progress.push(f) });
  const names = result.renditions.map((r) => `${r.name}/${r.format}`);
  assert.deepEqual(names, [
    'preview/avif',
    'preview/webp',
    'preview/jpeg',
    'thumbnail/avif',
    'thumbnail/webp',
    'thumbnail/jpeg',
  ]);
  const preview = result.renditions.find((r) => r.name === 'preview');
  assert.equal(preview?.height, 400, 'never upscaled');
  const thumb = result.renditions.find((r) => r.name === 'thumbnail');
  assert.equal(thumb?.height, 320);
  assert.equal(thumb?.width, 160);
  for (const r of result.renditions) {
    assert.equal((await sharp(r.bytes).metadata()).format, r.format === 'avif' ? 'heif' : r.format);
  }
  assert.ok(result.placeholder);
  assert.match(result.placeholder.dataUrl, /^data:image\/webp;base64,/);
  assert.ok(
    result.placeholder.dataUrl.length < 600,
    `placeholder is ${result.placeholder.dataUrl.length} chars`,
  );
  assert.ok(Math.max(result.placeholder.width, result.placeholder.height) <= 16);
  assert.match(result.placeholder.averageColor, /^#[0-9a-f]{6}$/);
  assert.equal(progress.at(-1), 1);
});

test('converts a wide-gamut ICC profile to untagged sRGB', async () => {
  const p3 = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#00ff00' } })
    .withIccProfile('p3')
    .png()
    .toBuffer();
  assert.ok((await sharp(p3).metadata()).icc, 'fixture has an ICC profile');
  const result = await processImage({
    input: p3,
    formats: ['jpeg'],
    renditions: [{ name: 'preview', maxSide: 64 }],
  });
  const out = result.renditions[0];
  assert.ok(out);
  const meta = await sharp(out.bytes).metadata();
  assert.equal(meta.icc, undefined);
  const { data } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
  // P3 pure green is outside sRGB: after conversion red stays ~0 and green saturates.
  assert.ok((data[1] ?? 0) > 240 && (data[0] ?? 255) < 40, `got ${[...data.subarray(0, 3)]}`);
});

test('pixel limit is enforced before decoding', async () => {
  const input = await makeGpsJpeg();
  await assert.rejects(processImage({ input, maxPixels: 10_000 }), (e) => isMediaError(e, 'too_many_pixels'));
});

test('large real photo: 5640×3172 within the default limit', { skip: NEEDS_DATA }, async () => {
  const result = await processImage({
    input: dataPath('photos', 'Elephants-large.jpg'),
    formats: ['webp', 'jpeg'],
  });
  assert.equal(result.width, 5640);
  assert.equal(result.height, 3172);
  const preview = result.renditions.find((r) => r.name === 'preview' && r.format === 'jpeg');
  assert.equal(preview?.width, 1280);
  assert.equal(preview?.height, 720);
  await assert.rejects(
    processImage({ input: dataPath('photos', 'Elephants-large.jpg'), maxPixels: 16_000_000 }),
    (e) => isMediaError(e, 'too_many_pixels'),
  );
});

test('square: crops the centre of a landscape photo and makes every size square, EXIF gone', async () => {
  // 400×200 after orientation 6 is 200×400 (portrait): red on top, blue below.
  const input = await makeGpsJpeg();
  const result = await processImage({ input, square: true, formats: ['jpeg'], renditions: [{ name: 'large', maxSide: 640 }, { name: 'small', maxSide: 96 }] });
  const large = result.renditions.find((r) => r.name === 'large');
  const small = result.renditions.find((r) => r.name === 'small');
  assert.ok(large && small);
  // The short side (200) is kept, never enlarged to 640.
  assert.deepEqual([large.width, large.height], [200, 200]);
  assert.deepEqual([small.width, small.height], [96, 96]);
  const meta = await sharp(large.bytes).metadata();
  assert.equal(meta.exif, undefined);
  assert.ok(!large.bytes.includes(Buffer.from('TestCam')));
  // The centred square spans the red/blue boundary: top row red, bottom row blue.
  const { data, info } = await sharp(large.bytes).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
  assert.ok(at(100, 5)[0]! > 200 && at(100, 5)[2]! < 60, `top is red: ${at(100, 5)}`);
  assert.ok(at(100, 194)[2]! > 200 && at(100, 194)[0]! < 60, `bottom is blue: ${at(100, 194)}`);
  assert.ok(result.placeholder?.dataUrl.startsWith('data:image/webp;base64,'));
});
