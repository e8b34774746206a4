import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { dataPath, leftovers, makeTmpRoot, NEEDS_DATA, removeTmpRoot } from '../test/helpers.ts';
import { makeClip } from '../test/make-clip.ts';
import { isMediaError } from './errors.ts';
import { inspectMedia } from './inspect.ts';
import { probeAv } from './probe-av.ts';
import { transcodeHls } from './video-hls.ts';
import { transcodeMp4 } from './video-mp4.ts';
import { extractPoster } from './video-poster.ts';

const CITY = dataPath('video', 'city-night.mpg');
let tmpRoot: string;
let work: string;
let clip: string;
let rotated: string;

before(async () => {
  tmpRoot = await makeTmpRoot();
  work = await makeTmpRoot();
  clip = await makeClip(work, 'clip', { seconds: 2, width: 320, height: 240 });
  rotated = await makeClip(work, 'rotated', {
    seconds: 1,
    width: 320,
    height: 240,
    rotate: 90,
    audio: false,
  });
});

after(async () => {
  assert.deepEqual(await leftovers(tmpRoot), [], 'scratch directories must be removed');
  await removeTmpRoot(tmpRoot);
  await removeTmpRoot(work);
});

/** Top-level ISO-BMFF box types in file order. */
async function topLevelBoxes(path: string): Promise<string[]> {
  const bytes = await readFile(path);
  const boxes: string[] = [];
  for (let offset = 0; offset + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(offset);
    boxes.push(bytes.toString('latin1', offset + 4, offset + 8));
    if (size < 8) break;
    offset += size;
  }
  return boxes;
}

test('probes the real MPEG-2 clip', { skip: NEEDS_DATA }, async () => {
  const info = await inspectMedia(CITY);
  assert.equal(info.kind, 'video');
  assert.equal(info.mime, 'video/mpeg');
  assert.equal(info.width, 720);
  assert.equal(info.height, 405);
  assert.ok(Math.abs((info.durationSeconds ?? 0) - 7.6) < 0.2);
  assert.equal(info.av?.video?.codec, 'mpeg2video');
  assert.equal(info.av?.audio, undefined);
});

test('reads rotation and reports display dimensions', async () => {
  const probe = await probeAv(rotated);
  // The clip was tagged rotate=90, but ffmpeg 4.1's MP4 muxer writes that tag's matrix inverted (its own
  // demuxer reads it back as 270), so only "a quarter turn" is asserted; the pixels follow the matrix.
  assert.ok(
    probe.video?.rotation === 90 || probe.video?.rotation === 270,
    `rotation ${probe.video?.rotation}`,
  );
  assert.equal(probe.video?.displayWidth, 240);
  assert.equal(probe.video?.displayHeight, 320);
});

test('poster frame as JPEG and WebP', { skip: NEEDS_DATA }, async () => {
  const jpeg = await extractPoster({ input: CITY, maxSide: 640, tmpRoot });
  assert.equal(jpeg.mime, 'image/jpeg');
  assert.equal(jpeg.width, 640);
  assert.equal(jpeg.height, 360);
  const meta = await sharp(jpeg.bytes).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, 640);
  const webp = await extractPoster({ input: await readFile(rotated), format: 'webp', tmpRoot });
  assert.equal(webp.width, 240, 'rotated poster is portrait');
  assert.equal(webp.height, 320);
  assert.equal((await sharp(webp.bytes).metadata()).format, 'webp');
});

test('compatible MP4: H.264 main + AAC, faststart, rotation applied', async () => {
  const out = join(work, 'compat.mp4');
  const progress: number[] = [];
  const result = await transcodeMp4({
    input: clip,
    outputPath: out,
    tmpRoot,
    onProgress: (f) => progress.push(f),
  });
  assert.equal(result.probe.video?.codec, 'h264');
  assert.equal(result.probe.video?.profile, 'Main');
  assert.equal(result.probe.audio?.codec, 'aac');
  assert.equal(result.width, 320);
  assert.ok(Math.abs(result.durationSeconds - 2) < 0.2);
  const boxes = await topLevelBoxes(out);
  assert.ok(boxes.indexOf('moov') < boxes.indexOf('mdat'), `faststart: ${boxes.join(',')}`);
  assert.equal(progress.at(-1), 1);

  const portrait = await transcodeMp4({
    input: rotated,
    outputPath: join(work, 'portrait.mp4'),
    profile: 'baseline',
    tmpRoot,
  });
  assert.equal(portrait.probe.video?.rotation, 0, 'pixels rotated, no rotation tag left');
  assert.equal(portrait.width, 240);
  assert.equal(portrait.height, 320);
  assert.match(portrait.probe.video?.profile ?? '', /Baseline/);
  assert.equal(portrait.hasAudio, false);
});

test('HLS ladder of the real clip: one run, every rung readable by ffprobe', {
  skip: NEEDS_DATA,
}, async (t) => {
  const outputDir = join(work, 'hls');
  const progress: number[] = [];
  const started = performance.now();
  const result = await transcodeHls({ input: CITY, outputDir, tmpRoot, onProgress: (f) => progress.push(f) });
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`HLS ladder for city-night.mpg took ${seconds.toFixed(2)} s`);
  assert.deepEqual(
    result.variants.map((v) => v.height),
    [240, 360],
    '720×405 source: 240p and 360p, no upscale',
  );
  assert.equal(progress.at(-1), 1);
  assert.ok(progress.length > 2);
  const master = await readFile(result.masterPlaylist, 'utf8');
  assert.match(master, /RESOLUTION=426x240/);
  assert.match(master, /RESOLUTION=640x360/);
  // ffprobe follows the master playlist into every variant.
  const { locateBinaries } = await import('./binaries.ts');
  const { runProcess } = await import('./run-process.ts');
  const { stdout } = await runProcess({
    command: (await locateBinaries()).ffprobe,
    args: [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'json',
      result.masterPlaylist,
    ],
  });
  const streams = (JSON.parse(stdout.toString()) as { streams: { codec_name: string; height?: number }[] })
    .streams;
  const heights = streams
    .filter((s) => s.codec_name === 'h264')
    .map((s) => s.height)
    .sort((a, b) => (a ?? 0) - (b ?? 0));
  assert.deepEqual(heights, [240, 360]);
  // Aligned segments: every variant has the same segment durations.
  const durations = await Promise.all(
    result.variants.map(async (v) =>
      (await readFile(join(outputDir, v.playlist), 'utf8')).match(/#EXTINF:[\d.]+/g)?.join(),
    ),
  );
  assert.equal(new Set(durations).size, 1, `segment durations differ: ${durations.join(' | ')}`);
  for (const v of result.variants)
    assert.ok(v.bandwidth >= v.averageBandwidth && v.averageBandwidth > 10_000);
});

test('HLS with audio and a single rung for tiny sources', async () => {
  const result = await transcodeHls({ input: clip, outputDir: join(work, 'hls-small'), tmpRoot });
  assert.deepEqual(
    result.variants.map((v) => v.height),
    [240],
  );
  assert.match(result.variants[0]?.codecs ?? '', /^avc1\.4D40..,mp4a\.40\.2$/);
  const probe = await probeAv(result.masterPlaylist);
  assert.equal(probe.audio?.codec, 'aac');
});

test('video limits: duration and size', { skip: NEEDS_DATA }, async () => {
  await assert.rejects(
    transcodeMp4({ input: CITY, outputPath: join(work, 'x.mp4'), maxVideoSeconds: 5, tmpRoot }),
    (e) => isMediaError(e, 'too_long'),
  );
  await assert.rejects(
    transcodeHls({ input: CITY, outputDir: join(work, 'x'), maxVideoSide: 640, tmpRoot }),
    (e) => isMediaError(e, 'too_many_pixels'),
  );
});

test('an image renamed .mp4 is refused by the video pipeline as unsupported_type', {
  skip: NEEDS_DATA,
}, async () => {
  await assert.rejects(
    transcodeMp4({
      input: await readFile(dataPath('photos', 'Aqua.jpg')),
      outputPath: join(work, 'y.mp4'),
      tmpRoot,
    }),
    (e) => isMediaError(e, 'unsupported_type'),
  );
});

test('abort kills ffmpeg and cleans up', { skip: NEEDS_DATA }, async () => {
  const controller = new AbortController();
  const pending = transcodeHls({
    input: CITY,
    outputDir: join(work, 'aborted'),
    tmpRoot,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 300);
  await assert.rejects(pending, (e) => isMediaError(e, 'aborted'));
  const handle = await open(join(work, 'aborted')).catch(() => undefined);
  assert.equal(handle, undefined, 'no partial output directory');
});
