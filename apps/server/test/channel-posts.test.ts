import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

onEachDatabase('channel posts', (dialect) => {
  let server: TestServer;
  before(async () => {
    // Loopback webhook URLs: nothing is delivered there, the delivery log is what is checked.
    server = await startTestServer({ dialect, config: { outboundAllowPrivate: true } });
  });
  after(() => server.close());

  async function channelWith(subscribers = 1) {
    const owner = await server.signUp();
    const handle = uniqueHandle('daily');
    const channel = await owner.client.createConversation({ kind: 'channel', title: 'Daily news', handle });
    const readers = [];
    for (let i = 0; i < subscribers; i += 1) {
      const reader = await server.signUp();
      await reader.client.join(channel.id);
      readers.push(reader);
    }
    return { owner, handle, channel, readers };
  }

  test("subscribers see the channel as a post's author, never the admin's account or handle", async () => {
    const { owner, handle, channel, readers } = await channelWith(1);
    const reader = readers[0]!;
    const start = (await reader.client.updates({ timeout: 0 })).cursor;
    const sent = await owner.client.send(channel.id, { text: 'Morning edition' });
    assert.equal(sent.sender_id, channel.id);
    assert.equal(sent.sender_handle, handle);
    assert.equal(sent.sender_kind, 'channel');
    assert.equal(sent.signature, undefined);

    const { messages } = await reader.client.history(channel.id);
    const post = messages.find((m) => m.id === sent.id)!;
    assert.equal(post.sender_id, channel.id);
    assert.equal(post.sender_handle, handle);
    assert.equal(post.sender_kind, 'channel');
    const got = await reader.client.message(sent.id);
    const live = await reader.client.updates({ cursor: start, timeout: 0 });
    const created = live.events.find((e) => e.type === 'message.created');
    assert.ok(created, 'the subscriber got the post live');
    // Nothing a subscriber reads names the admin who posted.
    for (const seen of [post, got, created, await reader.client.conversation(channel.id)]) {
      const text = JSON.stringify(seen);
      assert.ok(!text.includes(owner.accountId), `the admin's id leaked: ${text}`);
      assert.ok(!text.includes(owner.handle), `the admin's handle leaked: ${text}`);
    }
  });

  test("search by sender never tells a subscriber which admin wrote a channel's posts; its admins may", async () => {
    const { owner, channel, readers } = await channelWith(1);
    const reader = readers[0]!;
    const post = await owner.client.send(channel.id, { text: 'Evening edition lighthouse' });
    // Found by words, as the channel's.
    const byWords = await reader.client.search({ q: 'lighthouse', conversationId: channel.id });
    assert.deepEqual(byWords.results.map((r) => r.message.id), [post.id]);
    // By the admin's handle: nothing, in the channel and across all chats alike (as for a stranger's handle).
    for (const q of [{ q: 'lighthouse', conversationId: channel.id }, { q: 'lighthouse' }, { conversationId: channel.id }]) {
      const bySender = await reader.client.search({ ...q, from: owner.handle });
      assert.deepEqual(bySender.results, [], JSON.stringify(q));
      assert.deepEqual(bySender, await reader.client.search({ ...q, from: uniqueHandle('nobody') }));
    }
    // The channel's admin finds their own posts by sender.
    const own = await owner.client.search({ q: 'lighthouse', from: owner.handle });
    assert.deepEqual(own.results.map((r) => r.message.id), [post.id]);
  });

  test('a forward of a channel post names the channel as its origin', async () => {
    const { owner, channel, readers } = await channelWith(1);
    const reader = readers[0]!;
    const friend = await server.signUp();
    const chat = await reader.client.openDirect(friend.handle);
    const post = await owner.client.send(channel.id, { text: 'Worth sharing' });
    const forwarded = await reader.client.send(chat.id, { forward_of: post.id });
    assert.equal(forwarded.forward?.origin_sender_id, channel.id);
    const seen = (await friend.client.history(chat.id)).messages.find((m) => m.id === forwarded.id);
    assert.ok(!JSON.stringify(seen).includes(owner.accountId));
  });

  test("a channel that signs its posts shows the posting admin's display name, from then on", async () => {
    const { owner, channel, readers } = await channelWith(1);
    const reader = readers[0]!;
    await owner.client.profiles.update({ display_name: 'Ada Editor' });
    const before = await owner.client.send(channel.id, { text: 'Unsigned' });
    await rejectsWith(reader.client.updateConversation(channel.id, { sign_posts: true }), 'forbidden', 403);
    const updated = await owner.client.updateConversation(channel.id, { sign_posts: true });
    assert.equal(updated.sign_posts, true);
    const signed = await owner.client.send(channel.id, { text: 'Signed' });
    const { messages } = await reader.client.history(channel.id);
    assert.equal(messages.find((m) => m.id === before.id)?.signature, undefined);
    const post = messages.find((m) => m.id === signed.id)!;
    assert.equal(post.signature, 'Ada Editor');
    // Signed, the author is still the channel: the name is a label, not an account.
    assert.equal(post.sender_id, channel.id);
    assert.ok(!JSON.stringify(post).includes(owner.accountId));
    const group = await owner.client.createConversation({ kind: 'group', title: 'G', members: [reader.handle] });
    await rejectsWith(owner.client.updateConversation(group.id, { sign_posts: true }), 'validation_failed', 400);
  });

  test("any of a channel's admins edits its posts; a subscriber cannot", async () => {
    const { owner, channel, readers } = await channelWith(2);
    const [editor, reader] = readers as [NonNullable<(typeof readers)[0]>, NonNullable<(typeof readers)[0]>];
    await owner.client.setRole(channel.id, editor.accountId, 'admin');
    const post = await owner.client.send(channel.id, { text: 'Typo heer' });
    const edited = await editor.client.edit(post.id, 'Typo here');
    assert.equal(edited.text, 'Typo here');
    await rejectsWith(reader.client.edit(post.id, 'Vandalised'), 'forbidden', 403);
  });

  test('each subscriber counts once per post, by reading up to it or viewing it', async () => {
    const { owner, channel, readers } = await channelWith(2);
    const [ann, ben] = readers as [NonNullable<(typeof readers)[0]>, NonNullable<(typeof readers)[0]>];
    const first = await owner.client.send(channel.id, { text: 'One' });
    const second = await owner.client.send(channel.id, { text: 'Two' });
    const views = async () => new Map((await owner.client.history(channel.id)).messages.map((m) => [m.id, m.views]));
    // The admin posting (their own read mark rises) is no view.
    assert.deepEqual([...(await views()).values()], [0, 0]);

    await ann.client.markRead(channel.id, second.seq);
    await ann.client.markRead(channel.id, second.seq);
    assert.deepEqual((await ann.client.viewPosts(channel.id, [first.seq, second.seq])).views, [
      { seq: first.seq, views: 1 },
      { seq: second.seq, views: 1 },
    ]);
    await ben.client.viewPosts(channel.id, [second.seq]);
    await ben.client.viewPosts(channel.id, [second.seq]);
    let counted = await views();
    assert.equal(counted.get(first.id), 1);
    assert.equal(counted.get(second.id), 2);
    // Reading up to the newest post is seeing the ones before it too; the second still counts once.
    await ben.client.markRead(channel.id, second.seq);
    counted = await views();
    assert.equal(counted.get(first.id), 2);
    assert.equal(counted.get(second.id), 2);
    // Subscribers see the count too.
    assert.equal((await ann.client.message(second.id)).views, 2);
  });

  test("a bot that is a channel's admin does not get its own posts by webhook, only the others'", async () => {
    const { owner, channel } = await channelWith(0);
    const { bot, token } = await owner.client.createBot({ handle: uniqueHandle('poster'), name: 'Poster' });
    const botClient = server.anonymous.as(token);
    await botClient.join(channel.id);
    await owner.client.setRole(channel.id, bot.id, 'admin');
    const hook = await botClient.createWebhook({ url: 'http://127.0.0.1:9/hook', events: ['message.created'] });
    await botClient.send(channel.id, { text: 'from the bot' });
    // Deliveries are written in the event's own transaction: what is not there now never will be.
    assert.deepEqual((await botClient.webhookDeliveries(hook.id)).deliveries, []);
    await owner.client.send(channel.id, { text: 'from the owner' });
    const { deliveries } = await botClient.webhookDeliveries(hook.id);
    assert.deepEqual(deliveries.map((d) => d.event_type), ['message.created']);
  });

  test('view calls are for members of a channel, on channel posts only', async () => {
    const { channel } = await channelWith(0);
    const stranger = await server.signUp();
    await rejectsWith(stranger.client.viewPosts(channel.id, [1]), 'not_a_member', 403);
    const owner = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'G', members: [stranger.handle] });
    const message = await owner.client.send(group.id, { text: 'hello' });
    assert.equal(message.views, undefined);
    assert.equal(message.sender_id, owner.accountId);
    await rejectsWith(stranger.client.viewPosts(group.id, [message.seq]), 'validation_failed', 400);
    await rejectsWith(stranger.client.viewPosts(channel.id, []), 'validation_failed', 400);
    await rejectsWith(stranger.client.viewPosts(channel.id, [1e300]), 'validation_failed', 400);
  });
});
