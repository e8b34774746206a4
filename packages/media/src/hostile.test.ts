import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HOSTILE_DIR, leftovers, makeTmpRoot, removeTmpRoot } from '../test/helpers.ts';
import { transcodeAudio } from './audio-transcode.ts';
import { isMediaError, type MediaErrorCode } from './errors.ts';
import { inspectMedia } from './inspect.ts';
import { processImage } from './process-image.ts';
import { transcodeMp4 } from './video-mp4.ts';
import { extractPoster } from './video-poster.ts';

/** Expected outcome per corpus file: a typed error, or safe handling as the detected MIME type. */
const EXPECTED: Record<string, { error: MediaErrorCode } | { handledAs: string }> = {
  'truncated.jpg': { error: 'corrupt_file' },
  'bad-crc.png': { error: 'corrupt_file' },
  'garbage-idat.png': { error: 'corrupt_file' },
  'truncated.webp': { error: 'corrupt_file' },
  'moov-missing.mp4': { error: 'corrupt_file' },
  'ftyp-then-garbage.mp4': { error: 'corrupt_file' },
  'truncated.pdf': { error: 'corrupt_file' },
  'empty.jpg': { error: 'empty_file' },
  'bomb-50000x50000.png': { error: 'too_many_pixels' },
  'absurd-dimensions.png': { error: 'too_many_pixels' },
  'absurd-dimensions.jpg': { error: 'too_many_pixels' },
  'absurd-duration.mp4': { error: 'too_long' },
  'random.bin': { error: 'unsupported_type' },
  'jpeg-named.mp4': { handledAs: 'image/jpeg' },
  'polyglot-jpeg-zip.jpg': { handledAs: 'image/jpeg' },
  'polyglot-jpeg-html.jpg': { handledAs: 'image/jpeg' },
  'html-named.jpg': { handledAs: 'text/html' },
};

let tmpRoot: string;
let outDir: string;

before(async () => {
  tmpRoot = await makeTmpRoot();
  outDir = await mkdtemp(join(tmpRoot, '..', 'mmd-media-hostile-out-'));
});

after(async () => {
  await removeTmpRoot(tmpRoot);
  await rm(outDir, { recursive: true, force: true });
});

/** What an upload handler would do: inspect, then run the pipeline for the detected kind. */
async function ingest(path: string): Promise<{ mime: string; outputs: Buffer[] }> {
  const info = await inspectMedia(path, { tmpRoot });
  switch (info.kind) {
    case 'image': {
      const result = await processImage({ input: path, formats: ['webp', 'jpeg'] });
      return { mime: info.mime, outputs: result.renditions.map((r) => r.bytes) };
    }
    case 'video': {
      const poster = await extractPoster({ input: path, tmpRoot });
      await transcodeMp4({ input: path, outputPath: join(outDir, 'out.mp4'), tmpRoot });
      return { mime: info.mime, outputs: [poster.bytes] };
    }
    case 'audio':
      return { mime: info.mime, outputs: [(await transcodeAudio({ input: path, tmpRoot })).bytes] };
    default:
      return { mime: info.mime, outputs: [] };
  }
}

test('the corpus is complete and small', async () => {
  const files = (await readdir(HOSTILE_DIR)).filter((f) => f !== 'README.md');
  assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort());
  let total = 0;
  for (const f of files) total += (await readFile(join(HOSTILE_DIR, f))).length;
  assert.ok(total < 1024 * 1024, `corpus is ${total} bytes`);
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`hostile: ${name}`, { timeout: 30_000 }, async () => {
    const path = join(HOSTILE_DIR, name);
    const rssBefore = process.memoryUsage().rss;
    if ('error' in expected) {
      await assert.rejects(ingest(path), (error) => {
        assert.ok(isMediaError(error), `expected MediaError, got ${error}`);
        assert.equal(error.code, expected.error, error.message);
        return true;
      });
    } else {
      const result = await ingest(path);
      assert.equal(result.mime, expected.handledAs);
      for (const output of result.outputs) {
        // Re-encoding from pixels drops the appended ZIP and the HTML comment.
        assert.equal(output.indexOf('PK\x03\x04', 0, 'latin1'), -1, 'ZIP payload survived');
        assert.equal(output.indexOf('<script', 0, 'latin1'), -1, 'script survived');
      }
    }
    // A bomb must be refused from its header, not after allocating gigabytes.
    assert.ok(process.memoryUsage().rss - rssBefore < 300 * 1024 * 1024, 'memory blew up');
    assert.deepEqual(await leftovers(tmpRoot), [], 'temporary files left behind');
  });
}

test('hostile bytes given as buffers fail the same way and leave no temp files', async () => {
  for (const name of ['moov-missing.mp4', 'absurd-duration.mp4', 'ftyp-then-garbage.mp4']) {
    const bytes = await readFile(join(HOSTILE_DIR, name));
    await assert.rejects(transcodeMp4({ input: bytes, outputPath: join(outDir, 'x.mp4'), tmpRoot }), (e) =>
      isMediaError(e),
    );
    await assert.rejects(extractPoster({ input: bytes, tmpRoot }), (e) => isMediaError(e));
  }
  assert.deepEqual(await leftovers(tmpRoot), []);
  assert.deepEqual(await readdir(outDir), [], 'no partial outputs');
});
