import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rawFrames } from '../scripts/video-eval.ts';
import { dataPath, SKIP_NO_DATA } from '../test/data.ts';
import { randomHash, rng } from '../test/random-hashes.ts';
import type { PixelImage } from './pixel-image.ts';
import { matchVideo } from './video-match.ts';
import type { VideoSignature, VideoSignatureRole } from './video-signature.ts';
import {
  mergeFrames,
  VIDEO_SIGNATURE_PARAMS,
  videoFrameHasAnchors,
  videoFrameHashes,
  videoSampledFrameCount,
  videoSampleRate,
  videoSignature,
} from './video-signature.ts';
import { vpdqHashFrame } from './vpdq.ts';
import { isVpdqMatch, matchVpdq } from './vpdq-match.ts';

type Frame = { image: PixelImage & { data: Uint8Array }; seconds: number };

/** Grey frames of a shared-data video at `fps`, at most 320 px (as the server decodes them). */
async function frames(file: string, fps: number, skipSeconds = 0): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of rawFrames({
    file,
    fps,
    divisor: VIDEO_SIGNATURE_PARAMS.frameScale,
    grey: true,
    skipSeconds,
  })) {
    out.push({ image: { data: f.data, width: f.width, height: f.height, channels: 1 }, seconds: f.seconds });
  }
  return out;
}

/** As the server and the evaluation build them: query frames carry anchors by the library's rule. */
function signature(list: readonly Frame[], role: VideoSignatureRole): VideoSignature {
  return {
    role,
    frames: list.map((f, i) => ({
      seconds: f.seconds,
      ...videoFrameHashes(f.image, role, undefined, { anchors: videoFrameHasAnchors(role, i, list.length) }),
    })),
  };
}

/** Edits on raw grey pixels, so the tests need no encoder. */
function mapPixels(width: number, height: number, at: (x: number, y: number) => number) {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = at(x, y);
  return { data, width, height, channels: 1 as const };
}
const px = (img: Frame['image'], x: number, y: number) => img.data[y * img.width + x]!;
const mirror = (img: Frame['image']) =>
  mapPixels(img.width, img.height, (x, y) => px(img, img.width - 1 - x, y));
const letterbox = (img: Frame['image']) => {
  const bar = Math.round(img.height * 0.3);
  return mapPixels(img.width, img.height + 2 * bar, (x, y) =>
    y < bar || y >= bar + img.height ? 0 : px(img, x, y - bar),
  );
};
/** Keeps 75 % of each side, off-centre (towards the right and top). */
const crop = (img: Frame['image']) => {
  const w = Math.round(img.width * 0.75);
  const h = Math.round(img.height * 0.75);
  const x0 = Math.round((img.width - w) * 0.8);
  const y0 = Math.round((img.height - h) * 0.3);
  return mapPixels(w, h, (x, y) => px(img, x0 + x, y0 + y));
};

const CITY = dataPath('video', 'city-night.mpg');
const DOORKNOB = dataPath('vpdq', 'videos', 'doorknob-hd-no-bar.mp4');

describe('robust video matching', { skip: SKIP_NO_DATA }, () => {
  test('references are sampled sparsely and queries densely, with bounds', () => {
    assert.equal(videoSampleRate('reference', 600), 1);
    assert.equal(videoSampleRate('query', 60), 4);
    assert.equal(videoSampleRate('reference', 6), 2);
    assert.equal(videoSampleRate('query', 600), 1);
    assert.ok(videoSampleRate('query', 10) > videoSampleRate('reference', 10));
  });

  test('a mirrored, a letterboxed and a cropped copy match; plain vPDQ misses the mirror', async () => {
    // The reference is sampled 0.13 s out of phase with the copies, as a re-encode would be.
    const refFrames = await frames(CITY, videoSampleRate('reference', 7.6), 0.13);
    const reference = signature(refFrames, 'reference');
    const copy = await frames(CITY, videoSampleRate('query', 7.6));
    for (const [name, edit] of [
      ['mirror', mirror],
      ['letterbox', letterbox],
      ['crop', crop],
    ] as const) {
      const edited = copy.map((f) => ({ image: edit(f.image), seconds: f.seconds }));
      const m = matchVideo(signature(edited, 'query'), reference);
      assert.ok(m.matched, `${name}: ${m.frames}/${m.comparable}`);
      assert.ok(Math.abs(m.rate - 1) < 0.06, `${name} timeline rate ${m.rate}`);
    }
    const vpdq = (list: readonly { image: PixelImage; seconds: number }[]) =>
      list.map((f, i) => vpdqHashFrame({ image: f.image, timestampSeconds: f.seconds }, i));
    const mirrored = copy.map((f) => ({ image: mirror(f.image), seconds: f.seconds }));
    assert.equal(isVpdqMatch(matchVpdq(vpdq(mirrored), vpdq(refFrames))), false);
  });

  test('the middle half played at 1.25× speed after a title card matches, on the right timeline', async () => {
    const reference = signature(await frames(CITY, videoSampleRate('reference', 7.6), 0.13), 'reference');
    const all = await frames(CITY, 5);
    // Source seconds 1.9..5.7, shown 1.25× faster, after 2 s of a flat title card.
    const middle = all
      .filter((f) => f.seconds >= 1.9 && f.seconds <= 5.7)
      .map((f) => ({ image: f.image, seconds: 2 + (f.seconds - 1.9) / 1.25 }));
    const card: Frame['image'] = {
      data: new Uint8Array(240 * 135).fill(40),
      width: 240,
      height: 135,
      channels: 1,
    };
    const intro: Frame[] = [0, 0.5, 1, 1.5].map((s) => ({ image: card, seconds: s }));
    const query = signature([...intro, ...middle], 'query');
    const m = matchVideo(query, reference);
    assert.ok(m.matched, `${m.frames}/${m.comparable}`);
    // A slow scene fits neighbouring rates of the 0.05 grid almost as well.
    assert.ok(Math.abs(m.rate - 0.8) <= 0.051, `rate ${m.rate}`);
    // query = 0.8 × reference + offset, with reference 1.9 s shown at 2 s.
    assert.ok(Math.abs(m.offsetSeconds - (2 - 0.8 * 1.9)) < 0.6, `offset ${m.offsetSeconds}`);
  });

  test('a different video does not match, in either direction', async () => {
    const city = await frames(CITY, 4);
    const door = await frames(DOORKNOB, 4);
    assert.equal(matchVideo(signature(door, 'query'), signature(city, 'reference')).matched, false);
    assert.equal(matchVideo(signature(city, 'query'), signature(door, 'reference')).matched, false);
  });

  test('close frames that do not line up in time are not a match', () => {
    // Every frame of the query is close to some reference frame, but in shuffled order: frames
    // of different videos that happen to look alike (dark scenes) behave like this.
    const next = rng(7);
    const reference: VideoSignature = {
      role: 'reference',
      frames: Array.from({ length: 12 }, (_, i) => ({ seconds: i, hashes: [randomHash(next)], anchors: [] })),
    };
    const inOrder: VideoSignature = { role: 'query', frames: reference.frames.map((f) => ({ ...f })) };
    assert.equal(matchVideo(inOrder, reference).matched, true);
    const order = [7, 2, 11, 0, 5, 9, 3, 10, 1, 8, 4, 6];
    const shuffled: VideoSignature = {
      role: 'query',
      frames: order.map((k, i) => ({ seconds: i, hashes: reference.frames[k]!.hashes, anchors: [] })),
    };
    assert.equal(matchVideo(shuffled, reference).matched, false);
  });
});

describe('anchored regions on query frames', () => {
  test('a query of up to 30 s carries them on every frame, a 1-minute one on every 2nd, a reference always', () => {
    const p = VIDEO_SIGNATURE_PARAMS;
    const count = (seconds: number) => videoSampledFrameCount('query', seconds);
    assert.equal(count(7.6), 30);
    assert.equal(count(30), p.queryAnchorAllUpTo);
    assert.equal(count(60), 240);
    assert.equal(count(600), 600);
    assert.equal(count(0), 0);
    const anchored = (role: VideoSignatureRole, n: number) =>
      Array.from({ length: n }, (_, i) => i).filter((i) => videoFrameHasAnchors(role, i, n));
    // Short clips, the common viral clip: every frame (the setting before the cost pass).
    assert.equal(anchored('query', count(7.6)).length, 30);
    assert.equal(anchored('query', count(30)).length, 120);
    // From a frame past the limit, every queryAnchorEvery-th frame from the first: a 1-minute
    // query spends anchors on 120 frames, as since the cost pass.
    assert.deepEqual(anchored('query', count(30) + 1).slice(0, 3), [0, p.queryAnchorEvery, 2 * p.queryAnchorEvery]);
    assert.equal(p.queryAnchorEvery, 2);
    assert.equal(anchored('query', count(60)).length, 120);
    assert.ok(anchored('query', count(600)).every((i) => i % 2 === 0));
    assert.equal(anchored('reference', count(60)).length, 240);
    // A container that claims 10 s over a 15-minute stream (3,600 frames at the 10 s rate):
    // past the 120th frame only every 2nd carries anchors, as on an honest file that long.
    const lying = Array.from({ length: 3600 }, (_, i) => i).filter((i) => videoFrameHasAnchors('query', i, count(10)));
    assert.equal(lying.length, 120 + (3600 - 120) / 2);
    assert.ok(lying.slice(120).every((i) => i % 2 === 0));
  });

  test('videoSignature follows the rule: every frame of a short query, every 2nd of a 1-minute one', { skip: SKIP_NO_DATA }, async () => {
    const every = VIDEO_SIGNATURE_PARAMS.queryAnchorEvery;
    const list = (await frames(CITY, 4)).slice(0, 8);
    const input = list.map((f) => ({ image: f.image, timestampSeconds: f.seconds }));
    async function* stream() {
      yield* input;
    }
    // An array's length is its frame count: 8 frames, anchors on each.
    const short = await videoSignature(input, 'query');
    // The first 8 frames of a 1-minute upload as the server streams them, with the count it derives.
    const long = await videoSignature(stream(), 'query', undefined, { frameCount: videoSampledFrameCount('query', 60) });
    const reference = await videoSignature(stream(), 'reference');
    short.frames.forEach((f, i) => {
      assert.ok(f.anchors.length > 0, `short query frame ${i}: ${f.anchors.length} anchors`);
    });
    long.frames.forEach((f, i) => {
      assert.equal(f.anchors.length > 0, i % every === 0, `1-minute query frame ${i}: ${f.anchors.length} anchors`);
      assert.ok(f.hashes.length > 0, `1-minute query frame ${i} keeps its whole-picture hashes`);
    });
    for (const f of reference.frames) assert.ok(f.anchors.length > 0);
    // Whole-picture and centre hashes do not depend on the anchors; anchored frames are the same.
    assert.deepEqual(long.frames[1]!.hashes, short.frames[1]!.hashes);
    assert.deepEqual(long.frames[1]!.variants, short.frames[1]!.variants);
    assert.deepEqual(long.frames[2], short.frames[2]);
    // A streamed query without its count is refused: its anchors would depend on a guess.
    await assert.rejects(videoSignature(stream(), 'query'), TypeError);
  });
});

describe('reference frames merged with their neighbours', { skip: SKIP_NO_DATA }, () => {
  test('a copy sampled half a frame-step off still matches every merged reference frame', async () => {
    // References: 12 fps decoded, each sample merged with its neighbours 1/12 s either side.
    const dense = signature(await frames(CITY, 12), 'reference').frames;
    const merged = [];
    for (let c = 1; c + 1 < dense.length; c += 6) merged.push(mergeFrames(dense.slice(c - 1, c + 2)));
    const reference: VideoSignature = { role: 'reference', frames: merged };
    assert.equal(
      merged[0]!.hashes.length,
      dense.slice(0, 3).reduce((n, f) => n + f.hashes.length, 0),
    );
    const copy = signature(await frames(CITY, 4, 0.06), 'query');
    const m = matchVideo(copy, reference);
    assert.ok(m.matched && m.coverage >= 0.9, `${m.frames}/${m.comparable}`);
  });
});
