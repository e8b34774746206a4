/**
 * The behaviour every BlobStore must have, as one suite; each implementation's test file runs it
 * with a factory for a fresh, empty store.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { putContentAddressed } from '../content-addressed.ts';
import { isBlobError } from '../errors.ts';
import type { BlobStore } from '../types.ts';

export interface StoreUnderTest {
  store: BlobStore;
  /** Lists leftover temp files the store itself keeps (if any). */
  tempFiles?(): string[];
  close(): Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A deterministic pseudo-random stream, generated lazily; `pulled` counts chunks read. */
function generated(totalBytes: number, chunkBytes = 64 * 1024) {
  const state = { pulled: 0, sha256: '' };
  const hash = createHash('sha256');
  let sent = 0;
  let seed = 12345;
  const stream = new Readable({
    read() {
      if (sent >= totalBytes) {
        state.sha256 = hash.digest('hex');
        this.push(null);
        return;
      }
      const n = Math.min(chunkBytes, totalBytes - sent);
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        chunk.writeUInt32LE(seed, Math.min(i, n - 4));
      }
      hash.update(chunk);
      sent += n;
      state.pulled++;
      this.push(chunk);
    },
  });
  return { stream, state };
}

const rejectsWithCode = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (err: unknown) => {
    assert.ok(isBlobError(err), `expected a BlobError, got ${err}`);
    assert.equal(err.code, code);
    return true;
  });

export function describeBlobStore(name: string, open: () => Promise<StoreUnderTest>) {
  describe(`blob store contract: ${name}`, () => {
    let t: StoreUnderTest;
    let scratch: string;
    beforeEach(async () => {
      t = await open();
      scratch = mkdtempSync(path.join(tmpdir(), 'mmd-blob-scratch-'));
    });
    afterEach(async () => {
      await t.close();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('puts and gets buffers, streams and files, with content types', async () => {
      const { store } = t;
      assert.deepEqual(await store.put('a/buffer.txt', Buffer.from('hello'), { contentType: 'text/plain' }), {
        size: 5,
        contentType: 'text/plain',
      });
      await store.put('a/stream.bin', Readable.from([Buffer.from('str'), Buffer.from('eam')]), {
        contentType: 'application/x-test',
      });
      const file = path.join(scratch, 'in.jpg');
      writeFileSync(file, 'jpeg bytes');
      await store.put('b/file.jpg', { file }, { contentType: 'image/jpeg' });
      await store.put('empty', Buffer.alloc(0), { contentType: 'text/plain' });

      const got = await store.get('a/buffer.txt');
      assert.equal((await readAll(got.body)).toString(), 'hello');
      assert.deepEqual([got.size, got.contentType, got.start, got.end], [5, 'text/plain', 0, 4]);
      assert.equal((await readAll((await store.get('a/stream.bin')).body)).toString(), 'stream');
      assert.deepEqual(await store.stat('b/file.jpg'), { size: 10, contentType: 'image/jpeg' });
      const empty = await store.get('empty');
      assert.equal((await readAll(empty.body)).length, 0);
      assert.equal(empty.size, 0);
      assert.equal(await store.exists('a/buffer.txt'), true);
      assert.equal(await store.exists('a/missing'), false);
      assert.equal(await store.stat('a/missing'), undefined);
      await rejectsWithCode(store.get('a/missing'), 'not_found');

      await store.put('a/buffer.txt', Buffer.from('replaced'), { contentType: 'text/markdown' });
      assert.deepEqual(await store.stat('a/buffer.txt'), { size: 8, contentType: 'text/markdown' });
      assert.deepEqual(t.tempFiles?.() ?? [], []);
    });

    test('reads inclusive byte ranges, as HTTP Range asks', async () => {
      const { store } = t;
      await store.put('r', Buffer.from('0123456789'), { contentType: 'text/plain' });
      const read = async (start?: number, end?: number) => {
        const r = await store.get('r', { start, end });
        return [(await readAll(r.body)).toString(), r.start, r.end, r.size];
      };
      assert.deepEqual(await read(2, 5), ['2345', 2, 5, 10]);
      assert.deepEqual(await read(7), ['789', 7, 9, 10]);
      // (Not `end: 0`: s3rver reads it as "to the end", unlike S3; the store reports what it got.)
      assert.deepEqual(await read(undefined, 1), ['01', 0, 1, 10]);
      assert.deepEqual(await read(9, 9), ['9', 9, 9, 10]);
      assert.deepEqual(await read(8, 100), ['89', 8, 9, 10]); // end clamped
      await rejectsWithCode(store.get('r', { start: 10 }), 'range_not_satisfiable');
      await rejectsWithCode(store.get('r', { start: 5, end: 4 }), 'range_not_satisfiable');
      await rejectsWithCode(store.get('r', { start: -1 }), 'range_not_satisfiable');
      await rejectsWithCode(store.get('missing', { start: 0 }), 'not_found');
    });

    test('streams a 20 MB put without holding it in memory, and reads it back intact', async () => {
      const { store } = t;
      const size = 20 * 1024 * 1024;
      const { stream, state } = generated(size);
      assert.deepEqual(await store.put('big/video.mp4', stream, { contentType: 'video/mp4' }), {
        size,
        contentType: 'video/mp4',
      });
      const back = await store.get('big/video.mp4');
      const hash = createHash('sha256');
      let length = 0;
      for await (const chunk of back.body) {
        hash.update(chunk as Buffer);
        length += (chunk as Buffer).length;
      }
      assert.equal(length, size);
      assert.equal(hash.digest('hex'), state.sha256);
      const tail = await store.get('big/video.mp4', { start: size - 3 });
      assert.equal((await readAll(tail.body)).length, 3);
    });

    test('a source that fails midway leaves no blob and no temp file', async () => {
      const { store } = t;
      const failing = new Readable({
        read() {
          this.destroy(new Error('client went away'));
        },
      });
      failing.push(Buffer.alloc(1024));
      await assert.rejects(store.put('half', failing, { contentType: 'image/png' }), /client went away/);
      assert.equal(await store.exists('half'), false);
      assert.deepEqual(t.tempFiles?.() ?? [], []);
    });

    test('content-addressed puts hash while streaming, deduplicate, and enforce maxBytes early', async () => {
      const { store } = t;
      const bytes = Buffer.from('the same cat picture');
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const first = await putContentAddressed(store, Readable.from([bytes]), {
        contentType: 'image/jpeg',
        tmpDir: scratch,
      });
      assert.deepEqual(first, { key: `sha256/${sha256}`, sha256, size: bytes.length, deduplicated: false });
      const second = await putContentAddressed(store, bytes, {
        contentType: 'image/jpeg',
        tmpDir: scratch,
        maxBytes: 100,
      });
      assert.deepEqual(second, { ...first, deduplicated: true });
      assert.deepEqual(await store.stat(first.key), { size: bytes.length, contentType: 'image/jpeg' });

      // 20 MB offered against a 1 MB limit: refused after ~1 MB is read, nothing left behind.
      const { stream, state } = generated(20 * 1024 * 1024);
      await assert.rejects(
        putContentAddressed(store, stream, {
          contentType: 'video/mp4',
          tmpDir: scratch,
          maxBytes: 1024 * 1024,
        }),
        (err: unknown) => {
          assert.ok(isBlobError(err, 'upload_too_large'));
          assert.equal(err.details.limit, 1024 * 1024);
          return true;
        },
      );
      assert.ok(state.pulled < 40, `read ${state.pulled} chunks of 320`);
      assert.ok(stream.destroyed, 'the source was abandoned');
      assert.deepEqual(readdirSync(scratch), []);
      await rejectsWithCode(
        putContentAddressed(store, Buffer.alloc(11), { contentType: 'x/y', maxBytes: 10, tmpDir: scratch }),
        'upload_too_large',
      );
      assert.deepEqual(readdirSync(scratch), []);
      assert.deepEqual(t.tempFiles?.() ?? [], []);
    });

    test('delete and deletePrefix', async () => {
      const { store } = t;
      const put = (key: string) => store.put(key, Buffer.from(key), { contentType: 'text/plain' });
      for (const key of [
        'media/m1/original',
        'media/m1/thumb.webp',
        'media/m1/hls/720p.m3u8',
        'media/m10/original',
        'media/m2/original',
      ]) {
        await put(key);
      }
      assert.equal(await store.deletePrefix('media/m1/'), 3);
      assert.equal(await store.exists('media/m1/thumb.webp'), false);
      assert.equal(await store.exists('media/m10/original'), true);
      assert.equal(await store.deletePrefix('media/m'), 2); // a plain string prefix, as in S3
      assert.equal(await store.exists('media/m2/original'), false);
      assert.equal(await store.deletePrefix('nothing/here/'), 0);
      await rejectsWithCode(store.deletePrefix(''), 'invalid_key');
      await rejectsWithCode(store.deletePrefix('../'), 'invalid_key');

      await put('one');
      await store.delete('one');
      await store.delete('one'); // missing is fine
      assert.equal(await store.exists('one'), false);
    });

    test('hostile keys are refused before touching storage', async () => {
      const { store } = t;
      const hostile = [
        '',
        '../escape',
        'a/../../escape',
        '..',
        '.',
        '/etc/passwd',
        'a//b',
        'a/',
        'a/./b',
        '.hidden',
        'a/.tmp/x',
        'a\\..\\b',
        'C:\\windows',
        'nul\0byte',
        'new\nline',
        'spa ce',
        'ü',
        '%2e%2e/x',
        'x'.repeat(600),
      ];
      for (const key of hostile) {
        await rejectsWithCode(store.put(key, Buffer.from('x'), { contentType: 'text/plain' }), 'invalid_key');
        await rejectsWithCode(store.get(key), 'invalid_key');
        await rejectsWithCode(store.stat(key), 'invalid_key');
        await rejectsWithCode(store.delete(key), 'invalid_key');
      }
      assert.deepEqual(t.tempFiles?.() ?? [], []);
    });
  });
}
