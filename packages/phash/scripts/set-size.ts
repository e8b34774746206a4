/**
 * Size of the reference sets a split's photos get: hashes per set (what a bank signal puts into
 * the index) and anchored regions, and the bytes of the set as the server stores it (hex hashes,
 * positions to 1/100 pixel), averaged; for each parameter set given.
 *
 *   CONFIGS='[{"referenceAnchors":24,"referenceSpreadAnchors":8},{}]' node --import tsx packages/phash/scripts/set-size.ts [--split development]
 */
import { ROBUST_PARAMS, robustReferenceHashes } from '../src/robust-hashes.ts';
import { hash256ToHex } from '../src/hash256.ts';
import { decode } from './generalise-eval.ts';
import { type Split, splitPhotos } from './photo-set.ts';

const i = process.argv.indexOf('--split');
const split = (i >= 0 ? process.argv[i + 1] : 'development') as Split;
const configs = JSON.parse(process.env.CONFIGS ?? '[{}]') as Array<Partial<typeof ROBUST_PARAMS>>;
const files = splitPhotos(split, () => {});
const images = await Promise.all(files.map((f) => decode(f)));
const defaults = { ...ROBUST_PARAMS };
for (const config of configs) {
  Object.assign(ROBUST_PARAMS, defaults, config);
  let hashes = 0;
  let anchors = 0;
  let bytes = 0;
  for (const image of images) {
    const r = robustReferenceHashes(image);
    hashes += r.global.length + r.centre.length + r.anchors.length;
    anchors += r.anchors.length;
    const stored = {
      v: 4,
      scheme: 2,
      global: r.global.map(hash256ToHex),
      centre: r.centre.map(hash256ToHex),
      anchors: r.anchors.map((a) => ({ hash: hash256ToHex(a.hash), x: Math.round(a.x * 100) / 100, y: Math.round(a.y * 100) / 100, ...(a.scale !== undefined && a.scale !== 1 ? { scale: a.scale } : {}) })),
    };
    bytes += JSON.stringify(stored).length;
  }
  const n = images.length;
  console.log(JSON.stringify({ split, photos: n, config, hashesPerSet: Number((hashes / n).toFixed(1)), anchorsPerSet: Number((anchors / n).toFixed(1)), storedBytesPerSet: Math.round(bytes / n) }));
}
