import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Message } from '@mmd/sdk';
import { type TestServer, type User, onEachDatabase, rejectsWith, secondDevice, startTestServer } from './harness.ts';

onEachDatabase('delete for me and clear chat', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  const texts = (messages: Message[]) => messages.map((m) => m.text);

  test('a message deleted for me is gone from my history, reads, search and list on every device, and stays for the others', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const phone = await secondDevice(server, bob);
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'first zebra' });
    const second = await alice.client.send(chat.id, { text: 'second zebra' });
    const third = await bob.client.send(chat.id, { text: 'third zebra' });
    const phoneCursor = await phone.updatesState();
    const aliceCursor = await alice.client.updatesState();

    await bob.client.deleteForMe(second.id);
    await bob.client.deleteForMe(second.id); // twice is once
    assert.deepEqual(texts((await phone.history(chat.id)).messages), ['first zebra', 'third zebra']);
    assert.deepEqual(texts((await alice.client.history(chat.id)).messages), ['first zebra', 'second zebra', 'third zebra']);
    await rejectsWith(bob.client.message(second.id), 'not_found', 404);
    assert.equal((await alice.client.message(second.id)).text, 'second zebra');
    const found = async (client: User['client']) => (await client.search({ q: 'zebra', conversationId: chat.id })).results.map((r) => r.message.text);
    assert.deepEqual(await found(bob.client), ['third zebra', 'first zebra']);
    assert.deepEqual(await found(alice.client), ['third zebra', 'second zebra', 'first zebra']);
    // Nor can I reply to it or react to it any more.
    await rejectsWith(bob.client.react(second.id, '👍'), 'not_found', 404);
    await rejectsWith(bob.client.send(chat.id, { text: 're', reply_to: second.id }), 'validation_failed', 400);

    const hidden = (await phone.updates({ cursor: phoneCursor })).events.filter((e) => e.type === 'message.hidden');
    assert.equal(hidden.length, 1);
    assert.equal(hidden[0]!.conversation_id, null);
    assert.deepEqual(hidden[0]!.data, { conversation_id: chat.id, message_ids: [second.id] });
    assert.equal((await alice.client.updates({ cursor: aliceCursor })).events.some((e) => e.type === 'message.hidden'), false);

    // The newest message hidden: the list shows the newest one I kept.
    await bob.client.deleteForMe(third.id);
    const listed = (await bob.client.conversations()).find((c) => c.id === chat.id);
    assert.equal((listed?.last_message as Message | null)?.text, 'first zebra');
    assert.equal(((await alice.client.conversation(chat.id)).last_message as Message | null)?.text, 'third zebra');
  });

  test('clear chat takes everything so far away for me alone; what comes after shows, in history, search and unread counts', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const carol = await server.signUp();
    const phone = await secondDevice(server, bob);
    const group = await alice.client.createConversation({ kind: 'group', title: 'Otters', members: [bob.handle, carol.handle] });
    await alice.client.send(group.id, { text: 'old otter news' });
    await carol.client.send(group.id, { text: 'older otter gossip' });
    const phoneCursor = await phone.updatesState();
    const settings = await bob.client.clearChat(group.id);
    assert.equal(settings.cleared_seq, 2);
    assert.deepEqual((await bob.client.history(group.id)).messages, []);
    const bobView = await bob.client.conversation(group.id);
    assert.equal(bobView.unread_count, 0);
    assert.equal(bobView.last_message ?? null, null);
    assert.deepEqual((await bob.client.search({ q: 'otter', conversationId: group.id })).results, []);
    assert.deepEqual((await bob.client.search({ q: 'otter' })).results, []);
    assert.equal((await alice.client.history(group.id)).messages.length, 2);
    assert.equal((await carol.client.search({ q: 'otter' })).results.length, 2);
    const old = (await alice.client.history(group.id)).messages[0]!;
    await rejectsWith(bob.client.message(old.id), 'not_found', 404);

    const event = (await phone.updates({ cursor: phoneCursor })).events.find((e) => e.type === 'chat.settings_updated');
    assert.equal(event?.type === 'chat.settings_updated' ? event.data.cleared_seq : null, 2);

    await alice.client.send(group.id, { text: 'new otter news' });
    assert.deepEqual(texts((await bob.client.history(group.id)).messages), ['new otter news']);
    assert.equal((await bob.client.conversation(group.id)).unread_count, 1);
    assert.deepEqual((await bob.client.search({ q: 'otter' })).results.map((r) => r.message.text), ['new otter news']);
    // Leaving and coming back does not bring the cleared messages back.
    await bob.client.removeMember(group.id, bob.accountId);
    await alice.client.addMember(group.id, bob.handle);
    assert.deepEqual(texts((await bob.client.history(group.id)).messages), ['new otter news']);
  });

  test('denials: no token, not a member, unknown ids, bad ids', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const stranger = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const message = await alice.client.send(chat.id, { text: 'private' });
    await rejectsWith(server.anonymous.deleteForMe(message.id), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.clearChat(chat.id), 'unauthenticated', 401);
    // A stranger learns nothing of whether the message exists.
    await rejectsWith(stranger.client.deleteForMe(message.id), 'not_found', 404);
    await rejectsWith(stranger.client.deleteForMe('msg_unknown'), 'not_found', 404);
    await rejectsWith(stranger.client.clearChat(chat.id), 'not_a_member', 403);
    await rejectsWith(alice.client.clearChat('cnv_unknown'), 'not_found', 404);
    await rejectsWith(alice.client.deleteForMe('x'.repeat(65)), 'validation_failed', 400);
    await rejectsWith(alice.client.clearChat('x'.repeat(65)), 'validation_failed', 400);
    // Nothing changed for the members.
    assert.equal((await bob.client.history(chat.id)).messages.length, 1);
  });
});
