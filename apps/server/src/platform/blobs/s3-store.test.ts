/** The S3 store against a real S3 API: s3rver, in-process, on a free loopback port. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import S3rver from 's3rver';
import { createBlobStore } from './index.ts';
import { describeBlobStore } from './test-fixtures/blob-store-contract.ts';

let server: S3rver;
let endpoint = '';
let dir = '';
let bucketCounter = 0;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mmd-s3rver-'));
  // Every test gets an empty bucket of its own.
  const buckets = Array.from({ length: 16 }, (_, i) => ({ name: `mmd-${i}` }));
  server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: buckets,
  });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describeBlobStore('s3 (s3rver)', async () => {
  const spool = mkdtempSync(path.join(tmpdir(), 'mmd-s3-spool-'));
  const store = createBlobStore({
    kind: 's3',
    endpoint,
    region: 'us-east-1',
    bucket: `mmd-${bucketCounter++}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    tmpDir: spool,
  });
  return {
    store,
    tempFiles: () => readdirSync(spool),
    close: async () => rmSync(spool, { recursive: true, force: true }),
  };
});
