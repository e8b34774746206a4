/**
 * PDQ throughput on the 14 shared photos (1.3–17.9 megapixels), pixels already decoded.
 *
 *   node --import tsx packages/phash/scripts/pdq-speed.ts [--rounds 3] [--no-kernels]
 *
 * --no-kernels: PDQ's WebAssembly kernels turned off (the TypeScript they replace).
 *
 * Decoding (sharp) is timed separately: it is the caller's cost, not the library's.
 * Prints one JSON object.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pdqHash, pdqHashDihedral } from '../src/pdq.ts';
import { usePdqKernels } from '../src/wasm/kernels.ts';
import { DATA_DIR, decodeRgb } from '../test/data.ts';

const i = process.argv.indexOf('--rounds');
const rounds = i >= 0 ? Number(process.argv[i + 1]) : 3;
if (process.argv.includes('--no-kernels')) usePdqKernels(false);
const dir = join(DATA_DIR, 'photos');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.jpg'))
  .sort();

let t = performance.now();
const images = [];
for (const f of files) images.push({ file: f, image: await decodeRgb(join(dir, f)) });
const decodeMs = performance.now() - t;
const megapixels = images.reduce((s, { image }) => s + (image.width * image.height) / 1e6, 0);

for (const { image } of images) pdqHash(image); // warm-up
const perPhoto = new Map<string, number>();
t = performance.now();
for (let r = 0; r < rounds; r++) {
  for (const { file, image } of images) {
    const t0 = performance.now();
    pdqHash(image);
    perPhoto.set(file, Math.min(perPhoto.get(file) ?? Infinity, performance.now() - t0));
  }
}
const hashMs = (performance.now() - t) / rounds;
t = performance.now();
for (const { image } of images) pdqHashDihedral(image);
const dihedralMs = performance.now() - t;

console.log(
  JSON.stringify(
    {
      photos: images.length,
      megapixels: Number(megapixels.toFixed(1)),
      hashesPerSecond: Number(((images.length * 1000) / hashMs).toFixed(1)),
      megapixelsPerSecond: Number(((megapixels * 1000) / hashMs).toFixed(1)),
      msPerPhotoAverage: Number((hashMs / images.length).toFixed(1)),
      dihedralAllEightMsPerPhoto: Number((dihedralMs / images.length).toFixed(1)),
      sharpDecodeMsPerPhoto: Number((decodeMs / images.length).toFixed(1)),
      bestMsPerPhoto: Object.fromEntries([...perPhoto].map(([f, ms]) => [f, Number(ms.toFixed(1))])),
    },
    null,
    2,
  ),
);
