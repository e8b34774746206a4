/**
 * Recall of plain PDQ vs the robust scheme per transformation, and false matches.
 *
 *   node --import tsx packages/phash/scripts/robust-eval.ts [--dir /tmp/mmd-phash-transforms]
 *
 * References: the 15 photos of photos/ and pdq/ (14 scenes: Elephants-large is a bigger copy
 * of Elephants). Queries: every transformation of every reference (from --dir when given, as
 * written by make-transforms.ts, else generated in memory). A query counts as recalled when it
 * matches its own scene. False matches: any query, and any of the 34 untransformed images in
 * photos/ and pdq/, matching a reference of a different scene. Plain PDQ = one full-resolution
 * hash each side, distance ≤ 31, no dihedral variants. Prints JSON.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { hammingDistance } from '../src/hamming.ts';
import { pdqIntermediate } from '../src/pdq.ts';
import { coefficientsToHash } from '../src/pdq-bits.ts';
import type { PixelImage } from '../src/pixel-image.ts';
import type { RobustHashes } from '../src/robust-hashes.ts';
import { robustQueryHashes, robustReferenceHashes } from '../src/robust-hashes.ts';
import { matchRobust } from '../src/robust-match.ts';
import { negativeSet, referencePhotos } from './photo-set.ts';
import { applyTransform, TRANSFORMS } from './transforms.ts';

const i = process.argv.indexOf('--dir');
const dir = i >= 0 ? process.argv[i + 1] : undefined;

async function decode(input: string | Buffer): Promise<PixelImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 };
}

/** Elephants-large.jpg is the same photograph as Elephants.jpg at a higher resolution. */
const scene = (file: string) => basename(file).replace('-large', '');

function cpuMs<T>(run: () => T): [T, number] {
  const start = process.cpuUsage();
  const out = run();
  const used = process.cpuUsage(start);
  return [out, (used.user + used.system) / 1000];
}

const refs: Array<{
  file: string;
  scene: string;
  plain: Uint8Array;
  robust: RobustHashes;
  megapixels: number;
  ms: number;
}> = [];
for (const file of referencePhotos()) {
  const image = await decode(file);
  // The plain full-resolution PDQ is computed anyway; only the rest counts as added cost.
  const pdq = pdqIntermediate(image);
  const [robust, ms] = cpuMs(() => robustReferenceHashes(image, pdq));
  const plain = coefficientsToHash(pdq.coefficients);
  refs.push({ file, scene: scene(file), plain, robust, megapixels: (image.width * image.height) / 1e6, ms });
}

const perTransform: Record<
  string,
  { plain: number; robust: number; total: number; via: Record<string, number> }
> = {};
const falseMatches: string[] = [];
let queryMs = 0;
let queryMegapixels = 0;
for (const t of TRANSFORMS) {
  const row = { plain: 0, robust: 0, total: 0, via: {} as Record<string, number> };
  perTransform[t] = row;
  for (const ref of refs) {
    const cached = dir ? join(dir, `${basename(ref.file, '.jpg')}--${t}.jpg`) : '';
    const bytes = cached && existsSync(cached) ? readFileSync(cached) : await applyTransform(ref.file, t);
    const image = await decode(bytes);
    const pdq = pdqIntermediate(image);
    const [q, ms] = cpuMs(() => robustQueryHashes(image, pdq));
    queryMs += ms;
    queryMegapixels += (image.width * image.height) / 1e6;
    const plain = { hash: coefficientsToHash(pdq.coefficients), quality: pdq.quality };
    row.total++;
    if (plain.quality >= 50 && hammingDistance(plain.hash, ref.plain) <= 31) row.plain++;
    for (const other of refs) {
      const m = matchRobust(q, other.robust);
      if (other.scene === ref.scene) {
        if (other === ref && m.matched) {
          row.robust++;
          row.via[m.via!] = (row.via[m.via!] ?? 0) + 1;
        }
      } else if (m.matched) {
        falseMatches.push(`${basename(ref.file)}--${t} ~ ${basename(other.file)} via ${m.via}`);
      }
    }
  }
}

let negativePairs = 0;
for (const { file, scene: shows } of negativeSet()) {
  const q = robustQueryHashes(await decode(file));
  for (const ref of refs) {
    if (scene(shows) === ref.scene) continue;
    negativePairs++;
    const m = matchRobust(q, ref.robust);
    if (m.matched) falseMatches.push(`${basename(file)} ~ ${basename(ref.file)} via ${m.via}`);
  }
}

// Warm cost on the biggest photo (JIT settled), the figure that matters for 12-megapixel uploads.
const biggest = refs.reduce((a, b) => (b.megapixels > a.megapixels ? b : a));
const bigImage = await decode(biggest.file);
const bigPdq = pdqIntermediate(bigImage);
const warm = { reference: Infinity, query: Infinity };
for (let k = 0; k < 3; k++) {
  warm.reference = Math.min(warm.reference, cpuMs(() => robustReferenceHashes(bigImage, bigPdq))[1]);
  warm.query = Math.min(warm.query, cpuMs(() => robustQueryHashes(bigImage, bigPdq))[1]);
}

const total = Object.values(perTransform).reduce((s, r) => s + r.total, 0);
const pct = (n: number, d: number) => Number(((100 * n) / d).toFixed(1));
const refMs = refs.reduce((s, r) => s + r.ms, 0);
const refMp = refs.reduce((s, r) => s + r.megapixels, 0);
console.log(
  JSON.stringify(
    {
      references: refs.length,
      queries: total,
      recallPercent: {
        plainPdq: pct(
          Object.values(perTransform).reduce((s, r) => s + r.plain, 0),
          total,
        ),
        robust: pct(
          Object.values(perTransform).reduce((s, r) => s + r.robust, 0),
          total,
        ),
      },
      perTransform: Object.fromEntries(
        Object.entries(perTransform).map(([t, r]) => [
          t,
          { plainPdq: pct(r.plain, r.total), robust: pct(r.robust, r.total), via: r.via },
        ]),
      ),
      falseMatches: falseMatches.length,
      falseMatchList: falseMatches,
      negativePairsChecked: negativePairs,
      addedCpuMsPerMegapixel: {
        reference: Number((refMs / refMp).toFixed(1)),
        query: Number((queryMs / queryMegapixels).toFixed(1)),
      },
      addedCpuMsWarm: {
        photo: `${basename(biggest.file)} (${biggest.megapixels.toFixed(1)} MP)`,
        reference: Math.round(warm.reference),
        query: Math.round(warm.query),
      },
    },
    null,
    2,
  ),
);
