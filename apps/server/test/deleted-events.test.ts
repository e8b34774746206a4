/**
 * A message deleted for everyone or taken down leaves no copy of its content in the event log:
 * a member (or a bot) catching up from an old cursor — GET /v1/updates, the stream's catch-up,
 * Telegram's getUpdates — sees its earlier `message.created` and `message.edited` events as the
 * deleted message, never the words, media or buttons it once carried.
 */
import assert from 'node:assert/strict';
import { type TestContext, after, before, test } from 'node:test';
import type { SyncEvent } from '@mmd/sdk';
import { type TestServer, type User, eventually, onEachDatabase, startTestServer, uniqueHandle } from './harness.ts';
import { signUpModerator } from './safety-fixtures.ts';

onEachDatabase('deleted messages leave no content in the event log', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  /** Every event `user` reads catching up from cursor 0 through GET /v1/updates, page by page. */
  async function catchUp(user: User): Promise<SyncEvent[]> {
    const all: SyncEvent[] = [];
    let cursor = 0;
    for (;;) {
      const page = await user.client.updates({ cursor, limit: 100 });
      all.push(...page.events);
      if (page.events.length === 0 || page.cursor === cursor) return all;
      cursor = page.cursor;
    }
  }

  /** The stream's catch-up from cursor 0, up to the deletion of `messageId`. */
  async function streamCatchUp(t: TestContext, user: User, messageId: string): Promise<SyncEvent[]> {
    const events: SyncEvent[] = [];
    const stream = user.client.stream({ cursor: 0, onEvent: (e) => events.push(e) });
    t.after(() => stream.close());
    await stream.ready;
    await eventually('the deletion in the catch-up', () => events.some((e) => e.type === 'message.deleted' && (e.data as { id: string }).id === messageId));
    stream.close();
    return events;
  }

  /** The message's own events: each now shows the deleted message. */
  function assertRedacted(events: SyncEvent[], messageId: string, secret: RegExp, removed = false) {
    assert.doesNotMatch(JSON.stringify(events), secret, 'no event carries the deleted content');
    const own = events.filter((e) => (e.type === 'message.created' || e.type === 'message.edited') && (e.data as { id: string }).id === messageId);
    assert.ok(own.length >= 1, 'the message’s events are still there, in place');
    for (const e of own) {
      const m = e.data as Record<string, unknown>;
      assert.equal(m.deleted, true);
      assert.equal(m.text, null);
      assert.deepEqual(m.media, []);
      assert.equal(m.poll ?? null, null);
      assert.equal(m.buttons ?? null, null);
      assert.equal(m.removed ?? false, removed);
    }
  }

  test('deleted for everyone by its sender or an admin: no text, no poll, in /v1/updates or the stream catch-up', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    // Buttons come from bots and businesses.
    const carol = await server.signUp(undefined, { kind: 'business' });
    const chat = await alice.client.openDirect(bob.handle);
    const kept = await alice.client.send(chat.id, { text: 'kept words' });
    const sent = await alice.client.send(chat.id, { text: 'secret draft one' });
    await alice.client.edit(sent.id, 'secret draft two');
    await alice.client.deleteMessage(sent.id);

    // In a group, an admin deletes a member's poll and buttons.
    const group = await alice.client.createConversation({ kind: 'group', title: 'team', members: [bob.handle, carol.handle] });
    const poll = await carol.client.send(group.id, { poll: { question: 'secret question?', options: ['secret yes', 'secret no'] } });
    const withButtons = await carol.client.send(group.id, { text: 'secret buttons', buttons: [[{ type: 'callback', text: 'secret press', data: 'secret-data' }]] });
    await alice.client.deleteMessage(poll.id);
    await alice.client.deleteMessage(withButtons.id);

    const secret = /secret/;
    const updates = await catchUp(bob);
    assertRedacted(updates, sent.id, secret);
    assertRedacted(updates, poll.id, secret);
    assertRedacted(updates, withButtons.id, secret);
    // Other messages keep their content.
    assert.ok(updates.some((e) => e.type === 'message.created' && (e.data as { text: string }).text === 'kept words' && (e.data as { id: string }).id === kept.id));
    const streamed = await streamCatchUp(t, bob, withButtons.id);
    assertRedacted(streamed, sent.id, secret);
    assertRedacted(streamed, poll.id, secret);
    // The sender's own catch-up too.
    assertRedacted(await catchUp(alice), sent.id, secret);
    // A key that may follow events but not read content still gets them withheld, as before.
    const { key } = await carol.client.createApiKey({ name: 'blind', scopes: ['updates:read'] });
    const blind = (await server.anonymous.as(key).updates({ cursor: 0, limit: 200 })).events;
    assert.doesNotMatch(JSON.stringify(blind), secret);
    const created = blind.find((e) => e.type === 'message.created' && (e.data as { id: string }).id === poll.id);
    assert.deepEqual(created && [(created.data as { text: null }).text, (created.data as { content_withheld?: boolean }).content_withheld], [null, true]);
  });

  test('taken down by moderators: the earlier events show it removed, with no text', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const mod = await signUpModerator(server);
    const channel = await alice.client.createConversation({ kind: 'channel', title: 'news', handle: uniqueHandle('news') });
    await bob.client.join(channel.id);
    const post = await alice.client.send(channel.id, { text: 'forbidden words' });
    await alice.client.edit(post.id, 'forbidden words, edited');
    const done = await mod.client.takedown({ message_id: post.id, reason: 'spam' });
    assert.equal(done.messages_removed, 1);
    const secret = /forbidden/;
    const updates = await catchUp(bob);
    assertRedacted(updates, post.id, secret, true);
    assertRedacted(await streamCatchUp(t, bob, post.id), post.id, secret, true);
  });

  test('Telegram getUpdates gives a bot no update carrying a deleted message', async () => {
    const owner = await server.signUp();
    const { bot, token } = await owner.client.createBot({ handle: uniqueHandle('bot'), name: 'Test bot' });
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    const before = await person.client.send(chat.id, { text: 'hello bot' });
    const sent = await person.client.send(chat.id, { text: 'secret for the bot' });
    await person.client.edit(sent.id, 'secret for the bot, edited');
    await person.client.deleteMessage(sent.id);
    const response = await fetch(`${server.url}/telegram/bot${token}/getUpdates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const reply = (await response.json()) as { ok: boolean; result: { message?: { text?: string }; edited_message?: { text?: string } }[] };
    assert.equal(reply.ok, true);
    assert.doesNotMatch(JSON.stringify(reply.result), /secret/);
    assert.deepEqual(
      reply.result.map((u) => u.message?.text ?? u.edited_message?.text),
      [before.text],
      'only the message still there',
    );
  });
});
