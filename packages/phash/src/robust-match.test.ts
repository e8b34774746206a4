import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { applyOverlay, OVERLAYS } from '../scripts/overlays.ts';
import { applyTransform, TRANSFORMS } from '../scripts/transforms.ts';
import { dataPath, decodeRgb, SKIP_NO_DATA } from '../test/data.ts';
import { flipBits, randomHash, rng } from '../test/random-hashes.ts';
import { findBlobAnchors } from './blob-anchors.ts';
import { findContentRect } from './content-rect.ts';
import { pdqIntermediate } from './pdq.ts';
import type { PixelImage } from './pixel-image.ts';
import type { AnchorHash, RobustHashes } from './robust-hashes.ts';
import { ROBUST_PARAMS, robustQueryHashes, robustReferenceHashes } from './robust-hashes.ts';
import { matchRobust, queryPlainHashes, wholeMatchBeyondPlain } from './robust-match.ts';
import { coefficientsToHash } from './pdq-bits.ts';
import { pdqDihedralFromIntermediate } from './pdq.ts';
import { resizePlane, shrinkLuma } from './working-image.ts';
import { applyEdit, collage } from '../scripts/edits.ts';

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

test('trims only a flat surround: a pale texture with uniform-looking edges is not cut to a strip', () => {
  // Light grain (±6) everywhere and one darker band: within the loose 10-level tolerance the
  // grain looks like a surround around the band, but what trimming would remove is not flat.
  const noise = rng(7);
  const grain = plane(200, 160, (_, y) => (y >= 70 && y < 100 ? 150 : 216) + (noise() - 0.5) * 12);
  const rule = { maxRemovedShare: ROBUST_PARAMS.trimMaxRemovedShare ?? 0.1 };
  assert.deepEqual(findContentRect(grain), { x: 0, y: 70, width: 200, height: 30 });
  assert.deepEqual(findContentRect(grain, rule), { x: 0, y: 0, width: 200, height: 160 });
  // Real bars are flat, even with a line of text in them, and are still trimmed.
  const barred = plane(200, 160, (x, y) => (y >= 30 && y < 130 ? texture(x, y) : y >= 10 && y < 14 && x % 9 < 4 ? 255 : 0));
  assert.deepEqual(findContentRect(barred, rule), { x: 0, y: 30, width: 200, height: 100 });
});

test("grows back over a photo's pale edge that the white surround hid (a sky in a collage's white cell)", () => {
  // A photo in a wide white surround: its top 12 rows are a pale sky (244–248), within the
  // loose 10 levels of the white yet not flat; the 60 white rows above outvote them in the
  // median test, so plain trimming cuts the sky off.
  const noise = rng(11);
  const cell = plane(200, 240, (x, y) =>
    y < 60 || y >= 180 ? 255 : y < 72 ? 246 + (noise() - 0.5) * 4 : texture(x, y),
  );
  const rule = { maxRemovedShare: ROBUST_PARAMS.trimMaxRemovedShare ?? 0.1 };
  assert.deepEqual(findContentRect(cell, rule), { x: 0, y: 72, width: 200, height: 108 });
  assert.deepEqual(findContentRect(cell, { ...rule, growShare: 0.5 }), { x: 0, y: 60, width: 200, height: 120 });
  // Bars with a little JPEG-like speckle next to the picture are not grown into.
  const speckled = plane(200, 240, (x, y) => (y >= 60 && y < 180 ? texture(x, y) : (y === 59 || y === 180) && x % 5 === 0 ? 248 : 255));
  assert.deepEqual(findContentRect(speckled, { ...rule, growShare: 0.5 }), { x: 0, y: 60, width: 200, height: 120 });
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
 * The geometric check of anchored regions, on hand-made anchor sets: a crop moves every anchor by
 * one offset and keeps their hashes within a few bits; overlays and look-alikes do not.
 */
describe('anchor matches must be geometrically consistent', () => {
  const next = rng(7);
  /** 12 anchors spread over a 240×180 anchor-plane picture. */
  const reference: AnchorHash[] = Array.from({ length: 12 }, (_, i) => ({
    hash: randomHash(next),
    x: 40 + (i % 4) * 50 + next() * 10,
    y: 40 + Math.floor(i / 4) * 45 + next() * 10,
  }));
  const set = (anchors: AnchorHash[]): RobustHashes => ({ global: [], centre: [], anchors });
  /** The same regions in a crop that starts at (30, 20): positions shifted, a few bits changed. */
  const cropped = reference.map((a) => ({ hash: flipBits(a.hash, 6, next), x: a.x - 30, y: a.y - 20 }));

  test('a crop matches through anchors, at the offset it was cut at', () => {
    const m = matchRobust(set(cropped), set(reference));
    assert.equal(m.via, 'anchors');
    assert.equal(m.score, 12);
    assert.ok(
      Math.abs(m.geometry!.dx - 30) < 1e-9 && Math.abs(m.geometry!.dy - 20) < 1e-9,
      JSON.stringify(m.geometry),
    );
  });

  test('the threshold given for the whole picture also caps anchored regions', () => {
    assert.equal(
      matchRobust(set(cropped), set(reference), { maxDistance: 5 }).matched,
      false,
      '6 bits apart, threshold 5',
    );
    assert.equal(matchRobust(set(cropped), set(reference), { maxDistance: 6 }).via, 'anchors');
  });

  test('regions that all agree only loosely (a shared overlay on different photos) do not match', () => {
    const loose = reference.map((a) => ({ hash: flipBits(a.hash, 14, next), x: a.x - 30, y: a.y - 20 }));
    assert.equal(matchRobust(set(loose), set(reference)).matched, false);
    // One near-identical region among them is enough.
    const one = loose.map((a, i) => (i === 5 ? { ...a, hash: flipBits(reference[5]!.hash, 6, next) } : a));
    assert.equal(matchRobust(set(one), set(reference)).via, 'anchors');
  });

  test('regions agreeing along one line only (a caption) do not match', () => {
    // Anchors 0–3 are the top row (y within 10 px of each other): letters of one caption line.
    const query = reference.slice(0, 4);
    const m = matchRobust(set(query), set(reference));
    assert.equal(m.matched, false, JSON.stringify(m));
  });

  test('regions agreeing in one small patch (a logo) do not match', () => {
    const logo = [
      { hash: randomHash(next), x: 200, y: 150 },
      { hash: randomHash(next), x: 207, y: 151 },
      { hash: randomHash(next), x: 203, y: 157 },
    ];
    const withLogo = set([...reference, ...logo]);
    // Half of the query agrees, but all of it within 7 px: one mark, not the picture.
    const rest = reference.slice(0, 3).map((a) => ({ hash: randomHash(next), x: a.x, y: a.y }));
    const m = matchRobust(set([...logo, ...rest]), withLogo);
    assert.equal(m.matched, false, JSON.stringify(m));
  });

  test('regions agreeing across the picture but a small share of the overlap do not match', () => {
    // Three shared regions far apart (a caption's letters and a corner mark), the rest of the
    // query a different picture in the same place.
    const shared = [0, 7, 10].map((i) => reference[i]!);
    const others = reference
      .filter((a) => !shared.includes(a))
      .map((a) => ({ hash: randomHash(next), x: a.x, y: a.y }));
    const more = Array.from({ length: 6 }, (_, i) => ({
      hash: randomHash(next),
      x: 60 + i * 25,
      y: 70 + (i % 2) * 40,
    }));
    const m = matchRobust(set([...shared, ...others, ...more]), set(reference));
    assert.equal(m.matched, false, JSON.stringify(m));
    // The same three regions alone are a real share of the overlap: a crop of the reference.
    assert.equal(matchRobust(set(shared), set(reference)).via, 'anchors');
  });
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

/*
 * Shared overlays: the same app chrome, caption or watermark over two different photos gives many
 * identical regions in identical places. None of them may make the two photos match; the photo
 * under its overlay still matches its own reference.
 */
describe('shared overlays on different photos', { skip: SKIP_NO_DATA }, () => {
  const a = dataPath('photos', 'Dune.jpg');
  const b = dataPath('photos', 'Garden.jpg');

  test('two different photos under the same overlay do not match', async () => {
    const wrong: string[] = [];
    for (const overlay of OVERLAYS) {
      const ra = robustReferenceHashes(await decodeBuffer(await applyOverlay(a, overlay)));
      const qb = robustQueryHashes(await decodeBuffer(await applyOverlay(b, overlay)));
      const m = matchRobust(qb, ra);
      if (m.matched) wrong.push(`${overlay} via ${m.via} (${m.score})`);
    }
    assert.deepEqual(wrong, []);
  });

  test('a plain crop of a photo matches it through anchors at the crop offset', async () => {
    const image = await decodeRgb(a);
    const reference = robustReferenceHashes(image);
    const left = 400;
    const top = 240;
    const bytes = await sharp(a)
      .extract({ left, top, width: 1000, height: 640 })
      .jpeg({ quality: 90 })
      .toBuffer();
    const m = matchRobust(robustQueryHashes(await decodeBuffer(bytes)), reference);
    assert.equal(m.via, 'anchors');
    // The crop kept 1000 of the photo's 1680 px: magnified 1.68 (the query tries 1.68 itself).
    // The reference plane has the photo's longer side at anchorSide / referenceScale, so the
    // translation is the crop offset at that scale.
    const g = m.geometry!;
    const f = ROBUST_PARAMS.anchorSide / (1680 * g.referenceScale);
    assert.ok(Math.abs(g.scale - 1.68) < 0.05, JSON.stringify(g));
    assert.ok(Math.abs(g.dx - left * f) <= 1.5 && Math.abs(g.dy - top * f) <= 1.5, JSON.stringify(g));
  });
});

/*
 * Crops that an app then resized, and collages: the picture's size is normalised before its
 * anchors are found, and a query tries a few magnifications, so the crop's regions line up
 * whatever size it was saved at; a collage's quarters are hashed whole.
 */
describe('crops that were resized, and collages', { skip: SKIP_NO_DATA }, () => {
  const dune = dataPath('photos', 'Dune.jpg');

  test('a crop resized to another size matches through anchors at its magnification', async () => {
    const reference = robustReferenceHashes(await decodeRgb(dune));
    // Keep 1120 × 700 of the 1680 × 1050 photo (magnified 1.5), then save it 800 px wide.
    const bytes = await sharp(dune)
      .extract({ left: 300, top: 200, width: 1120, height: 700 })
      .resize({ width: 800 })
      .jpeg({ quality: 85 })
      .toBuffer();
    const m = matchRobust(robustQueryHashes(await decodeBuffer(bytes)), reference);
    assert.equal(m.via, 'anchors', JSON.stringify(m));
    assert.ok(Math.abs(m.geometry!.scale - 1.5) < 0.08, JSON.stringify(m.geometry));
    // Another photo cropped and resized the same way does not match.
    const other = await sharp(dataPath('photos', 'Garden.jpg'))
      .extract({ left: 300, top: 200, width: 1120, height: 700 })
      .resize({ width: 800 })
      .jpeg({ quality: 85 })
      .toBuffer();
    assert.equal(matchRobust(robustQueryHashes(await decodeBuffer(other)), reference).matched, false);
  });

  test('a photo in one cell of a 2×2 collage matches its whole-picture hash; a collage of others does not', async () => {
    const others = ['Garden.jpg', 'Aqua.jpg', 'Wood.jpg', 'Storm.jpg'].map((f) => dataPath('photos', f));
    const reference = robustReferenceHashes(await decodeRgb(dune));
    const m = matchRobust(robustQueryHashes(await decodeBuffer(await collage(dune, others, 'test'))), reference);
    assert.equal(m.via, 'global', JSON.stringify(m));
    const without = await collage(others[0]!, others.slice(1), 'test');
    assert.equal(matchRobust(robustQueryHashes(await decodeBuffer(without)), reference).matched, false);
  });

  test("a smooth photo in a collage matches through its quarter hashed on the finer plane, or through the quarter's centre", async () => {
    // Storm (a dark road under a grey sky): shrunk into a cell and recompressed with three other
    // photos. On the ≤ 512-px working plane its quarter's whole-picture hash moves 40–54 bits and
    // only the quarter's central window stays within PDQ's 31 of the reference's centre; on the
    // ≈ 768-px master plane (the default) the whole quarter matches.
    const storm = dataPath('photos', 'Storm.jpg');
    // The development split's collage of Storm (generalise-eval.ts): beside Wood, astronaut and camera.
    const others = [dataPath('photos', 'Wood.jpg'), dataPath('photos-more', 'astronaut.png'), dataPath('photos-more', 'camera.png'), dataPath('photos', 'Dune.jpg')];
    const reference = robustReferenceHashes(await decodeRgb(storm));
    const grid = await decodeBuffer(await applyEdit(storm, 'collage', others.slice(0, 3)));
    assert.equal(matchRobust(robustQueryHashes(grid), reference).via, 'global');
    const before = { plane: ROBUST_PARAMS.quadrantPlane, centres: ROBUST_PARAMS.quadrantCentres };
    try {
      ROBUST_PARAMS.quadrantPlane = 'working';
      const m = matchRobust(robustQueryHashes(grid), reference);
      assert.equal(m.via, 'centre', JSON.stringify(m));
      ROBUST_PARAMS.quadrantCentres = false;
      assert.equal(matchRobust(robustQueryHashes(grid), reference).matched, false, 'on the working plane, without the quarters\' centres, it is missed');
    } finally {
      ROBUST_PARAMS.quadrantPlane = before.plane;
      ROBUST_PARAMS.quadrantCentres = before.centres;
    }
    const without = await collage(others[0]!, others.slice(1), 'Storm:others');
    assert.equal(matchRobust(robustQueryHashes(await decodeBuffer(without)), reference).matched, false);
  });

  test("a photo whose top is a pale sky, in a white collage cell, is not cut at the sky's edge", async () => {
    // Dune under a haze that fades from near-white at the top to a pale sky a fifth of the way
    // down, as a bright sky does: in the collage's white cell the haze looks like the surround
    // (within 10 levels of white), and trimming the quarter cut it off (the held-out mountain
    // photo `aitzgorri`: 106 bits away trimmed, 14 with its sky). Alone, the photo is not trimmed
    // (its haze is not flat), so the reference keeps it.
    const { width = 0, height = 0 } = await sharp(dune).metadata();
    const band = Math.round(height / 5);
    const haze = `<svg width="${width}" height="${band}" xmlns="http://www.w3.org/2000/svg"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#fff" stop-opacity="0.97"/><stop offset="1" stop-color="#fff" stop-opacity="0.8"/></linearGradient></defs><rect width="${width}" height="${band}" fill="url(#g)"/></svg>`;
    const dir = mkdtempSync(join(tmpdir(), 'mmd-haze-'));
    try {
      const hazy = join(dir, 'hazy-dune.png');
      writeFileSync(hazy, await sharp(dune).composite([{ input: Buffer.from(haze), left: 0, top: 0 }]).png().toBuffer());
      const others = ['Garden.jpg', 'Aqua.jpg', 'Wood.jpg'].map((f) => dataPath('photos', f));
      const reference = robustReferenceHashes(await decodeRgb(hazy));
      const grid = await decodeBuffer(await collage(hazy, others, 'haze'));
      assert.equal(matchRobust(robustQueryHashes(grid), reference).matched, true);
      const before = ROBUST_PARAMS.quadrantGrowShare;
      ROBUST_PARAMS.quadrantGrowShare = null;
      try {
        assert.equal(matchRobust(robustQueryHashes(grid), reference).matched, false, 'trimmed at the haze, it is missed');
      } finally {
        ROBUST_PARAMS.quadrantGrowShare = before;
      }
      const without = await collage(others[0]!, [...others.slice(1), dataPath('photos', 'Storm.jpg')], 'haze:others');
      assert.equal(matchRobust(robustQueryHashes(await decodeBuffer(without)), reference).matched, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('resizing a plane averages areas when shrinking and keeps a flat plane flat', () => {
    const plane = { luma: Float32Array.from({ length: 12 }, (_, i) => (i % 4 < 2 ? 0 : 100)), width: 4, height: 3 };
    const half = resizePlane(plane, 2, 3);
    assert.deepEqual([...half.luma], [0, 100, 0, 100, 0, 100]);
    const third = resizePlane(plane, 3, 3);
    // Output pixel 1 covers source 4/3..8/3: as much of a 0 pixel as of a 100 pixel.
    assert.ok(Math.abs(third.luma[1]! - 50) < 1e-3, String(third.luma[1]));
    const flat = resizePlane({ luma: new Float32Array(20).fill(42), width: 5, height: 4 }, 13, 7);
    assert.ok(flat.luma.every((v) => Math.abs(v - 42) < 1e-3));
  });
});

describe('straightened photos and stickers', { skip: SKIP_NO_DATA }, () => {
  test('a photo turned 10° and cropped to its largest upright rectangle matches through its centre', async () => {
    const elephants = dataPath('photos', 'Elephants.jpg');
    const reference = robustReferenceHashes(await decodeRgb(elephants));
    const q = robustQueryHashes(await decodeBuffer(await applyEdit(elephants, 'rotate10-crop')));
    assert.equal(matchRobust(q, reference).via, 'centre');
    const other = await applyEdit(dataPath('photos', 'Storm.jpg'), 'rotate10-crop');
    assert.equal(matchRobust(robustQueryHashes(await decodeBuffer(other)), reference).matched, false);
  });

  test('a photo with a flat side turned 7° on its own canvas matches through a turned centre', async () => {
    // The turned copy has black corners the reference lacks; its centre, turned back, agrees.
    const wood = dataPath('photos', 'Wood.jpg');
    const reference = robustReferenceHashes(await decodeRgb(wood));
    const q = robustQueryHashes(await decodeBuffer(await applyEdit(wood, 'rotate7')));
    assert.equal(matchRobust(q, reference).via, 'centre');
  });

  test('a sticker over a fifth of a photo still leaves anchors that match it', async () => {
    // camera.png's strongest blobs sit where the sticker is not, but the sticker's own blobs
    // outrank them: only anchors spread over the picture leave enough of them in common.
    const file = dataPath('photos-more', 'camera.png');
    const reference = robustReferenceHashes(await decodeRgb(file));
    const q = robustQueryHashes(await decodeBuffer(await applyEdit(file, 'sticker')));
    assert.equal(matchRobust(q, reference).via, 'anchors');
    const other = await applyEdit(dataPath('photos', 'Elephants.jpg'), 'sticker');
    assert.equal(matchRobust(robustQueryHashes(await decodeBuffer(other)), reference).matched, false);
  });

  test('a sticker over the middle of a photo leaves a strip whose anchors, chosen again, match it', async () => {
    // On Wood.jpg the sticker's blobs take 9 of the whole picture's 12 anchors; the right-hand
    // strip, chosen apart, holds enough of the reference's. Against a reference set made before
    // references kept 32 + 32 anchors per scale (24 + 8, a v3 set, as banks still hold), the strip
    // is what finds it; today's reference has enough anchors that the whole picture does too.
    const file = dataPath('photos', 'Wood.jpg');
    const pixels = await decodeRgb(file);
    const saved = { a: ROBUST_PARAMS.referenceAnchors, s: ROBUST_PARAMS.referenceSpreadAnchors };
    let older: RobustHashes;
    try {
      Object.assign(ROBUST_PARAMS, { referenceAnchors: 24, referenceSpreadAnchors: 8 });
      older = robustReferenceHashes(pixels);
    } finally {
      Object.assign(ROBUST_PARAMS, { referenceAnchors: saved.a, referenceSpreadAnchors: saved.s });
    }
    assert.ok(older.anchors.length <= 96);
    const reference = robustReferenceHashes(pixels);
    assert.ok(reference.anchors.length > 96);
    const q = robustQueryHashes(await decodeBuffer(await applyEdit(file, 'sticker')));
    const whole = { ...q, anchors: q.anchors.filter((a) => a.part === undefined) };
    assert.equal(matchRobust(q, older).via, 'anchors');
    assert.equal(matchRobust(whole, older).matched, false);
    assert.equal(matchRobust(q, reference).via, 'anchors');
    assert.equal(matchRobust(whole, reference).via, 'anchors');
  });

  test('a sticker on a dark sky does not make the sky a surround to trim', async () => {
    // moon.png's grey sky is uniform enough at its edges that, with a bright sticker on it, the
    // rule before kept only the rows around the sticker (a corner of the picture).
    const file = dataPath('photos-more', 'moon.png');
    const reference = robustReferenceHashes(await decodeRgb(file));
    const q = robustQueryHashes(await decodeBuffer(await applyEdit(file, 'sticker')));
    assert.equal(matchRobust(q, reference).via, 'anchors');
  });
});

describe('mirrored and turned copies of a texture', { skip: SKIP_NO_DATA }, () => {
  test('match through anchors turned back, where the whole picture’s dihedral hashes are too far', async () => {
    // grass.png's whole-picture hash sits on weak coefficients: its mirrored and turned copies'
    // dihedral variants land 34–42 bits away. Region by region, turned back, they agree.
    const grass = dataPath('photos-more', 'grass.png');
    const reference = robustReferenceHashes(await decodeRgb(grass));
    for (const t of ['mirror', 'rotate90'] as const) {
      const q = robustQueryHashes(await decodeBuffer(await applyTransform(grass, t)));
      const m = matchRobust(q, reference);
      assert.equal(m.via, 'anchors', t);
      assert.ok(m.geometry && m.geometry.inliers >= 6 && Math.abs(m.geometry.dx) < 1.5 && Math.abs(m.geometry.dy) < 1.5, JSON.stringify(m));
      // Without the turned anchors the same copy is missed.
      const plain = { ...q, anchors: q.anchors.filter((a) => a.turn === undefined) };
      assert.equal(matchRobust(plain, reference).matched, false, t);
    }
    const other = await applyTransform(dataPath('photos-more', 'coffee.png'), 'mirror');
    assert.equal(matchRobust(robustQueryHashes(await decodeBuffer(other)), reference).matched, false);
  });
});

test('anchors spread over cells: strong blobs crowded in one corner take only that cell’s slots', () => {
  const width = 240;
  const height = 240;
  const blobs = [
    ...Array.from({ length: 9 }, (_, i) => ({ x: 30 + (i % 3) * 12, y: 30 + Math.floor(i / 3) * 12, a: 200 })),
    { x: 120, y: 120, a: 60 },
    { x: 200, y: 40, a: 60 },
    { x: 40, y: 200, a: 60 },
  ];
  const luma = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      luma[y * width + x] = 20 + blobs.reduce((s, b) => s + b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / 18), 0);
  const plane = { luma, width, height };
  const strongest = findBlobAnchors(plane, { count: 6, margin: 10 });
  assert.ok(strongest.every((a) => a.x < 70 && a.y < 70), JSON.stringify(strongest));
  const spread = findBlobAnchors(plane, { count: 6, margin: 10, cells: 3 });
  for (const b of blobs.slice(9))
    assert.ok(spread.some((a) => Math.hypot(a.x - b.x, a.y - b.y) < 1), `${b.x},${b.y} missing: ${JSON.stringify(spread)}`);
});

/*
 * Dark pictures under one overlay: the plain PDQ hash sees mostly the overlay (white app chrome
 * over a dim photo), so two different dark screenshots agree through it. Scheme 2's evened-out
 * hashes see the photos, so the agreement stops at the plain hash (wholeMatchBeyondPlain), which
 * the server turns into a hold (rule pdq_plain) instead of the bank's block.
 */
describe('dark photos under a shared overlay', { skip: SKIP_NO_DATA }, () => {
  test('agree only through the plain hash; a re-encoded copy agrees beyond it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmd-dark-'));
    try {
      const underChrome = async (name: string) => {
        const file = join(dir, `${name}.png`);
        writeFileSync(file, await sharp(dataPath('photos-more', name)).linear(0.3, 8).png().toBuffer());
        return applyOverlay(file, 'app-chrome-light');
      };
      const grass = await underChrome('grass.png');
      const moon = await underChrome('moon.png');
      const refImage = await decodeBuffer(grass);
      const refPdq = pdqIntermediate(refImage);
      const reference = robustReferenceHashes(refImage, refPdq);
      const referencePlain = coefficientsToHash(refPdq.coefficients);
      assert.equal(reference.scheme, 2);
      const beyond = async (bytes: Buffer) => {
        const image = await decodeBuffer(bytes);
        const pdq = pdqIntermediate(image);
        const query = robustQueryHashes(image, pdq);
        // The plain hashes lead a query's global list (what queryPlainHashes counts).
        if (pdq.quality >= 50) assert.deepEqual(query.global.slice(0, 8), Object.values(pdqDihedralFromIntermediate(pdq).hashes));
        return { m: matchRobust(query, reference), beyond: wholeMatchBeyondPlain(query, reference, { queryPlainHashes: queryPlainHashes(pdq.quality), referencePlain }) };
      };
      const other = await beyond(moon);
      assert.equal(other.m.via, 'global', 'the hole: a different dark photo agrees through the whole picture');
      assert.equal(other.beyond, false, 'but not beyond the plain hash');
      const copy = await beyond(await sharp(grass).jpeg({ quality: 70 }).toBuffer());
      assert.equal(copy.m.via, 'global');
      assert.equal(copy.beyond, true, 'a real copy agrees on the evened-out hashes too');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
