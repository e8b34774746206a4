/**
 * The hasher's robust signature follows the library's anchor rule with the frame count derived
 * from the probed duration (videoSampledFrameCount): a short upload carries anchored regions on
 * every sampled frame, a longer one on every queryAnchorEvery-th.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { locateBinaries } from '@mmd/media';
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
