import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dataPath, decodeRgb, readCsv, SKIP_NO_DATA } from '../test/data.ts';
import { hammingDistance } from './hamming.ts';
import { hash256FromHex, hash256ToHex } from './hash256.ts';
import { pdqHash, pdqHashDihedral } from './pdq.ts';
import type { DihedralTransform } from './pdq-dihedral.ts';

/*
 * Reference vectors from Meta's tools (see shared/data/MANIFEST.md). We hash at full resolution
 * like the Java tool, so we must reproduce `java_imageio_hash`. Java decodes with ImageIO's
 * libjpeg 6b derivative; sharp decodes with mozjpeg (libjpeg-turbo). Both use the accurate
 * integer IDCT, fancy chroma upsampling and the same YCbCr→RGB tables, so the pixels — and
 * therefore every hash bit — agree on all these files: the tests demand distance 0. A future
 * decoder that changes pixels would move a few bits here; that is a decoder difference, not a
 * hashing one (the C++ and Python tools differ from Java by up to 12 bits because they shrink).
 */
const MAX_QUALITY_DIFF = 2;

describe('PDQ against Meta reference vectors', { skip: SKIP_NO_DATA }, () => {
  test('bridge edits hash exactly like the Java tool at full resolution', async () => {
    const rows = readCsv('pdq', 'reference.csv');
    assert.equal(rows.length, 20);
    for (const row of rows) {
      const { hash, quality } = pdqHash(await decodeRgb(dataPath('pdq', row.file!)));
      assert.equal(hash256ToHex(hash), row.java_imageio_hash!, row.file!);
      assert.ok(Math.abs(quality - Number(row.java_quality)) <= MAX_QUALITY_DIFF, `${row.file!} quality`);
    }
  });

  test('every bridge edit stays within the match threshold of the original', async () => {
    const rows = readCsv('pdq', 'reference.csv').filter((r) => r.file!.startsWith('bridge-mods/'));
    const original = hash256FromHex(
      rows.find((r) => r.file === 'bridge-mods/aaa-orig.jpg')!.java_imageio_hash!,
    );
    for (const row of rows) {
      assert.ok(hammingDistance(original, hash256FromHex(row.java_imageio_hash!)) <= 31, row.file!);
    }
  });

  test('the 14 photos (up to 5640×3172) hash exactly like the Java tool', async () => {
    const rows = readCsv('pdq', 'photos-reference.csv');
    assert.equal(rows.length, 14);
    for (const row of rows) {
      const { hash, quality } = pdqHash(await decodeRgb(dataPath(row.file!)));
      assert.equal(hash256ToHex(hash), row.java_hash!, row.file!);
      assert.ok(Math.abs(quality - Number(row.java_quality)) <= MAX_QUALITY_DIFF, `${row.file!} quality`);
    }
  });

  test('dihedral hashes from one DCT equal the Java dihedral hashes', async () => {
    const names: Record<string, DihedralTransform> = {
      orig: 'original',
      rot90: 'rotate90',
      rot180: 'rotate180',
      rot270: 'rotate270',
      flipx: 'flipX',
      flipy: 'flipY',
      flipplus1: 'flipPlus1',
      flipminus1: 'flipMinus1',
    };
    const rows = readCsv('pdq', 'dihedral-reference.csv').filter((r) => r.implementation === 'java_imageio');
    assert.equal(rows.length, 8);
    const { hashes, quality } = pdqHashDihedral(
      await decodeRgb(dataPath('pdq', 'dih', 'bridge-1-original.jpg')),
    );
    assert.equal(quality, 100);
    for (const row of rows) {
      const transform = names[row.transform!]!;
      assert.equal(
        hash256ToHex(hashes[transform]),
        row['dihedral_hash_computed_from_bridge-1-original'],
        transform,
      );
      // The physically rotated/mirrored file was re-encoded, so it is close rather than equal.
      const physical = pdqHash(await decodeRgb(dataPath('pdq', row.physically_transformed_file!)));
      assert.ok(hammingDistance(hashes[transform], physical.hash) <= 31, transform);
    }
  });
});
