/**
 * False matches between *dark* photos under one shared overlay (Node only).
 *
 *   node --import tsx packages/phash/scripts/dark-overlay-eval.ts [--split development|test|held-out|held-out-2|held-out-3]
 *     [--gains 0.3,0.15] [--cache /tmp/mmd-dark-overlay]
 *
 * generalise-eval.ts puts each photo of a split under the same app chrome, caption or watermark
 * and counts matches between different photos. Its photos are mostly well lit; the held-out run
 * of 2026-12-07 found its only false match between its two darkest photos under the light app
 * chrome. Here every photo of a split is first darkened (each channel × gain + 8: a dim room at
 * 0.3, a night shot at 0.15), then put under every overlay of overlays.ts, and each pair of
 * different photos under one overlay is matched both ways, as generalise-eval.ts does: query
 * set of one against reference set of the other. A match is a false match; plain PDQ (one
 * full-resolution hash each, distance ≤ 31, quality ≥ 50) is counted beside. Prints JSON.
 */
import { mkdirSync } from 'node:fs';
import { basename, extname } from 'node:path';
import sharp from 'sharp';
import { hammingDistance } from '../src/hamming.ts';
import { pdqIntermediate } from '../src/pdq.ts';
import { coefficientsToHash } from '../src/pdq-bits.ts';
import { ROBUST_PARAMS, robustHashes } from '../src/robust-hashes.ts';
import { matchRobust, matchRoute } from '../src/robust-match.ts';
import { cacheFile, cached, decode } from './generalise-eval.ts';
import { applyOverlay, OVERLAYS } from './overlays.ts';
import { type Split, splitPhotos } from './photo-set.ts';

async function hashed(bytes: Buffer) {
  const image = await decode(bytes);
  const pdq = pdqIntermediate(image);
  const plain = pdq.quality >= 50 ? coefficientsToHash(pdq.coefficients) : null;
  return { quality: pdq.quality, plain, ...robustHashes(image, pdq) };
}

/** False matches among one split's photos darkened by `gain`, per overlay and per family. */
export async function darkOverlayNegatives(split: Split, gain: number, cacheDir: string, log: (m: string) => void = () => {}) {
  mkdirSync(cacheDir, { recursive: true });
  const items: Array<{ photo: string; overlay: string; h: Awaited<ReturnType<typeof hashed>> }> = [];
  const qualities: Record<string, number> = {};
  for (const file of splitPhotos(split, log)) {
    const name = basename(file, extname(file));
    log(`${split} ×${gain}: ${name}`);
    const dark = await cached(cacheDir, `${name}--dark${gain}`, () => sharp(file).linear(gain, 8).png().toBuffer(), 'png', [file]);
    qualities[name] = pdqIntermediate(await decode(dark)).quality;
    const darkFile = cacheFile(cacheDir, `${name}--dark${gain}`, 'png', [file]);
    for (const overlay of OVERLAYS) {
      const bytes = await cached(cacheDir, `${name}--dark${gain}--${overlay}`, () => applyOverlay(darkFile, overlay), 'jpg', [file]);
      items.push({ photo: name, overlay, h: await hashed(bytes) });
    }
  }
  let pairs = 0;
  let plainPdq = 0;
  const byOverlay: Record<string, number> = {};
  const byFamily: Record<string, number> = {};
  /** Per route the server acts on: global and centre take the bank's action, plain and anchors hold. */
  const byRoute: Record<string, number> = {};
  const list: string[] = [];
  for (const q of items)
    for (const r of items) {
      if (q.overlay !== r.overlay || q.photo === r.photo) continue;
      pairs++;
      if (q.h.plain && r.h.plain && hammingDistance(q.h.plain, r.h.plain) <= 31) plainPdq++;
      const m = matchRobust(q.h.query, r.h.reference);
      if (!m.matched) continue;
      // As the server acts: a whole-picture match through the plain hashes alone holds, like anchors.
      const route = matchRoute(m, q.h.query, r.h.reference, { queryQuality: q.h.quality, referencePlain: r.h.plain });
      byOverlay[q.overlay] = (byOverlay[q.overlay] ?? 0) + 1;
      byFamily[m.via!] = (byFamily[m.via!] ?? 0) + 1;
      byRoute[route!] = (byRoute[route!] ?? 0) + 1;
      list.push(`${q.photo} ~ ${r.photo} under ${q.overlay} via ${route} (${m.score})`);
    }
  return { split, gain, photos: Object.keys(qualities).length, darkenedPdqQuality: qualities, pairs, plainPdqFalseMatches: plainPdq, falseMatches: list.length, actingAlone: (byRoute.global ?? 0) + (byRoute.centre ?? 0), byOverlay, byFamily, byRoute, list };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Development only: try other parameters without editing the library.
  if (process.env.MMD_ROBUST_PARAMS) Object.assign(ROBUST_PARAMS, JSON.parse(process.env.MMD_ROBUST_PARAMS));
  const arg = (k: string) => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const splits = (arg('--split') ? [arg('--split')] : ['development', 'test', 'held-out']) as Split[];
  const gains = (arg('--gains') ?? '0.3,0.15').split(',').map(Number);
  if (gains.some((g) => !(g > 0 && g <= 1))) throw new Error('--gains takes numbers in (0, 1]');
  const cache = arg('--cache') ?? '/tmp/mmd-dark-overlay';
  const out = [];
  for (const split of splits)
    for (const gain of gains) out.push(await darkOverlayNegatives(split, gain, cache, (m) => process.stderr.write(`${m}\n`)));
  console.log(JSON.stringify(out, null, 2));
}
