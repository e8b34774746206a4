/**
 * The hasher's robust signature follows the library's anchor rule with the frame count derived
 * from the probed duration (videoSampledFrameCount): a short upload carries anchored regions on
 * every sampled frame, a longer one on every queryAnchorEvery-th; a stream that runs well past
 * the duration its container states is refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isMediaError, locateBinaries } from '@mmd/media';
import { VIDEO_SIGNATURE_PARAMS, videoSampledFrameCount } from '@mmd/phash';
import { createHasher } from './hasher.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mmd-hasher-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A synthetic clip of `seconds` (ffmpeg's testsrc2: texture everywhere), small and at 4 fps so it hashes quickly. */
async function clip(seconds: number): Promise<string> {
  const { ffmpeg } = await locateBinaries();
  const out = path.join(dir, `testsrc-${seconds}.mp4`);
  await promisify(execFile)(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=4:duration=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-y', out]);
  return out;
}

const hasher = createHasher({ maxPixels: 100_000_000, maxVideoSeconds: 900 });

test('a short upload carries anchored regions on every sampled frame', async () => {
  const { video } = await hasher.hashFile(await clip(20), { kind: 'video' });
  const frames = video!.signature.frames;
  assert.ok(videoSampledFrameCount('query', 20) <= VIDEO_SIGNATURE_PARAMS.queryAnchorAllUpTo);
  assert.ok(frames.length >= 79, `${frames.length} frames`);
  const odd = frames.filter((_, i) => i % 2 === 1);
  assert.ok(odd.every((f) => f.anchors.length > 0), 'odd frames carry anchors too');
});

test('an upload over 30 s carries them on every 2nd sampled frame, starting with the first', async () => {
  const { video } = await hasher.hashFile(await clip(40), { kind: 'video' });
  const frames = video!.signature.frames;
  assert.ok(videoSampledFrameCount('query', 40) > VIDEO_SIGNATURE_PARAMS.queryAnchorAllUpTo);
  assert.ok(frames.length >= 159, `${frames.length} frames`);
  frames.forEach((f, i) => {
    assert.equal(f.anchors.length > 0, i % VIDEO_SIGNATURE_PARAMS.queryAnchorEvery === 0, `frame ${i}: ${f.anchors.length} anchors`);
  });
});

test('a stream that runs well past its container’s stated duration is refused as a corrupt file', async () => {
  // A 20 s clip in Matroska whose Segment Duration (element 0x4489, an 8-byte float in ms) is
  // rewritten to 4 s: players and ffprobe believe 4 s, the stream holds 80 frames.
  const { ffmpeg } = await locateBinaries();
  const honest = path.join(dir, 'honest.mkv');
  await promisify(execFile)(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=4:duration=20', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-y', honest]);
  const bytes = readFileSync(honest);
  const at = bytes.indexOf(Buffer.from([0x44, 0x89, 0x88]));
  assert.ok(at > 0, 'the Duration element');
  assert.equal(bytes.readDoubleBE(at + 3), 20_000);
  bytes.writeDoubleBE(4_000, at + 3);
  const lying = path.join(dir, 'lying.mkv');
  writeFileSync(lying, bytes);

  const ok = await hasher.hashFile(honest, { kind: 'video' });
  assert.ok(ok.video!.signature.frames.length >= 79);
  await assert.rejects(hasher.hashFile(lying, { kind: 'video' }), (err: unknown) => {
    assert.ok(isMediaError(err, 'corrupt_file'), String(err));
    assert.match((err as Error).message, /longer than its container states/);
    return true;
  });
});
