/**
 * Long videos (issue 12): a copy of a long, mostly still video matches it; a short banned clip
 * inside a long upload is found, at its place; a long video's signature and its comparison stay
 * bounded. Signatures are built as the server samples them (videoSampleRate for the duration),
 * from real frames where the content moves; a still video's frames are one picture, hashed once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rawFrames } from '../scripts/video-eval.ts';
import { dataPath, SKIP_NO_DATA } from '../test/data.ts';
import type { PixelImage } from './pixel-image.ts';
import { matchVideo } from './video-match.ts';
import type { VideoFrameHashes, VideoSignature, VideoSignatureRole } from './video-signature.ts';
import { VIDEO_SIGNATURE_PARAMS, videoFrameHashes, videoSampleRate } from './video-signature.ts';

type Grey = PixelImage & { data: Uint8Array };

/** Grey frames of a shared-data video at `fps`, at the signature's scale, from `skipSeconds`. */
async function frames(file: string, fps: number, skipSeconds = 0): Promise<Array<{ image: Grey; seconds: number }>> {
  const out: Array<{ image: Grey; seconds: number }> = [];
  for await (const f of rawFrames({ file, fps, divisor: VIDEO_SIGNATURE_PARAMS.frameScale, grey: true, skipSeconds })) {
    out.push({ image: { data: f.data, width: f.width, height: f.height, channels: 1 }, seconds: f.seconds });
  }
  return out;
}

const mirror = (img: Grey): Grey => {
  const data = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) data[y * img.width + x] = img.data[y * img.width + img.width - 1 - x]!;
  return { ...img, data };
};

/** The picture cropped as an evader crops: 80 % of each side, off-centre, kept at that size. */
const crop20 = (img: Grey): Grey => {
  const width = Math.round(img.width * 0.8);
  const height = Math.round(img.height * 0.8);
  const x0 = Math.round(img.width * 0.15);
  const y0 = Math.round(img.height * 0.05);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) data.set(img.data.subarray((y0 + y) * img.width + x0, (y0 + y) * img.width + x0 + width), y * width);
  return { data, width, height, channels: 1 };
};

/** A still video of `seconds`: the same picture at every sampled time of the role's rate. */
function stillSignature(picture: Grey, seconds: number, role: VideoSignatureRole): VideoSignature {
  const hashes = videoFrameHashes(picture, role);
  const fps = videoSampleRate(role, seconds);
  const out: VideoFrameHashes[] = [];
  for (let i = 0; i * (1 / fps) < seconds; i++) out.push({ seconds: i / fps, ...hashes });
  return { role, frames: out };
}

const CITY = dataPath('video', 'city-night.mpg');
const DOORKNOB = dataPath('vpdq', 'videos', 'doorknob-hd-no-bar.mp4');

describe('long videos', { skip: SKIP_NO_DATA }, () => {
  test('a mirrored copy of a 15-minute still video matches it; another still does not', async () => {
    // A 15-minute still (a lecture slide, a waiting screen): every query frame is equally close
    // to every reference frame, so the vote's few kept pairs per frame mostly lie off the
    // timeline (a reviewer's 15-minute copy showed 147 of 900 frames on one line).
    const [city] = await frames(CITY, 1, 3);
    const [door] = await frames(DOORKNOB, 1, 2);
    const reference = stillSignature(city!.image, 900, 'reference');
    assert.equal(reference.frames.length, 900);
    const copy = stillSignature(mirror(city!.image), 900, 'query');
    const m = matchVideo(copy, reference);
    assert.ok(m.matched, `the mirrored copy matches (${m.frames}/${m.comparable} frames on one timeline)`);
    assert.ok(m.coverage >= 0.9, `and nearly all of it agrees (${m.frames}/${m.comparable})`);
    const other = matchVideo(stillSignature(door!.image, 900, 'query'), reference);
    assert.equal(other.matched, false, `another still does not (${other.frames}/${other.comparable})`);
  });

  test('a short banned clip inside a 10-minute upload is found, at its place; the same upload without it is not', async () => {
    // The banned clip (real footage, 7.6 s) as a bank reference, sampled out of phase.
    const reference: VideoSignature = {
      role: 'reference',
      frames: (await frames(CITY, videoSampleRate('reference', 7.6), 0.13)).map((f) => ({ seconds: f.seconds, ...videoFrameHashes(f.image, 'reference') })),
    };
    // The upload: 10 minutes of other footage (doorknob, looped) with the clip at 4:00, sampled
    // as the server samples a 10-minute upload.
    const fps = videoSampleRate('query', 600);
    assert.equal(fps, 1, 'a 10-minute upload is sampled at 1 frame a second');
    const filler = (await frames(DOORKNOB, fps)).map((f) => videoFrameHashes(f.image, 'query'));
    const clip = (await frames(CITY, fps)).map((f) => videoFrameHashes(f.image, 'query'));
    const at = 240;
    const upload = (withClip: boolean): VideoSignature => ({
      role: 'query',
      frames: Array.from({ length: 600 }, (_, i) => {
        const inClip = withClip && i >= at && i < at + clip.length;
        return { seconds: i, ...(inClip ? clip[i - at]! : filler[i % filler.length]!) };
      }),
    });
    const m = matchVideo(upload(true), reference);
    assert.ok(m.matched, `the clip is found (${m.frames}/${m.comparable} frames)`);
    assert.ok(Math.abs(m.offsetSeconds - at) < 2, `at 4:00 (${m.offsetSeconds.toFixed(1)} s)`);
    const clean = matchVideo(upload(false), reference);
    assert.equal(clean.matched, false, `without the clip nothing matches (${clean.frames}/${clean.comparable})`);
  });

  test('two 15-minute videos compare at a bounded cost: a cropped copy still matches, an unrelated video does not', async () => {
    // Unbounded, every (reference frame × anchored query frame) pair went through the anchored
    // check: 900 × 450 = 405,000 here. The vote now checks at most `anchorPairBudget` of them and
    // the found timeline about two per reference frame.
    const [city] = await frames(CITY, 1, 3);
    const [door] = await frames(DOORKNOB, 1, 0);
    const reference = stillSignature(city!.image, 900, 'reference');
    const bound = 20_000 + 2 * reference.frames.length;
    const cropped = stillSignature(crop20(city!.image), 900, 'query');
    const m = matchVideo(cropped, reference);
    assert.ok(m.anchorRowsSampled, 'the vote sampled reference rows');
    assert.equal(m.wholeFrames, 0, 'the crop is found through anchored regions alone');
    assert.ok(m.matched && m.coverage >= 0.9, `the cropped copy matches (${m.frames}/${m.comparable})`);
    assert.ok(m.anchorChecks <= bound, `${m.anchorChecks} anchored checks`);
    const other = matchVideo(stillSignature(door!.image, 900, 'query'), reference);
    assert.ok(other.comparable === 0 || other.frames < other.comparable / 2);
    assert.equal(other.matched, false, `an unrelated video does not (${other.frames}/${other.comparable})`);
    assert.ok(other.anchorChecks > 0 && other.anchorChecks <= bound, `${other.anchorChecks} anchored checks`);
  });

  test('signatures of long videos stay within their caps, however long the video', () => {
    const p = VIDEO_SIGNATURE_PARAMS;
    for (const minutes of [15, 20, 60, 180]) {
      const seconds = minutes * 60;
      assert.ok(videoSampleRate('query', seconds) * seconds <= p.queryMaxFrames + 1e-9, `${minutes} min query`);
      assert.ok(videoSampleRate('reference', seconds) * seconds <= p.referenceMaxFrames + 1e-9, `${minutes} min reference`);
    }
  });
});
