import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { type TestContext, after, before, test } from 'node:test';
import type { SyncEvent } from '@mmd/sdk';
import { WebSocket } from 'ws';
import { type TestServer, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

interface Message {
  id: string;
  text: string | null;
  seq: number;
  conversation_id: string;
}

onEachDatabase('sync', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  /** Follows an account's stream until the test ends (closed in t.after, so a failing assertion cannot leave it open). */
  function follow(t: TestContext, client: TestServer['anonymous'], cursor = 0) {
    const events: SyncEvent[] = [];
    const errors: { code: string; detail: string }[] = [];
    const stream = client.stream({ cursor, onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
    t.after(() => stream.close());
    const texts = () => events.filter((e) => e.type === 'message.created').map((e) => (e.data as Message).text);
    return { stream, events, errors, texts };
  }

  test('the stream delivers new messages live, carrying the message itself', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const live = follow(t, bob.client);
    await live.stream.ready;
    const sent = await alice.client.send(chat.id, { text: 'are you there?' });
    const event = await eventually('message event', () => live.events.find((e) => e.type === 'message.created'));
    assert.equal(event.conversation_id, chat.id);
    assert.deepEqual(event.data, sent);
    await alice.client.edit(sent.id, 'are you there??');
    await alice.client.react(sent.id, '👀');
    await alice.client.deleteMessage(sent.id);
    await eventually('edit, reaction and delete events', () => live.events.some((e) => e.type === 'message.deleted'));
    // Bob's own delivery receipt (his stream acknowledges) may arrive anywhere in between.
    const types = live.events.map((e) => e.type).filter((type) => type !== 'receipt.updated');
    assert.deepEqual(types, ['conversation.created', 'message.created', 'message.edited', 'reaction.changed', 'message.deleted']);
  });

  test('a client that reads the state cursor, then loads, then follows from it misses nothing and replays nothing old', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'old news' });
    const cursor = await bob.client.updatesState();
    assert.ok(cursor > 0);
    // Sent after the state was read: it must arrive; what came before must not be replayed.
    await alice.client.send(chat.id, { text: 'between state and stream' });
    const live = follow(t, bob.client, cursor);
    await live.stream.ready;
    await alice.client.send(chat.id, { text: 'live' });
    await eventually('both new messages', () => live.texts().length === 2);
    assert.deepEqual(live.texts(), ['between state and stream', 'live']);
    await rejectsWith(server.anonymous.updatesState(), 'unauthenticated', 401);
  });

  test('a client that reconnects with its cursor gets every missed event once, in order', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const first = follow(t, bob.client);
    await first.stream.ready;
    for (let i = 1; i <= 5; i++) await alice.client.send(chat.id, { text: `before ${i}` });
    await eventually('first five', () => first.texts().length === 5);
    const cursor = first.stream.cursor;
    first.stream.close();
    for (let i = 1; i <= 40; i++) await alice.client.send(chat.id, { text: `while away ${i}` });
    const second = follow(t, bob.client, cursor);
    await second.stream.ready;
    for (let i = 1; i <= 5; i++) await alice.client.send(chat.id, { text: `after ${i}` });
    await eventually('all 45', () => second.texts().length === 45);
    assert.deepEqual(second.texts(), [...Array.from({ length: 40 }, (_, i) => `while away ${i + 1}`), ...Array.from({ length: 5 }, (_, i) => `after ${i + 1}`)]);
    const cursors = second.events.map((e) => e.cursor);
    assert.deepEqual(cursors, [...cursors].sort((a, b) => a - b));
    assert.equal(new Set(cursors).size, cursors.length);
  });

  test('a gap of 12,001 events written by another process is delivered whole, in order, before the next event', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const live = follow(t, bob.client);
    await live.stream.ready;
    // Another process appends 12,001 events and publishes none of them on this server's bus.
    const script = path.join(import.meta.dirname, 'fixtures', 'write-events.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(server.databaseOptions), chat.id, '12001'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => String(d).includes('committed') && resolve());
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited with ${code}`))));
    });
    // This send is published: the hub must read the whole gap before dispatching it.
    await alice.client.send(chat.id, { text: 'after the gap' });
    await eventually('all 12,002 messages', () => live.texts().length >= 12_002, 30_000);
    await new Promise((r) => setTimeout(r, 100));
    const texts = live.texts();
    assert.equal(texts.length, 12_002);
    assert.equal(texts[0], 'from elsewhere 1');
    assert.equal(texts[12_000], 'from elsewhere 12001');
    assert.equal(texts[12_001], 'after the gap');
    const cursors = live.events.map((e) => e.cursor);
    assert.deepEqual(cursors, [...cursors].sort((a, b) => a - b));
    assert.equal(new Set(cursors).size, cursors.length);
  });

  test('a cursor beyond the newest event (a restored server) is refused as cursor_expired, and the SDK stream recovers from the state cursor', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'before the restore' });
    const newest = await bob.client.updatesState();
    const ahead = newest + 1000;
    await rejectsWith(bob.client.updates({ cursor: ahead }), 'cursor_expired', 410);
    // A long-poll answers at once instead of waiting for an event that will never come.
    const began = Date.now();
    await rejectsWith(bob.client.updates({ cursor: ahead, timeout: 10 }), 'cursor_expired', 410);
    assert.ok(Date.now() - began < 5000);

    const resets: number[] = [];
    const errors: string[] = [];
    const texts: string[] = [];
    const stream = bob.client.stream({
      cursor: ahead,
      onEvent: (e) => e.type === 'message.created' && texts.push((e.data as Message).text ?? ''),
      onError: (e) => errors.push(e.code),
      onReset: (cursor) => void resets.push(cursor),
    });
    t.after(() => stream.close());
    await stream.ready;
    assert.deepEqual(errors, ['cursor_expired']);
    assert.equal(resets.length, 1);
    assert.ok(resets[0]! >= newest && resets[0]! < ahead, 'resumed from the state cursor');
    assert.equal(stream.cursor, resets[0]);
    // Not deaf: the next message arrives, and nothing before the state cursor is replayed.
    await alice.client.send(chat.id, { text: 'after the restore' });
    await eventually('the next message', () => texts.length > 0);
    assert.deepEqual(texts, ['after the restore']);
  });

  test('messages sent while a client is catching up are neither lost nor doubled', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    // A backlog bigger than one catch-up page, then sends racing the reconnect.
    for (let i = 0; i < 60; i++) await alice.client.send(chat.id, { text: `backlog ${i}` });
    const sending = (async () => {
      for (let i = 0; i < 60; i++) await alice.client.send(chat.id, { text: `racing ${i}` });
    })();
    const streams = Array.from({ length: 4 }, () => follow(t, bob.client));
    await sending;
    for (const s of streams) {
      await eventually('120 messages', () => s.texts().length >= 120);
      await new Promise((r) => setTimeout(r, 50));
      const seqs = s.events.filter((e) => e.type === 'message.created').map((e) => (e.data as Message).seq);
      assert.deepEqual(seqs, Array.from({ length: 120 }, (_, i) => i + 1));
    }
  });

  test('a burst of acknowledgements is written in a few transactions, and the delivered mark ends at the newest', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const sent = [];
    for (let i = 0; i < 40; i++) sent.push(await alice.client.send(chat.id, { text: `m${i}` }));
    const page = await bob.client.updates({ limit: 100 });
    const cursors = page.events.filter((e) => e.type === 'message.created').map((e) => e.cursor);
    assert.equal(cursors.length, 40);
    // Count the database's write transactions while Bob's devices acknowledge, out of order.
    let transactions = 0;
    const original = server.db.writeTransaction;
    server.db.writeTransaction = (fn) => {
      transactions++;
      return original(fn);
    };
    t.after(() => {
      server.db.writeTransaction = original;
    });
    const shuffled = [...cursors].sort(() => Math.random() - 0.5);
    await Promise.all(shuffled.map((cursor) => bob.client.ack(cursor)));
    server.db.writeTransaction = original;
    assert.ok(transactions <= 4, `40 acknowledgements took ${transactions} transactions`);
    const receipts = await alice.client.receipts(sent.at(-1)!.id);
    assert.equal(receipts.delivered, 1, 'the newest message counts as delivered');
    const member = await server.db.db
      .selectFrom('members')
      .select('delivered_seq')
      .where('conversation_id', '=', chat.id)
      .where('account_id', '=', bob.accountId)
      .executeTakeFirstOrThrow();
    assert.equal(Number(member.delivered_seq), sent.at(-1)!.seq);
  });

  test('acknowledgements still waiting for their batch are written when the server shuts down', async () => {
    const own = await startTestServer({ dialect });
    let open = true;
    try {
      const alice = await own.signUp();
      const bob = await own.signUp();
      const chat = await alice.client.openDirect(bob.handle);
      const message = await alice.client.send(chat.id, { text: 'ack me' });
      const ws = new WebSocket(`${own.url.replace('http', 'ws')}/v1/stream?token=${bob.token}`);
      const frames: { type: string; cursor?: number; event?: { cursor: number; type: string } }[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(String(d))));
      ws.on('error', () => {});
      const event = await eventually('the message event', () => frames.find((f) => f.event?.type === 'message.created')?.event);
      // The ack, then a ping: its pong proves the ack frame was taken in; then stop at once.
      ws.send(JSON.stringify({ type: 'ack', cursor: event.cursor }));
      ws.send('{"type":"ping"}');
      await eventually('pong', () => frames.some((f) => f.type === 'pong'));
      await own.app.close();
      open = false;
      const member = await own.db.db
        .selectFrom('members')
        .select('delivered_seq')
        .where('conversation_id', '=', chat.id)
        .where('account_id', '=', bob.accountId)
        .executeTakeFirstOrThrow();
      assert.equal(Number(member.delivered_seq), message.seq);
    } finally {
      if (open) await own.app.close();
      await own.close();
    }
  });

  test('long-polling waits for the next event and resumes from a cursor', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const start = await bob.client.updates();
    assert.deepEqual(start.events.map((e) => e.type), ['conversation.created']);
    const waiting = bob.client.updates({ cursor: start.cursor, timeout: 10 });
    await new Promise((r) => setTimeout(r, 100));
    const began = Date.now();
    await alice.client.send(chat.id, { text: 'wake up' });
    const woke = await waiting;
    assert.ok(Date.now() - began < 2000, 'answered as soon as the message arrived');
    assert.deepEqual(woke.events.map((e) => (e.data as Message).text), ['wake up']);
    // Polling with a cursor acknowledges what came before it: Bob's own delivery receipt
    // follows (so his other devices learn it too), and no message repeats.
    const next = await bob.client.updates({ cursor: woke.cursor, timeout: 1 });
    assert.deepEqual(next.events.map((e) => e.type), ['receipt.updated']);
    for (let i = 0; i < 7; i++) await alice.client.send(chat.id, { text: `n${i}` });
    const page1 = await bob.client.updates({ cursor: next.cursor, limit: 5 });
    assert.equal(page1.has_more, true);
    const page2 = await bob.client.updates({ cursor: page1.cursor, limit: 5 });
    const texts = [...page1.events, ...page2.events].filter((e) => e.type === 'message.created').map((e) => (e.data as Message).text);
    assert.deepEqual(texts, ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    assert.equal(page2.has_more, false);
  });

  test('paging through updates across several conversations gives every visible event once, in cursor order', async () => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const groups = await Promise.all([1, 2, 3].map((i) => owner.client.createConversation({ kind: 'group', title: `g${i}`, members: [ann.handle] })));
    const outside = await owner.client.createConversation({ kind: 'group', title: 'not for ann' });
    for (let i = 0; i < 8; i++) {
      await owner.client.send(groups[i % 3]!.id, { text: `in ${i % 3}: ${i}` });
      await owner.client.send(outside.id, { text: `outside ${i}` });
    }
    await owner.client.removeMember(groups[0]!.id, ann.accountId);
    await owner.client.send(groups[0]!.id, { text: 'after removal' });
    await owner.client.send(groups[1]!.id, { text: 'last' });
    const whole = await ann.client.updates({ limit: 200 });
    assert.equal(whole.has_more, false);
    const paged = [];
    let cursor = 0;
    for (;;) {
      const page = await ann.client.updates({ cursor, limit: 3 });
      paged.push(...page.events);
      cursor = page.cursor;
      if (!page.has_more) break;
    }
    // Reading with a cursor acknowledges delivery up to it, and the acknowledgement (written within
    // ACK_FLUSH_MS) may add ann's own receipts to the log while she pages: those come after.
    const later = paged.filter((e) => e.cursor > whole.cursor);
    assert.ok(
      later.every((e) => e.type === 'receipt.updated' && (e.data as { account_id: string }).account_id === ann.accountId),
      `only ann's own receipts may follow (${later.map((e) => e.type).join(', ')})`,
    );
    assert.deepEqual(
      paged.filter((e) => e.cursor <= whole.cursor).map((e) => e.cursor),
      whole.events.map((e) => e.cursor),
    );
    const texts = whole.events.filter((e) => e.type === 'message.created').map((e) => (e.data as Message).text);
    assert.deepEqual(texts, ['in 0: 0', 'in 1: 1', 'in 2: 2', 'in 0: 3', 'in 1: 4', 'in 2: 5', 'in 0: 6', 'in 1: 7', 'last']);
    assert.ok(whole.events.some((e) => e.type === 'member.removed'), 'ann sees her own removal');
  });

  test('a removed member stops receiving at once, and sees their removal', async (t) => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'g', members: [ann.handle] });
    const live = follow(t, ann.client);
    await live.stream.ready;
    await owner.client.send(group.id, { text: 'before removal' });
    await eventually('first message', () => live.texts().length === 1);
    await owner.client.removeMember(group.id, ann.accountId);
    await owner.client.send(group.id, { text: 'after removal' });
    await eventually('removal event', () => live.events.some((e) => e.type === 'member.removed'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(live.texts(), ['before removal']);
    // Catching up from zero later shows the same window: nothing after the removal.
    const later = await ann.client.updates({ cursor: 0, limit: 100 });
    assert.ok(!later.events.some((e) => (e.data as Message).text === 'after removal'));
    assert.ok(later.events.some((e) => (e.data as Message).text === 'before removal'));
  });

  test('a new member starts receiving at once after being added', async (t) => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'g' });
    await owner.client.send(group.id, { text: 'before joining' });
    const live = follow(t, ann.client);
    await live.stream.ready;
    await owner.client.addMember(group.id, ann.handle);
    await owner.client.send(group.id, { text: 'welcome' });
    await eventually('welcome', () => live.texts().includes('welcome'));
    assert.deepEqual(live.texts(), ['welcome']);
    assert.ok(live.events.some((e) => e.type === 'member.joined'));
  });

  test('channel subscribers all receive a post live', async (t) => {
    const owner = await server.signUp();
    const channel = await owner.client.createConversation({ kind: 'channel', handle: `c${Date.now().toString(36)}${dialect}` });
    const readers = await Promise.all(Array.from({ length: 20 }, () => server.signUp()));
    await Promise.all(readers.map((r) => r.client.join(channel.id)));
    const lives = readers.map((r) => follow(t, r.client));
    await Promise.all(lives.map((l) => l.stream.ready));
    await owner.client.send(channel.id, { text: 'breaking news' });
    for (const l of lives) await eventually('post', () => l.texts().includes('breaking news'));
  });

  test('signing a device out closes its stream; another device keeps streaming', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const phone = await server.anonymous.login({ handle: bob.handle, password: bob.password, device_name: 'phone' });
    const onPhone = follow(t, server.anonymous.as(phone.token));
    const onLaptop = follow(t, bob.client);
    await Promise.all([onPhone.stream.ready, onLaptop.stream.ready]);
    await bob.client.revokeDevice(phone.device.id);
    await eventually('revocation notice', () => onPhone.errors.some((e) => e.code === 'device_revoked'));
    await alice.client.send(chat.id, { text: 'still here?' });
    await eventually('laptop gets it', () => onLaptop.texts().includes('still here?'));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(onPhone.texts(), []);
  });

  test('the sync endpoints refuse strangers, keys without updates:read and bad input with stable codes', async () => {
    const user = await server.signUp(undefined, { kind: 'bot' });
    const { key } = await user.client.createApiKey({ name: 'no updates', scopes: ['messages:read'] });
    const keyed = server.anonymous.as(key);
    for (const [who, client, code, status] of [
      ['anonymous', server.anonymous, 'unauthenticated', 401],
      ['a key without updates:read', keyed, 'insufficient_scope', 403],
    ] as const) {
      await rejectsWith(client.updates(), code, status).catch((err) => assert.fail(`${who}: ${err}`));
      await rejectsWith(client.updatesState(), code, status);
      await rejectsWith(client.ack(1), code, status);
    }
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/stream?token=${key}`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.equal(status, 403);
    await rejectsWith(user.client.request('POST', '/v1/updates/ack', { cursor: -1 }), 'validation_failed', 400);
    await rejectsWith(user.client.request('POST', '/v1/updates/ack', { cursor: 'all' }), 'validation_failed', 400);
    await rejectsWith(user.client.updates({ cursor: Number.MAX_SAFE_INTEGER }), 'cursor_expired', 410);
  });

  test('the stream refuses a missing or bad token before upgrading', async () => {
    const url = server.url.replace('http', 'ws');
    for (const target of [`${url}/v1/stream`, `${url}/v1/stream?token=mmd_d_bogus`]) {
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(target);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
      assert.equal(status, 401);
    }
  });

  test('a flood of frames closes the connection; garbage frames get an error, not a crash', async () => {
    const user = await server.signUp();
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/stream?token=${user.token}`);
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(String(d)));
    await new Promise((r) => ws.once('open', r));
    ws.send('not json');
    ws.send(Buffer.from([0xff, 0xfe]));
    await eventually('error frames', () => frames.filter((f) => f.includes('"error"')).length >= 2);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    for (let i = 0; i < 500 && ws.readyState === ws.OPEN; i++) ws.send('{"type":"ping"}');
    assert.equal(await closed, 1008);
    assert.equal((await user.client.me()).id, user.accountId, 'server still answers');
  });

  test('typing reaches the other members of a direct chat or small group, live, and nobody else', async (t) => {
    const ana = await server.signUp();
    const ben = await server.signUp();
    const outsider = await server.signUp();
    const chat = await ana.client.openDirect(ben.handle);
    const channel = await ana.client.createConversation({ kind: 'channel', title: 'news', handle: `n${ana.handle}` });
    await ben.client.join(channel.id);
    const seen = { ana: [] as string[], ben: [] as string[], outsider: [] as string[] };
    const open = (who: keyof typeof seen, user: typeof ana) =>
      user.client.stream({ onEvent: () => {}, onTyping: (t) => seen[who].push(`${t.handle}@${t.conversation_id}`) });
    const streams = { ana: open('ana', ana), ben: open('ben', ben), outsider: open('outsider', outsider) };
    t.after(() => {
      for (const s of Object.values(streams)) s.close();
    });
    await Promise.all(Object.values(streams).map((s) => s.ready));

    streams.ana.typing(chat.id);
    await eventually('ben sees ana typing', () => seen.ben.includes(`${ana.handle}@${chat.id}`));
    // Not echoed to the typist; nothing for someone outside; outsiders cannot type into a chat.
    streams.outsider.typing(chat.id);
    // Channels have no typing indicator.
    streams.ana.typing(channel.id);
    // A burst counts once: a second frame straight away is dropped.
    streams.ana.typing(chat.id);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(seen.ana, []);
    assert.deepEqual(seen.outsider, []);
    assert.deepEqual(seen.ben, [`${ana.handle}@${chat.id}`]);
    // Typing is ephemeral: a reconnecting client does not get it again.
    const later = { events: 0, typing: 0 };
    const again = ben.client.stream({ onEvent: () => later.events++, onTyping: () => later.typing++ });
    t.after(() => again.close());
    await again.ready;
    assert.equal(later.typing, 0);

  });
});
