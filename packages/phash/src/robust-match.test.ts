import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { applyTransform, TRANSFORMS } from '../scripts/transforms.ts';
import { dataPath, decodeRgb, SKIP_NO_DATA } from '../test/data.ts';
import { findBlobAnchors } from './blob-anchors.ts';
import { findContentRect } from './content-rect.ts';
import { pdqIntermediate } from './pdq.ts';
import type { PixelImage } from './pixel-image.ts';
import type { RobustHashes } from './robust-hashes.ts';
import { robustQueryHashes, robustReferenceHashes } from './robust-hashes.ts';
import { matchRobust } from './robust-match.ts';
import { shrinkLuma } from './working-image.ts';

async function decodeBuffer(bytes: Buffer): Promise<PixelImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 };
}

function plane(width: number, height: number, f: (x: number, y: number) => number) {
  const luma = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) luma[y * width + x] = f(x, y);
  return { luma, width, height };
}

const texture = (x: number, y: number) =>
  128 + 60 * Math.sin(x / 5) * Math.cos(y / 7) + 30 * Math.sin((x + 2 * y) / 3);

test('finds the picture inside letterbox bars and leaves a bare picture alone', () => {
  const barred = plane(200, 160, (x, y) => (y < 30 || y >= 130 ? 0 : texture(x, y)));
  assert.deepEqual(findContentRect(barred), { x: 0, y: 30, width: 200, height: 100 });
  const bare = plane(200, 100, texture);
  assert.deepEqual(findContentRect(bare), { x: 0, y: 0, width: 200, height: 100 });
});

test('blob anchors are found to sub-pixel precision and move with the content', () => {
  const blob = (cx: number, cy: number) => (x: number, y: number) =>
    40 + 150 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 4 ** 2));
  const [a] = findBlobAnchors(plane(120, 100, blob(50.3, 40.6)), { count: 1, margin: 10 });
  assert.ok(a && Math.abs(a.x - 50.3) < 0.35 && Math.abs(a.y - 40.6) < 0.35, JSON.stringify(a));
  const [b] = findBlobAnchors(plane(120, 100, blob(57.3, 43.6)), { count: 1, margin: 10 });
  assert.ok(b && Math.abs(b.x - a.x - 7) < 0.2 && Math.abs(b.y - a.y - 3) < 0.2, JSON.stringify(b));
});

test('area shrinking averages blocks and drops partial edge blocks', () => {
  const data = Uint8Array.from([0, 100, 200, 50, 100, 100, 0, 0, 9]);
  const p = shrinkLuma({ data, width: 3, height: 3, channels: 1 }, 2);
  assert.equal(p.width, 1);
  assert.equal(p.height, 1);
  assert.ok(Math.abs(p.luma[0]! - 62.5) < 1e-9);
});

/*
 * End to end on real photos, generated edits included (the full 15-photo evaluation is
 * scripts/robust-eval.ts). Two photos that pass every transformation there are used as queries;
 * four different scenes as references, so each query is also checked for false matches.
 */
describe('robust matching on real photos', { skip: SKIP_NO_DATA }, () => {
  const refs: Array<{ name: string; file: string; hashes?: RobustHashes }> = [
    { name: 'GreenMeadow', file: dataPath('photos', 'GreenMeadow.jpg') },
    { name: 'bridge', file: dataPath('pdq', 'bridge-mods', 'aaa-orig.jpg') },
    { name: 'FreshFlower', file: dataPath('photos', 'FreshFlower.jpg') },
    { name: 'Dune', file: dataPath('photos', 'Dune.jpg') },
  ];

  test('every transformation matches its original and nothing else', async () => {
    for (const r of refs) {
      const image = await decodeRgb(r.file);
      r.hashes = robustReferenceHashes(image, pdqIntermediate(image));
    }
    const missed: string[] = [];
    const wrong: string[] = [];
    for (const source of refs.slice(0, 2)) {
      for (const t of TRANSFORMS) {
        const q = robustQueryHashes(await decodeBuffer(await applyTransform(source.file, t)));
        for (const r of refs) {
          const m = matchRobust(q, r.hashes!);
          if (r === source && !m.matched) missed.push(`${source.name}/${t}`);
          if (r !== source && m.matched) wrong.push(`${source.name}/${t} ~ ${r.name} via ${m.via}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
    assert.deepEqual(missed, []);
  });

  test('different original photos never match each other', async () => {
    for (const a of refs) {
      const q = robustQueryHashes(await decodeRgb(a.file));
      for (const b of refs)
        assert.equal(matchRobust(q, b.hashes!).matched, a === b, `${a.name} vs ${b.name}`);
    }
  });
});
