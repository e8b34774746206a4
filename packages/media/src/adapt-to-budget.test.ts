import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { dataPath, leftovers, makeTmpRoot, NEEDS_DATA, removeTmpRoot } from '../test/helpers.ts';
import { makeClip } from '../test/make-clip.ts';
import { resolveTargets } from './accept.ts';
import { adaptToBudget } from './adapt-to-budget.ts';
import { isMediaError } from './errors.ts';
import { probeAv } from './probe-av.ts';
import { sniffBytes } from './sniff.ts';

const KB = 1000;
let tmpRoot: string;
let work: string;

before(async () => {
  tmpRoot = await makeTmpRoot();
  work = await makeTmpRoot();
});

after(async () => {
  assert.deepEqual(await leftovers(tmpRoot), []);
  await removeTmpRoot(tmpRoot);
  await removeTmpRoot(work);
});

test('accept list parsing', () => {
  const targets = resolveTargets([
    'image/jpeg',
    'video/mp4; codecs="avc1.42E01E, mp4a.40.2"',
    'image/png',
    'audio/aac',
  ]);
  assert.deepEqual(
    targets.map((t) => [t.kind, t.mime]),
    [
      ['image', 'image/jpeg'],
      ['video', 'video/mp4'],
      ['audio', 'audio/mp4'],
    ],
  );
  assert.equal(targets[1]?.kind === 'video' && targets[1].profile, 'baseline');
  assert.throws(
    () => resolveTargets(['image/png']),
    (e) => isMediaError(e, 'invalid_options'),
  );
});

for (const photo of ['Elephants-large.jpg', 'Wood.jpg']) {
  for (const budget of [300 * KB, 1000 * KB]) {
    test(`photo ${photo} fits ${budget / KB} KB as JPEG`, { skip: NEEDS_DATA }, async (t) => {
      const started = performance.now();
      const result = await adaptToBudget({
        input: dataPath('photos', photo),
        maxBytes: budget,
        accept: ['image/jpeg'],
        tmpRoot,
      });
      t.diagnostic(
        `${photo} @ ${budget / KB} KB: ${result.bytes.length} B, ${result.width}×${result.height}, q${result.quality.encoderQuality}, ` +
          `SSIM ${result.quality.ssim}, ${result.encodes} encodes, ${((performance.now() - started) / 1000).toFixed(2)} s`,
      );
      assert.ok(result.bytes.length <= budget);
      assert.ok(
        result.bytes.length > budget * 0.8 || result.quality.encoderQuality === 92,
        'uses the budget',
      );
      assert.equal(result.mime, 'image/jpeg');
      assert.equal(sniffBytes(result.bytes)?.format, 'jpeg');
      const meta = await sharp(result.bytes).metadata();
      assert.equal(meta.width, result.width);
      assert.equal(meta.exif, undefined);
      // SSIM is measured at the source's size, so downscaling counts as loss: a 5640 px photo squeezed into
      // 300 KB scores ~0.7; anything under 0.6 would mean a broken search.
      assert.ok((result.quality.ssim ?? 0) > 0.6, `ssim ${result.quality.ssim}`);
    });
  }
}

test('image: first accepted format that fits, size box respected', { skip: NEEDS_DATA }, async () => {
  const result = await adaptToBudget({
    input: dataPath('photos', 'Elephants-large.jpg'),
    maxBytes: 100 * KB,
    accept: [{ mime: 'image/webp', maxWidth: 640, maxHeight: 480 }],
    tmpRoot,
  });
  assert.equal(result.mime, 'image/webp');
  assert.ok((result.width ?? 0) <= 640 && (result.height ?? 0) <= 480);
  assert.ok(result.bytes.length <= 100 * KB);
});

test('budget_unreachable when nothing can fit', { skip: NEEDS_DATA }, async () => {
  await assert.rejects(
    adaptToBudget({ input: dataPath('photos', 'Aqua.jpg'), maxBytes: 200, accept: ['image/jpeg'], tmpRoot }),
    (e) => isMediaError(e, 'budget_unreachable'),
  );
  await assert.rejects(
    adaptToBudget({
      input: dataPath('video', 'city-night.mpg'),
      maxBytes: 8 * KB,
      accept: ['video/mp4'],
      tmpRoot,
    }),
    (e) => isMediaError(e, 'budget_unreachable'),
  );
});

test('kind mismatch is unsupported_type', { skip: NEEDS_DATA }, async () => {
  await assert.rejects(
    adaptToBudget({
      input: dataPath('photos', 'Aqua.jpg'),
      maxBytes: 300 * KB,
      accept: ['video/mp4'],
      tmpRoot,
    }),
    (e) => isMediaError(e, 'unsupported_type'),
  );
});

test('video fits 300 KB as H.264 baseline MP4', { skip: NEEDS_DATA }, async (t) => {
  const started = performance.now();
  const result = await adaptToBudget({
    input: dataPath('video', 'city-night.mpg'),
    maxBytes: 300 * KB,
    accept: ['video/mp4; codecs="avc1.42E01E"'],
    tmpRoot,
  });
  t.diagnostic(
    `city-night @ 300 KB: ${result.bytes.length} B ${result.width}×${result.height} ${JSON.stringify(result.quality)} ` +
      `${result.encodes} encodes ${((performance.now() - started) / 1000).toFixed(2)} s`,
  );
  assert.ok(result.bytes.length <= 300 * KB);
  assert.ok(result.bytes.length > 200 * KB, 'uses most of the budget');
  assert.equal(result.mime, 'video/mp4');
  const { writeFile } = await import('node:fs/promises');
  const out = `${work}/budget.mp4`;
  await writeFile(out, result.bytes);
  const probe = await probeAv(out);
  assert.equal(probe.video?.codec, 'h264');
  assert.match(probe.video?.profile ?? '', /Baseline/);
});

test('video with sound fits 100 KB as 3GP; audio kept or dropped by budget', async () => {
  const clip = await makeClip(work, 'sound', { seconds: 3, width: 640, height: 360 });
  const roomy = await adaptToBudget({ input: clip, maxBytes: 150 * KB, accept: ['video/3gpp'], tmpRoot });
  assert.ok(roomy.bytes.length <= 150 * KB);
  assert.equal(sniffBytes(roomy.bytes)?.format, '3gp');
  assert.equal(roomy.quality.audioKbps, 64);
  const tight = await adaptToBudget({ input: clip, maxBytes: 15 * KB, accept: ['video/3gpp'], tmpRoot });
  assert.ok(tight.bytes.length <= 15 * KB);
  assert.equal(tight.quality.audioKbps, null, 'audio dropped at ~35 kbit/s total');
  const silent = await adaptToBudget({
    input: clip,
    maxBytes: 150 * KB,
    accept: [{ mime: 'video/mp4', audio: false }],
    tmpRoot,
  });
  assert.equal(silent.quality.audioKbps, null);
});

test('audio fits a budget by bit rate', { skip: NEEDS_DATA }, async () => {
  const voice = dataPath('audio', 'Front_Left.wav');
  const result = await adaptToBudget({ input: voice, maxBytes: 6 * KB, accept: ['audio/ogg'], tmpRoot });
  assert.ok(result.bytes.length <= 6 * KB);
  assert.equal(result.mime, 'audio/ogg');
  assert.ok((result.quality.audioKbps ?? 0) >= 20);
  const aac = await adaptToBudget({ input: voice, maxBytes: 10 * KB, accept: ['audio/mp4'], tmpRoot });
  assert.ok(aac.bytes.length <= 10 * KB);
  assert.equal(aac.mime, 'audio/mp4');
  await assert.rejects(
    adaptToBudget({ input: voice, maxBytes: 1 * KB, accept: ['audio/ogg'], tmpRoot }),
    (e) => isMediaError(e, 'budget_unreachable'),
  );
});
