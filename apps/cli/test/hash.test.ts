/**
 * `mmd hash` and `mmd compare`, offline, run as child processes on the real media in
 * ../shared/data: hashes agree with Meta's reference outputs, and compare applies MMD's whole
 * matching scheme (plain PDQ, rotations/mirrors, crop-robust hashes, vPDQ).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { hammingDistance, hash256FromHex, md5Hex, parseVpdq, sha256Hex } from '@mmd/phash';
import sharp from 'sharp';
import { run, tempDir } from './run-cli.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');
const noData = existsSync(DATA) ? false : `shared test data not found at ${DATA}`;
const HOSTILE = path.resolve(import.meta.dirname, '../../../packages/media/test/hostile');
const data = (...parts: string[]) => path.join(DATA, ...parts);
const mmd = (...args: string[]) => run(args, {});

/** The JSON lines of a run that must have succeeded. */
function lines(r: { code: number | null; stdout: string; stderr: string }) {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function csv(...parts: string[]): Record<string, string>[] {
  const [header, ...rows] = readFileSync(data(...parts), 'utf8')
    .trim()
    .split('\n');
  const keys = header!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i]!, v])));
}

describe('mmd hash', { skip: noData, concurrency: true }, () => {
  test('a photo: the Java tool’s PDQ hash, quality and exact digests, as one JSON line', async () => {
    const file = data('photos', 'GreenMeadow.jpg');
    const [out, ...rest] = lines(await mmd('hash', file));
    assert.equal(rest.length, 0);
    const ref = csv('pdq', 'photos-reference.csv').find((r) => r.file === 'photos/GreenMeadow.jpg')!;
    const bytes = readFileSync(file);
    assert.deepEqual(out, {
      pdq: ref.java_hash,
      quality: Number(ref.java_quality),
      sha256: await sha256Hex(bytes),
      md5: md5Hex(bytes),
    });
  });

  test('the type comes from the content: a JPEG named .mp4 is hashed as an image', async () => {
    const [out] = lines(await mmd('hash', path.join(HOSTILE, 'jpeg-named.mp4')));
    assert.match(String(out!.pdq), /^[0-9a-f]{64}$/);
    assert.equal(out!.vpdq, undefined);
  });

  test('a video: one PDQ per second, within the reference’s tolerance of its frames', async () => {
    const [out] = lines(await mmd('hash', data('vpdq', 'videos', 'doorknob-hd-no-bar.mp4')));
    const frames = out!.vpdq as { frame: number; seconds: number; pdq: string; quality: number }[];
    assert.match(String(out!.sha256), /^[0-9a-f]{64}$/);
    const expected = parseVpdq(readFileSync(data('vpdq', 'expected', 'doorknob-hd-no-bar.txt'), 'utf8'));
    // 120 frames at 30 fps: the reference's one-per-second frames are 0, 30, 60 and 90.
    const sampled = expected.filter((e) => e.frameNumber % 30 === 0);
    assert.deepEqual(
      frames.map((f) => [f.frame, f.seconds]),
      sampled.map((e, k) => [k, e.timestampSeconds]),
    );
    let compared = 0;
    for (const f of frames) {
      const ref = expected[f.seconds * 30]!;
      if (f.quality < 50 || ref.quality < 50) continue;
      const d = hammingDistance(hash256FromHex(f.pdq), ref.hash);
      assert.ok(d < 31, `second ${f.seconds}: distance ${d}`);
      compared++;
    }
    assert.ok(compared >= 2, 'the bright frames were compared');
  });

  test('bad, unsupported and missing files: one line on stderr with the code, exit 1', async () => {
    const cases: [string, string][] = [
      [path.join(HOSTILE, 'truncated.jpg'), 'corrupt_file'],
      [path.join(HOSTILE, 'bomb-50000x50000.png'), 'too_many_pixels'],
      [data('audio', 'complete.oga'), 'unsupported_type'],
      [path.join(HOSTILE, 'no-such-file.jpg'), 'not_found'],
    ];
    await Promise.all(
      cases.map(async ([file, code]) => {
        const r = await mmd('hash', file);
        assert.equal(r.code, 1, `${file}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, new RegExp(`^error: .+ \\(${code}\\)\\n$`), file);
      }),
    );
  });
});

describe('mmd compare', { skip: noData, concurrency: true }, () => {
  const dir = noData ? '' : tempDir();
  const crop = path.join(dir, 'meadow-crop.jpg');
  const letterbox = path.join(dir, 'meadow-letterbox.jpg');
  before(async () => {
    if (noData) return;
    const original = data('photos', 'GreenMeadow.jpg');
    const { width = 0, height = 0 } = await sharp(original).metadata();
    // A 75 % × 80 % off-centre crop, re-encoded: plain PDQ sees a different picture.
    await sharp(original)
      .extract({
        left: Math.round(width * 0.1),
        top: Math.round(height * 0.05),
        width: Math.round(width * 0.75),
        height: Math.round(height * 0.8),
      })
      .jpeg({ quality: 85 })
      .toFile(crop);
    // Half size with black bars above and below, as a phone screenshot or a video frame shows it.
    await sharp(original)
      .resize(Math.round(width / 2))
      .extend({ top: 120, bottom: 120, background: '#000' })
      .jpeg({ quality: 85 })
      .toFile(letterbox);
  });

  test('rotated and mirrored copies match through the dihedral hashes, naming the transform', async () => {
    const names = [
      'original',
      'rotate90',
      'rotate180',
      'rotate270',
      'flipX',
      'flipY',
      'flipPlus1',
      'flipMinus1',
    ];
    const files = [
      'bridge-1-original',
      'bridge-2-rotate-90',
      'bridge-3-rotate-180',
      'bridge-4-rotate-270',
      'bridge-5-flipx',
      'bridge-6-flipy',
      'bridge-7-flip-plus-1',
      'bridge-8-flip-minus-1',
    ].map((n) => data('pdq', 'dih', `${n}.jpg`));
    const out = lines(await mmd('compare', files[0]!, ...files));
    assert.equal(out.length, 8);
    assert.deepEqual(
      out.map((o) => o.file),
      files,
    );
    assert.deepEqual(out[0]!, { ...out[0], match: true, rule: 'pdq', pdq_distance: 0 });
    out.slice(1).forEach((o, i) => {
      assert.equal(o.match, true, String(o.file));
      assert.equal(o.rule, 'dihedral', String(o.file));
      assert.equal(o.dihedral_transform, names[i + 1], String(o.file));
      assert.ok((o.pdq_distance as number) > 31, 'plain PDQ alone would miss it');
      assert.ok((o.dihedral_distance as number) <= 31);
    });
  });

  test('every bridge edit matches its original by plain PDQ', async () => {
    const edits = csv('pdq', 'reference.csv')
      .map((r) => r.file!)
      .filter((f) => f.startsWith('bridge-mods/'));
    const out = lines(
      await mmd('compare', data('pdq', 'bridge-mods', 'aaa-orig.jpg'), ...edits.map((f) => data('pdq', f))),
    );
    assert.equal(out.length, edits.length);
    for (const o of out) assert.deepEqual([o.file, o.match, o.rule], [o.file, true, 'pdq']);
  });

  test('a crop and a letterboxed copy match their original through the robust hashes, not other photos', async () => {
    const original = data('photos', 'GreenMeadow.jpg');
    const other = data('photos', 'Dune.jpg');
    for (const query of [crop, letterbox]) {
      const [same, different] = lines(await mmd('compare', query, original, other));
      assert.equal(same!.match, true, `${query}: ${JSON.stringify(same)}`);
      assert.equal(same!.rule, 'robust');
      assert.ok((same!.pdq_distance as number) > 31, 'plain PDQ alone would miss it');
      assert.ok(['global', 'centre', 'anchors'].includes(String(same!.robust_via)));
      assert.equal(different!.match, false, JSON.stringify(different));
      assert.equal(different!.rule, null);
    }
  });

  test('different photos do not match; an unreadable FILE gets an error line and exit 1', async () => {
    const missing = path.join(dir, 'missing.jpg');
    const r = await mmd(
      'compare',
      data('photos', 'FreshFlower.jpg'),
      data('photos', 'Wood.jpg'),
      missing,
      data('photos', 'Storm.jpg'),
    );
    assert.equal(r.code, 1);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      out.map((o) => [o.match, o.rule]),
      [
        [false, null],
        [false, null],
        [false, null],
      ],
    );
    assert.equal(out[1].error, 'not_found');
    assert.match(r.stderr, /^error: cannot read .+missing\.jpg: no such file \(not_found\)\n$/);
  });

  test('videos: vPDQ percentages and the reference rule (80 % of FILE’s frames)', async () => {
    const video = (n: string) => data('vpdq', 'videos', `${n}.mp4`);
    const [take, unrelated] = lines(
      await mmd(
        'compare',
        video('chair-20-sd-bar'),
        video('chair-22-sd-grey-bar'),
        video('doorknob-hd-no-bar'),
      ),
    );
    // Two takes of one scene (one in grey). The reference at one frame per second gives 100 / 95.7.
    assert.equal(take!.match, true, JSON.stringify(take));
    assert.equal(take!.rule, 'vpdq');
    assert.ok((take!.target_match_pct as number) >= 80);
    assert.equal(take!.pdq_distance, null);
    assert.deepEqual([unrelated!.match, unrelated!.rule, unrelated!.target_match_pct], [false, null, 0]);
  });
});
