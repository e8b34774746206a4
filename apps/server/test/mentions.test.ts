import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mentionedHandles, mentionsAccount } from '@mmd/contracts';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

test('mentionedHandles finds @handles once each, never inside addresses or longer words', () => {
  assert.deepEqual(mentionedHandles('@Ann and @bob_2, ask @ann again'), ['ann', 'bob_2']);
  assert.deepEqual(mentionedHandles('write to ann@example.com or @1abc or @ab'), []);
  assert.deepEqual(mentionedHandles('(@carol) @dave! @erin.'), ['carol', 'dave', 'erin']);
  assert.deepEqual(mentionedHandles(`@${'x'.repeat(33)} @${'y'.repeat(32)}`), ['y'.repeat(32)]);
  assert.deepEqual(mentionedHandles(Array.from({ length: 80 }, (_, i) => `@user${i}`).join(' ')).length, 50);
  assert.equal(mentionsAccount({ mentions: [{ account_id: 'acc_1', handle: 'a' }] }, 'acc_1'), true);
  assert.equal(mentionsAccount({ mentions: [] }, 'acc_1'), false);
});

onEachDatabase('mentions and read receipts', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  async function group(owner: User, members: User[]) {
    return owner.client.createConversation({ kind: 'group', title: 'Team', members: members.map((m) => m.handle) });
  }

  test('a group message mentions current members only, in every view and in its event', async () => {
    const [alice, bob, carol, outsider] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), server.signUp()]);
    const g = await group(alice, [bob, carol]);
    const cursor = await bob.client.updatesState();
    const sent = await alice.client.send(g.id, { text: `hi @${bob.handle.toUpperCase()} and @${outsider.handle}, @nosuchhandle99 and me @${alice.handle}` });
    // The outsider exists but is not a member: plain text, nothing says the handle is real. Nor does the sender mention herself.
    assert.deepEqual(sent.mentions, [{ account_id: bob.accountId, handle: bob.handle }]);
    assert.deepEqual((await carol.client.message(sent.id)).mentions, sent.mentions);
    assert.deepEqual((await carol.client.history(g.id)).messages.at(-1)?.mentions, sent.mentions);
    const created = (await bob.client.updates({ cursor })).events.find((e) => e.type === 'message.created');
    assert.ok(created && created.type === 'message.created');
    assert.equal(mentionsAccount(created.data, bob.accountId), true);
    assert.equal(mentionsAccount(created.data, outsider.accountId), false);
    // Direct chats and channels carry none.
    const direct = await alice.client.openDirect(bob.handle);
    assert.deepEqual((await alice.client.send(direct.id, { text: `@${bob.handle}` })).mentions, []);
  });

  test('the @ jump lists my unread mentions oldest first; reading, deleting and hiding take them away', async () => {
    const [alice, bob, carol] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    const g = await group(alice, [bob, carol]);
    const first = await alice.client.send(g.id, { text: `@${bob.handle} first` });
    await carol.client.send(g.id, { text: 'no mention' });
    const second = await carol.client.send(g.id, { text: `and @${bob.handle} second` });
    const third = await alice.client.send(g.id, { text: `@${bob.handle} third` });
    const fourth = await alice.client.send(g.id, { text: `@${bob.handle} fourth` });
    assert.equal((await bob.client.conversation(g.id)).unread_mentions, 4);
    assert.equal((await bob.client.conversations()).find((c) => c.id === g.id)?.unread_mentions, 4);
    assert.equal((await carol.client.conversation(g.id)).unread_mentions, 0);
    const list = await bob.client.unreadMentions(g.id);
    assert.deepEqual(list.mentions.map((m) => [m.message_id, m.seq, m.sender_id]), [
      [first.id, first.seq, alice.accountId],
      [second.id, second.seq, carol.accountId],
      [third.id, third.seq, alice.accountId],
      [fourth.id, fourth.seq, alice.accountId],
    ]);
    assert.equal(list.has_more, false);
    const page = await bob.client.unreadMentions(g.id, { after: first.seq, limit: 1 });
    assert.deepEqual([page.mentions.map((m) => m.message_id), page.has_more], [[second.id], true]);
    // Deleted for everyone, deleted for me: no longer a mention to jump to.
    await alice.client.deleteMessage(third.id);
    await bob.client.deleteForMe(fourth.id);
    assert.deepEqual((await bob.client.unreadMentions(g.id)).mentions.map((m) => m.message_id), [first.id, second.id]);
    assert.deepEqual((await bob.client.message(third.id)).mentions, []);
    // Read up to the first: one left.
    await bob.client.markRead(g.id, first.seq);
    assert.deepEqual((await bob.client.unreadMentions(g.id)).mentions.map((m) => m.message_id), [second.id]);
    assert.equal((await bob.client.conversation(g.id)).unread_mentions, 1);
    // Cleared chat: what was cleared is not counted.
    await bob.client.clearChat(g.id);
    assert.equal((await bob.client.conversation(g.id)).unread_mentions, 0);
    assert.deepEqual((await bob.client.unreadMentions(g.id)).mentions, []);
  });

  test('an edit re-parses mentions: added, kept and removed, and the edit event says so', async () => {
    const [alice, bob, carol] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    const g = await group(alice, [bob, carol]);
    const m = await alice.client.send(g.id, { text: `@${bob.handle} look` });
    const cursor = await carol.client.updatesState();
    const edited = await alice.client.edit(m.id, `@${carol.handle} look instead`);
    assert.deepEqual(edited.mentions, [{ account_id: carol.accountId, handle: carol.handle }]);
    const event = (await carol.client.updates({ cursor })).events.find((e) => e.type === 'message.edited');
    assert.ok(event && event.type === 'message.edited');
    assert.equal(mentionsAccount(event.data, carol.accountId), true);
    assert.equal((await bob.client.conversation(g.id)).unread_mentions, 0);
    assert.deepEqual((await carol.client.unreadMentions(g.id)).mentions.map((x) => x.message_id), [m.id]);
    assert.deepEqual((await alice.client.edit(m.id, 'nobody now')).mentions, []);
    assert.deepEqual((await carol.client.unreadMentions(g.id)).mentions, []);
  });

  test('a mention follows membership: one who left is refused, one who joins later was never mentioned', async () => {
    const [alice, bob, dan] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    const g = await group(alice, [bob]);
    // Dan is not a member yet: his handle is plain text, and stays so after he joins.
    const early = await alice.client.send(g.id, { text: `@${bob.handle} @${dan.handle} hello` });
    assert.deepEqual(early.mentions.map((x) => x.account_id), [bob.accountId]);
    await alice.client.addMember(g.id, dan.handle);
    assert.deepEqual((await dan.client.unreadMentions(g.id)).mentions, []);
    assert.equal((await dan.client.conversation(g.id)).unread_mentions, 0);
    await bob.client.removeMember(g.id, bob.accountId);
    await rejectsWith(bob.client.unreadMentions(g.id), 'not_a_member', 403);
    // Mentioning someone who left is plain text again.
    assert.deepEqual((await alice.client.send(g.id, { text: `@${bob.handle} are you there?` })).mentions, []);
  });

  test('mentions endpoint denials: no token, not a member, unknown chat, bad query', async () => {
    const [alice, bob, stranger] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    const g = await group(alice, [bob]);
    await alice.client.send(g.id, { text: `@${bob.handle}` });
    await rejectsWith(server.anonymous.unreadMentions(g.id), 'unauthenticated', 401);
    await rejectsWith(stranger.client.unreadMentions(g.id), 'not_a_member', 403);
    await rejectsWith(alice.client.unreadMentions('cnv_unknown'), 'not_found', 404);
    await rejectsWith(bob.client.unreadMentions(g.id, { limit: 0 }), 'validation_failed', 400);
    await rejectsWith(bob.client.unreadMentions(g.id, { limit: 101 }), 'validation_failed', 400);
    // A number past what a seq can be is refused as input, not handed to the database (a 500 on PostgreSQL).
    await rejectsWith(bob.client.unreadMentions(g.id, { after: 1e300 }), 'validation_failed', 400);
    // A direct chat has no mentions to list.
    const direct = await alice.client.openDirect(bob.handle);
    assert.deepEqual(await bob.client.unreadMentions(direct.id), { mentions: [], has_more: false });
  });

  async function readByBob(alice: User, bob: User) {
    const chat = await alice.client.openDirect(bob.handle);
    const m = await alice.client.send(chat.id, { text: 'did you see this?' });
    const aliceCursor = await alice.client.updatesState();
    const bobCursor = await bob.client.updatesState();
    await bob.client.markRead(chat.id, m.seq);
    return { chat, m, aliceCursor, bobCursor };
  }

  test('read receipts off: the reader sends none, and their own devices still learn their marks', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    assert.equal((await bob.client.privacy()).read_receipts, true);
    assert.equal((await bob.client.setPrivacy({ read_receipts: false })).read_receipts, false);
    const { chat, m, aliceCursor, bobCursor } = await readByBob(alice, bob);
    const receipts = await alice.client.receipts(m.id);
    assert.deepEqual([receipts.delivered, receipts.read, receipts.per_recipient?.[0]?.status], [1, 0, 'delivered']);
    assert.deepEqual((await alice.client.conversation(chat.id)).peer, { account_id: bob.accountId, handle: bob.handle, delivered_seq: m.seq, read_seq: 0 });
    const toAlice = (await alice.client.updates({ cursor: aliceCursor })).events.filter((e) => e.type === 'receipt.updated');
    assert.deepEqual(toAlice.map((e) => e.type === 'receipt.updated' && [e.data.delivered_seq, e.data.read_seq]), [[m.seq, 0]]);
    const toBob = (await bob.client.updates({ cursor: bobCursor })).events.filter((e) => e.type === 'receipt.updated');
    assert.deepEqual(toBob.map((e) => e.type === 'receipt.updated' && e.data.read_seq), [m.seq]);
    assert.equal((await bob.client.conversation(chat.id)).read_seq, m.seq);
  });

  test('read receipts off: whoever turns them off does not see the others’ reads either; on again, reads show', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    await alice.client.setPrivacy({ read_receipts: false });
    const { chat, m, aliceCursor } = await readByBob(alice, bob);
    assert.equal((await alice.client.receipts(m.id)).read, 0);
    assert.equal((await alice.client.conversation(chat.id)).peer?.read_seq, 0);
    const events = (await alice.client.updates({ cursor: aliceCursor })).events.filter((e) => e.type === 'receipt.updated');
    assert.ok(events.every((e) => e.type === 'receipt.updated' && e.data.read_seq === 0));
    // Bob's own view of Alice's reads is hidden too.
    const reply = await bob.client.send(chat.id, { text: 'yes' });
    await alice.client.markRead(chat.id, reply.seq);
    assert.equal((await bob.client.receipts(reply.id)).per_recipient?.[0]?.status, 'delivered');
    assert.equal((await bob.client.conversation(chat.id)).peer?.read_seq, 0);
    await alice.client.setPrivacy({ read_receipts: true });
    assert.equal((await alice.client.receipts(m.id)).per_recipient?.[0]?.status, 'read');
    assert.equal((await bob.client.conversation(chat.id)).peer?.read_seq, reply.seq);
  });

  test('read receipts off: groups still count reads (WhatsApp’s rule)', async () => {
    const [alice, bob, carol] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    await bob.client.setPrivacy({ read_receipts: false });
    await alice.client.setPrivacy({ read_receipts: false });
    const g = await group(alice, [bob, carol]);
    const m = await alice.client.send(g.id, { text: 'hello' });
    const cursor = await alice.client.updatesState();
    await bob.client.markRead(g.id, m.seq);
    const receipts = await alice.client.receipts(m.id);
    assert.equal(receipts.read, 1);
    assert.equal(receipts.per_recipient?.find((r) => r.account_id === bob.accountId)?.status, 'read');
    const events = (await alice.client.updates({ cursor })).events.filter((e) => e.type === 'receipt.updated');
    assert.ok(events.some((e) => e.type === 'receipt.updated' && e.data.account_id === bob.accountId && e.data.read_seq === m.seq));
  });
});
