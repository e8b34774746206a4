/**
 * Nothing acknowledged is lost: a real server process is killed with SIGKILL in the middle of a
 * burst of sends, restarted on the same data, and every message it acknowledged is still there,
 * exactly once — retries with the same idempotency keys return the same messages, and a client
 * that stayed connected through the crash resumes from its cursor without gaps or repeats.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MmdClient, MmdError, type SyncEvent } from '@mmd/sdk';
import pg from 'pg';
import { POSTGRES_URL, eventually } from './harness.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const DATA = path.resolve(root, '../shared/data');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function startServer(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/server/src/main.ts'), 'serve'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MMD_LOG_LEVEL: 'warn', MMD_HOST: '127.0.0.1', MMD_ARGON2_MEMORY_KIB: '1024', MMD_ARGON2_ITERATIONS: '1', MMD_JOB_LEASE_MS: '2000', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function waitReady(url: string) {
  await eventually('server ready', async () => {
    try {
      return (await fetch(`${url}/readyz`)).ok;
    } catch {
      return false;
    }
  }, 60_000);
}

async function crashAndRecover(env: Record<string, string>) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverEnv = { ...env, MMD_PORT: String(port) };
  let server = startServer(serverEnv);
  try {
    await waitReady(url);
    const anonymous = new MmdClient({ baseUrl: url });
    const alice = await anonymous.createAccount({ handle: `alice${port}`, password: 'correct horse battery' });
    const bob = await anonymous.createAccount({ handle: `bob${port}`, password: 'correct horse battery' });
    const aliceClient = anonymous.as(alice.token);
    const chat = await aliceClient.openDirect(bob.account.handle);

    const received: SyncEvent[] = [];
    const stream = anonymous.as(bob.token).stream({ onEvent: (e) => received.push(e) });
    await stream.ready;

    const total = 400;
    const acknowledged = new Map<string, string>();
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (next < total) {
        const i = next++;
        if (i === 150 && !killed) {
          killed = true;
          server.kill('SIGKILL');
        }
        try {
          const m = await aliceClient.send(chat.id, { text: `message ${i}`, idempotency_key: `key-${i}` });
          acknowledged.set(`key-${i}`, m.id);
        } catch (err) {
          assert.ok(err instanceof MmdError && err.status === 0, `only network failures expected, got ${err}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    assert.ok(killed);
    assert.ok(acknowledged.size >= 100, `some sends were acknowledged before the crash (${acknowledged.size})`);
    if (server.exitCode === null && server.signalCode === null) await new Promise((r) => server.once('exit', r));

    server = startServer(serverEnv);
    await waitReady(url);

    // Every acknowledged message survived, with the id the client was given.
    const all: { id: string; text: string | null; seq: number }[] = [];
    for (let before: number | undefined; ; ) {
      const page = await aliceClient.history(chat.id, { before, limit: 200 });
      all.unshift(...page.messages);
      if (!page.has_more) break;
      before = page.messages[0]!.seq;
    }
    const ids = new Set(all.map((m) => m.id));
    for (const [key, id] of acknowledged) assert.ok(ids.has(id), `acknowledged ${key} (${id}) survived`);

    // Retrying every send: acknowledged ones come back as the same message; nothing doubles.
    for (let i = 0; i < total; i++) {
      const m = await aliceClient.send(chat.id, { text: `message ${i}`, idempotency_key: `key-${i}` });
      const before = acknowledged.get(`key-${i}`);
      if (before) assert.equal(m.id, before, `retry of key-${i} returned the original`);
    }
    const final = await aliceClient.history(chat.id, { limit: 200, after: 0 });
    const rest = await aliceClient.history(chat.id, { limit: 200, after: 200 });
    const texts = [...final.messages, ...rest.messages].map((m) => m.text);
    assert.equal(texts.length, total, 'each message exactly once');
    assert.equal(new Set(texts).size, total);
    assert.deepEqual([...final.messages, ...rest.messages].map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 1), 'seqs have no gaps');

    // The client that stayed connected reconnected by itself and caught up, once each, in order.
    await eventually('stream caught up', () => received.filter((e) => e.type === 'message.created').length >= total, 20_000);
    const seqs = received.filter((e) => e.type === 'message.created').map((e) => (e.data as { seq: number }).seq);
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1));
    stream.close();

    // An acknowledged upload survives a crash too: killed right after the 202 (while it is being
    // processed), it is processed to ready after the restart, when the crashed worker's lease ends.
    const photo = readFileSync(path.join(DATA, 'photos', 'Elephants-large.jpg'));
    const upload = await aliceClient.upload(photo, { filename: 'elephants.jpg' });
    assert.equal(upload.status, 'processing');
    server.kill('SIGKILL');
    if (server.exitCode === null && server.signalCode === null) await new Promise((r) => server.once('exit', r));
    server = startServer(serverEnv);
    await waitReady(url);
    const item = await aliceClient.waitForMedia(upload.id, { timeoutMs: 60_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.width, 5640);
  } finally {
    server.kill('SIGKILL');
  }
}

test('acknowledged messages survive kill -9 and restart [sqlite]', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-crash-'));
  try {
    await crashAndRecover({ MMD_DATA_DIR: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('acknowledged messages survive kill -9 and restart [postgres]', { timeout: 300_000, skip: POSTGRES_URL ? false : 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' }, async () => {
  const schema = `crash_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await crashAndRecover({ MMD_DATABASE_URL: POSTGRES_URL!, MMD_DATABASE_SCHEMA: schema, MMD_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mmd-crash-')) });
  } finally {
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
});
