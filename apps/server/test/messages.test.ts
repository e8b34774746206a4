import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

onEachDatabase('messages', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  async function pair() {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    return { alice, bob, chat };
  }

  test('sends, replies, edits, deletes for everyone and reacts', async () => {
    const { alice, bob, chat } = await pair();
    const hello = await alice.client.send(chat.id, { text: 'Hello Bob 👋' });
    assert.equal(hello.seq, 1);
    assert.equal(hello.sender_handle, alice.handle);
    const reply = await bob.client.send(chat.id, { text: 'Hi!', reply_to: hello.id });
    assert.equal(reply.reply_to, hello.id);
    assert.equal(reply.seq, 2);
    const edited = await alice.client.edit(hello.id, 'Hello Bob!');
    assert.equal(edited.text, 'Hello Bob!');
    assert.ok(edited.edited_at);
    const reacted = await bob.client.react(hello.id, '❤️');
    assert.deepEqual(reacted.reactions, [{ emoji: '❤️', count: 1 }]);
    assert.deepEqual((await alice.client.react(hello.id, '❤️')).reactions, [{ emoji: '❤️', count: 2 }]);
    assert.deepEqual((await bob.client.unreact(hello.id, '❤️')).reactions, [{ emoji: '❤️', count: 1 }]);
    await bob.client.deleteMessage(reply.id);
    const { messages } = await alice.client.history(chat.id);
    assert.deepEqual(messages.map((m) => [m.seq, m.text, m.deleted]), [[1, 'Hello Bob!', false], [2, null, true]]);
  });

  test('a caption is editable: changed, added and removed (the photo stays); a message of text alone keeps some text', async () => {
    const { alice, bob, chat } = await pair();
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#2a6' } }).png().toBuffer();
    const upload = await alice.client.upload(png, { filename: 'leaf.png' });
    await alice.client.waitForMedia(upload.id);
    const photo = await alice.client.send(chat.id, { text: 'a leaf', media: [upload.id] });
    const changed = await alice.client.edit(photo.id, 'a green leaf');
    assert.equal(changed.text, 'a green leaf');
    assert.ok(changed.edited_at);
    const removed = await alice.client.edit(photo.id, '');
    assert.equal(removed.text, null);
    assert.equal(removed.media.length, 1, 'the photo stays');
    const seen = await bob.client.message(photo.id);
    assert.equal(seen.text, null);
    assert.equal(seen.media[0]!.id, upload.id);
    assert.equal((await alice.client.edit(photo.id, 'captioned again')).text, 'captioned again');
    // Only the sender edits a caption; text alone cannot be emptied.
    await rejectsWith(bob.client.edit(photo.id, 'mine now'), 'forbidden', 403);
    const words = await alice.client.send(chat.id, { text: 'just words' });
    await rejectsWith(alice.client.edit(words.id, ''), 'validation_failed', 400);
    await rejectsWith(alice.client.edit(words.id, '   '), 'validation_failed', 400);
    assert.equal((await bob.client.message(words.id)).text, 'just words');
  });

  test('says who reacted with each emoji, newest first, to members who can read the message', async () => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const ben = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'reactions', members: [ann.handle, ben.handle] });
    const post = await owner.client.send(group.id, { text: '*party* tonight' });
    await ann.client.react(post.id, '🎉');
    await ben.client.react(post.id, '🎉');
    await ben.client.react(post.id, '👍');
    const details = await owner.client.reactionDetails(post.id);
    assert.equal(details.message_id, post.id);
    const party = details.reactions.find((r) => r.emoji === '🎉')!;
    assert.equal(party.count, 2);
    assert.deepEqual(party.accounts.map((a) => a.handle), [ben.handle, ann.handle]);
    assert.deepEqual(details.reactions.find((r) => r.emoji === '👍')!.accounts.map((a) => a.handle), [ben.handle]);
    await ben.client.unreact(post.id, '🎉');
    assert.deepEqual((await ann.client.reactionDetails(post.id)).reactions.find((r) => r.emoji === '🎉')!.accounts.map((a) => a.handle), [ann.handle]);
  });

  test('refuses who-reacted to strangers (404, as if the message did not exist) and to channel subscribers (403)', async () => {
    const owner = await server.signUp();
    const stranger = await server.signUp();
    const fan = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'private' });
    const post = await owner.client.send(group.id, { text: 'hi' });
    await rejectsWith(stranger.client.reactionDetails(post.id), 'not_found', 404);
    await rejectsWith(stranger.client.reactionDetails('msg_nope'), 'not_found', 404);
    const channel = await owner.client.createConversation({ kind: 'channel', title: 'news', handle: `news${Date.now().toString(36)}` });
    await fan.client.join(channel.id);
    const news = await owner.client.send(channel.id, { text: 'news' });
    await fan.client.react(news.id, '👍');
    await rejectsWith(fan.client.reactionDetails(news.id), 'forbidden', 403);
    assert.equal((await owner.client.reactionDetails(news.id)).reactions[0]!.accounts[0]!.handle, fan.handle);
  });

  test('a bot’s and a business’s messages say who sent them (sender_kind), in the reply, the event and history; a person’s do not', async () => {
    const person = await server.signUp();
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const shop = await server.signUp(undefined, { kind: 'business' });
    const withBot = await person.client.openDirect(bot.handle);
    const withShop = await person.client.openDirect(shop.handle);
    const cursor = await person.client.updatesState();
    const fromBot = await bot.client.send(withBot.id, { text: 'beep' });
    const fromShop = await shop.client.send(withShop.id, { text: 'welcome' });
    const fromPerson = await person.client.send(withBot.id, { text: 'hi' });
    assert.equal(fromBot.sender_kind, 'bot');
    assert.equal(fromShop.sender_kind, 'business');
    assert.equal('sender_kind' in fromPerson, false);
    const events = (await person.client.updates({ cursor })).events.filter((e) => e.type === 'message.created');
    assert.deepEqual(
      events.map((e) => (e.type === 'message.created' ? [e.data.text, e.data.sender_kind ?? null] : null)),
      [['beep', 'bot'], ['welcome', 'business'], ['hi', null]],
    );
    const history = (await person.client.history(withBot.id)).messages;
    assert.deepEqual(history.map((m) => [m.text, m.sender_kind ?? null]), [['beep', 'bot'], ['hi', null]]);
  });

  test('accepts 4,096 characters and refuses 4,097', async () => {
    const { alice, chat } = await pair();
    const longest = 'é'.repeat(4096);
    assert.equal((await alice.client.send(chat.id, { text: longest })).text, longest);
    await rejectsWith(alice.client.send(chat.id, { text: `${longest}x` }), 'validation_failed', 400);
    await rejectsWith(alice.client.send(chat.id, {}), 'validation_failed', 400);
  });

  test('a retried send with the same idempotency key returns the same message, once', async () => {
    const { alice, bob, chat } = await pair();
    const first = await alice.client.send(chat.id, { text: 'pay £10', idempotency_key: 'order-42' });
    const retried = await alice.client.send(chat.id, { text: 'pay £10', idempotency_key: 'order-42' });
    assert.equal(retried.id, first.id);
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => alice.client.send(chat.id, { text: 'again', idempotency_key: 'burst' })));
    assert.equal(new Set(concurrent.map((m) => m.id)).size, 1);
    // The same key from another sender is another message.
    const bobs = await bob.client.send(chat.id, { text: 'mine', idempotency_key: 'order-42' });
    assert.notEqual(bobs.id, first.id);
    const { messages } = await bob.client.history(chat.id);
    assert.equal(messages.length, 3);
  });

  test('history pages backwards and forwards by seq without gaps or repeats', async () => {
    const { alice, bob, chat } = await pair();
    for (let i = 1; i <= 25; i++) await alice.client.send(chat.id, { text: `m${i}` });
    const newest = await bob.client.history(chat.id, { limit: 10 });
    assert.deepEqual(newest.messages.map((m) => m.seq), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    assert.equal(newest.has_more, true);
    const older = await bob.client.history(chat.id, { before: 16, limit: 10 });
    assert.deepEqual(older.messages.map((m) => m.seq), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const oldest = await bob.client.history(chat.id, { before: 6, limit: 10 });
    assert.deepEqual(oldest.messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
    assert.equal(oldest.has_more, false);
    const forward = await bob.client.history(chat.id, { after: 20, limit: 10 });
    assert.deepEqual(forward.messages.map((m) => m.seq), [21, 22, 23, 24, 25]);
    await rejectsWith(bob.client.history(chat.id, { limit: 100_000 }), 'validation_failed', 400);
    await rejectsWith(bob.client.request('GET', `/v1/conversations/${chat.id}/messages?limit=abc`), 'validation_failed', 400);
  });

  test('a forward links to the original and counts hops across chains', async () => {
    const { alice, bob, chat } = await pair();
    const carol = await server.signUp();
    const original = await alice.client.send(chat.id, { text: 'look at this' });
    const bobCarol = await bob.client.openDirect(carol.handle);
    const once = await bob.client.send(bobCarol.id, { forward_of: original.id });
    assert.equal(once.text, 'look at this');
    assert.deepEqual(once.forward, { origin_message_id: original.id, origin_conversation_id: chat.id, origin_sender_id: alice.accountId, hops: 1, label: 'forwarded' });
    const group = await carol.client.createConversation({ kind: 'group', title: 'friends', members: [alice.handle] });
    const twice = await carol.client.send(group.id, { forward_of: once.id });
    assert.equal(twice.forward?.origin_message_id, original.id);
    assert.equal(twice.forward?.hops, 2);
    await rejectsWith(carol.client.edit(twice.id, 'changed'), 'forbidden', 403);
  });

  test('cannot forward what you cannot read, nor reply across conversations', async () => {
    const { alice, chat } = await pair();
    const eve = await server.signUp();
    const secret = await alice.client.send(chat.id, { text: 'secret' });
    const eveChat = await eve.client.openDirect(alice.handle);
    await rejectsWith(eve.client.send(eveChat.id, { forward_of: secret.id }), 'not_a_member', 403);
    await rejectsWith(alice.client.send(eveChat.id, { text: 'x', reply_to: secret.id }), 'validation_failed', 400);
    await rejectsWith(alice.client.send(eveChat.id, { text: 'x', forward_of: secret.id }), 'validation_failed', 400);
  });

  test("only the sender edits; only the sender or a group admin deletes; nobody outside reacts", async () => {
    const owner = await server.signUp();
    const ann = await server.signUp();
    const ben = await server.signUp();
    const eve = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'g', members: [ann.handle, ben.handle] });
    const annMsg = await ann.client.send(group.id, { text: 'spam' });
    await rejectsWith(ben.client.edit(annMsg.id, 'hijack'), 'forbidden', 403);
    await rejectsWith(ben.client.deleteMessage(annMsg.id), 'forbidden', 403);
    await rejectsWith(eve.client.react(annMsg.id, '👍'), 'not_a_member', 403);
    await rejectsWith(eve.client.message(annMsg.id), 'not_a_member', 403);
    await owner.client.deleteMessage(annMsg.id);
    await rejectsWith(ann.client.edit(annMsg.id, 'back'), 'message_deleted', 410);
    await rejectsWith(ann.client.edit('msg_unknown', 'x'), 'not_found', 404);
  });

  test('receipts: per recipient in a direct chat, counts in a group', async () => {
    const { alice, bob, chat } = await pair();
    const m = await alice.client.send(chat.id, { text: 'did you get this?' });
    let receipts = await alice.client.receipts(m.id);
    assert.deepEqual(receipts.per_recipient?.map((r) => r.status), ['sent']);
    const updates = await bob.client.updates();
    await bob.client.ack(updates.cursor);
    receipts = await alice.client.receipts(m.id);
    assert.deepEqual(receipts.per_recipient?.map((r) => [r.handle, r.status]), [[bob.handle, 'delivered']]);
    await bob.client.markRead(chat.id, m.seq);
    receipts = await alice.client.receipts(m.id);
    assert.deepEqual(receipts.per_recipient?.map((r) => r.status), ['read']);
    assert.equal((await alice.client.conversation(chat.id)).peer?.read_seq, m.seq);
    await rejectsWith(bob.client.receipts(m.id), 'forbidden', 403);

    const owner = await server.signUp();
    const members = await Promise.all([1, 2, 3].map(() => server.signUp()));
    const group = await owner.client.createConversation({ kind: 'group', title: 'g', members: members.map((x) => x.handle) });
    const post = await owner.client.send(group.id, { text: 'meeting at 5' });
    await members[0]!.client.markRead(group.id, post.seq);
    await members[1]!.client.ack((await members[1]!.client.updates()).cursor);
    const counts = await owner.client.receipts(post.id);
    assert.deepEqual([counts.recipients, counts.delivered, counts.read], [3, 2, 1]);
  });

  test('one batch of acknowledgements from hundreds of channel subscribers marks each delivered up to the post its device holds; a removed subscriber stays as he was', async () => {
    const owner = await server.signUp();
    const channel = await owner.client.createConversation({ kind: 'channel', title: 'news', handle: `news${Date.now().toString(36)}` });
    // More than one statement's worth (500 accounts) of subscribers, joined as people join.
    const subscribers: Awaited<ReturnType<typeof server.signUp>>[] = [];
    for (let i = 0; i < 510; i += 30) {
      subscribers.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(30, 510 - i) }, async () => {
            const s = await server.signUp();
            await s.client.join(channel.id);
            return s;
          }),
        )),
      );
    }
    const removed = await server.signUp();
    await removed.client.join(channel.id);
    const holdsNothingNew = await subscribers[0]!.client.updatesState();
    const first = await owner.client.send(channel.id, { text: 'first post' });
    const holdsFirst = await subscribers[0]!.client.updatesState();
    const second = await owner.client.send(channel.id, { text: 'second post' });
    const holdsSecond = await subscribers[0]!.client.updatesState();
    await owner.client.removeMember(channel.id, removed.accountId);
    // A direct chat in the same batch still gets its live, per-recipient receipt.
    const { alice, bob, chat } = await pair();
    const direct = await alice.client.send(chat.id, { text: 'and you?' });

    // Devices hold different posts: the first 300 only the first, the rest both, one nothing new.
    const acks = subscribers.map((s, i) => ({ accountId: s.accountId, cursor: i === 509 ? holdsNothingNew : i < 300 ? holdsFirst : holdsSecond }));
    acks.push({ accountId: removed.accountId, cursor: holdsSecond }, { accountId: bob.accountId, cursor: await bob.client.updatesState() });
    await server.services.messaging.acknowledgeMany(acks);

    const [r1, r2] = [await owner.client.receipts(first.id), await owner.client.receipts(second.id)];
    assert.deepEqual([r1.recipients, r1.delivered], [510, 509]);
    assert.deepEqual([r2.recipients, r2.delivered], [510, 209]);
    const marks = await server.db.db
      .selectFrom('members')
      .select(['account_id', 'delivered_seq', 'read_seq'])
      .where('conversation_id', '=', channel.id)
      .execute();
    const mark = new Map(marks.map((m) => [m.account_id, Number(m.delivered_seq)]));
    assert.equal(mark.get(subscribers[0]!.accountId), first.seq);
    assert.equal(mark.get(subscribers[300]!.accountId), second.seq);
    assert.equal(mark.get(subscribers[509]!.accountId), 0, 'a cursor from before the posts delivers none of them');
    assert.equal(mark.get(removed.accountId), 0, "a removed subscriber's acknowledgement changes nothing");
    assert.ok(marks.every((m) => Number(m.read_seq) === 0 || m.account_id === owner.accountId), 'acknowledging reads nothing');
    assert.deepEqual((await alice.client.receipts(direct.id)).per_recipient?.map((r) => r.status), ['delivered']);
  });

  test('reading past the newest message clamps to it', async () => {
    const { alice, bob, chat } = await pair();
    await alice.client.send(chat.id, { text: 'one' });
    assert.deepEqual(await bob.client.markRead(chat.id, 999), { read_seq: 1 });
  });
});
