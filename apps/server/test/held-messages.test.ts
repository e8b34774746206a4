/**
 * A message held back (its media pending processing or a moderator's review) leaves no trace for
 * anyone but its sender — no seq, no count, no preview, no event, no reply pointing at it — and
 * once released it reaches exactly the members who were there when it was written: history, the
 * stream, the long poll, receipts and media links agree.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Message, SyncEvent } from '@mmd/sdk';
import sharp from 'sharp';
import { releaseHeld } from '../src/media/index.ts';
import { spreadPolicyFrom } from '../src/messaging/index.ts';
import { createLocalEventBus } from '../src/platform/pubsub/index.ts';
import { createEventWriter } from '../src/sync/index.ts';
import { createServer } from 'node:http';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

/** A small picture with enough detail to be processed like a photo. */
async function picture(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(96 * 64 * 3);
  for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 31 + seed * 97 + ((i / 3) | 0) * 7) & 0xff;
  return sharp(raw, { raw: { width: 96, height: 64, channels: 3 } })
    .png()
    .toBuffer();
}

async function follow(user: User) {
  const events: SyncEvent[] = [];
  const stream = user.client.stream({ onEvent: (e) => events.push(e) });
  await stream.ready;
  return { events, close: () => stream.close() };
}

const mentions = (events: SyncEvent[], id: string) => events.filter((e) => JSON.stringify(e).includes(id));

onEachDatabase('held messages', (dialect) => {
  let server: TestServer;
  let seed = 0;
  before(async () => {
    // Webhooks to a local receiver (the bots' test below).
    server = await startTestServer({ dialect, config: { outboundAllowPrivate: true } });
  });
  after(() => server.close());

  /** A message of `sender`'s held for review: its media item is held, so the message is pending. */
  async function heldMessage(sender: User, conversationId: string, text = 'held caption') {
    seed += 1;
    const { id } = await sender.client.upload(await picture(seed * 13 + (dialect === 'postgres' ? 500 : 0)), { filename: 'p.png' });
    const ready = await sender.client.waitForMedia(id, { timeoutMs: 90_000 });
    assert.equal(ready.status, 'ready');
    // What a hold bank's verdict leaves behind (see safety-banks.test.ts for the full path).
    await server.db.db.updateTable('media').set({ status: 'held' }).where('id', '=', id).execute();
    const message = await sender.client.send(conversationId, { text, media: [id] });
    assert.equal(message.status, 'pending');
    return { message, mediaId: id };
  }

  /**
   * What a moderator's "dismiss" does to a held item (safety/reviews.ts), through a writer wired
   * as app.ts wires it (its taps: webhooks, automation); the hub's poll delivers what it writes.
   */
  async function release(mediaId: string) {
    const write = createEventWriter(server.db, createLocalEventBus(), [server.services.webhooks.tap, server.services.automationRunner.tap]);
    assert.equal(await write((tx, emit) => releaseHeld(tx, emit, { mediaId, now: Date.now(), spread: spreadPolicyFrom(server.config) })), true);
  }

  test('a held message takes no seq until it is released: others see no count, gap, preview or event of it', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const group = await alice.client.createConversation({ kind: 'group', title: 'Counts', members: [bob.handle] });
    const bobSees = await follow(bob);
    t.after(() => bobSees.close());
    const one = await alice.client.send(group.id, { text: 'one' });
    const { message: held, mediaId } = await heldMessage(alice, group.id);

    // Bob: one message, one unread — the held one is not counted anywhere.
    const seen = await bob.client.conversation(group.id);
    assert.equal(seen.last_seq, 1);
    assert.equal(seen.unread_count, 1);
    const listed = (await bob.client.conversations()).find((c) => c.id === group.id)!;
    assert.equal(listed.last_seq, 1);
    assert.equal(listed.unread_count, 1);
    assert.equal((listed.last_message as Message).id, one.id);

    // The next message takes the next seq: no gap betrays a message in between.
    const two = await alice.client.send(group.id, { text: 'two' });
    assert.equal(two.seq, 2);
    assert.deepEqual(
      (await bob.client.history(group.id)).messages.map((m) => m.seq),
      [1, 2],
    );
    assert.equal((await bob.client.conversation(group.id)).unread_count, 2);
    // Reading "everything" reads what exists, nothing beyond.
    assert.equal((await bob.client.markRead(group.id, 99)).read_seq, 2);
    assert.equal((await bob.client.conversation(group.id)).unread_count, 0);

    // Alice sees it in place (after "one"; "two", sent while it waited, comes first), and it
    // counts for nobody.
    const mine = await alice.client.history(group.id);
    assert.deepEqual(
      mine.messages.map((m) => [m.seq, m.text]),
      [
        [1, 'one'],
        [2, 'two'],
        [2, 'held caption'],
      ],
    );
    assert.equal(mine.messages[2]?.status, 'pending');
    // Paging: the older page ends before it, the page after "one" holds both, in that order.
    assert.deepEqual(
      (await alice.client.history(group.id, { before: 2 })).messages.map((m) => m.text),
      ['one'],
    );
    assert.deepEqual(
      (await alice.client.history(group.id, { after: 1, limit: 1 })).messages.map((m) => m.text),
      ['two', 'held caption'],
    );
    assert.equal(((await alice.client.conversation(group.id)).last_message as Message).id, held.id);
    assert.equal((await alice.client.conversation(group.id)).last_seq, 2);
    const receipts = await alice.client.receipts(held.id);
    assert.equal(receipts.delivered, 0);
    assert.equal(receipts.read, 0);

    // Released: it takes the next seq now, and reaches Bob as new.
    await release(mediaId);
    const arrived = await eventually('the released message reaches Bob', () =>
      bobSees.events.find((e) => e.type === 'message.created' && (e.data as Message).id === held.id),
    );
    assert.equal((arrived.data as Message).seq, 3);
    assert.deepEqual(
      (await bob.client.history(group.id)).messages.map((m) => [m.seq, m.text]),
      [
        [1, 'one'],
        [2, 'two'],
        [3, 'held caption'],
      ],
    );
    const after = await bob.client.conversation(group.id);
    assert.equal(after.last_seq, 3);
    assert.equal(after.unread_count, 1);
    assert.equal((after.last_message as Message).id, held.id);
    assert.equal((await alice.client.message(held.id)).seq, 3);
    // Nothing about it went down Bob's stream before it was released.
    const before = bobSees.events.slice(0, bobSees.events.indexOf(arrived));
    assert.deepEqual(mentions(before, held.id), []);
  });

  test('a held message released after a newcomer joined a group hiding its history does not reach the newcomer', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const carol = await server.signUp();
    const group = await alice.client.createConversation({ kind: 'group', title: 'Closed', members: [bob.handle] });
    await alice.client.updateConversation(group.id, { history_visible: false });
    await alice.client.send(group.id, { text: 'before carol' });
    const { message: held, mediaId } = await heldMessage(alice, group.id, 'written before carol joined');
    await alice.client.addMember(group.id, carol.handle);
    const bobSees = await follow(bob);
    const carolSees = await follow(carol);
    t.after(() => {
      bobSees.close();
      carolSees.close();
    });

    await release(mediaId);
    await eventually('Bob, there when it was written, gets it', () =>
      bobSees.events.find((e) => e.type === 'message.created' && (e.data as Message).id === held.id),
    );
    assert.ok((await bob.client.history(group.id)).messages.some((m) => m.id === held.id));
    assert.equal((await bob.client.media(mediaId)).status, 'ready');

    // Carol joined after it was written: not in history, not as a preview, not counted.
    assert.ok(!(await carol.client.history(group.id)).messages.some((m) => m.id === held.id));
    await rejectsWith(carol.client.message(held.id), 'not_found', 404);
    await rejectsWith(carol.client.media(mediaId), 'not_found', 404);
    const hers = await carol.client.conversation(group.id);
    assert.equal(hers.last_message, null);
    assert.equal(hers.unread_count, 0);
    await rejectsWith(carol.client.react(held.id, '👍'), 'not_found', 404);
    await rejectsWith(carol.client.send(group.id, { text: 're', reply_to: held.id }), 'validation_failed', 400);
    // Its receipts count those who could receive it.
    const receipts = await alice.client.receipts(held.id);
    assert.equal(receipts.recipients, 1);
    assert.deepEqual(
      receipts.per_recipient?.map((r) => r.account_id),
      [bob.accountId],
    );

    // Its edits and reactions reach the same members, and only them.
    await alice.client.edit(held.id, 'edited after its release');
    await bob.client.react(held.id, '👍');
    await eventually('Bob sees the edit and the reaction', () =>
      bobSees.events.some((e) => e.type === 'reaction.changed' && (e.data as { message_id: string }).message_id === held.id),
    );
    assert.ok(bobSees.events.some((e) => e.type === 'message.edited' && (e.data as Message).id === held.id));

    // Nor on the stream or the long poll: a later message arrives, the held one never does.
    const marker = await alice.client.send(group.id, { text: 'after carol' });
    await eventually('the marker reaches Carol', () => carolSees.events.some((e) => (e.data as { id?: string }).id === marker.id));
    assert.deepEqual(mentions(carolSees.events, held.id), []);
    assert.deepEqual(mentions((await carol.client.updates({ cursor: 0, limit: 200 })).events, held.id), []);
    const resumed = await follow(carol);
    t.after(() => resumed.close());
    await eventually('a fresh stream replays up to the marker', () => resumed.events.some((e) => (e.data as { id?: string }).id === marker.id));
    assert.deepEqual(mentions(resumed.events, held.id), []);
    assert.deepEqual(
      (await carol.client.history(group.id)).messages.map((m) => m.text),
      ['after carol'],
    );
    assert.equal((await carol.client.conversation(group.id)).unread_count, 1);

    // Its deletion too.
    await alice.client.deleteMessage(held.id);
    const marker2 = await alice.client.send(group.id, { text: 'after the deletion' });
    await eventually('the second marker reaches Carol', () => carolSees.events.some((e) => (e.data as { id?: string }).id === marker2.id));
    await eventually('Bob hears of the deletion', () =>
      bobSees.events.some((e) => e.type === 'message.deleted' && (e.data as { id: string }).id === held.id),
    );
    assert.deepEqual(mentions(carolSees.events, held.id), []);
  });

  test('in a group showing its history, a newcomer gets a message released after they joined', async (t) => {
    const alice = await server.signUp();
    const dan = await server.signUp();
    const group = await alice.client.createConversation({ kind: 'group', title: 'Open', members: [] });
    assert.equal(group.history_visible, true);
    const { message: held, mediaId } = await heldMessage(alice, group.id, 'open to newcomers');
    await alice.client.addMember(group.id, dan.handle);
    const danSees = await follow(dan);
    t.after(() => danSees.close());
    await release(mediaId);
    await eventually('the newcomer gets it live', () =>
      danSees.events.find((e) => e.type === 'message.created' && (e.data as Message).id === held.id),
    );
    assert.ok((await dan.client.history(group.id)).messages.some((m) => m.id === held.id));
  });

  test("a bot's webhook hears of a released held message only if the bot was in the group when it was written", async (t) => {
    const rx = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => rx.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => rx.close(() => resolve())));
    const url = `http://127.0.0.1:${(rx.address() as { port: number }).port}/hook`;
    const alice = await server.signUp();
    const early = await alice.client.createBot({ handle: uniqueHandle('early'), name: 'Early' });
    const late = await alice.client.createBot({ handle: uniqueHandle('late'), name: 'Late' });
    await server.anonymous.as(early.token).createWebhook({ url, events: ['message.created', 'message.edited'] });
    await server.anonymous.as(late.token).createWebhook({ url, events: ['message.created', 'message.edited'] });
    const group = await alice.client.createConversation({ kind: 'group', title: 'Bots', members: [early.bot.handle] });
    await alice.client.updateConversation(group.id, { history_visible: false });
    const { message: held, mediaId } = await heldMessage(alice, group.id, 'for the early bot');
    await alice.client.addMember(group.id, late.bot.handle);
    await release(mediaId);
    await alice.client.edit(held.id, 'edited for the early bot');
    const marker = await alice.client.send(group.id, { text: 'for both bots' });
    // Deliveries are written in the event's own transaction: what is not there now never will be.
    const deliveries = await server.db.db
      .selectFrom('webhook_deliveries')
      .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
      .select(['webhooks.account_id', 'webhook_deliveries.event_type', 'webhook_deliveries.body'])
      .where('webhooks.account_id', 'in', [early.bot.id, late.bot.id])
      .orderBy('webhook_deliveries.seq')
      .execute();
    const heard = (bot: string, id: string) => deliveries.filter((d) => d.account_id === bot && d.body.includes(id)).map((d) => d.event_type);
    assert.deepEqual(heard(early.bot.id, held.id), ['message.created', 'message.edited']);
    assert.deepEqual(heard(late.bot.id, held.id), []);
    assert.deepEqual(heard(late.bot.id, marker.id), ['message.created']);
    // Let the deliveries drain before the receiver closes, so no retries outlive the test.
    await eventually('the deliveries are sent', async () => {
      const left = await server.db.db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').execute();
      return left.length === 0;
    }, 15_000);
  });

  test('a held poll is heard of by nobody when it closes; once released, its counts reach only those it reached', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const carol = await server.signUp();
    const group = await alice.client.createConversation({ kind: 'group', title: 'Polls', members: [bob.handle] });
    await alice.client.updateConversation(group.id, { history_visible: false });
    seed += 1;
    const upload = await alice.client.upload(await picture(seed * 17 + 3 + (dialect === 'postgres' ? 500 : 0)), { filename: 'p.png' });
    assert.equal((await alice.client.waitForMedia(upload.id, { timeoutMs: 90_000 })).status, 'ready');
    await server.db.db.updateTable('media').set({ status: 'held' }).where('id', '=', upload.id).execute();
    const poll = await alice.client.send(group.id, { media: [upload.id], poll: { question: 'Which?', options: ['this', 'that'] } });
    assert.equal(poll.status, 'pending');
    const bobSees = await follow(bob);
    t.after(() => bobSees.close());

    // Its close falls due while it is held (the interactive-close job): nobody else hears of it.
    await server.db.db.updateTable('interactive_contents').set({ closes_at: Date.now() - 1 }).where('message_id', '=', poll.id).execute();
    await server.services.interactive.closeDue(poll.id);
    await server.db.db.updateTable('interactive_contents').set({ closes_at: null, closed_at: null }).where('message_id', '=', poll.id).execute();
    const marker = await alice.client.send(group.id, { text: 'marker' });
    await eventually('the marker reaches Bob', () => bobSees.events.some((e) => (e.data as { id?: string }).id === marker.id));
    assert.deepEqual(mentions(bobSees.events, poll.id), []);

    // Released after Carol joined: Bob's vote updates Bob's counts, never Carol's.
    await alice.client.addMember(group.id, carol.handle);
    const carolSees = await follow(carol);
    t.after(() => carolSees.close());
    await release(upload.id);
    await eventually('Bob gets the poll', () => bobSees.events.some((e) => e.type === 'message.created' && (e.data as Message).id === poll.id));
    await bob.client.vote(poll.id, [0]);
    await eventually('Bob hears the counts', () => bobSees.events.some((e) => e.type === 'poll.updated' && (e.data as { message_id: string }).message_id === poll.id));
    const marker2 = await alice.client.send(group.id, { text: 'marker 2' });
    await eventually('the marker reaches Carol', () => carolSees.events.some((e) => (e.data as { id?: string }).id === marker2.id));
    assert.deepEqual(mentions(carolSees.events, poll.id), []);
    await rejectsWith(carol.client.vote(poll.id, [1]), 'not_found', 404);
  });

  test('a sender who left hears nothing more of the votes and taps on their old messages', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const group = await bob.client.createConversation({ kind: 'group', title: 'Left', members: [alice.handle, bot.handle] });
    const poll = await alice.client.sendPoll(group.id, { question: 'Where?', options: ['here', 'there'], anonymous: false });
    const keyboard = await bot.client.send(group.id, { text: 'Tap', buttons: [[{ type: 'callback', text: 'Go', data: 'go' }]] });
    await bob.client.vote(poll.id, [0]);
    const aliceSees = await follow(alice);
    const botSees = await follow(bot);
    t.after(() => {
      aliceSees.close();
      botSees.close();
    });
    await eventually('while a member, Alice hears who voted', () => aliceSees.events.some((e) => e.type === 'poll.answer'));

    await alice.client.removeMember(group.id, alice.accountId);
    await bob.client.removeMember(group.id, bot.accountId);
    await bob.client.vote(poll.id, [1]);
    const tap = await bob.client.interact(keyboard.id, { kind: 'button', id: keyboard.buttons![0]![0]!.id });
    assert.equal(tap.answer, null, 'nobody is left to answer');
    // Something Alice and the bot do hear, after which nothing about the group may have come.
    const mark = await alice.client.openDirect(bot.handle);
    await eventually('a later event reaches Alice', () => aliceSees.events.some((e) => e.conversation_id === mark.id));
    await eventually('a later event reaches the bot', () => botSees.events.some((e) => e.conversation_id === mark.id));
    const about = (events: SyncEvent[]) => events.filter((e) => e.type === 'poll.answer' || e.type === 'callback.query');
    assert.equal(about(aliceSees.events).length, 1, 'only the vote made while she was a member');
    assert.deepEqual(about(botSees.events), []);
  });

  test('a reply cannot point at a held message, not even its sender’s own', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const { message: held } = await heldMessage(alice, chat.id);
    await rejectsWith(alice.client.send(chat.id, { text: 'as I was saying', reply_to: held.id }), 'validation_failed', 400);
    await rejectsWith(bob.client.send(chat.id, { text: 'what?', reply_to: held.id }), 'validation_failed', 400);
  });

  test("a business greets a contact on their first delivered message, whatever they wrote first that is still held", async () => {
    const shop = await server.signUp(undefined, { kind: 'business' });
    await shop.client.automation.updateSettings({ enabled: true, greeting: { enabled: true, text: 'Welcome!' } });
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    const { message: held, mediaId } = await heldMessage(ann, chat.id, 'a photo first');
    await ann.client.send(chat.id, { text: 'hi' });
    const greetings = async () => (await ann.client.history(chat.id, { limit: 100 })).messages.filter((m) => m.automated);
    await eventually('the greeting answers the first delivered message', async () => (await greetings()).length === 1);
    await release(mediaId);
    await eventually('the held message is delivered', async () =>
      (await shop.client.history(chat.id)).messages.some((m) => m.text === 'a photo first'),
    );
    // Automation has run on the released message too (the queue's totals would also count other
    // tests' jobs scheduled for later, so ask automation what it did with this one).
    await eventually('automation handled the released message', async () => (await shop.client.automation.activity(100)).some((a) => a.message_id === held.id), 30_000);
    assert.deepEqual(
      (await greetings()).map((m) => m.text),
      ['Welcome!'],
      'greeted once',
    );
  });

  test('a held message does not make its sender a contact of someone who only lets contacts add them', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    await bob.client.setPrivacy({ add_me: 'contacts' });
    const chat = await bob.client.openDirect(alice.handle);
    // Bob's only message to Alice is held: she never received it, so she learns nothing from adding him.
    await heldMessage(bob, chat.id);
    const group = await alice.client.createConversation({ kind: 'group', title: 'Probe', members: [bob.handle] });
    assert.deepEqual(group.invited, [bob.handle]);
    await bob.client.send(chat.id, { text: 'hi Alice' });
    const second = await alice.client.createConversation({ kind: 'group', title: 'Probe 2', members: [bob.handle] });
    assert.equal(second.invited, undefined);
    assert.equal(second.member_count, 2);
  });
});
