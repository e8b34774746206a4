/**
 * The SDK's resumable upload (tus-js-client over /v1/uploads) against the real server: a file
 * bigger than the single-request limit goes in chunks with progress and becomes a media item;
 * without a valid token it is refused with the API's problem code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MmdError } from '@mmd/sdk';
import { DATA, noData } from './safety-fixtures.ts';
import { type TestServer, onEachDatabase, startTestServer } from './harness.ts';

onEachDatabase('resumable uploads through the SDK', (dialect) => {
  let server: TestServer;
  before(async () => {
    // A 2 MB single-request limit makes a 16 MB photo a "big file" without a slow test.
    server = await startTestServer({ dialect, config: { mediaMaxSingleUploadBytes: 2 * 1024 * 1024 } });
  });
  after(() => server.close());

  test('a file above the single-request limit goes in chunks, with progress, and becomes a photo', { skip: noData }, async () => {
    const user = await server.signUp();
    const bytes = readFileSync(path.join(DATA, 'photos', 'Elephants-large.jpg'));
    await assert.rejects(user.client.upload(bytes, { filename: 'big.jpg', contentType: 'image/jpeg' }), (err: MmdError) => err.status === 413);
    const progress: number[] = [];
    const reply = await user.client.uploadResumable(new Uint8Array(bytes), {
      filename: 'Elephants-large.jpg',
      contentType: 'image/jpeg',
      chunkSize: 4 * 1024 * 1024,
      onProgress: (sent) => progress.push(sent),
    });
    assert.match(reply.id, /^med_/);
    assert.ok(progress.length >= 4, `progress reported per chunk (${progress.length} times)`);
    assert.equal(progress.at(-1), bytes.length);
    const item = await user.client.waitForMedia(reply.id, { timeoutMs: 120_000 });
    assert.equal(item.status, 'ready', item.reason ?? 'not ready');
    assert.equal(item.kind, 'image');
    assert.equal(item.filename, 'Elephants-large.jpg');
  });

  test('without a valid token the upload is refused with the API’s code', async () => {
    const stranger = server.anonymous.as('not-a-token');
    await assert.rejects(stranger.uploadResumable(new Uint8Array(1000), { filename: 'x.bin' }), (err: MmdError) => err.status === 401 && err.code === 'unauthenticated');
  });
});

test('an upload arrives in a bounded number of pieces: past the limit it is refused with limit_reached, within it it becomes a photo', { skip: noData }, async () => {
  // Three pieces at most: each piece is a blob read back when the upload is put together.
  const server = await startTestServer({ dialect: 'sqlite', config: { mediaMaxSingleUploadBytes: 64 * 1024, mediaResumableMaxParts: 3 } });
  try {
    const user = await server.signUp();
    const bytes = new Uint8Array(readFileSync(path.join(DATA, 'photos', 'Aqua.jpg'))); // ~200 KB
    await assert.rejects(
      user.client.uploadResumable(bytes, { filename: 'aqua.jpg', contentType: 'image/jpeg', chunkSize: 32 * 1024 }),
      (err: MmdError) => err.status === 409 && err.code === 'limit_reached',
    );
    const reply = await user.client.uploadResumable(bytes, { filename: 'aqua.jpg', contentType: 'image/jpeg', chunkSize: 80 * 1024 });
    const item = await user.client.waitForMedia(reply.id, { timeoutMs: 120_000 });
    assert.equal(item.status, 'ready', item.reason ?? 'not ready');
  } finally {
    await server.close();
  }
});
