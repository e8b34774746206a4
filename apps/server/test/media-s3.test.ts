/**
 * Scaled-out storage: the whole media path — upload, processing, signed URLs with ranges,
 * deduplication — with blobs in an S3-compatible bucket (a real S3 API: s3rver, in-process).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import S3rver from 's3rver';
import { blobStoreFor } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { type TestServer, startTestServer } from './harness.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');

let s3: S3rver;
let s3dir: string;
let server: TestServer;

before(async () => {
  s3dir = mkdtempSync(path.join(tmpdir(), 'mmd-s3rver-'));
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: 'mmd-media' }] });
  const { port } = await s3.run();
  // Configured the way an operator would: MMD_BLOB_STORE=s3 and the S3 settings.
  const config = loadConfig({
    MMD_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mmd-s3-data-')),
    MMD_BLOB_STORE: 's3',
    MMD_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    MMD_S3_BUCKET: 'mmd-media',
    MMD_S3_ACCESS_KEY_ID: 'S3RVER',
    MMD_S3_SECRET_ACCESS_KEY: 'S3RVER',
  });
  server = await startTestServer({ dialect: 'sqlite', blobs: blobStoreFor(config) });
});

after(async () => {
  await server?.close();
  await s3?.close();
  rmSync(s3dir, { recursive: true, force: true });
});

test('photos upload, process and serve from an S3 bucket, deduplicated by content', { skip: existsSync(DATA) ? false : 'shared test data not found' }, async () => {
  const alice = await server.signUp();
  const bytes = readFileSync(path.join(DATA, 'photos', 'RainDrops.jpg'));
  const first = await alice.client.upload(bytes);
  const second = await alice.client.upload(bytes);
  const [a, b] = await Promise.all([alice.client.waitForMedia(first.id), alice.client.waitForMedia(second.id)]);
  assert.equal(a.status, 'ready', a.reason ?? '');
  assert.equal(b.status, 'ready', b.reason ?? '');
  const rows = await server.db.db.selectFrom('media').select(['original_key']).where('id', 'in', [first.id, second.id]).execute();
  assert.equal(new Set(rows.map((r) => r.original_key)).size, 1, 'one stored original for identical bytes');
  const url = a.renditions['preview.webp']!.url;
  const whole = Buffer.from(await (await alice.client.fetchFile(url)).arrayBuffer());
  assert.ok(whole.length > 1000);
  const part = await alice.client.fetchFile(url, { headers: { range: 'bytes=10-19' } });
  assert.equal(part.status, 206);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), whole.subarray(10, 20));
  const listed = await server.services.blobs.stat(`media/${first.id}/preview.webp`);
  assert.equal(listed?.size, whole.length, 'the rendition lives in the bucket');
});
