import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_PINNED_CHATS, MUTED_FOREVER } from '@mmd/contracts';
import type { SyncEvent } from '@mmd/sdk';
import { type TestServer, type User, onEachDatabase, rejectsWith, secondDevice, startTestServer } from './harness.ts';

onEachDatabase('chat settings', (dialect) => {
  let server: TestServer;
  let now = 1_800_000_000_000;
  before(async () => {
    server = await startTestServer({ dialect, clock: () => now });
  });
  after(() => server.close());


  async function eventsAfter(client: User['client'], cursor: number): Promise<SyncEvent[]> {
    return (await client.updates({ cursor })).events;
  }

  test('mute for 8 hours, a week, always, and off again', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    assert.equal((await alice.client.chatSettings(chat.id)).muted_until, null);
    assert.equal((await alice.client.updateChatSettings(chat.id, { mute: '8h' })).muted_until, now + 8 * 3600_000);
    assert.equal((await alice.client.updateChatSettings(chat.id, { mute: '1w' })).muted_until, now + 7 * 24 * 3600_000);
    assert.equal((await alice.client.updateChatSettings(chat.id, { mute: 'always' })).muted_until, MUTED_FOREVER);
    const listed = (await alice.client.conversations()).find((c) => c.id === chat.id);
    assert.equal(listed?.settings?.muted_until, MUTED_FOREVER);
    assert.equal((await alice.client.updateChatSettings(chat.id, { mute: 'off' })).muted_until, null);
    // Bob's side of the same chat is his own business: untouched.
    assert.equal((await bob.client.chatSettings(chat.id)).muted_until, null);
  });

  test(`pins at most ${MAX_PINNED_CHATS} chats, listed first with the latest pin on top; the next one is refused with pin_limit`, async () => {
    const me = await server.signUp();
    const chats = [];
    for (let i = 0; i < MAX_PINNED_CHATS + 1; i++) {
      const other = await server.signUp();
      chats.push(await me.client.openDirect(other.handle));
    }
    for (const [i, c] of chats.slice(0, MAX_PINNED_CHATS).entries()) {
      now += 1000;
      const s = await me.client.updateChatSettings(c.id, { pinned: true });
      assert.equal(s.pinned_at, now, `pin ${i + 1}`);
    }
    const sixth = chats[MAX_PINNED_CHATS]!;
    await rejectsWith(me.client.updateChatSettings(sixth.id, { pinned: true }), 'pin_limit', 409);
    assert.equal((await me.client.chatSettings(sixth.id)).pinned_at, null);
    // Pinning a pinned chat again is no sixth pin, and keeps its place.
    const again = await me.client.updateChatSettings(chats[0]!.id, { pinned: true });
    assert.notEqual(again.pinned_at, now);
    const list = await me.client.conversations();
    assert.deepEqual(
      list.slice(0, MAX_PINNED_CHATS).map((c) => c.id),
      chats.slice(0, MAX_PINNED_CHATS).map((c) => c.id).reverse(),
    );
    await me.client.updateChatSettings(chats[2]!.id, { pinned: false });
    now += 1000;
    assert.equal((await me.client.updateChatSettings(sixth.id, { pinned: true })).pinned_at, now);
    assert.equal((await me.client.conversations())[0]?.id, sixth.id);
  });

  test('archive and mark unread reach all of my devices through the stream, and nobody else', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const phone = await secondDevice(server, alice);
    const chat = await alice.client.openDirect(bob.handle);
    const phoneCursor = await phone.updatesState();
    const bobCursor = await bob.client.updatesState();
    await alice.client.updateChatSettings(chat.id, { archived: true, marked_unread: true });
    const seen = (await eventsAfter(phone, phoneCursor)).filter((e) => e.type === 'chat.settings_updated');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.conversation_id, null);
    assert.deepEqual(seen[0]!.data, { conversation_id: chat.id, muted_until: null, pinned_at: null, archived: true, marked_unread: true, cleared_seq: 0 });
    assert.equal((await eventsAfter(bob.client, bobCursor)).some((e) => e.type === 'chat.settings_updated'), false);
    const listed = (await phone.conversations()).find((c) => c.id === chat.id);
    assert.equal(listed?.settings?.archived, true);
    assert.equal(listed?.settings?.marked_unread, true);
    assert.equal((await bob.client.conversation(chat.id)).settings?.archived, false);
  });

  test('denials: no token, not a member, unknown chat, bad input', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const stranger = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await rejectsWith(server.anonymous.chatSettings(chat.id), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.updateChatSettings(chat.id, { archived: true }), 'unauthenticated', 401);
    await rejectsWith(stranger.client.chatSettings(chat.id), 'not_a_member', 403);
    await rejectsWith(stranger.client.updateChatSettings(chat.id, { pinned: true }), 'not_a_member', 403);
    await rejectsWith(alice.client.updateChatSettings('cnv_nope', { pinned: true }), 'not_found', 404);
    await rejectsWith(alice.client.updateChatSettings(chat.id, {}), 'validation_failed', 400);
    await rejectsWith(alice.client.updateChatSettings(chat.id, { mute: '2h' as '8h' }), 'validation_failed', 400);
    await rejectsWith(alice.client.updateChatSettings(chat.id, { archived: 'yes' as unknown as boolean }), 'validation_failed', 400);
    await rejectsWith(alice.client.updateChatSettings(chat.id, { pinned: true, colour: 'red' } as never), 'validation_failed', 400);
    // A member who left keeps nothing to change there.
    const group = await alice.client.createConversation({ kind: 'group', title: 'G', members: [bob.handle] });
    await bob.client.removeMember(group.id, bob.accountId);
    await rejectsWith(bob.client.updateChatSettings(group.id, { archived: true }), 'not_a_member', 403);
  });
});
