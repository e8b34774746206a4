import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_PINNED_MESSAGES } from '@mmd/contracts';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

onEachDatabase('pinned and starred messages', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  test('either person pins in a direct chat; everyone sees the pins, newest first, live', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const first = await alice.client.send(chat.id, { text: 'the address' });
    const second = await bob.client.send(chat.id, { text: 'the time' });
    const cursor = await alice.client.updatesState();
    await bob.client.pin(first.id);
    await alice.client.pin(second.id);
    await alice.client.pin(second.id); // twice is once
    const pins = await bob.client.pins(chat.id);
    assert.deepEqual(pins.map((p) => p.message.text), ['the time', 'the address']);
    assert.equal(pins[1]!.pinned_by, bob.accountId);
    const events = (await alice.client.updates({ cursor })).events.filter((e) => e.type === 'message.pinned');
    assert.deepEqual(events.map((e) => e.type === 'message.pinned' && [e.data.message_id, e.data.pinned]), [[first.id, true], [second.id, true]]);
    await alice.client.unpin(first.id);
    assert.deepEqual((await alice.client.pins(chat.id)).map((p) => p.message.id), [second.id]);
    // A message deleted for everyone leaves the bar; one deleted for me leaves my bar only.
    await bob.client.deleteForMe(second.id);
    assert.deepEqual(await bob.client.pins(chat.id), []);
    assert.equal((await alice.client.pins(chat.id)).length, 1);
  });

  test(`in groups only admins pin, at most ${MAX_PINNED_MESSAGES} a chat`, async () => {
    const owner = await server.signUp();
    const member = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'G', members: [member.handle] });
    const messages = [];
    for (let i = 0; i <= MAX_PINNED_MESSAGES; i++) messages.push(await member.client.send(group.id, { text: `m${i}` }));
    await rejectsWith(member.client.pin(messages[0]!.id), 'forbidden', 403);
    for (const m of messages.slice(0, MAX_PINNED_MESSAGES)) await owner.client.pin(m.id);
    await rejectsWith(owner.client.pin(messages[MAX_PINNED_MESSAGES]!.id), 'limit_reached', 409);
    await rejectsWith(member.client.unpin(messages[0]!.id), 'forbidden', 403);
    assert.equal((await member.client.pins(group.id)).length, MAX_PINNED_MESSAGES);
  });

  test('stars are mine alone, on all my devices, and leave with the message or the chat', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const a = await bob.client.send(chat.id, { text: 'recipe' });
    const b = await bob.client.send(chat.id, { text: 'gone soon' });
    const bobCursor = await bob.client.updatesState();
    await alice.client.star(a.id);
    await alice.client.star(b.id);
    assert.deepEqual((await alice.client.starred()).map((s) => s.message.text), ['gone soon', 'recipe']);
    assert.deepEqual(await bob.client.starred(), []);
    assert.equal((await bob.client.updates({ cursor: bobCursor })).events.some((e) => e.type === 'message.starred'), false);
    await bob.client.deleteMessage(b.id);
    assert.deepEqual((await alice.client.starred()).map((s) => s.message.text), ['recipe']);
    await alice.client.unstar(a.id);
    assert.deepEqual(await alice.client.starred(), []);
  });

  test('denials: no token, not a member, unknown ids, bad ids', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const stranger = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const m = await alice.client.send(chat.id, { text: 'x' });
    await rejectsWith(server.anonymous.pin(m.id), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.star(m.id), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.starred(), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.pins(chat.id), 'unauthenticated', 401);
    await rejectsWith(stranger.client.pin(m.id), 'not_found', 404);
    await rejectsWith(stranger.client.star(m.id), 'not_found', 404);
    await rejectsWith(stranger.client.pins(chat.id), 'not_a_member', 403);
    await rejectsWith(alice.client.pins('cnv_unknown'), 'not_found', 404);
    await rejectsWith(alice.client.pin('msg_unknown'), 'not_found', 404);
    await rejectsWith(alice.client.star('x'.repeat(65)), 'validation_failed', 400);
  });
});
