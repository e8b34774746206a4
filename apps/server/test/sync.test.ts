import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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

  function follow(client: TestServer['anonymous'], cursor = 0) {
    const events: SyncEvent[] = [];
    const errors: { code: string; detail: string }[] = [];
    const stream = client.stream({ cursor, onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
    const texts = () => events.filter((e) => e.type === 'message.created').map((e) => (e.data as Message).text);
    return { stream, events, errors, texts };
  }

  test('the stream delivers new messages live, carrying the message itself', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const live = follow(bob.client);
    await live.stream.ready;
    const sent = await alice.client.send(chat.id, { text: 'are you there?' });
    const event = await eventually('message event', () => live.events.find((e) => e.type === 'message.created'));
    assert.equal(event.conversation_id, chat.id);
    assert.deepEqual(event.data, sent);
    await alice.client.edit(sent.id, 'are you there??');
    await alice.client.react(sent.id, '👀');
    await alice.client.deleteMessage(sent.id);
    await eventually('edit, reaction and delete events', () => live.events.some((e) => e.type === 'message.deleted'));
    assert.deepEqual(live.events.map((e) => e.type), ['conversation.created', 'message.created', 'message.edited', 'reaction.changed', 'message.deleted']);
    live.stream.close();
  });

  test('a client that reads the state cursor, then loads, then follows from it misses nothing and replays nothing old', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'old news' });
    const cursor = await bob.client.updatesState();
    assert.ok(cursor > 0);
    // Sent after the state was read: it must arrive; what came before must not be replayed.
    await alice.client.send(chat.id, { text: 'between state and stream' });
    const live = follow(bob.client, cursor);
    await live.stream.ready;
    await alice.client.send(chat.id, { text: 'live' });
    await eventually('both new messages', () => live.texts().length === 2);
    assert.deepEqual(live.texts(), ['between state and stream', 'live']);
    live.stream.close();
    await rejectsWith(server.anonymous.updatesState(), 'unauthenticated', 401);
  });

  test('a client that reconnects with its cursor gets every missed event once, in order', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const first = follow(bob.client);
    await first.stream.ready;
    for (let i = 1; i <= 5; i++) await alice.client.send(chat.id, { text: `before ${i}` });
    await eventually('first five', () => first.texts().length === 5);
    const cursor = first.stream.cursor;
    first.stream.close();
    for (let i = 1; i <= 40; i++) await alice.client.send(chat.id, { text: `while away ${i}` });
    const second = follow(bob.client, cursor);
    await second.stream.ready;
    for (let i = 1; i <= 5; i++) await alice.client.send(chat.id, { text: `after ${i}` });
    await eventually('all 45', () => second.texts().length === 45);
    assert.deepEqual(second.texts(), [...Array.from({ length: 40 }, (_, i) => `while away ${i + 1}`), ...Array.from({ length: 5 }, (_, i) => `after ${i + 1}`)]);
    const cursors = second.events.map((e) => e.cursor);
    assert.deepEqual(cursors, [...cursors].sort((a, b) => a - b));
    assert.equal(new Set(cursors).size, cursors.length);
    second.stream.close();
  });

  test('messages sent while a client is catching up are neither lost nor doubled', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    // A backlog bigger than one catch-up page, then sends racing the reconnect.
    for (let i = 0; i < 60; i++) await alice.client.send(chat.id, { text: `backlog ${i}` });
    const sending = (async () => {
      for (let i = 0; i < 60; i++) await alice.client.send(chat.id, { text: `racing ${i}` });
    })();
    const streams = Array.from({ length: 4 }, () => follow(bob.client));
    await sending;
    for (const s of streams) {
      await eventually('120 messages', () => s.texts().length >= 120);
      await new Promise((r) => setTimeout(r, 50));
      const seqs = s.events.filter((e) => e.type === 'message.created').map((e) => (e.data as Message).seq);
      assert.deepEqual(seqs, Array.from({ length: 120 }, (_, i) => i + 1));
      s.stream.close();
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

  test('a removed member stops receiving at once, and sees their removal', async () => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'g', members: [ann.handle] });
    const live = follow(ann.client);
    await live.stream.ready;
    await owner.client.send(group.id, { text: 'before removal' });
    await eventually('first message', () => live.texts().length === 1);
    await owner.client.removeMember(group.id, ann.accountId);
    await owner.client.send(group.id, { text: 'after removal' });
    await eventually('removal event', () => live.events.some((e) => e.type === 'member.removed'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(live.texts(), ['before removal']);
    live.stream.close();
    // Catching up from zero later shows the same window: nothing after the removal.
    const later = await ann.client.updates({ cursor: 0, limit: 100 });
    assert.ok(!later.events.some((e) => (e.data as Message).text === 'after removal'));
    assert.ok(later.events.some((e) => (e.data as Message).text === 'before removal'));
  });

  test('a new member starts receiving at once after being added', async () => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'g' });
    await owner.client.send(group.id, { text: 'before joining' });
    const live = follow(ann.client);
    await live.stream.ready;
    await owner.client.addMember(group.id, ann.handle);
    await owner.client.send(group.id, { text: 'welcome' });
    await eventually('welcome', () => live.texts().includes('welcome'));
    assert.deepEqual(live.texts(), ['welcome']);
    assert.ok(live.events.some((e) => e.type === 'member.joined'));
    live.stream.close();
  });

  test('channel subscribers all receive a post live', async () => {
    const owner = await server.signUp();
    const channel = await owner.client.createConversation({ kind: 'channel', handle: `c${Date.now().toString(36)}${dialect}` });
    const readers = await Promise.all(Array.from({ length: 20 }, () => server.signUp()));
    await Promise.all(readers.map((r) => r.client.join(channel.id)));
    const lives = readers.map((r) => follow(r.client));
    await Promise.all(lives.map((l) => l.stream.ready));
    await owner.client.send(channel.id, { text: 'breaking news' });
    for (const l of lives) await eventually('post', () => l.texts().includes('breaking news'));
    for (const l of lives) l.stream.close();
  });

  test('signing a device out closes its stream; another device keeps streaming', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const phone = await server.anonymous.login({ handle: bob.handle, password: bob.password, device_name: 'phone' });
    const onPhone = follow(server.anonymous.as(phone.token));
    const onLaptop = follow(bob.client);
    await Promise.all([onPhone.stream.ready, onLaptop.stream.ready]);
    await bob.client.revokeDevice(phone.device.id);
    await eventually('revocation notice', () => onPhone.errors.some((e) => e.code === 'device_revoked'));
    await alice.client.send(chat.id, { text: 'still here?' });
    await eventually('laptop gets it', () => onLaptop.texts().includes('still here?'));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(onPhone.texts(), []);
    onLaptop.stream.close();
    onPhone.stream.close();
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

  test('typing reaches the other members of a direct chat or small group, live, and nobody else', async () => {
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
    await again.ready;
    assert.equal(later.typing, 0);
    for (const s of [...Object.values(streams), again]) s.close();
  });
});
