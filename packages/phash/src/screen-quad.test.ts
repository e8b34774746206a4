import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { applyEdit } from '../scripts/edits.ts';
import { dataPath, decodeRgb, SKIP_NO_DATA } from '../test/data.ts';
import type { PixelImage } from './pixel-image.ts';
import { robustQueryHashes, robustReferenceHashes } from './robust-hashes.ts';
import { matchRobust } from './robust-match.ts';
import type { Quad } from './screen-quad.ts';
import { findScreenQuad, warpQuad } from './screen-quad.ts';

async function decodeBuffer(bytes: Buffer): Promise<PixelImage> {
  const { data, info } = await sharp(bytes)
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 };
}

const texture = (x: number, y: number) =>
  128 + 60 * Math.sin(x / 5) * Math.cos(y / 7) + 30 * Math.sin((x + 2 * y) / 3);

/**
 * A 400×300 plane of level 18 showing `picture` (a 300×200 function of u, v) inside `quad`:
 * a picture sampled twice as densely as the screen is scattered through the warp (planes of x
 * and y are linear, so their bilinear samples are exact positions), so every screen pixel inside
 * the quadrilateral gets a picture value and everything else keeps the surround's level.
 */
function screenPlane(quad: Quad, picture: (u: number, v: number) => number) {
  const screen = { luma: new Float32Array(400 * 300).fill(18), width: 400, height: 300 };
  const xs = warpQuad({ luma: new Float32Array(400 * 300).map((_, i) => i % 400), width: 400, height: 300 }, quad, 600, 400);
  const ys = warpQuad(
    { luma: new Float32Array(400 * 300).map((_, i) => Math.floor(i / 400)), width: 400, height: 300 },
    quad,
    600,
    400,
  );
  for (let j = 0; j < 400; j++)
    for (let i = 0; i < 600; i++)
      screen.luma[Math.round(ys.luma[j * 600 + i]!) * 400 + Math.round(xs.luma[j * 600 + i]!)] = picture(i / 2, j / 2);
  return screen;
}

/** The screen's corners in the tests' 400×300 planes. */
const QUAD: Quad = [
  { x: 52, y: 41 },
  { x: 361, y: 58 },
  { x: 344, y: 262 },
  { x: 38, y: 249 },
];

function assertCorners(found: Quad | null): void {
  assert.ok(found, 'no quadrilateral found');
  for (const [i, c] of found.entries())
    assert.ok(Math.hypot(c.x - QUAD[i]!.x, c.y - QUAD[i]!.y) < 1.5, `corner ${i}: ${JSON.stringify(found)}`);
}

describe('photographed screens', () => {
  test('finds a tilted bright quadrilateral in a dark surround to within a pixel', () => {
    // A 300×200 texture shown as a quadrilateral inside a 400×300 plane of level 18.
    assertCorners(findScreenQuad(screenPlane(QUAD, texture)));
  });

  test('a dark object along one side recesses most of its edge: the side is still found, unless the edge also strays outside', () => {
    // The same screen, its picture with a dark saucer (level 22, within the edge threshold of
    // the surround's 18) along the bottom: about 60 % of the bottom scan lines stop inside it.
    const dark = (u: number, v: number) => ((u - 150) / 95) ** 2 + ((v - 200) / 40) ** 2 <= 1;
    assertCorners(findScreenQuad(screenPlane(QUAD, (u, v) => (dark(u, v) ? 22 : texture(u, v)))));
    // A bright reflection below the screen over a fifth of its width: the bottom side's scan
    // lines now also stop outside the line, so it is not taken for the screen's edge.
    const reflected = screenPlane(QUAD, (u, v) => (dark(u, v) ? 22 : texture(u, v)));
    for (let y = 266; y < 290; y++) for (let x = 150; x < 215; x++) reflected.luma[y * 400 + x] = 200;
    assert.equal(findScreenQuad(reflected), null);
  });

  test('a picture dark along most of one edge: that side is the envelope of its edge points, even past a straight dark horizon', () => {
    // The bottom sixth of the picture is a dark field (level 22, within the edge threshold of
    // the surround's 18) under a straight horizon, lit only in two patches that reach the
    // screen's edge (a fifth of its width between them): most bottom scan lines stop on the
    // horizon, a straight line inside the picture, and the rest on the screen's real edge.
    const field = (u: number, v: number) => v >= 168 && !((u >= 20 && u < 50) || (u >= 240 && u < 270));
    assertCorners(findScreenQuad(screenPlane(QUAD, (u, v) => (field(u, v) ? 22 : texture(u, v)))));
    // A dark field with a ragged top, lit at the edge in two stretches of a fifteenth of the
    // width each.
    const ragged = (u: number, v: number) =>
      v >= 165 + 12 * Math.sin(u / 9) && !((u >= 20 && u < 40) || (u >= 230 && u < 250));
    assertCorners(findScreenQuad(screenPlane(QUAD, (u, v) => (ragged(u, v) ? 22 : texture(u, v)))));
  });

  test('a plane without a uniform surround has no screen', () => {
    const plain = { luma: new Float32Array(200 * 150), width: 200, height: 150 };
    for (let y = 0; y < 150; y++) for (let x = 0; x < 200; x++) plain.luma[y * 200 + x] = texture(x, y);
    assert.equal(findScreenQuad(plain), null);
  });

  test('a photo of a screen showing a real photo matches it; the same of another photo does not', {
    skip: SKIP_NO_DATA,
  }, async () => {
    const dune = dataPath('photos', 'Dune.jpg');
    const reference = robustReferenceHashes(await decodeRgb(dune));
    const m = matchRobust(
      robustQueryHashes(await decodeBuffer(await applyEdit(dune, 'rephoto-screen'))),
      reference,
    );
    assert.equal(m.matched, true, JSON.stringify(m));
    const other = await applyEdit(dataPath('photos', 'Garden.jpg'), 'rephoto-screen');
    assert.equal(matchRobust(robustQueryHashes(await decodeBuffer(other)), reference).matched, false);
  });

  test('a photo whose foot is nearly black, lit in two stretches, is found on a screen in a dark room; another photo so darkened is not', {
    skip: SKIP_NO_DATA,
  }, async () => {
    // The bottom fifth of a real photo darkened to 6 % (the dark room's level on the screen),
    // except two stretches an eighth of the width each: the screen's bottom edge shows on about
    // a quarter of its scan lines, short of the half a side needs unless taken as the envelope.
    const tmp = mkdtempSync(join(os.tmpdir(), 'mmd-dark-foot-'));
    try {
      const darkFoot = async (file: string, out: string) => {
        const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        const { width, height } = info;
        for (let y = Math.round(height * 0.8); y < height; y++)
          for (let x = 0; x < width; x++) {
            const u = x / width;
            if ((u > 0.2 && u < 0.32) || (u > 0.68 && u < 0.8)) continue;
            const i = (y * width + x) * 3;
            for (let k = 0; k < 3; k++) data[i + k] = Math.round(data[i + k]! * 0.06);
          }
        await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(join(tmp, out));
        return join(tmp, out);
      };
      const dune = await darkFoot(dataPath('photos', 'Dune.jpg'), 'dune.png');
      const reference = robustReferenceHashes(await decodeRgb(dune));
      for (const variant of [0, 1]) {
        const query = robustQueryHashes(await decodeBuffer(await applyEdit(dune, 'rephoto-screen', [], variant)));
        const m = matchRobust(query, reference);
        assert.equal(m.matched, true, `seed ${variant}: ${JSON.stringify(m)}`);
      }
      const garden = await darkFoot(dataPath('photos', 'Garden.jpg'), 'garden.png');
      const other = robustQueryHashes(await decodeBuffer(await applyEdit(garden, 'rephoto-screen')));
      assert.equal(matchRobust(other, reference).matched, false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
