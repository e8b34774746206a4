import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomHash, rng } from '../test/random-hashes.ts';
import type { VideoFrameHashes, VideoSignature } from './video-signature.ts';
import { referenceFromQuery, videoSampleRate, withoutVariants } from './video-signature.ts';
import {
  decodeVideoSignature,
  encodeVideoSignature,
  MAX_SIGNATURE_ENTRIES,
  videoSignatureIndexHashes,
} from './video-signature-format.ts';

function frame(next: () => number, seconds: number, withVariants: boolean): VideoFrameHashes {
  const hashes = [randomHash(next), randomHash(next)];
  const anchors = [0, 1, 2].map((i) => ({ hash: randomHash(next), x: 10.25 + i, y: 3.5 * i }));
  return withVariants ? { seconds, hashes, variants: Array.from({ length: 14 }, () => randomHash(next)), anchors } : { seconds, hashes, anchors };
}

function signature(seed: number, n: number, fps: number, withVariants = false): VideoSignature {
  const next = rng(seed);
  return { role: 'query', frames: Array.from({ length: n }, (_, i) => frame(next, i / fps, withVariants)) };
}

test('a signature written down reads back the same, variants and anchor positions included', () => {
  for (const s of [signature(1, 30, 4, true), signature(2, 5, 1), { role: 'reference' as const, frames: [] }]) {
    const back = decodeVideoSignature(encodeVideoSignature(s));
    assert.equal(back.role, s.role);
    assert.equal(back.frames.length, s.frames.length);
    for (const [i, f] of s.frames.entries()) {
      const b = back.frames[i]!;
      assert.ok(Math.abs(b.seconds - f.seconds) < 1e-6);
      assert.deepEqual(b.hashes, f.hashes);
      assert.deepEqual(b.variants, f.variants);
      assert.deepEqual(
        b.anchors.map((a) => [a.hash, a.x, a.y]),
        f.anchors.map((a) => [a.hash, a.x, a.y]),
      );
    }
  }
});

test('anything that is not a signature is refused with a reason, never read as one', () => {
  const good = encodeVideoSignature(signature(3, 4, 4));
  const bytes = Buffer.from(good, 'base64');
  const cases: Array<[string, string, RegExp]> = [
    ['not base64', '%%%%', /not base64/],
    ['empty', '', /unknown format/],
    ['other magic', Buffer.from('XX\x01\x00\x00\x00\x00\x00').toString('base64'), /unknown format/],
    ['truncated', bytes.subarray(0, bytes.length - 5).toString('base64'), /truncated/],
    ['trailing bytes', Buffer.concat([bytes, Buffer.from([0, 0, 0])]).toString('base64'), /trailing/],
    ['too many frames', Buffer.from([0x4d, 0x56, 1, 0, 0xff, 0xff, 0xff, 0x7f]).toString('base64'), /frames/],
  ];
  for (const [what, text, reason] of cases) assert.throws(() => decodeVideoSignature(text), reason, what);
  // Time going backwards.
  const back = Buffer.from(bytes);
  back.writeFloatLE(-1, 8);
  assert.throws(() => decodeVideoSignature(back.toString('base64')), /bad time/);
});

test('a signature with more hashes than matching can afford is refused', () => {
  const next = rng(9);
  const h = randomHash(next);
  // Each frame at the per-frame limits (64 hashes, 448 variants, 256 anchors).
  const perFrame = 64 + 448 + 256;
  const frames = Math.ceil(MAX_SIGNATURE_ENTRIES / perFrame) + 1;
  const anchors = Array.from({ length: 256 }, () => ({ hash: h, x: 1, y: 1 }));
  const huge: VideoSignature = {
    role: 'reference',
    frames: Array.from({ length: frames }, (_, i) => ({ seconds: i, hashes: Array(64).fill(h), variants: Array(448).fill(h), anchors })),
  };
  assert.throws(() => decodeVideoSignature(encodeVideoSignature(huge)), /more than 200000 hashes/);
});

test('index hashes: at most maxFrames frames, spread evenly; variants only when asked', () => {
  const s = signature(4, 100, 4, true);
  const plain = videoSignatureIndexHashes(s, { maxFrames: 10, anchorsPerFrame: 2, variants: false });
  assert.equal(plain.length, 10 * (2 + 2));
  const withVariants = videoSignatureIndexHashes(s, { maxFrames: 10, anchorsPerFrame: 2, variants: true });
  assert.equal(withVariants.length, 10 * (2 + 14 + 2));
  assert.deepEqual(plain.slice(0, 2), s.frames[0]!.hashes);
  assert.deepEqual(plain.slice(4, 6), s.frames[10]!.hashes, 'every tenth frame');
  // A written frame with many hashes puts at most 12 (and their variants) into an index.
  const next = rng(12);
  const wide: VideoSignature = {
    role: 'reference',
    frames: [{ seconds: 0, hashes: Array.from({ length: 60 }, () => randomHash(next)), variants: Array.from({ length: 420 }, () => randomHash(next)), anchors: [] }],
  };
  assert.equal(videoSignatureIndexHashes(wide, { maxFrames: 32, anchorsPerFrame: 4, variants: false }).length, 12);
  assert.equal(videoSignatureIndexHashes(wide, { maxFrames: 32, anchorsPerFrame: 4, variants: true }).length, 12 * 8);
});

test('withoutVariants drops them; referenceFromQuery thins a dense signature to the reference rate, merging neighbours', () => {
  const q = signature(5, 241, 4, true); // 60 s at 4 fps
  assert.ok(withoutVariants(q).frames.every((f) => f.variants === undefined));
  const r = referenceFromQuery(withoutVariants(q));
  assert.equal(r.role, 'reference');
  const step = Math.round(4 / videoSampleRate('reference', 60));
  assert.equal(step, 4, 'a minute is sampled at 1 frame a second');
  assert.equal(r.frames.length, Math.ceil(241 / step));
  // Each sample carries its own hashes and its neighbours' (one either side).
  assert.equal(r.frames[1]!.seconds, q.frames[4]!.seconds);
  assert.deepEqual(r.frames[1]!.hashes, [...q.frames[3]!.hashes, ...q.frames[4]!.hashes, ...q.frames[5]!.hashes]);
  assert.deepEqual(r.frames[0]!.hashes, [...q.frames[0]!.hashes, ...q.frames[1]!.hashes]);
  // A short clip keeps every frame (the reference rate is the query's, 4 a second).
  assert.equal(referenceFromQuery(signature(6, 12, 4)).frames.length, 12);
  assert.equal(referenceFromQuery({ role: 'query', frames: [] }).frames.length, 0);
});

test('a frame with more hashes than MMD ever writes is refused (an index or a match flooded by one frame)', () => {
  const next = rng(11);
  const h = randomHash(next);
  const wide = (hashes: number, variants: number, anchors: number): VideoSignature => ({
    role: 'reference',
    frames: [
      {
        seconds: 0,
        hashes: Array(hashes).fill(h),
        ...(variants ? { variants: Array(variants).fill(h) } : {}),
        anchors: Array.from({ length: anchors }, () => ({ hash: h, x: 1, y: 1 })),
      },
    ],
  });
  assert.doesNotThrow(() => decodeVideoSignature(encodeVideoSignature(wide(12, 84, 96))), 'a merged reference frame of MMD');
  for (const [hashes, variants, anchors] of [
    [65, 0, 0],
    [1, 7 * 64 + 1, 0],
    [1, 0, 257],
  ] as const) {
    assert.throws(() => decodeVideoSignature(encodeVideoSignature(wide(hashes, variants, anchors))), /too many hashes/);
  }
});
