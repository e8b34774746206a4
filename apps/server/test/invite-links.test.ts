import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MmdError } from '@mmd/sdk';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

/** The problem a failed call answered with, without what differs per request (its instance). */
async function problemOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MmdError, `expected an MmdError, got ${err}`);
    const { instance: _instance, request_id: _requestId, ...rest } = (err.problem ?? {}) as Record<string, unknown>;
    return { status: err.status, ...rest };
  }
  assert.fail('expected the call to fail');
}

onEachDatabase('invite links', (dialect) => {
  let server: TestServer;
  // The server's clock runs, and is moved ahead by hand to expire links.
  let ahead = 0;
  before(async () => {
    server = await startTestServer({ dialect, clock: () => Date.now() + ahead });
  });
  after(() => server.close());

  async function groupWith(title = 'Climbers') {
    const owner = await server.signUp();
    const member = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title, members: [member.handle] });
    return { owner, member, group };
  }

  test('an admin makes an unguessable link that a stranger previews and joins through', async () => {
    const { owner, group } = await groupWith('Climbers');
    const link = await owner.client.createInviteLink(group.id);
    // 18 random bytes in base64url: 144 bits.
    assert.match(link.token, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(link.path, `/join/${link.token}`);
    assert.equal(link.requires_approval, false);
    assert.equal(link.joined_count, 0);
    const other = await owner.client.createInviteLink(group.id);
    assert.notEqual(other.token, link.token);

    const stranger = await server.signUp();
    const preview = await stranger.client.previewInvite(link.token);
    assert.deepEqual(preview, { kind: 'group', title: 'Climbers', handle: null, photo: null, member_count: 2, requires_approval: false, conversation_id: null, requested: false });

    const joined = await stranger.client.joinByInvite(link.token);
    assert.deepEqual(joined, { status: 'joined', conversation_id: group.id });
    const seen = await stranger.client.conversation(group.id);
    assert.equal(seen.my_role, 'member');
    assert.equal(seen.member_count, 3);
    // Joining again changes nothing and counts once.
    assert.deepEqual(await stranger.client.joinByInvite(link.token), { status: 'joined', conversation_id: group.id });
    const { links } = await owner.client.inviteLinks(group.id);
    assert.equal(links.find((l) => l.id === link.id)?.joined_count, 1);
    assert.equal((await stranger.client.previewInvite(link.token)).conversation_id, group.id);
  });

  test('only admins of a group or channel make, list and revoke links', async () => {
    const { owner, member, group } = await groupWith();
    const outsider = await server.signUp();
    await rejectsWith(member.client.createInviteLink(group.id), 'forbidden', 403);
    await rejectsWith(outsider.client.createInviteLink(group.id), 'not_a_member', 403);
    await rejectsWith(member.client.inviteLinks(group.id), 'forbidden', 403);
    const link = await owner.client.createInviteLink(group.id);
    await rejectsWith(member.client.revokeInviteLink(group.id, link.id), 'forbidden', 403);
    await owner.client.setRole(group.id, member.accountId, 'admin');
    assert.equal((await member.client.inviteLinks(group.id)).links.length, 1);
    const direct = await owner.client.openDirect(outsider.handle);
    await rejectsWith(owner.client.createInviteLink(direct.id), 'forbidden', 403);
    await rejectsWith(server.anonymous.createInviteLink(group.id), 'unauthenticated', 401);
  });

  test('refuses bad link settings', async () => {
    const { owner, group } = await groupWith();
    await rejectsWith(owner.client.createInviteLink(group.id, { requires_approval: true, member_limit: 5 }), 'validation_failed', 400);
    await rejectsWith(owner.client.createInviteLink(group.id, { expires_in_seconds: 10 }), 'validation_failed', 400);
    await rejectsWith(owner.client.createInviteLink(group.id, { member_limit: 0 }), 'validation_failed', 400);
    const stranger = await server.signUp();
    await rejectsWith(stranger.client.previewInvite('not a token!'), 'validation_failed', 400);
  });

  test('previewing needs a signed-in caller', async () => {
    const { owner, group } = await groupWith();
    const link = await owner.client.createInviteLink(group.id);
    await rejectsWith(server.anonymous.previewInvite(link.token), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.joinByInvite(link.token), 'unauthenticated', 401);
  });

  test('unknown, revoked, expired and full links answer exactly alike', async () => {
    const { owner, group } = await groupWith();
    const revoked = await owner.client.createInviteLink(group.id);
    const expiring = await owner.client.createInviteLink(group.id, { expires_in_seconds: 60 });
    const capped = await owner.client.createInviteLink(group.id, { member_limit: 1 });
    const stranger = await server.signUp();
    const first = await server.signUp();
    assert.equal((await stranger.client.previewInvite(revoked.token)).kind, 'group');

    await owner.client.revokeInviteLink(group.id, revoked.id);
    await first.client.joinByInvite(capped.token);
    ahead += 61_000;

    const unknown = await problemOf(stranger.client.previewInvite('AAAAAAAAAAAAAAAAAAAAAAAA'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.code, 'invite_not_found');
    for (const token of [revoked.token, expiring.token, capped.token]) {
      assert.deepEqual(await problemOf(stranger.client.previewInvite(token)), unknown);
      assert.deepEqual(await problemOf(stranger.client.joinByInvite(token)), unknown);
    }
    assert.deepEqual(await problemOf(stranger.client.joinByInvite('AAAAAAAAAAAAAAAAAAAAAAAA')), unknown);
    await rejectsWith(stranger.client.conversation(group.id), 'not_a_member', 403);
    // The admin still sees them, closed ones after the open ones.
    const { links } = await owner.client.inviteLinks(group.id);
    assert.ok(links.find((l) => l.id === revoked.id)?.revoked_at);
    assert.equal(links.find((l) => l.id === capped.id)?.joined_count, 1);
  });

  test('a member cap admits that many people through the link, no more', async () => {
    const { owner, group } = await groupWith();
    const link = await owner.client.createInviteLink(group.id, { member_limit: 2 });
    const [a, b, c] = [await server.signUp(), await server.signUp(), await server.signUp()];
    await a.client.joinByInvite(link.token);
    await b.client.joinByInvite(link.token);
    await rejectsWith(c.client.joinByInvite(link.token), 'invite_not_found', 404);
    assert.equal((await owner.client.conversation(group.id)).member_count, 4);
  });

  test('revoking stops joins at once', async () => {
    const { owner, group } = await groupWith();
    const link = await owner.client.createInviteLink(group.id);
    const early = await server.signUp();
    await early.client.joinByInvite(link.token);
    await owner.client.revokeInviteLink(group.id, link.id);
    const late = await server.signUp();
    await rejectsWith(late.client.joinByInvite(link.token), 'invite_not_found', 404);
    // Who joined before stays.
    assert.equal((await early.client.conversation(group.id)).my_role, 'member');
    await rejectsWith(owner.client.revokeInviteLink(group.id, 'lnk_missing'), 'not_found', 404);
  });

  test("a link stops working when its maker is no longer an admin", async () => {
    const { owner, member, group } = await groupWith();
    await owner.client.setRole(group.id, member.accountId, 'admin');
    const link = await member.client.createInviteLink(group.id);
    await owner.client.setRole(group.id, member.accountId, 'member');
    const stranger = await server.signUp();
    await rejectsWith(stranger.client.joinByInvite(link.token), 'invite_not_found', 404);
  });

  test('a link needing approval makes a request the admins approve or decline', async () => {
    const { owner, member, group } = await groupWith('Private');
    const link = await owner.client.createInviteLink(group.id, { requires_approval: true });
    const asker = await server.signUp();
    const other = await server.signUp();
    assert.equal((await asker.client.previewInvite(link.token)).requires_approval, true);
    assert.deepEqual(await asker.client.joinByInvite(link.token), { status: 'requested', conversation_id: null });
    assert.deepEqual(await asker.client.joinByInvite(link.token), { status: 'requested', conversation_id: null });
    assert.equal((await asker.client.previewInvite(link.token)).requested, true);
    await other.client.joinByInvite(link.token);
    // Asking is not joining.
    await rejectsWith(asker.client.conversation(group.id), 'not_a_member', 403);
    await rejectsWith(member.client.joinRequests(group.id), 'forbidden', 403);
    await rejectsWith(member.client.answerJoinRequest(group.id, asker.accountId, true), 'forbidden', 403);

    const { requests } = await owner.client.joinRequests(group.id);
    assert.deepEqual(requests.map((r) => r.handle).sort(), [asker.handle, other.handle].sort());
    assert.equal(requests.find((r) => r.account_id === asker.accountId)?.link_id, link.id);

    const added = await owner.client.answerJoinRequest(group.id, asker.accountId, true);
    assert.equal(added?.account_id, asker.accountId);
    assert.equal((await asker.client.conversation(group.id)).my_role, 'member');
    await owner.client.answerJoinRequest(group.id, other.accountId, false);
    await rejectsWith(other.client.conversation(group.id), 'not_a_member', 403);
    assert.deepEqual((await owner.client.joinRequests(group.id)).requests, []);
    await rejectsWith(owner.client.answerJoinRequest(group.id, other.accountId, true), 'not_found', 404);
    // Declined, they may ask again.
    assert.equal((await other.client.joinByInvite(link.token)).status, 'requested');
  });

  test('someone an admin removed cannot rejoin through a link until unbanned; someone who left can', async () => {
    const { owner, member, group } = await groupWith();
    const link = await owner.client.createInviteLink(group.id);
    const leaver = await server.signUp();
    await leaver.client.joinByInvite(link.token);
    await leaver.client.removeMember(group.id, leaver.accountId);
    assert.equal((await leaver.client.joinByInvite(link.token)).status, 'joined');

    await owner.client.removeMember(group.id, member.accountId);
    await rejectsWith(member.client.joinByInvite(link.token), 'banned', 403);
    const fresh = await owner.client.createInviteLink(group.id);
    await rejectsWith(member.client.joinByInvite(fresh.token), 'banned', 403);
    const { bans } = await owner.client.bans(group.id);
    assert.deepEqual(bans.map((b) => [b.account_id, b.banned_by]), [[member.accountId, owner.accountId]]);
    await rejectsWith(leaver.client.bans(group.id), 'forbidden', 403);
    await rejectsWith(leaver.client.unban(group.id, member.accountId), 'forbidden', 403);

    await owner.client.unban(group.id, member.accountId);
    assert.equal((await member.client.joinByInvite(link.token)).status, 'joined');
    await rejectsWith(owner.client.unban(group.id, member.accountId), 'not_found', 404);
  });

  test("an admin adding a removed person back lifts the ban", async () => {
    const { owner, member, group } = await groupWith();
    const link = await owner.client.createInviteLink(group.id);
    await owner.client.removeMember(group.id, member.accountId);
    await owner.client.addMember(group.id, member.handle);
    await member.client.removeMember(group.id, member.accountId);
    assert.equal((await member.client.joinByInvite(link.token)).status, 'joined');
  });

  test("a channel's links: subscribers join; a removed subscriber can no longer join by handle either", async () => {
    const owner = await server.signUp();
    const handle = uniqueHandle('chan');
    const channel = await owner.client.createConversation({ kind: 'channel', title: 'Daily', handle });
    const link = await owner.client.createInviteLink(channel.id);
    const reader = await server.signUp();
    const preview = await reader.client.previewInvite(link.token);
    assert.equal(preview.kind, 'channel');
    assert.equal(preview.handle, handle);
    assert.equal(preview.conversation_id, channel.id);
    await reader.client.joinByInvite(link.token);
    assert.equal((await reader.client.conversation(channel.id)).my_role, 'member');
    await owner.client.removeMember(channel.id, reader.accountId);
    await rejectsWith(reader.client.join(channel.id), 'banned', 403);
    await rejectsWith(reader.client.joinByInvite(link.token), 'banned', 403);
    // Shareable channel links (/c/<handle or id>) find it either way; never a group by id.
    assert.equal((await reader.client.findChannel(handle)).id, channel.id);
    assert.equal((await reader.client.findChannel(channel.id)).id, channel.id);
    const { group } = await groupWith();
    await rejectsWith(reader.client.findChannel(group.id), 'not_found', 404);
  });

  test('deleting a group revokes its links', async () => {
    const { owner, group } = await groupWith();
    const link = await owner.client.createInviteLink(group.id);
    await owner.client.deleteGroup(group.id);
    const stranger = await server.signUp();
    await rejectsWith(stranger.client.previewInvite(link.token), 'invite_not_found', 404);
  });
});

onEachDatabase('invite link rate limits', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { inviteRateLimit: 3 } });
  });
  after(() => server.close());

  test('previews and joins are limited per caller (429), whether the tokens exist or not', async () => {
    const prober = await server.signUp();
    for (let i = 0; i < 3; i += 1) await rejectsWith(prober.client.previewInvite(`AAAAAAAAAAAAAAAAAAAAAAA${i}`), 'invite_not_found', 404);
    await rejectsWith(prober.client.previewInvite('AAAAAAAAAAAAAAAAAAAAAAA9'), 'rate_limited', 429);
    for (let i = 0; i < 3; i += 1) await rejectsWith(prober.client.joinByInvite(`AAAAAAAAAAAAAAAAAAAAAAA${i}`), 'invite_not_found', 404);
    await rejectsWith(prober.client.joinByInvite('AAAAAAAAAAAAAAAAAAAAAAA9'), 'rate_limited', 429);
    // Someone else's allowance is their own.
    const other = await server.signUp();
    await rejectsWith(other.client.previewInvite('AAAAAAAAAAAAAAAAAAAAAAA9'), 'invite_not_found', 404);
  });
});
