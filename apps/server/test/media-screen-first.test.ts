/**
 * Screening runs on the original, before any rendition: a video whose hashes are in a block bank
 * fails without a single rendition (poster, MP4, HLS) having been written, so a banned file never
 * costs a transcode. A file that matches nothing still gets its renditions.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { locateBinaries } from '@mmd/media';
import { type BlobStore, createBlobStore } from '../src/platform/blobs/index.ts';
import { type TestServer, onEachDatabase, startTestServer } from './harness.ts';
import { signUpModerator } from './safety-fixtures.ts';

/** A local blob store that remembers every key written. */
function recordingStore(root: string): { store: BlobStore; written: string[] } {
  const inner = createBlobStore({ kind: 'local', root });
  const written: string[] = [];
  const store: BlobStore = Object.create(inner);
  store.put = (key, body, options) => {
    written.push(key);
    return inner.put(key, body, options);
  };
  return { store, written };
}

/** A short generated clip (a few seconds of ffmpeg's test pattern), made once per run. */
async function makeClip(dir: string, seconds: number, pattern: string): Promise<Buffer> {
  const { ffmpeg } = await locateBinaries();
  const out = path.join(dir, `${pattern}.mp4`);
  await promisify(execFile)(ffmpeg, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `${pattern}=size=320x240:rate=15:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-y',
    out,
  ]);
  return readFileSync(out);
}

onEachDatabase('screening before transcoding', (dialect) => {
  let server: TestServer;
  let written: string[];
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mmd-screen-first-'));
    const recording = recordingStore(path.join(dir, 'blobs'));
    written = recording.written;
    server = await startTestServer({ dialect, blobs: recording.store });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a video in a block bank fails without any rendition having been made', {
    timeout: 120_000,
  }, async () => {
    const banned = await makeClip(dir, 3, 'testsrc');
    const mod = await signUpModerator(server);
    const bank = await mod.client.createBank({
      name: 'Known videos',
      category: 'terrorism',
      action: 'block',
    });
    await mod.client.addSignalsFromFile(bank.id, banned, { filename: 'known.mp4' });

    const uploader = await server.signUp();
    const { id } = await uploader.client.upload(banned, { filename: 'clip.mp4' });
    const item = await uploader.client.waitForMedia(id, { timeoutMs: 90_000 });
    assert.equal(item.status, 'failed');
    assert.equal(item.reason_code, 'blocked');
    assert.deepEqual(
      written.filter((key) => key.startsWith(`media/${id}/`)),
      [],
      'no poster, MP4 or HLS was ever written',
    );
  });

  test('a video that matches no bank is transcoded as usual', { timeout: 120_000 }, async () => {
    const clip = await makeClip(dir, 2, 'smptebars');
    const uploader = await server.signUp();
    const { id } = await uploader.client.upload(clip, { filename: 'bars.mp4' });
    const item = await uploader.client.waitForMedia(id, { timeoutMs: 90_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.ok(written.includes(`media/${id}/mp4`), 'the MP4 rendition was written');
    assert.ok(
      written.some((key) => key.startsWith(`media/${id}/hls/`)),
      'the HLS ladder was written',
    );
  });
});
