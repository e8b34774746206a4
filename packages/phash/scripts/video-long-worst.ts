/**
 * The costliest long comparison at the signature caps (issue 12): a 1200-frame query against a
 * 900-frame reference of one still picture (city-night), so every hash pair is within reach; a
 * plain copy, and a copy cropped 20 % (every anchored check passes and runs matchRobust).
 *
 *   node --import tsx packages/phash/scripts/video-long-worst.ts [--unbounded]
 *
 * Prints one JSON line per case; CPU-seconds of this process.
 */
import { dataPath } from '../test/data.ts';
import type { PixelImage } from '../src/pixel-image.ts';
import { matchVideo } from '../src/video-match.ts';
import type { VideoSignature, VideoSignatureRole } from '../src/video-signature.ts';
import { VIDEO_SIGNATURE_PARAMS, videoFrameHasAnchors, videoFrameHashes } from '../src/video-signature.ts';
import { rawFrames } from './video-eval.ts';

type Grey = PixelImage & { data: Uint8Array };
const frames: Grey[] = [];
for await (const f of rawFrames({ file: dataPath('video', 'city-night.mpg'), fps: 1, divisor: VIDEO_SIGNATURE_PARAMS.frameScale, grey: true, skipSeconds: 3 }))
  frames.push({ data: f.data, width: f.width, height: f.height, channels: 1 });
const picture = frames[0]!;

/** 80 % of each side, off-centre, kept at that size (as the long evaluation's crop20). */
function crop20(im: Grey): Grey {
  const w = Math.round(im.width * 0.8);
  const h = Math.round(im.height * 0.8);
  const x0 = Math.round(im.width * 0.15);
  const y0 = Math.round(im.height * 0.05);
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) data.set(im.data.subarray((y0 + y) * im.width + x0, (y0 + y) * im.width + x0 + w), y * w);
  return { data, width: w, height: h, channels: 1 };
}

/** `n` frames of one picture, `step` seconds apart; query frames carry anchors at the library's cadence. */
function still(im: Grey, role: VideoSignatureRole, n: number, step: number): VideoSignature {
  const withAnchors = videoFrameHashes(im, role, undefined, { anchors: true });
  const without = videoFrameHashes(im, role, undefined, { anchors: false });
  return {
    role,
    frames: Array.from({ length: n }, (_, i) => ({ seconds: i * step, ...(videoFrameHasAnchors(role, i, n) ? withAnchors : without) })),
  };
}

const p = VIDEO_SIGNATURE_PARAMS;
// 20 minutes at the caps: the reference 900 frames, the query 1200.
const reference = still(picture, 'reference', p.referenceMaxFrames, 1200 / p.referenceMaxFrames);
const cases = [
  ['copy', still(picture, 'query', p.queryMaxFrames, 1)],
  ['crop20', still(crop20(picture), 'query', p.queryMaxFrames, 1)],
] as const;
for (const [name, query] of cases) {
  for (const budget of process.argv.includes('--unbounded') ? [undefined, Number.POSITIVE_INFINITY] : [undefined]) {
    const c = process.cpuUsage();
    const m = matchVideo(query, reference, budget === undefined ? {} : { anchorPairBudget: budget });
    const u = process.cpuUsage(c);
    const cpuSeconds = Math.round((u.user + u.system) / 1e4) / 100;
    console.log(JSON.stringify({ name, budget: budget === undefined ? 'default' : 'none', matched: m.matched, frames: `${m.frames}/${m.comparable}`, anchorChecks: m.anchorChecks, cpuSeconds }));
  }
}
