import sharp from 'sharp';
import { findScreenQuad } from '../src/screen-quad.ts';
import { workingLuma } from '../src/working-image.ts';
import { robustHashes, robustQueryHashes } from '../src/robust-hashes.ts';
import { pdqIntermediate } from '../src/pdq.ts';
import { hammingDistance } from '../src/hamming.ts';
import { matchRobust } from '../src/robust-match.ts';
import { DATA_DIR } from '../test/data.ts';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

async function decode(input: string | Buffer) {
  const { data, info } = await sharp(input).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 as const };
}
const names = process.argv.slice(2);
for (const n of names) {
  const src = ['photos', 'photos-more'].flatMap((d) => ['jpg', 'png'].map((e) => join(DATA_DIR, d, `${n}.${e}`))).find(existsSync)!;
  const img = await decode(src);
  const ref = robustHashes(img, pdqIntermediate(img)).reference;
  for (const label of ['rephoto-screen', 'rephoto-screen#1', 'rephoto-screen#2', 'rephoto-screen#3', 'rephoto-screen#4']) {
    const f = `/tmp/mmd-generalise/${n}--${label}.jpg`;
    if (!existsSync(f)) continue;
    const q = await decode(f);
    const w = workingLuma(q);
    const quad = findScreenQuad(w);
    const qh = robustQueryHashes(q, pdqIntermediate(q));
    let best = 999;
    for (const a of qh.global) for (const b of ref.global) best = Math.min(best, hammingDistance(a, b));
    let bestC = 999;
    for (const a of qh.centre) for (const b of ref.centre) bestC = Math.min(bestC, hammingDistance(a, b));
    const m = matchRobust(qh, ref);
    console.log(n, label, `plane ${w.width}x${w.height}`, quad ? quad.map((p) => `${p.x.toFixed(0)},${p.y.toFixed(0)}`).join(' ') : 'no quad', 'bestGlobal', best, 'bestCentre', bestC, m.matched, m.via);
  }
}
