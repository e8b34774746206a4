import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

onEachDatabase('conversations', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  test('opening a direct chat twice returns the same chat, from either side', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const first = await alice.client.openDirect(bob.handle);
    assert.equal(first.kind, 'direct');
    assert.equal(first.member_count, 2);
    assert.equal(first.peer?.handle, bob.handle);
    const again = await alice.client.openDirect(bob.handle);
    const fromBob = await bob.client.openDirect(alice.handle);
    assert.equal(again.id, first.id);
    assert.equal(fromBob.id, first.id);
  });

  test('a direct chat needs exactly one other existing account', async () => {
    const alice = await server.signUp();
    await rejectsWith(alice.client.createConversation({ kind: 'direct', members: [] }), 'validation_failed', 400);
    await rejectsWith(alice.client.openDirect(uniqueHandle('ghost')), 'not_found', 404);
    await rejectsWith(alice.client.openDirect(alice.handle), 'validation_failed', 400);
  });

  test('a group owner adds and removes members and promotes an admin who can then manage', async () => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const ben = await server.signUp();
    const cat = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'Hikers', members: [ann.handle] });
    assert.equal(group.my_role, 'owner');
    assert.equal(group.member_count, 2);
    await owner.client.addMember(group.id, ben.handle);
    await rejectsWith(ann.client.addMember(group.id, cat.handle), 'forbidden', 403);
    await owner.client.setRole(group.id, ann.accountId, 'admin');
    await ann.client.addMember(group.id, cat.handle);
    await rejectsWith(ann.client.addMember(group.id, cat.handle), 'already_member', 409);
    const { members } = await owner.client.members(group.id);
    assert.deepEqual(members.map((m) => m.handle).sort(), [owner.handle, ann.handle, ben.handle, cat.handle].sort());
    assert.equal(members.find((m) => m.account_id === ann.accountId)?.role, 'admin');
    await ann.client.removeMember(group.id, ben.accountId);
    await rejectsWith(ben.client.conversation(group.id), 'not_a_member', 403);
    await rejectsWith(ann.client.removeMember(group.id, owner.accountId), 'forbidden', 403);
    assert.equal((await owner.client.conversation(group.id)).member_count, 3);
  });

  test('a plain member cannot remove, promote or demote anyone', async () => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const ben = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'G', members: [ann.handle, ben.handle] });
    await rejectsWith(ann.client.removeMember(group.id, ben.accountId), 'forbidden', 403);
    await rejectsWith(ann.client.setRole(group.id, ben.accountId, 'admin'), 'forbidden', 403);
    await rejectsWith(ann.client.setRole(group.id, owner.accountId, 'member'), 'forbidden', 403);
  });

  test('a member may leave a group; nobody may leave a direct chat', async () => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'G', members: [ann.handle] });
    await ann.client.removeMember(group.id, ann.accountId);
    assert.equal((await ann.client.conversations()).some((c) => c.id === group.id), false);
    const direct = await owner.client.openDirect(ann.handle);
    await rejectsWith(owner.client.removeMember(direct.id, ann.accountId), 'forbidden', 403);
  });

  test('anyone joins a channel by its handle; only admins post there', async () => {
    const owner = await server.signUp();
    const reader = await server.signUp();
    const handle = uniqueHandle('news');
    const channel = await owner.client.createConversation({ kind: 'channel', title: 'News', handle });
    const found = await reader.client.findChannel(`@${handle.toUpperCase()}`);
    assert.equal(found.id, channel.id);
    const joined = await reader.client.join(channel.id);
    assert.equal(joined.my_role, 'member');
    assert.equal(joined.member_count, 2);
    // Joining again is harmless.
    assert.equal((await reader.client.join(channel.id)).member_count, 2);
    await owner.client.send(channel.id, { text: 'First post' });
    await rejectsWith(reader.client.send(channel.id, { text: 'me too' }), 'forbidden', 403);
    const history = await reader.client.history(channel.id);
    assert.deepEqual(history.messages.map((m) => m.text), ['First post']);
  });

  test('channel handles are unique and required; groups cannot be joined freely', async () => {
    const owner = await server.signUp();
    const other = await server.signUp();
    const handle = uniqueHandle('chan');
    await owner.client.createConversation({ kind: 'channel', handle });
    await rejectsWith(other.client.createConversation({ kind: 'channel', handle: handle.toLowerCase() }), 'handle_taken', 409);
    await rejectsWith(owner.client.createConversation({ kind: 'channel', title: 'no handle' }), 'validation_failed', 400);
    const group = await owner.client.createConversation({ kind: 'group', title: 'Private' });
    await rejectsWith(other.client.join(group.id), 'forbidden', 403);
    await rejectsWith(other.client.findChannel(uniqueHandle('nochan')), 'not_found', 404);
  });

  test('only members see a conversation, its members and its history', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const eve = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await rejectsWith(eve.client.conversation(chat.id), 'not_a_member', 403);
    await rejectsWith(eve.client.members(chat.id), 'not_a_member', 403);
    await rejectsWith(eve.client.history(chat.id), 'not_a_member', 403);
    await rejectsWith(eve.client.conversation('cnv_doesnotexist'), 'not_found', 404);
  });

  test('the conversation list shows unread counts and the last message, newest first', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const carol = await server.signUp();
    const withBob = await alice.client.openDirect(bob.handle);
    const withCarol = await alice.client.openDirect(carol.handle);
    await bob.client.send(withBob.id, { text: 'one' });
    await bob.client.send(withBob.id, { text: 'two' });
    await carol.client.send(withCarol.id, { text: 'newest' });
    const list = await alice.client.conversations();
    assert.deepEqual(list.map((c) => c.id), [withCarol.id, withBob.id]);
    const bobChat = list.find((c) => c.id === withBob.id)!;
    assert.equal(bobChat.unread_count, 2);
    assert.equal((bobChat.last_message as { text: string }).text, 'two');
    await alice.client.markRead(withBob.id, 2);
    assert.equal((await alice.client.conversation(withBob.id)).unread_count, 0);
  });
});
