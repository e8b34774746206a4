/**
 * Writes every transformation of every reference photo as JPEG, for eyeballing and for
 * `robust-eval.ts --dir`.
 *
 *   node --import tsx packages/phash/scripts/make-transforms.ts [--out /tmp/mmd-phash-transforms]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { referencePhotos } from './photo-set.ts';
import { applyTransform, TRANSFORMS } from './transforms.ts';

const i = process.argv.indexOf('--out');
const out = i >= 0 ? process.argv[i + 1]! : join(tmpdir(), 'mmd-phash-transforms');
mkdirSync(out, { recursive: true });
let n = 0;
for (const file of referencePhotos()) {
  for (const t of TRANSFORMS) {
    writeFileSync(join(out, `${basename(file, '.jpg')}--${t}.jpg`), await applyTransform(file, t));
    n++;
  }
}
console.log(`wrote ${n} images to ${out}`);
