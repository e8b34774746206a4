import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createBlobStore } from './index.ts';
import { createLocalDiskStore } from './local-disk-store.ts';
import { describeBlobStore } from './test-fixtures/blob-store-contract.ts';

describeBlobStore('local disk', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mmd-blobs-'));
  return {
    store: createBlobStore({ kind: 'local', root }),
    tempFiles: () => readdirSync(path.join(root, '.tmp')),
    close: async () => rmSync(root, { recursive: true, force: true }),
  };
});

test('local disk keeps blobs as plain files under the root, and nothing outside it', async () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'mmd-blobs-'));
  try {
    const root = path.join(parent, 'root');
    const store = createLocalDiskStore({ root });
    await store.put('media/x/original', Buffer.from('abc'), { contentType: 'image/png' });
    assert.deepEqual(readdirSync(parent), ['root']);
    assert.deepEqual(readdirSync(path.join(root, 'media/x')), ['original']);
    await assert.rejects(store.put('../outside', Buffer.from('x'), { contentType: 'text/plain' }));
    assert.deepEqual(readdirSync(parent), ['root']);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
