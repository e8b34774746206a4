/**
 * Resumable uploads in a cluster: two MMD nodes on one PostgreSQL schema and one S3 store (s3rver,
 * a real S3 API) with no disk in common. An upload started on node A goes on and finishes on node
 * B, becomes a media item and is processed; no node keeps its bytes on local disk meanwhile; and two
 * PATCHes racing for the same offset on the two nodes store it once. Skipped, saying why, without
 * PostgreSQL and Redis.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import S3rver from 's3rver';
import sharp from 'sharp';
import type { Config } from '../src/config.ts';
import { type ClusterNode, type TestCluster, clusterSkipReason, startTestCluster } from './cluster-harness.ts';
import { type Database, openDatabase } from '../src/platform/db/index.ts';
import { POSTGRES_URL, uniqueHandle } from './harness.ts';

/** A JPEG of noise, about 1.5 MB: big enough to send in parts, quick to process. */
async function noisyJpeg(): Promise<Buffer> {
  const width = 1200;
  const height = 800;
  const raw = Buffer.alloc(width * height * 3);
  let x = 12345;
  for (let i = 0; i < raw.length; i += 1) {
    x = (x * 1103515245 + 12345) >>> 0;
    raw[i] = x >>> 24;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** Keys of the objects under `prefix` in s3rver's folder (it keeps each as `<key>._S3rver_object`). */
function objectsUnder(s3dir: string, prefix: string): string[] {
  const bucket = path.join(s3dir, 'mmd-media');
  return readdirSync(bucket, { recursive: true })
    .map(String)
    .filter((f) => f.startsWith(prefix) && f.endsWith('._S3rver_object'))
    .map((f) => f.slice(0, -'._S3rver_object'.length));
}

/** The tus protocol by hand against one node, so each answer can be checked. */
function tusOn(node: ClusterNode, token: string) {
  const base = { 'tus-resumable': '1.0.0', authorization: `Bearer ${token}` };
  return {
    create: (length: number, filename: string) =>
      fetch(`${node.url}/v1/uploads`, { method: 'POST', headers: { ...base, 'upload-length': String(length), 'upload-metadata': `filename ${Buffer.from(filename).toString('base64')}` } }),
    patch: (location: string, offset: number, bytes: Buffer) =>
      fetch(new URL(location, node.url), { method: 'PATCH', headers: { ...base, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body: new Uint8Array(bytes) }),
    head: (location: string) => fetch(new URL(location, node.url), { method: 'HEAD', headers: base }),
  };
}

const skip = clusterSkipReason();

describe('resumable uploads across nodes sharing PostgreSQL and S3', { skip }, () => {
  let s3: S3rver;
  let s3dir: string;
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  let db: Database;

  before(async () => {
    s3dir = mkdtempSync(path.join(tmpdir(), 'mmd-s3rver-'));
    s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: 'mmd-media' }] });
    const { port } = await s3.run();
    const storage: Partial<Config> = {
      blobStore: 's3',
      s3Endpoint: `http://127.0.0.1:${port}`,
      s3Bucket: 'mmd-media',
      s3AccessKeyId: 'S3RVER',
      s3SecretAccessKey: 'S3RVER',
    };
    cluster = await startTestCluster();
    a = await cluster.node({ config: storage });
    b = await cluster.node({ config: storage });
    db = openDatabase({ databaseUrl: POSTGRES_URL, pgSchema: cluster.schema });
  });
  after(async () => {
    await db?.close();
    await cluster?.close();
    await s3?.close();
    if (s3dir) rmSync(s3dir, { recursive: true, force: true });
  });

  test('an upload started on one node continues and finishes on another, and the photo is processed', async () => {
    const created = await a.anonymous.createAccount({ handle: uniqueHandle('tus'), password: 'correct horse battery' });
    const onA = tusOn(a, created.token);
    const onB = tusOn(b, created.token);
    const bytes = await noisyJpeg();
    const half = Math.floor(bytes.length / 2);

    const started = await onA.create(bytes.length, 'noise.jpg');
    assert.equal(started.status, 201);
    const location = started.headers.get('location')!;
    const first = await onA.patch(location, 0, bytes.subarray(0, half));
    assert.equal(first.status, 204);
    assert.equal(first.headers.get('upload-offset'), String(half));

    // Node B knows where the upload stands, though it never saw a byte of it.
    const asked = await onB.head(location);
    assert.equal(asked.status, 200);
    assert.equal(asked.headers.get('upload-offset'), String(half));
    assert.equal(asked.headers.get('upload-length'), String(bytes.length));
    // The bytes so far are in the bucket, not on node A's disk.
    const id = location.split('/').pop()!;
    const inBucket = objectsUnder(s3dir, `uploads/${id}/`);
    assert.ok(inBucket.length >= 1, `the first part is an object in the bucket (${inBucket.join(', ')})`);

    const rest = await onB.patch(location, half, bytes.subarray(half));
    assert.equal(rest.status, 204);
    const mediaId = rest.headers.get('mmd-media-id');
    assert.match(mediaId ?? '', /^med_/);
    const item = await b.anonymous.as(created.token).waitForMedia(mediaId!, { timeoutMs: 120_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.kind, 'image');
    assert.equal(item.filename, 'noise.jpg');
    // The original is the upload, byte for byte, whichever node took which half.
    const row = await db.db.selectFrom('media').select(['original_key', 'size']).where('id', '=', mediaId!).executeTakeFirstOrThrow();
    assert.equal(Number(row.size), bytes.length);
    assert.equal(row.original_key, `sha256/${createHash('sha256').update(bytes).digest('hex')}`);
    // A finished upload leaves nothing behind: no state to resume, no parts in the bucket.
    assert.equal((await onA.head(location)).status, 404);
    assert.deepEqual(objectsUnder(s3dir, `uploads/${id}/`), [], 'the parts are deleted');
  });

  test('two PATCHes racing for the same offset on two nodes: one is stored, the other answers 409', async () => {
    const created = await a.anonymous.createAccount({ handle: uniqueHandle('tusrace'), password: 'correct horse battery' });
    const onA = tusOn(a, created.token);
    const onB = tusOn(b, created.token);
    const bytes = await noisyJpeg();
    const third = Math.floor(bytes.length / 3);
    const location = (await onA.create(bytes.length, 'race.jpg')).headers.get('location')!;
    assert.equal((await onA.patch(location, 0, bytes.subarray(0, third))).status, 204);
    const raced = await Promise.all([onA.patch(location, third, bytes.subarray(third, 2 * third)), onB.patch(location, third, bytes.subarray(third, 2 * third))]);
    assert.deepEqual(raced.map((r) => r.status).sort(), [204, 409]);
    assert.equal((await onB.head(location)).headers.get('upload-offset'), String(2 * third));
    const done = await onB.patch(location, 2 * third, bytes.subarray(2 * third));
    assert.equal(done.status, 204);
    const item = await a.anonymous.as(created.token).waitForMedia(done.headers.get('mmd-media-id')!, { timeoutMs: 120_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.width, 1200);
  });
});
