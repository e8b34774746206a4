/**
 * Who reads and changes what in a conversation: held messages stay with their sender on every
 * read path, history follows membership windows, edits follow current rights, subscriber lists
 * are for channel admins, ownership passes on when an owner leaves.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SyncEvent } from '@mmd/sdk';
import sharp from 'sharp';
import {
  type TestServer,
  type User,
  eventually,
  onEachDatabase,
  rejectsWith,
  startTestServer,
} from './harness.ts';
import { INVITATION_TTL_MS } from '../src/conversations/service.ts';

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

onEachDatabase('access', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  /** A message of `sender`'s held for review: its media item is held, so the message is pending. */
  async function heldMessage(sender: User, conversationId: string, text = 'held caption') {
    const { id } = await sender.client.upload(await picture(Math.floor(Math.random() * 1000)), {
      filename: 'p.png',
    });
    const ready = await sender.client.waitForMedia(id, { timeoutMs: 90_000 });
    assert.equal(ready.status, 'ready');
    // What a hold bank's verdict leaves behind (see safety-banks.test.ts for the full path).
    await server.db.db.updateTable('media').set({ status: 'held' }).where('id', '=', id).execute();
    const message = await sender.client.send(conversationId, { text, media: [id] });
    assert.equal(message.status, 'pending');
    return { message, mediaId: id };
  }

  test('a held message is visible to its sender only, on every read path, and cannot be edited, reacted to or forwarded', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const group = await alice.client.createConversation({
      kind: 'group',
      title: 'Review',
      members: [bob.handle],
    });
    await alice.client.setRole(group.id, bob.accountId, 'admin');
    const other = await bob.client.createConversation({
      kind: 'group',
      title: 'Elsewhere',
      members: [alice.handle],
    });
    const bobSees = await follow(bob);
    t.after(() => bobSees.close());
    const before = await alice.client.send(group.id, { text: 'visible' });
    const { message: held, mediaId } = await heldMessage(alice, group.id);

    // The sender keeps seeing it, and cannot change it while it is held.
    assert.ok((await alice.client.history(group.id)).messages.some((m) => m.id === held.id));
    assert.equal((await alice.client.message(held.id)).status, 'pending');
    assert.equal(((await alice.client.conversation(group.id)).last_message as { id: string }).id, held.id);
    await rejectsWith(alice.client.edit(held.id, 'new caption for everyone'), 'conflict', 409);
    await rejectsWith(alice.client.react(held.id, '👍'), 'conflict', 409);
    await rejectsWith(alice.client.send(other.id, { forward_of: held.id }), 'not_found', 404);

    // Everyone else: as if it did not exist.
    assert.ok(!(await bob.client.history(group.id)).messages.some((m) => m.id === held.id));
    await rejectsWith(bob.client.message(held.id), 'not_found', 404);
    assert.equal(((await bob.client.conversation(group.id)).last_message as { id: string }).id, before.id);
    const listed = (await bob.client.conversations()).find((c) => c.id === group.id);
    assert.equal((listed?.last_message as { id: string } | undefined)?.id, before.id);
    await rejectsWith(bob.client.receipts(held.id), 'not_found', 404);
    await rejectsWith(bob.client.react(held.id, '👍'), 'not_found', 404);
    await rejectsWith(bob.client.unreact(held.id, '👍'), 'not_found', 404);
    await rejectsWith(bob.client.edit(held.id, 'x'), 'not_found', 404);
    await rejectsWith(bob.client.deleteMessage(held.id), 'not_found', 404);
    await rejectsWith(bob.client.send(other.id, { forward_of: held.id }), 'not_found', 404);
    await rejectsWith(
      bob.client.send(group.id, { text: 'reply', reply_to: held.id }),
      'validation_failed',
      400,
    );
    await rejectsWith(bob.client.media(mediaId), 'not_found', 404);

    // Nothing of it went down the stream or the long poll.
    const marker = await alice.client.send(group.id, { text: 'marker' });
    await eventually('the marker arrives', () =>
      bobSees.events.some((e) => (e.data as { id?: string }).id === marker.id),
    );
    const leaked = (events: SyncEvent[]) =>
      events.filter((e) => JSON.stringify(e).includes(held.id) || JSON.stringify(e).includes('held caption'));
    assert.deepEqual(leaked(bobSees.events), []);
    assert.deepEqual(leaked((await bob.client.updates({ cursor: 0, limit: 200 })).events), []);

    // Its sender may still withdraw it, and only the sender's devices hear of that.
    await alice.client.deleteMessage(held.id);
    const marker2 = await alice.client.send(group.id, { text: 'marker 2' });
    await eventually('the second marker arrives', () =>
      bobSees.events.some((e) => (e.data as { id?: string }).id === marker2.id),
    );
    assert.deepEqual(leaked(bobSees.events), []);
  });

  test('an owner who leaves passes ownership to the longest-serving admin, else the longest-serving member', async () => {
    const owner = await server.signUp();
    const early = await server.signUp();
    const lateAdmin = await server.signUp();
    const group = await owner.client.createConversation({
      kind: 'group',
      title: 'Heirs',
      members: [early.handle],
    });
    await owner.client.addMember(group.id, lateAdmin.handle);
    await owner.client.setRole(group.id, lateAdmin.accountId, 'admin');
    await owner.client.removeMember(group.id, owner.accountId);
    assert.equal(
      (await lateAdmin.client.conversation(group.id)).my_role,
      'owner',
      'an admin comes before a longer-serving member',
    );
    await lateAdmin.client.removeMember(group.id, lateAdmin.accountId);
    const inherited = await early.client.conversation(group.id);
    assert.equal(inherited.my_role, 'owner', 'with no admin left, the longest-serving member');
    const newcomer = await server.signUp();
    await early.client.addMember(group.id, newcomer.handle);
    await early.client.setRole(group.id, newcomer.accountId, 'admin');
  });

  test('edits and deletes follow current rights: a demoted channel admin cannot touch old posts', async () => {
    const owner = await server.signUp();
    const writer = await server.signUp();
    const channel = await owner.client.createConversation({
      kind: 'channel',
      title: 'News',
      handle: `n${writer.handle}`,
    });
    await writer.client.join(channel.id);
    await owner.client.setRole(channel.id, writer.accountId, 'admin');
    const post = await writer.client.send(channel.id, { text: 'first' });
    assert.equal((await writer.client.edit(post.id, 'first, edited')).text, 'first, edited');
    await owner.client.setRole(channel.id, writer.accountId, 'member');
    await rejectsWith(writer.client.edit(post.id, 'rewritten after demotion'), 'forbidden', 403);
    await rejectsWith(writer.client.deleteMessage(post.id), 'forbidden', 403);
    assert.equal((await owner.client.message(post.id)).text, 'first, edited');
    // A removed group member cannot edit what they wrote either.
    const group = await owner.client.createConversation({
      kind: 'group',
      title: 'G',
      members: [writer.handle],
    });
    const said = await writer.client.send(group.id, { text: 'mine' });
    await owner.client.removeMember(group.id, writer.accountId);
    await rejectsWith(writer.client.edit(said.id, 'changed from outside'), 'not_a_member', 403);
  });

  test("a channel's subscriber list is for its admins only", async () => {
    const owner = await server.signUp();
    const reader = await server.signUp();
    const channel = await owner.client.createConversation({
      kind: 'channel',
      title: 'Quiet',
      handle: `q${reader.handle}`,
    });
    await reader.client.join(channel.id);
    await rejectsWith(reader.client.members(channel.id), 'forbidden', 403);
    const outsider = await server.signUp();
    await rejectsWith(outsider.client.members(channel.id), 'not_a_member', 403);
    assert.deepEqual(
      (await owner.client.members(channel.id)).members.map((m) => m.handle).sort(),
      [owner.handle, reader.handle].sort(),
    );
  });

  test('a member removed and re-added does not read what was sent while out', async () => {
    const owner = await server.signUp();
    const bob = await server.signUp();
    const group = await owner.client.createConversation({
      kind: 'group',
      title: 'Windows',
      members: [bob.handle],
    });
    const before = await owner.client.send(group.id, { text: 'before' });
    await owner.client.removeMember(group.id, bob.accountId);
    const whileOut = await owner.client.send(group.id, { text: 'while bob was out' });
    await owner.client.addMember(group.id, bob.handle);
    const afterwards = await owner.client.send(group.id, { text: 'after' });
    assert.deepEqual(
      (await bob.client.history(group.id)).messages.map((m) => m.text),
      ['before', 'after'],
    );
    assert.deepEqual(
      (await bob.client.history(group.id, { after: 0 })).messages.map((m) => m.id),
      [before.id, afterwards.id],
    );
    await rejectsWith(bob.client.message(whileOut.id), 'not_found', 404);
    await rejectsWith(bob.client.react(whileOut.id, '👍'), 'not_found', 404);
    await rejectsWith(
      bob.client.send(group.id, { text: 're', reply_to: whileOut.id }),
      'validation_failed',
      400,
    );
    const own = await bob.client.openDirect(owner.handle);
    await rejectsWith(bob.client.send(own.id, { forward_of: whileOut.id }), 'not_found', 404);
    // The owner, there all along, reads everything.
    assert.equal((await owner.client.history(group.id)).messages.length, 3);
  });

  test('groups choose whether new members read earlier history; channels always show it', async () => {
    const owner = await server.signUp();
    const [carl, dan, member, stranger] = await Promise.all([
      server.signUp(),
      server.signUp(),
      server.signUp(),
      server.signUp(),
    ]);
    const group = await owner.client.createConversation({
      kind: 'group',
      title: 'Small',
      members: [member.handle],
    });
    assert.equal(group.history_visible, true, 'small groups show history by default');
    await owner.client.send(group.id, { text: 'old news' });
    await owner.client.addMember(group.id, carl.handle);
    assert.deepEqual(
      (await carl.client.history(group.id)).messages.map((m) => m.text),
      ['old news'],
    );

    await rejectsWith(
      member.client.updateConversation(group.id, { history_visible: false }),
      'forbidden',
      403,
    );
    await rejectsWith(
      stranger.client.updateConversation(group.id, { history_visible: false }),
      'not_a_member',
      403,
    );
    await rejectsWith(owner.client.updateConversation(group.id, {} as never), 'validation_failed', 400);
    const hidden = await owner.client.updateConversation(group.id, { history_visible: false });
    assert.equal(hidden.history_visible, false);
    await owner.client.addMember(group.id, dan.handle);
    assert.deepEqual((await dan.client.history(group.id)).messages, []);
    assert.equal((await dan.client.conversation(group.id)).last_message, null);
    assert.equal((await dan.client.conversations()).find((c) => c.id === group.id)?.last_message, null);
    await owner.client.send(group.id, { text: 'welcome' });
    assert.deepEqual(
      (await dan.client.history(group.id)).messages.map((m) => m.text),
      ['welcome'],
    );

    // A bot's key needs the conversations:write scope to change settings.
    const bot = await server.signUp(undefined, { kind: 'bot' });
    await owner.client.addMember(group.id, bot.handle);
    await owner.client.setRole(group.id, bot.accountId, 'admin');
    const { key } = await bot.client.createApiKey({ name: 'reader', scopes: ['messages:read'] });
    await rejectsWith(
      bot.client.as(key).updateConversation(group.id, { history_visible: true }),
      'insufficient_scope',
      403,
    );

    const channel = await owner.client.createConversation({
      kind: 'channel',
      title: 'Open',
      handle: `o${dan.handle}`,
    });
    assert.equal(channel.history_visible, true);
    await owner.client.send(channel.id, { text: 'first post' });
    await dan.client.join(channel.id);
    assert.deepEqual(
      (await dan.client.history(channel.id)).messages.map((m) => m.text),
      ['first post'],
    );
    await rejectsWith(
      owner.client.updateConversation(channel.id, { history_visible: false }),
      'validation_failed',
      400,
    );
  });

  test('groups over 100 members hide earlier history from newcomers by default', async () => {
    const owner = await server.signUp();
    const crowd: User[] = [];
    while (crowd.length < 100)
      crowd.push(...(await Promise.all(Array.from({ length: 20 }, () => server.signUp()))));
    const group = await owner.client.createConversation({
      kind: 'group',
      title: 'Crowd',
      members: crowd.map((u) => u.handle),
    });
    assert.equal(group.member_count, 101);
    assert.equal(group.history_visible, false);
    await owner.client.send(group.id, { text: 'before the newcomer' });
    const newcomer = await server.signUp();
    await owner.client.addMember(group.id, newcomer.handle);
    assert.deepEqual((await newcomer.client.history(group.id)).messages, []);
    assert.equal((await crowd[0]!.client.history(group.id)).messages.length, 1, 'founding members read it');
  });

  test('titles refuse bidirectional controls and text that shows nothing', async () => {
    const owner = await server.signUp();
    for (const title of [
      'Pay \u202Egnp.exe',
      'a\u2066b\u2069',
      '\u200B\u200B',
      '   ',
      '\u3164',
      '\u2800\u2800',
      'line\nbreak',
    ]) {
      await rejectsWith(owner.client.createConversation({ kind: 'group', title }), 'validation_failed', 400);
    }
    const group = await owner.client.createConversation({ kind: 'group', title: 'שלום world 🎉' });
    await rejectsWith(
      owner.client.updateConversation(group.id, { title: '\u202Dreversed' }),
      'validation_failed',
      400,
    );
    assert.equal((await owner.client.updateConversation(group.id, { title: 'Renamed' })).title, 'Renamed');
  });

  test('handles are unique ignoring case and look-alikes, across people and channels', async () => {
    const stem = `h${process.pid}${Date.now().toString(36)}`.replace(
      /[0-9]/g,
      (d) => 'abcdefghij'[Number(d)]!,
    );
    const alice = await server.signUp(`${stem}alice`);
    for (const lookalike of [`${stem}aIice`, `${stem.toUpperCase()}ALICE`, `${stem}AIice`, `${stem}a1ice`]) {
      await rejectsWith(
        server.anonymous.createAccount({ handle: lookalike, password: 'correct horse battery' }),
        'handle_taken',
        409,
      );
    }
    await server.signUp(`${stem}bob`);
    await rejectsWith(
      server.anonymous.createAccount({ handle: `${stem}b0b`, password: 'correct horse battery' }),
      'handle_taken',
      409,
    );
    await server.signUp(`${stem}mary`);
    await rejectsWith(
      server.anonymous.createAccount({ handle: `${stem}rnary`, password: 'correct horse battery' }),
      'handle_taken',
      409,
    );
    // One namespace: a channel cannot take a person's handle, nor a person a channel's.
    await rejectsWith(
      alice.client.createConversation({ kind: 'channel', title: 'Fake', handle: `${stem}BOB` }),
      'handle_taken',
      409,
    );
    await rejectsWith(
      alice.client.createConversation({ kind: 'channel', title: 'Fake', handle: `${stem}b0b` }),
      'handle_taken',
      409,
    );
    await alice.client.createConversation({ kind: 'channel', title: 'News', handle: `${stem}news` });
    await rejectsWith(
      server.anonymous.createAccount({ handle: `${stem}NEWS`, password: 'correct horse battery' }),
      'handle_taken',
      409,
    );
    await rejectsWith(
      alice.client.createConversation({ kind: 'channel', title: 'News', handle: `${stem}news` }),
      'handle_taken',
      409,
    );
    // Different handles stay available.
    await server.signUp(`${stem}alicia`);
  });

  test('a block stops direct messages, new direct chats and adds, silently for adds; unblocking restores them', async () => {
    const [alice, bob, carol] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    const direct = await alice.client.openDirect(bob.handle);
    const fromBob = await bob.client.send(direct.id, { text: 'hi alice' });
    await alice.client.send(direct.id, { text: 'hi bob' });

    const blocked = await bob.client.block(`@${alice.handle}`);
    assert.equal(blocked.account_id, alice.accountId);
    assert.equal(
      (await bob.client.block(alice.handle)).created_at,
      blocked.created_at,
      'blocking twice changes nothing',
    );
    assert.deepEqual(
      (await bob.client.blocks()).map((b) => b.handle),
      [alice.handle],
    );
    assert.deepEqual(await alice.client.blocks(), []);
    await rejectsWith(alice.client.send(direct.id, { text: 'are you there?' }), 'forbidden', 403);
    await rejectsWith(alice.client.react(fromBob.id, '👍'), 'forbidden', 403);
    await rejectsWith(bob.client.send(direct.id, { text: 'one more thing' }), 'forbidden', 403);

    // Adds by the blocked account reach nobody, and look exactly like an invitation to the adder.
    const group = await alice.client.createConversation({
      kind: 'group',
      title: 'Party',
      members: [bob.handle, carol.handle],
    });
    assert.equal(group.member_count, 2);
    assert.deepEqual(group.invited, [bob.handle]);
    const added = await alice.client.addMember(group.id, bob.handle);
    assert.deepEqual(added, { invited: true, handle: bob.handle });
    assert.deepEqual(await bob.client.invitations(), []);
    await rejectsWith(bob.client.conversation(group.id), 'not_a_member', 403);

    // Nor can the blocked account open a new direct chat with the blocker.
    await carol.client.block(alice.handle);
    await rejectsWith(alice.client.openDirect(carol.handle), 'forbidden', 403);

    await rejectsWith(bob.client.block(bob.handle), 'validation_failed', 400);
    await rejectsWith(bob.client.block(`nobody${bob.handle}`), 'not_found', 404);
    await rejectsWith(alice.client.unblock(bob.handle), 'not_found', 404);
    await bob.client.unblock(alice.handle);
    assert.deepEqual(await bob.client.blocks(), []);
    await alice.client.send(direct.id, { text: 'thanks' });
    assert.equal('role' in (await alice.client.addMember(group.id, bob.handle)), true);
  });

  test('people choose who may add them: everyone, contacts, or nobody (an invitation they accept or decline)', async (t) => {
    const [alice, dan, erin, frank, eve] = await Promise.all([
      server.signUp(),
      server.signUp(),
      server.signUp(),
      server.signUp(),
      server.signUp(),
    ]);
    const defaults = { add_me: 'everyone', last_seen: 'everyone', photo: 'everyone', find_me: 'everyone', read_receipts: true } as const;
    assert.deepEqual(await dan.client.privacy(), defaults);
    assert.deepEqual(await dan.client.setPrivacy({ add_me: 'nobody' }), { ...defaults, add_me: 'nobody' });
    // Naming one setting leaves the others as they were.
    assert.deepEqual(await dan.client.setPrivacy({ last_seen: 'contacts', photo: 'nobody' }), { ...defaults, add_me: 'nobody', last_seen: 'contacts', photo: 'nobody' });
    assert.deepEqual(await dan.client.privacy(), { ...defaults, add_me: 'nobody', last_seen: 'contacts', photo: 'nobody' });
    await rejectsWith(dan.client.setPrivacy({}), 'validation_failed', 400);
    await rejectsWith(dan.client.setPrivacy({ add_me: 'friends' as never }), 'validation_failed', 400);
    const danSees = await follow(dan);
    t.after(() => danSees.close());

    const group = await alice.client.createConversation({
      kind: 'group',
      title: 'Book club',
      members: [dan.handle, frank.handle],
    });
    assert.equal(group.member_count, 2);
    assert.deepEqual(group.invited, [dan.handle]);
    await rejectsWith(dan.client.conversation(group.id), 'not_a_member', 403);
    const [invitation] = await dan.client.invitations();
    assert.equal(invitation?.conversation.id, group.id);
    assert.equal(invitation?.invited_by.handle, alice.handle);
    await eventually('the invitation reaches the invitee live', () =>
      danSees.events.some(
        (e) => e.type === 'invitation.created' && (e.data as { id: string }).id === invitation!.id,
      ),
    );
    // Only the invitee answers, and only once.
    await rejectsWith(eve.client.acceptInvitation(invitation!.id), 'not_found', 404);
    await rejectsWith(alice.client.declineInvitation(invitation!.id), 'not_found', 404);
    const joined = await dan.client.acceptInvitation(invitation!.id);
    assert.equal(joined.id, group.id);
    assert.equal(joined.my_role, 'member');
    await rejectsWith(dan.client.acceptInvitation(invitation!.id), 'not_found', 404);
    assert.deepEqual(await dan.client.invitations(), []);

    const other = await alice.client.createConversation({ kind: 'group', title: 'Other' });
    assert.deepEqual(await alice.client.addMember(other.id, dan.handle), {
      invited: true,
      handle: dan.handle,
    });
    assert.deepEqual(
      await alice.client.addMember(other.id, dan.handle),
      { invited: true, handle: dan.handle },
      'asking twice sends one invitation',
    );
    const pending = await dan.client.invitations();
    assert.equal(pending.length, 1);
    await dan.client.declineInvitation(pending[0]!.id);
    assert.deepEqual(await dan.client.invitations(), []);
    await rejectsWith(dan.client.conversation(other.id), 'not_a_member', 403);

    // contacts: only people erin wrote to in a direct chat; alice opening a chat is not enough.
    await erin.client.setPrivacy({ add_me: 'contacts' });
    const chat = await alice.client.openDirect(erin.handle);
    await alice.client.send(chat.id, { text: 'hello erin' });
    assert.deepEqual(await alice.client.addMember(other.id, erin.handle), {
      invited: true,
      handle: erin.handle,
    });
    await erin.client.send(chat.id, { text: 'hello alice' });
    const third = await alice.client.createConversation({ kind: 'group', title: 'Third' });
    assert.equal(((await alice.client.addMember(third.id, erin.handle)) as { role?: string }).role, 'member');

    // Channels too: an admin cannot put someone into a channel against their setting.
    const channel = await alice.client.createConversation({
      kind: 'channel',
      title: 'Ch',
      handle: `c${dan.handle}`,
    });
    assert.deepEqual(await alice.client.addMember(channel.id, dan.handle), {
      invited: true,
      handle: dan.handle,
    });
    // Members who are not admins cannot invite either.
    await rejectsWith(frank.client.addMember(group.id, eve.handle), 'forbidden', 403);
    await rejectsWith(eve.client.addMember(group.id, frank.handle), 'not_a_member', 403);
  });

  test("an invitation dies with its sender's right to add people", async () => {
    const [alice, bob, dan] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    await dan.client.setPrivacy({ add_me: 'nobody' });
    const group = await alice.client.createConversation({
      kind: 'group',
      title: 'Climbing',
      members: [bob.handle],
    });
    await alice.client.setRole(group.id, bob.accountId, 'admin');
    assert.deepEqual(await bob.client.addMember(group.id, dan.handle), { invited: true, handle: dan.handle });
    const [fromBob] = await dan.client.invitations();
    assert.equal(fromBob?.invited_by.handle, bob.handle);

    // Bob is demoted: his invitation no longer opens the group, and says so.
    await alice.client.setRole(group.id, bob.accountId, 'member');
    assert.deepEqual(await dan.client.invitations(), []);
    await rejectsWith(dan.client.acceptInvitation(fromBob!.id), 'invitation_expired', 410);
    await rejectsWith(dan.client.conversation(group.id), 'not_a_member', 403);

    // An admin who still may add people invites again, and that one works.
    assert.deepEqual(await alice.client.addMember(group.id, dan.handle), {
      invited: true,
      handle: dan.handle,
    });
    const [fromAlice] = await dan.client.invitations();
    assert.equal(fromAlice?.invited_by.handle, alice.handle);
    assert.equal((await dan.client.acceptInvitation(fromAlice!.id)).id, group.id);
  });

  test('an invitation older than a week can no longer be accepted', async () => {
    let now = Date.now();
    const timed = await startTestServer({ dialect, clock: () => now });
    try {
      const [alice, dan] = await Promise.all([timed.signUp(), timed.signUp()]);
      await dan.client.setPrivacy({ add_me: 'nobody' });
      const group = await alice.client.createConversation({
        kind: 'group',
        title: 'Old news',
        members: [dan.handle],
      });
      const [old] = await dan.client.invitations();
      assert.ok(old);
      now += INVITATION_TTL_MS + 1000;
      assert.deepEqual(await dan.client.invitations(), []);
      await rejectsWith(dan.client.acceptInvitation(old.id), 'invitation_expired', 410);
      // Asking again replaces the dead invitation with a fresh one.
      assert.deepEqual(await alice.client.addMember(group.id, dan.handle), {
        invited: true,
        handle: dan.handle,
      });
      assert.equal((await dan.client.invitations()).length, 1);
    } finally {
      await timed.close();
    }
  });

  test('the block, privacy and invitation endpoints refuse anonymous callers and API keys without conversations:write', async () => {
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const target = await server.signUp();
    const { key } = await bot.client.createApiKey({
      name: 'read only',
      scopes: ['messages:read', 'messages:write', 'updates:read'],
    });
    const keyed = bot.client.as(key);
    const calls: [string, (c: typeof keyed) => Promise<unknown>][] = [
      ['GET /v1/account/privacy', (c) => c.privacy()],
      ['PATCH /v1/account/privacy', (c) => c.setPrivacy({ add_me: 'nobody' })],
      ['GET /v1/blocks', (c) => c.blocks()],
      ['POST /v1/blocks', (c) => c.block(target.handle)],
      ['DELETE /v1/blocks/{handle}', (c) => c.unblock(target.handle)],
      ['GET /v1/invitations', (c) => c.invitations()],
      ['POST /v1/invitations/{id}/accept', (c) => c.acceptInvitation('inv_unknown')],
      ['POST /v1/invitations/{id}/decline', (c) => c.declineInvitation('inv_unknown')],
    ];
    for (const [name, call] of calls) {
      await rejectsWith(call(keyed), 'insufficient_scope', 403).catch((err) =>
        assert.fail(`${name}: ${err}`),
      );
      await rejectsWith(call(server.anonymous), 'unauthenticated', 401).catch((err) =>
        assert.fail(`${name}: ${err}`),
      );
    }
    // With the scope, a bot's key manages its blocks like a person's device.
    const { key: writer } = await bot.client.createApiKey({
      name: 'writer',
      scopes: ['conversations:write'],
    });
    assert.equal((await bot.client.as(writer).block(target.handle)).handle, target.handle);
  });

  test("a channel's subscribers do not learn of each other through the stream or the long poll", async (t) => {
    const owner = await server.signUp();
    const [early, late] = await Promise.all([server.signUp(), server.signUp()]);
    const channel = await owner.client.createConversation({
      kind: 'channel',
      title: 'Crowd',
      handle: `k${late.handle}`,
    });
    await early.client.join(channel.id);
    const earlySees = await follow(early);
    t.after(() => earlySees.close());
    const lateSees = await follow(late);
    t.after(() => lateSees.close());

    await late.client.join(channel.id);
    // The newcomer hears of its own join and then of the channel's posts, live.
    await eventually('the newcomer hears of its own join', () =>
      lateSees.events.some((e) => e.type === 'member.joined'),
    );
    const post = await owner.client.send(channel.id, { text: 'hello subscribers' });
    await eventually('the newcomer receives posts live', () =>
      lateSees.events.some((e) => (e.data as { id?: string }).id === post.id),
    );
    await late.client.removeMember(channel.id, late.accountId);
    const marker = await owner.client.send(channel.id, { text: 'marker' });
    await eventually('the marker arrives', () =>
      earlySees.events.some((e) => (e.data as { id?: string }).id === marker.id),
    );

    const mentionsLate = (events: SyncEvent[]) =>
      events.filter(
        (e) =>
          JSON.stringify(e.data).includes(late.accountId) || JSON.stringify(e.data).includes(late.handle),
      );
    assert.deepEqual(mentionsLate(earlySees.events), []);
    assert.deepEqual(mentionsLate((await early.client.updates({ cursor: 0, limit: 200 })).events), []);
    const own = (await late.client.updates({ cursor: 0, limit: 200 })).events.map((e) => e.type);
    assert.ok(
      own.includes('member.joined') && own.includes('member.removed'),
      'the subscriber reads its own join and leave',
    );
  });

  test('media sent while a member was out, or before a newcomer joined a group hiding its history, is not theirs to fetch', async () => {
    const owner = await server.signUp();
    const [bob, newcomer] = await Promise.all([server.signUp(), server.signUp()]);
    const group = await owner.client.createConversation({
      kind: 'group',
      title: 'Photos',
      members: [bob.handle],
    });
    await owner.client.removeMember(group.id, bob.accountId);
    const { id } = await owner.client.upload(await picture(7), { filename: 'p.png' });
    assert.equal((await owner.client.waitForMedia(id, { timeoutMs: 90_000 })).status, 'ready');
    await owner.client.send(group.id, { media: [id] });
    await owner.client.addMember(group.id, bob.handle);
    await rejectsWith(bob.client.media(id), 'not_found', 404);
    await owner.client.updateConversation(group.id, { history_visible: false });
    await owner.client.addMember(group.id, newcomer.handle);
    await rejectsWith(newcomer.client.media(id), 'not_found', 404);
    await owner.client.updateConversation(group.id, { history_visible: true });
    assert.equal(
      (await newcomer.client.media(id)).id,
      id,
      "with history shown, earlier media is the newcomer's to see",
    );
    await rejectsWith(bob.client.media(id), 'not_found', 404);
  });

  test('a block in a direct chat silences typing indicators too, either way', async (t) => {
    const [ana, ben] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await ana.client.openDirect(ben.handle);
    const seen: string[] = [];
    const benStream = ben.client.stream({
      onEvent: () => {},
      onTyping: (f) => seen.push(`${f.account_id}@${f.conversation_id}`),
    });
    const anaStream = ana.client.stream({
      onEvent: () => {},
      onTyping: (f) => seen.push(`${f.account_id}@${f.conversation_id}`),
    });
    t.after(() => {
      benStream.close();
      anaStream.close();
    });
    await Promise.all([benStream.ready, anaStream.ready]);
    anaStream.typing(chat.id);
    await eventually('ben sees ana typing before the block', () =>
      seen.includes(`${ana.accountId}@${chat.id}`),
    );
    seen.length = 0;
    await ben.client.block(ana.handle);
    // Typing is throttled per burst (2.5 s): wait one out so the next frame is not merely throttled.
    await new Promise((r) => setTimeout(r, 2700));
    anaStream.typing(chat.id);
    benStream.typing(chat.id);
    const marker = await ana.client.openDirect(ben.handle);
    assert.equal(marker.id, chat.id);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(seen, []);
  });
});
