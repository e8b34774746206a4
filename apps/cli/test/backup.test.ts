/**
 * `mmd backup` while `mmd serve` keeps taking messages, then `mmd restore` into a new data dir and
 * a server on it: every message acknowledged before the backup began is there, the blobs are the
 * same bytes, and a client whose cursor is past the backup is told to reload (and then follows
 * new events) instead of hanging or silently skipping them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MmdClient, type SyncEvent } from '@mmd/sdk';
import sharp from 'sharp';
import { eventually, rejectsWith, uniqueHandle } from '../../server/test/harness.ts';
import { exited, run, start, tempDir, waitFor } from './run-cli.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function envFor(dataDir: string): Record<string, string> {
  return {
    MMD_DATA_DIR: dataDir,
    MMD_CONFIG_DIR: tempDir(),
    MMD_PORT: '0',
    MMD_HOST: '127.0.0.1',
    MMD_ARGON2_MEMORY_KIB: '1024',
    MMD_ARGON2_ITERATIONS: '1',
    MMD_SIGNUP_RATE_LIMIT: '1000',
  };
}

async function serve(env: Record<string, string>) {
  const child = start(['serve'], env);
  const [, port] = await waitFor(child.stdout, /MMD is serving on http:\/\/localhost:(\d+)/, 60_000);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function stop(child: ReturnType<typeof start>) {
  child.kill('SIGTERM');
  assert.equal(await exited(child), 0, 'the server stops cleanly');
}

/** Every message id the account can see, read through /v1/updates from the start. */
async function messageIds(client: MmdClient): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor = 0;
  for (;;) {
    const page = await client.updates({ cursor, limit: 200 });
    for (const e of page.events) if (e.type === 'message.created') ids.add((e.data as { id: string }).id);
    cursor = page.cursor;
    if (!page.has_more) return ids;
  }
}

test('backup while sending, restore elsewhere: nothing acknowledged before the backup is lost, blobs intact, clients ahead reload', async (t) => {
  const original = envFor(tempDir());
  const backupDir = path.join(tempDir(), 'backup');
  const a = await serve(original);
  t.after(() => {
    if (a.child.exitCode === null) a.child.kill('SIGKILL');
  });
  const anonymous = new MmdClient({ baseUrl: a.url });
  const account = async () => {
    const handle = uniqueHandle('bk');
    const created = await anonymous.createAccount({ handle, password: 'correct horse battery' });
    return { handle, token: created.token };
  };
  const alice = await account();
  const bob = await account();
  const aliceA = anonymous.as(alice.token);
  const chat = await aliceA.openDirect(bob.handle);

  const picture = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 200, g: 40, b: 90 } } }).jpeg().toBuffer();
  const upload = await aliceA.upload(picture, { filename: 'red.jpg', contentType: 'image/jpeg' });
  const item = await aliceA.waitForMedia(upload.id, { timeoutMs: 30_000 });
  assert.equal(item.status, 'ready');
  const preview = new Uint8Array(await (await aliceA.fetchFile(item.renditions['preview.jpg']!.url)).arrayBuffer());

  // Sends keep going during the backup; each is recorded with when its 201 arrived.
  const acked: { id: string; at: number }[] = [];
  let sending = true;
  const sender = (async () => {
    for (let i = 0; sending; i++) {
      const m = await aliceA.send(chat.id, { text: `message ${i}` });
      acked.push({ id: m.id, at: Date.now() });
    }
  })();
  await eventually('some messages before the backup', () => acked.length >= 20, 30_000);
  const backupBegan = Date.now();
  const backedUp = await run(['backup', backupDir, '--json'], original);
  assert.equal(backedUp.code, 0, backedUp.stderr);
  const summary = JSON.parse(backedUp.stdout) as { manifest: { database: { dialect: string }; blobs: { files: number; copied: boolean } } };
  assert.equal(summary.manifest.database.dialect, 'sqlite');
  assert.ok(summary.manifest.blobs.copied && summary.manifest.blobs.files > 0);
  // Self-contained (no -wal or -shm beside the copy) and private: it holds everything.
  assert.deepEqual(readdirSync(backupDir).sort(), ['blobs', 'manifest.json', 'mmd.sqlite']);
  for (const file of ['manifest.json', 'mmd.sqlite']) assert.equal(statSync(path.join(backupDir, file)).mode & 0o777, 0o600, file);
  assert.equal(statSync(backupDir).mode & 0o777, 0o700);
  const countAtEnd = acked.length;
  await eventually('messages after the backup', () => acked.length >= countAtEnd + 10, 30_000);
  sending = false;
  await sender;
  assert.ok(acked.some((m) => m.at < backupBegan) && acked.some((m) => m.at > backupBegan), 'sends went on across the backup');
  // Bob's client has seen everything, well past what the backup holds.
  const bobA = anonymous.as(bob.token);
  const bobCursor = await bobA.updatesState();
  await stop(a.child);

  const restoredEnv = envFor(tempDir());
  const refusedBusy = await run(['backup', backupDir], original);
  assert.equal(refusedBusy.code, 1, 'a backup never writes into a folder that is not empty');
  const restored = await run(['restore', backupDir, '--json'], restoredEnv);
  assert.equal(restored.code, 0, restored.stderr);
  const gap = JSON.parse(restored.stdout) as { after_cursor: number; resumes_at: number };
  assert.ok(gap.after_cursor < bobCursor && gap.resumes_at > bobCursor, 'the cursors the lost events had lie in the gap');
  const again = await run(['restore', backupDir], restoredEnv);
  assert.equal(again.code, 1, 'an existing MMD is not replaced without --force');
  assert.match(again.stderr, /--force/);

  const b = await serve(restoredEnv);
  t.after(() => {
    if (b.child.exitCode === null) b.child.kill('SIGKILL');
  });
  const anonymousB = new MmdClient({ baseUrl: b.url });
  const aliceB = anonymousB.as(alice.token);
  const bobB = anonymousB.as(bob.token);
  const ids = await messageIds(bobB);
  const before = acked.filter((m) => m.at < backupBegan);
  const missing = before.filter((m) => !ids.has(m.id));
  assert.deepEqual(missing, [], 'every message acknowledged before the backup began was restored');

  // The same bytes come back from the restored blobs.
  const itemB = await aliceB.waitForMedia(upload.id);
  const previewB = new Uint8Array(await (await aliceB.fetchFile(itemB.renditions['preview.jpg']!.url)).arrayBuffer());
  assert.equal(sha256(previewB), sha256(preview));

  // Bob's cursor is past the restored log: refused, before and after the log grows past it.
  await rejectsWith(bobB.updates({ cursor: bobCursor }), 'cursor_expired', 410);
  await aliceB.send(chat.id, { text: 'first after the restore' });
  await rejectsWith(bobB.updates({ cursor: bobCursor }), 'cursor_expired', 410);
  const ack = await fetch(`${b.url}/v1/updates/ack`, { method: 'POST', headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cursor: bobCursor }) });
  assert.equal(ack.status, 410, 'nor is it acknowledged');
  // The SDK's stream reloads from the state cursor and then follows what is new.
  const resets: number[] = [];
  const texts: string[] = [];
  const stream = bobB.stream({
    cursor: bobCursor,
    onEvent: (e: SyncEvent) => void (e.type === 'message.created' && texts.push((e.data as { text: string }).text)),
    onReset: (cursor) => void resets.push(cursor),
  });
  t.after(() => stream.close());
  await stream.ready;
  assert.equal(resets.length, 1, 'told to reload once');
  assert.ok(resets[0]! >= gap.resumes_at, 'resumed from the restored log’s newest cursor');
  await aliceB.send(chat.id, { text: 'second after the restore' });
  await eventually('the next message, live', () => texts.includes('second after the restore'));
  assert.deepEqual(texts, ['second after the restore']);
  // A client that was behind the backup is simply caught up.
  const behind = await bobB.updates({ cursor: gap.after_cursor - 1, limit: 200 });
  assert.ok(behind.events.some((e) => (e.data as { text?: string }).text === 'first after the restore'));
  stream.close();
  await stop(b.child);

  // A damaged backup is refused before anything is touched.
  const manifest = JSON.parse(readFileSync(path.join(backupDir, 'manifest.json'), 'utf8')) as { blobs: { files: { path: string }[] } };
  const victim = path.join(backupDir, 'blobs', ...manifest.blobs.files[0]!.path.split('/'));
  const bytes = readFileSync(victim);
  bytes[0] = (bytes[0]! + 1) % 256;
  writeFileSync(victim, bytes);
  const damaged = await run(['restore', backupDir, '--verify-only'], restoredEnv);
  assert.equal(damaged.code, 1);
  assert.match(damaged.stderr, /does not match the manifest/);
  const refused = await run(['restore', backupDir, '--force'], restoredEnv);
  assert.equal(refused.code, 1, 'not even with --force');

  // A database restored by other means gets its gap recorded on request.
  const marked = await run(['restore', '--mark-only', '--json'], restoredEnv);
  assert.equal(marked.code, 0, marked.stderr);
  assert.ok((JSON.parse(marked.stdout) as { after_cursor: number }).after_cursor >= gap.resumes_at);

  // Pointed at a folder with no MMD, backup says so instead of saving an empty database.
  const nowhere = tempDir();
  const empty = await run(['backup', path.join(tempDir(), 'b')], envFor(nowhere));
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no MMD database/);
  assert.ok(!existsSync(path.join(nowhere, 'mmd.sqlite')));
});
