/**
 * Nothing acknowledged is lost: a real server process is killed with SIGKILL in the middle of a
 * burst of sends, restarted on the same data, and every message it acknowledged is still there,
 * exactly once — retries with the same idempotency keys return the same messages, and a client
 * that stayed connected through the crash resumes from its cursor without gaps or repeats.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MmdClient, MmdError, type SyncEvent } from '@mmd/sdk';
import { crashTestOnEachDatabase, freePort, killHard, spawnServer, waitReady } from './child-server.ts';
import { eventually } from './harness.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');

async function crashAndRecover(env: Record<string, string>) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverEnv = { ...env, MMD_PORT: String(port) };
  let server = spawnServer(serverEnv);
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

    server = spawnServer(serverEnv);
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
    await killHard(server);
    server = spawnServer(serverEnv);
    await waitReady(url);
    const item = await aliceClient.waitForMedia(upload.id, { timeoutMs: 60_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.width, 5640);
  } finally {
    await killHard(server);
  }
}

crashTestOnEachDatabase('acknowledged messages survive kill -9 and restart', crashAndRecover);

/** `mmd_db_commit_seconds_count`: how many COMMITs of write transactions the server has made. */
async function commitCount(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^mmd_db_commit_seconds_count (\d+)/m.exec(text);
  assert.ok(m, 'the commit histogram is exported');
  return Number(m[1]);
}

/**
 * Group commit (SQLite: platform/db/group-commit.ts) answers many sends with one COMMIT. 64
 * senders in 16 chats keep groups large; the server is killed mid-burst, and every send it
 * acknowledged — each answered only after its group's COMMIT — is there after the restart, once.
 */
async function crashUnderConcurrentLoad(env: Record<string, string>) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // 32 sign-ups from one address: above the default hourly limit.
  const serverEnv = { ...env, MMD_PORT: String(port), MMD_SIGNUP_RATE_LIMIT: '1000' };
  let server = spawnServer(serverEnv);
  try {
    await waitReady(url);
    const anonymous = new MmdClient({ baseUrl: url });
    const chats: { client: MmdClient; id: string }[] = [];
    for (let c = 0; c < 16; c++) {
      const a = await anonymous.createAccount({ handle: `gca${c}x${port}`, password: 'correct horse battery' });
      const b = await anonymous.createAccount({ handle: `gcb${c}x${port}`, password: 'correct horse battery' });
      const client = anonymous.as(a.token);
      chats.push({ client, id: (await client.openDirect(b.account.handle)).id });
    }
    const commitsBefore = await commitCount(url);
    const total = 1600;
    const acknowledged = new Map<string, { chat: number; id: string }>();
    let next = 0;
    let killed = false;
    let commitsDuring = 0;
    let acknowledgedThen = 0;
    const sender = async () => {
      while (next < total) {
        const i = next++;
        if (i === 800 && !killed) {
          killed = true;
          acknowledgedThen = acknowledged.size;
          commitsDuring = (await commitCount(url)) - commitsBefore;
          server.kill('SIGKILL');
        }
        const chat = i % chats.length;
        try {
          const m = await chats[chat]!.client.send(chats[chat]!.id, { text: `load ${i}`, idempotency_key: `k${i}` });
          acknowledged.set(`k${i}`, { chat, id: m.id });
        } catch (err) {
          assert.ok(err instanceof MmdError && err.status === 0, `only network failures expected, got ${err}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, sender));
    assert.ok(killed);
    assert.ok(acknowledgedThen >= 400, `sends were acknowledged before the crash (${acknowledgedThen})`);
    if (!env.MMD_DATABASE_URL) {
      // SQLite: the acknowledged sends shared COMMITs (PostgreSQL commits each on its own connection).
      assert.ok(commitsDuring < acknowledgedThen, `${acknowledgedThen} sends acknowledged with ${commitsDuring} commits`);
    }
    if (server.exitCode === null && server.signalCode === null) await new Promise((r) => server.once('exit', r));

    server = spawnServer(serverEnv);
    await waitReady(url);
    const found = new Map<string, number>();
    for (const [c, chat] of chats.entries()) {
      for (let after = 0; ; ) {
        const page = await chat.client.history(chat.id, { after, limit: 200 });
        for (const m of page.messages) found.set(m.id, (found.get(m.id) ?? 0) + 1);
        const texts = page.messages.map((m) => m.text);
        assert.equal(new Set(texts).size, texts.length, `chat ${c}: no message twice`);
        if (!page.has_more || page.messages.length === 0) break;
        after = page.messages[page.messages.length - 1]!.seq;
      }
    }
    for (const [key, { id }] of acknowledged) assert.equal(found.get(id), 1, `acknowledged ${key} (${id}) survived, once`);
  } finally {
    await killHard(server);
  }
}

crashTestOnEachDatabase('acknowledged messages survive kill -9 under concurrent load (group commit)', crashUnderConcurrentLoad);
