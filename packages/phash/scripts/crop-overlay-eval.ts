/**
 * Crop recall and shared-overlay false matches of the robust scheme, per development/test split.
 *
 *   node --import tsx packages/phash/scripts/crop-overlay-eval.ts [--split development|test]
 *
 * For each photo of the split (photo-set.ts), its reference hash set is matched against:
 * - plain crops of it (overlays.ts CROPS: pixels at their own scale, not resized): recall;
 * - the same crops also resized (CROP_RESIZES): recall on the hard set;
 * - every other photo of the split under the same shared overlay (app chrome, caption bar,
 *   caption over the picture, corner watermark), the reference also carrying that overlay:
 *   false matches, which must be 0 — a match through the overlay alone is a false match;
 * - its own picture under each overlay (reference without the overlay): recall, for information.
 * Every crop query is also matched against the other photos' references (false matches).
 * Prints JSON. bench/safety.ts runs the same evaluation on both splits.
 */
import { basename } from 'node:path';
import sharp from 'sharp';
import { pdqIntermediate } from '../src/pdq.ts';
import type { PixelImage } from '../src/pixel-image.ts';
import type { RobustHashes } from '../src/robust-hashes.ts';
import { robustQueryHashes, robustReferenceHashes } from '../src/robust-hashes.ts';
import type { RobustMatch } from '../src/robust-match.ts';
import { matchRobust } from '../src/robust-match.ts';
import { applyCrop, applyOverlay, CROP_RESIZES, CROPS, OVERLAYS } from './overlays.ts';
import { type Split, splitPhotos } from './photo-set.ts';

async function decode(input: string | Buffer): Promise<PixelImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 };
}

/** The reference and query hash sets of an image. */
export interface HashedImage {
  readonly reference: RobustHashes;
  readonly query: RobustHashes;
}

async function hashImage(input: string | Buffer): Promise<HashedImage> {
  const image = await decode(input);
  const pdq = pdqIntermediate(image);
  return { reference: robustReferenceHashes(image, pdq), query: robustQueryHashes(image, pdq) };
}

/** Every hash set the evaluation of one split needs (hashing is the slow part; scoring is cheap). */
export interface HashedSplit {
  readonly split: Split;
  readonly photos: Array<{
    readonly name: string;
    readonly original: HashedImage;
    readonly crops: Array<{ readonly name: string; readonly scale: number; readonly query: RobustHashes }>;
    readonly overlays: Array<{ readonly name: string; readonly hashed: HashedImage }>;
  }>;
}

/** Hashes the photos of a split and all their crops and overlays. */
export async function hashSplit(split: Split, log: (m: string) => void = () => {}): Promise<HashedSplit> {
  const photos: HashedSplit['photos'] = [];
  for (const file of splitPhotos(split)) {
    log(`${split}: ${basename(file)}`);
    const crops: HashedSplit['photos'][number]['crops'] = [];
    for (const crop of CROPS) {
      for (const scale of [1, ...CROP_RESIZES]) {
        crops.push({
          name: crop.name,
          scale,
          query: (await hashImage(await applyCrop(file, crop, scale))).query,
        });
      }
    }
    const overlays: HashedSplit['photos'][number]['overlays'] = [];
    for (const o of OVERLAYS)
      overlays.push({ name: o, hashed: await hashImage(await applyOverlay(file, o)) });
    photos.push({ name: basename(file), original: await hashImage(file), crops, overlays });
  }
  return { split, photos };
}

type Matcher = (query: RobustHashes, reference: RobustHashes) => RobustMatch;

const pct = (n: number, d: number) => (d === 0 ? null : Number(((100 * n) / d).toFixed(1)));

/** Recall and false matches of `match` (default: {@link matchRobust}) on a hashed split. */
export function scoreSplit(hashed: HashedSplit, match: Matcher = (q, r) => matchRobust(q, r)) {
  const crop = {
    plain: { hits: 0, total: 0, via: {} as Record<string, number> },
    resized: { hits: 0, total: 0, via: {} as Record<string, number> },
  };
  const perCrop: Record<string, { hits: number; total: number }> = {};
  const falseMatches: string[] = [];
  let cropNegativePairs = 0;
  for (const p of hashed.photos) {
    for (const c of p.crops) {
      const family = c.scale === 1 ? crop.plain : crop.resized;
      const key = c.scale === 1 ? c.name : `${c.name}@${c.scale}`;
      perCrop[key] ??= { hits: 0, total: 0 };
      const row = perCrop[key];
      const m = match(c.query, p.original.reference);
      family.total++;
      row.total++;
      if (m.matched) {
        family.hits++;
        row.hits++;
        family.via[m.via!] = (family.via[m.via!] ?? 0) + 1;
      }
      for (const other of hashed.photos) {
        if (other === p) continue;
        cropNegativePairs++;
        const o = match(c.query, other.original.reference);
        if (o.matched) falseMatches.push(`${p.name} ${key} ~ ${other.name} via ${o.via}`);
      }
    }
  }
  const overlays: Record<
    string,
    { falseMatches: number; pairs: number; recallOnOwnPhoto: number | null; ownVia: Record<string, number> }
  > = {};
  for (const [k, name] of hashed.photos[0]!.overlays.map((o) => o.name).entries()) {
    const row = {
      falseMatches: 0,
      pairs: 0,
      recallOnOwnPhoto: 0 as number | null,
      ownVia: {} as Record<string, number>,
    };
    let own = 0;
    for (const q of hashed.photos) {
      const query = q.overlays[k]!.hashed.query;
      const m = match(query, q.original.reference);
      if (m.matched) {
        own++;
        row.ownVia[m.via!] = (row.ownVia[m.via!] ?? 0) + 1;
      }
      for (const r of hashed.photos) {
        if (r === q) continue;
        row.pairs++;
        const f = match(query, r.overlays[k]!.hashed.reference);
        if (f.matched) {
          row.falseMatches++;
          falseMatches.push(`${q.name} ${name} ~ ${r.name} ${name} via ${f.via} (${f.score})`);
        }
      }
    }
    row.recallOnOwnPhoto = pct(own, hashed.photos.length);
    overlays[name] = row;
  }
  const overlayPairs = Object.values(overlays).reduce((s, o) => s + o.pairs, 0);
  const overlayFalse = Object.values(overlays).reduce((s, o) => s + o.falseMatches, 0);
  return {
    split: hashed.split,
    photos: hashed.photos.length,
    cropRecallPercent: {
      plain: pct(crop.plain.hits, crop.plain.total),
      resized: pct(crop.resized.hits, crop.resized.total),
    },
    cropQueries: { plain: crop.plain.total, resized: crop.resized.total },
    cropVia: { plain: crop.plain.via, resized: crop.resized.via },
    perCrop: Object.fromEntries(Object.entries(perCrop).map(([k, r]) => [k, pct(r.hits, r.total)])),
    sharedOverlayNegatives: { pairs: overlayPairs, falseMatches: overlayFalse, perOverlay: overlays },
    cropNegativePairs,
    falseMatches: falseMatches.length,
    falseMatchList: falseMatches,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--split');
  const splits: Split[] = i >= 0 ? [process.argv[i + 1] as Split] : ['development', 'test'];
  const out = [];
  for (const split of splits)
    out.push(scoreSplit(await hashSplit(split, (m) => process.stderr.write(`${m}\n`))));
  console.log(JSON.stringify(out, null, 2));
}
