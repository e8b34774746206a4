import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { REPORT_ACCOUNT_MESSAGES } from '@mmd/contracts';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

onEachDatabase('report an account, delete a group', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  test(`reporting an account reports its newest ${REPORT_ACCOUNT_MESSAGES} messages in that chat, each once`, async () => {
    const alice = await server.signUp();
    const spammer = await server.signUp();
    const chat = await spammer.client.openDirect(alice.handle);
    const sent = [];
    for (let i = 0; i < REPORT_ACCOUNT_MESSAGES + 2; i++) sent.push(await spammer.client.send(chat.id, { text: `buy now ${i}` }));
    await alice.client.send(chat.id, { text: 'stop it' });
    const { reports } = await alice.client.reportAccount({ handle: `@${spammer.handle}`, conversation_id: chat.id, reason: 'spam', note: 'ads all day' });
    assert.deepEqual(
      reports.map((r) => r.message_id),
      sent.slice(-REPORT_ACCOUNT_MESSAGES).map((m) => m.id).reverse(),
    );
    assert.ok(reports.every((r) => r.reason === 'spam' && r.status === 'open'));
    // Again: the same reports, not new ones (the queue counts people, not clicks).
    const again = await alice.client.reportAccount({ handle: spammer.handle, conversation_id: chat.id, reason: 'spam' });
    assert.deepEqual(again.reports.map((r) => r.id), reports.map((r) => r.id));
    assert.equal((await alice.client.myReports()).reports.length, REPORT_ACCOUNT_MESSAGES);
  });

  test('reporting an account: denials', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const stranger = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await rejectsWith(server.anonymous.reportAccount({ handle: bob.handle, conversation_id: chat.id, reason: 'spam' }), 'unauthenticated', 401);
    await rejectsWith(stranger.client.reportAccount({ handle: bob.handle, conversation_id: chat.id, reason: 'spam' }), 'not_a_member', 403);
    await rejectsWith(alice.client.reportAccount({ handle: bob.handle, conversation_id: 'cnv_unknown', reason: 'spam' }), 'not_found', 404);
    await rejectsWith(alice.client.reportAccount({ handle: 'nobody_here_at_all', conversation_id: chat.id, reason: 'spam' }), 'not_found', 404);
    // Nothing of theirs to review in this chat.
    await rejectsWith(alice.client.reportAccount({ handle: bob.handle, conversation_id: chat.id, reason: 'spam' }), 'validation_failed', 400);
    await rejectsWith(alice.client.reportAccount({ handle: alice.handle, conversation_id: chat.id, reason: 'spam' }), 'validation_failed', 400);
    await rejectsWith(alice.client.reportAccount({ handle: bob.handle, conversation_id: chat.id, reason: 'rude' as 'spam' }), 'validation_failed', 400);
  });

  test('reporting an account is rate-limited', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await bob.client.openDirect(alice.handle);
    await bob.client.send(chat.id, { text: 'hello' });
    let limited = false;
    for (let i = 0; i < 15 && !limited; i++) {
      limited = await alice.client.reportAccount({ handle: bob.handle, conversation_id: chat.id, reason: 'spam' }).then(
        () => false,
        (err: { code?: string; status?: number }) => {
          assert.equal(err.status, 429);
          return true;
        },
      );
    }
    assert.ok(limited, 'refused with 429 within 15 reports a minute');
  });

  test('the owner deletes a group: everyone is removed and nobody reads it any more; others may not', async () => {
    const owner = await server.signUp();
    const admin = await server.signUp();
    const member = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'Soon gone', members: [admin.handle, member.handle] });
    await owner.client.setRole(group.id, admin.accountId, 'admin');
    await member.client.send(group.id, { text: 'hi' });
    const cursor = await member.client.updatesState();
    await rejectsWith(admin.client.deleteGroup(group.id), 'forbidden', 403);
    await rejectsWith(member.client.deleteGroup(group.id), 'forbidden', 403);
    await owner.client.deleteGroup(group.id);
    for (const u of [owner, admin, member]) {
      assert.equal((await u.client.conversations()).some((c) => c.id === group.id), false);
      await rejectsWith(u.client.history(group.id), 'not_a_member', 403);
    }
    const removed = (await member.client.updates({ cursor })).events.filter((e) => e.type === 'member.removed');
    assert.ok(removed.some((e) => e.type === 'member.removed' && e.data.account_id === member.accountId && e.data.left === false));
    await rejectsWith(owner.client.send(group.id, { text: 'anyone?' }), 'not_a_member', 403);
  });

  test('deleting a group: denials', async () => {
    const owner = await server.signUp();
    const bob = await server.signUp();
    const direct = await owner.client.openDirect(bob.handle);
    const channel = await owner.client.createConversation({ kind: 'channel', title: 'News', handle: `news${Date.now().toString(36)}` });
    const group = await owner.client.createConversation({ kind: 'group', title: 'G', members: [bob.handle] });
    await rejectsWith(server.anonymous.deleteGroup(group.id), 'unauthenticated', 401);
    await rejectsWith(owner.client.deleteGroup(direct.id), 'forbidden', 403);
    await rejectsWith(owner.client.deleteGroup(channel.id), 'forbidden', 403);
    await rejectsWith(owner.client.deleteGroup('cnv_unknown'), 'not_found', 404);
    await rejectsWith(owner.client.deleteGroup('x'.repeat(65)), 'validation_failed', 400);
    const stranger = await server.signUp();
    await rejectsWith(stranger.client.deleteGroup(group.id), 'not_a_member', 403);
    assert.equal((await bob.client.conversation(group.id)).member_count, 2);
  });
});
