/**
 * Decoding for hashing, checked against Meta's reference outputs in ../shared/data: image pixels
 * must give the Java tool's PDQ hash exactly, sampled video frames must be the reference's.
 * (@mmd/phash is used here only to hash what was decoded.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hammingDistance, hash256ToHex, parseVpdq, pdqHash } from '@mmd/phash';
import sharp from 'sharp';
import { dataPath, HOSTILE_DIR, leftovers, makeTmpRoot, NEEDS_DATA, removeTmpRoot } from '../test/helpers.ts';
import { isMediaError, type MediaErrorCode } from './errors.ts';
import { decodeImageForHashing, decodeVideoFramesForHashing, decodeVideoOutputs, type HashFrame } from './hash-input.ts';
import { setFifosEnabled } from './raw-frames.ts';

const CHAIR = dataPath('vpdq', 'videos', 'chair-19-sd-bar.mp4');

async function collect(frames: AsyncIterable<HashFrame>): Promise<HashFrame[]> {
  const out: HashFrame[] = [];
  for await (const f of frames) out.push(f);
  return out;
}

function rejectsWithCode(promise: Promise<unknown>, code: MediaErrorCode) {
  return assert.rejects(promise, (error) => {
    assert.ok(isMediaError(error, code), `expected ${code}, got ${error}`);
    return true;
  });
}

let tmpRoot: string;
before(async () => {
  tmpRoot = await makeTmpRoot();
});
after(async () => {
  assert.deepEqual(await leftovers(tmpRoot), [], 'scratch directories must be removed');
  await removeTmpRoot(tmpRoot);
});

describe('decodeImageForHashing', () => {
  test('photos hash exactly like Meta’s Java PDQ tool', { skip: NEEDS_DATA }, async () => {
    const rows = readFileSync(dataPath('pdq', 'photos-reference.csv'), 'utf8').trim().split('\n').slice(1);
    // Three photos keep the test fast; all 34 reference images agree (checked when this was written).
    for (const row of rows.filter((r) => /Aqua|FreshFlower|GreenMeadow/.test(r))) {
      const [file, javaHash] = row.split(',');
      const image = await decodeImageForHashing(dataPath(file!));
      assert.equal(image.channels, 3);
      assert.equal(image.data.length, image.width * image.height * 3);
      assert.equal(hash256ToHex(pdqHash(image).hash), javaHash, file!);
    }
  });

  test('bytes work like a path', { skip: NEEDS_DATA }, async () => {
    const file = dataPath('pdq', 'bridge-mods', 'aaa-orig.jpg');
    const fromPath = await decodeImageForHashing(file);
    const fromBytes = await decodeImageForHashing(new Uint8Array(await readFile(file)));
    assert.deepEqual(fromBytes.data, fromPath.data);
  });

  test('keeps the stored orientation (no EXIF auto-rotation) and turns grey into RGB', async () => {
    const stored = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const image = await decodeImageForHashing(stored);
    assert.deepEqual([image.width, image.height], [40, 20]);
    const grey = await sharp(Buffer.alloc(64, 0x40), { raw: { width: 8, height: 8, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1, 'the fixture is single-channel');
    const rgb = await decodeImageForHashing(grey);
    assert.equal(rgb.channels, 3);
    assert.equal(rgb.data.length, 8 * 8 * 3);
  });

  test('refuses hostile and non-image input with the library’s codes', async () => {
    const hostile = (name: string) => join(HOSTILE_DIR, name);
    await rejectsWithCode(decodeImageForHashing(hostile('bomb-50000x50000.png')), 'too_many_pixels');
    await rejectsWithCode(decodeImageForHashing(hostile('truncated.jpg')), 'corrupt_file');
    await rejectsWithCode(decodeImageForHashing(hostile('html-named.jpg')), 'unsupported_type');
    await rejectsWithCode(decodeImageForHashing(hostile('empty.jpg')), 'empty_file');
    const small = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    await rejectsWithCode(decodeImageForHashing(small, { maxPixels: 5000 }), 'too_many_pixels');
  });
});

describe('decodeVideoFramesForHashing', { skip: NEEDS_DATA }, () => {
  test('samples one frame per second: the frames the vPDQ reference hashes', async () => {
    const expected = parseVpdq(readFileSync(dataPath('vpdq', 'expected', 'chair-19-sd-bar.txt'), 'utf8'));
    const frames = await collect(decodeVideoFramesForHashing(CHAIR));
    // 18.8 s at 30 fps: the reference hashes frames 0, 30, …, 540.
    assert.equal(frames.length, 19);
    frames.forEach((frame, k) => {
      assert.equal(frame.frameNumber, k);
      assert.equal(frame.seconds, k);
      assert.deepEqual(
        [frame.width, frame.height, frame.channels],
        [480, 720, 3],
        'stored size, not rotated',
      );
      const ref = expected[k * 30]!;
      assert.equal(ref.timestampSeconds.toFixed(3), k.toFixed(3));
      const got = pdqHash(frame);
      if (got.quality >= 50 && ref.quality >= 50) {
        // The reference's own regression rule; a frame half a second off is ~100 bits away.
        const d = hammingDistance(got.hash, ref.hash);
        assert.ok(d < 31, `second ${k}: distance ${d}`);
      }
    });
  });

  test('maxFrames and fps bound the output; bytes are decoded from a scratch file that is removed', async () => {
    const bytes = new Uint8Array(await readFile(CHAIR));
    const frames = await collect(decodeVideoFramesForHashing(bytes, { fps: 2, maxFrames: 3, tmpRoot }));
    assert.deepEqual(
      frames.map((f) => f.seconds),
      [0, 0.5, 1],
    );
  });

  test('stopping early, aborting and timing out end ffmpeg', async () => {
    for await (const frame of decodeVideoFramesForHashing(CHAIR)) {
      assert.equal(frame.frameNumber, 0);
      break; // the generator's cleanup kills ffmpeg; the test would hang on a live child otherwise
    }
    const controller = new AbortController();
    await rejectsWithCode(
      (async () => {
        for await (const _ of decodeVideoFramesForHashing(CHAIR, { signal: controller.signal }))
          controller.abort();
      })(),
      'aborted',
    );
    await rejectsWithCode(collect(decodeVideoFramesForHashing(CHAIR, { timeoutMs: 1 })), 'timeout');
  });

  test('refuses images, audio and bad options', async () => {
    await rejectsWithCode(
      collect(decodeVideoFramesForHashing(dataPath('photos', 'FreshFlower.jpg'))),
      'unsupported_type',
    );
    await rejectsWithCode(
      collect(decodeVideoFramesForHashing(dataPath('audio', 'complete.oga'))),
      'unsupported_type',
    );
    await rejectsWithCode(
      collect(decodeVideoFramesForHashing(join(HOSTILE_DIR, 'moov-missing.mp4'))),
      'corrupt_file',
    );
    await rejectsWithCode(collect(decodeVideoFramesForHashing(CHAIR, { maxSeconds: 10 })), 'too_long');
    await rejectsWithCode(collect(decodeVideoFramesForHashing(CHAIR, { fps: 0 })), 'invalid_options');
    await rejectsWithCode(collect(decodeVideoFramesForHashing(CHAIR, { maxFrames: 1.5 })), 'invalid_options');
  });
});

describe('decodeVideoOutputs', () => {
  test('one decode gives vPDQ’s exact frames and a small grey stream at its own rate', { skip: NEEDS_DATA }, async () => {
    const single = await collect(decodeVideoFramesForHashing(CHAIR, { fps: 1 }));
    const rgb: HashFrame[] = [];
    const grey: HashFrame[] = [];
    await decodeVideoOutputs(
      CHAIR,
      [{ fps: 1 }, { fpsForDuration: (d) => (d > 10 ? 4 : 2), divisor: 3, grey: true }],
      async (output, frame) => {
        // A slow consumer on one output must not stall or reorder the other.
        if (output === 1 && frame.frameNumber % 10 === 0) await new Promise((r) => setTimeout(r, 5));
        (output === 0 ? rgb : grey).push(frame);
      },
    );
    assert.equal(rgb.length, single.length);
    for (const [i, f] of rgb.entries()) {
      assert.equal(f.channels, 3);
      assert.deepEqual(f.data, single[i]!.data, `frame ${i} is the single decode's`);
    }
    // chair-19 is 18.8 s: 4 frames a second, a third of the size, one byte per pixel.
    assert.equal(grey.length, Math.ceil(18.8 * 4));
    const g = grey[0]!;
    assert.equal(g.channels, 1);
    assert.equal(g.width, Math.floor(single[0]!.width / 3));
    assert.equal(g.height, Math.floor(single[0]!.height / 3));
    assert.equal(g.data.length, g.width * g.height);
    assert.deepEqual(
      grey.slice(0, 3).map((f) => f.seconds),
      [0, 0.25, 0.5],
    );
  });

  test('one decoding thread (the default) gives the same frames as ffmpeg’s own thread choice', { skip: NEEDS_DATA }, async () => {
    // Screening decodes with one thread to spend less CPU; that must not change a single byte.
    const digests = async (decodeThreads?: number) => {
      const out: string[][] = [[], []];
      await decodeVideoOutputs(
        CHAIR,
        [{ fps: 1 }, { fps: 4, divisor: 3, grey: true }],
        (o, frame) => {
          out[o]!.push(createHash('sha256').update(frame.data).digest('hex'));
        },
        decodeThreads === undefined ? {} : { decodeThreads },
      );
      return out;
    };
    const single = await digests();
    assert.ok(single[0]!.length > 10 && single[1]!.length > 40);
    assert.deepEqual(await digests(0), single);
    assert.deepEqual(await digests(2), single);
    await rejectsWithCode(decodeVideoOutputs(CHAIR, [{ fps: 1 }], () => {}, { decodeThreads: -1 }), 'invalid_options');
    await rejectsWithCode(collect(decodeVideoFramesForHashing(CHAIR, { decodeThreads: 1.5 })), 'invalid_options');
  });

  test('errors: a consumer that throws ends ffmpeg; abort, timeout and bad input are told apart', { skip: NEEDS_DATA }, async () => {
    await assert.rejects(
      decodeVideoOutputs(CHAIR, [{ fps: 1 }, { fps: 4, divisor: 3, grey: true }], () => {
        throw new Error('consumer failed');
      }),
      /consumer failed/,
    );
    const controller = new AbortController();
    await rejectsWithCode(
      decodeVideoOutputs(CHAIR, [{ fps: 1 }, { fps: 4 }], () => controller.abort(), { signal: controller.signal }),
      'aborted',
    );
    await rejectsWithCode(decodeVideoOutputs(CHAIR, [{ fps: 1 }, { fps: 4 }], () => {}, { timeoutMs: 1 }), 'timeout');
    await rejectsWithCode(decodeVideoOutputs(join(HOSTILE_DIR, 'moov-missing.mp4'), [{ fps: 1 }], () => {}), 'corrupt_file');
    await rejectsWithCode(decodeVideoOutputs(CHAIR, [{ fps: 1 }], () => {}, { maxSeconds: 10 }), 'too_long');
    await rejectsWithCode(decodeVideoOutputs(CHAIR, [{ fps: 0 }], () => {}), 'invalid_options');
    await rejectsWithCode(decodeVideoOutputs(CHAIR, [{ divisor: 2.5 }], () => {}), 'invalid_options');
    await rejectsWithCode(decodeVideoOutputs(CHAIR, [], () => {}), 'invalid_options');
  });
});

describe('reading ffmpeg’s frames', { skip: NEEDS_DATA }, () => {
  const outputs = [{ fps: 1 }, { fps: 4, divisor: 3, grey: true }];
  const openFds = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);

  /** A digest per frame, per output; with `recycle`, every buffer is handed back once read. */
  async function digests(recycle: boolean) {
    const out: string[][] = [[], []];
    const buffers = new Set<ArrayBufferLike>();
    await decodeVideoOutputs(CHAIR, outputs, (o, frame, giveBack) => {
      out[o]!.push(createHash('sha256').update(frame.data).digest('hex'));
      buffers.add(frame.data.buffer);
      if (recycle) giveBack(frame.data.buffer as ArrayBuffer);
    });
    return { out, buffers: buffers.size };
  }

  test('FIFOs, plain pipes and recycled buffers all give the same bytes', async () => {
    const fresh = await digests(false);
    const fds = openFds(); // after a first decode: loading modules opens descriptors of its own
    assert.equal(fresh.buffers, fresh.out[0]!.length + fresh.out[1]!.length, 'a buffer per frame unless handed back');
    const recycled = await digests(true);
    assert.deepEqual(recycled.out, fresh.out);
    assert.ok(recycled.buffers <= 6, `read into ${recycled.buffers} buffers, not one per frame`);
    setFifosEnabled(false);
    try {
      assert.deepEqual((await digests(true)).out, fresh.out, 'the portable pipe path');
      const early = await collect(decodeVideoFramesForHashing(CHAIR, { maxFrames: 2 }));
      assert.equal(early.length, 2);
    } finally {
      setFifosEnabled(true);
    }
    // Stopping early and failing consumers leave no descriptor open.
    for await (const _ of decodeVideoFramesForHashing(CHAIR)) break;
    await assert.rejects(
      decodeVideoOutputs(CHAIR, outputs, () => {
        throw new Error('consumer failed');
      }),
      /consumer failed/,
    );
    // The other output of the failed decode reads on until the killed ffmpeg's end of file.
    for (let i = 0; i < 40 && openFds() > fds; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(openFds(), fds, 'every FIFO and pipe end is closed');
  });
});
