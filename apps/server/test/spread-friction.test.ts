/**
 * Friction on what spreads too fast (messaging/spread-velocity.ts) and the safety console's view
 * of it (safety/spread-review.ts): as a picture reaches new chats faster, messages carrying it are
 * labelled "spreading fast", then sharing needs a confirmation, then each person gets one new chat
 * per cooldown, then new shares are held for review and the safety team alerted; a moderator
 * clears (releasing what waited), holds or takes down the whole cluster. Thresholds here are per
 * hour (2, 3, 4 and 5 new chats), so the test does not depend on which minute each share lands in.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

onEachDatabase('friction on what spreads too fast', (dialect) => {
  let server: TestServer;
  const start = Date.now();
  const clock = () => start + Math.floor((Date.now() - start) / 10);
  before(async () => {
    server = await startTestServer({
      dialect,
      clock,
      config: {
        spreadFastChatsPerMinute: 0,
        spreadFastChatsPerHour: 2,
        spreadConfirmChatsPerMinute: 0,
        spreadConfirmChatsPerHour: 3,
        spreadCooldownChatsPerMinute: 0,
        spreadCooldownChatsPerHour: 4,
        spreadHoldChatsPerMinute: 0,
        spreadHoldChatsPerHour: 5,
        spreadCooldownSeconds: 300,
      },
    });
  });
  after(() => server.close());

  /** A group where `poster` posts `photo`, with `members` who each get their own chat to pass it on to. */
  async function seed(photo: Buffer, names: number) {
    const poster = await server.signUp();
    const members: User[] = [];
    for (let i = 0; i < names; i++) members.push(await server.signUp());
    const group = await poster.client.createConversation({ kind: 'group', title: 'Spread', members: members.map((m) => m.handle) });
    const item = await uploadAndWait(poster.client, photo);
    assert.equal(item.status, 'ready', item.reason ?? '');
    const post = await poster.client.send(group.id, { media: [item.id] });
    return { poster, members, group, post };
  }

  /** `from` forwards `messageId` into a new direct chat with a new person; the chat and its peer. */
  async function passOn(from: User, messageId: string, body: { confirm_spread?: boolean } = {}) {
    const peer = await server.signUp();
    const chat = await from.client.openDirect(peer.handle);
    return { chat, peer, send: () => from.client.send(chat.id, { forward_of: messageId, ...body }) };
  }

  test('label, confirmation, cooldown, then hold and alert; a moderator sees it first, clears it and what waited goes out', { skip: noData }, async () => {
    const { members, post } = await seed(await smallPhoto('Garden.jpg', 640), 6);
    const [bob, carol, dave, erin, frank, gina] = members as [User, User, User, User, User, User];
    assert.equal(post.spread?.label, null, 'the first share has no label');
    const cluster = post.spread!.cluster_id;

    // 1 chat so far: no friction.
    const b1 = await passOn(bob, post.id);
    assert.equal((await b1.send()).spread?.label, 'forwarded');
    // 2 chats in the hour: labelled, sent.
    const c1 = await passOn(carol, post.id);
    const carolMsg = await c1.send();
    assert.deepEqual({ label: carolMsg.spread?.label, status: carolMsg.status }, { label: 'spreading_fast', status: 'sent' });
    assert.equal((await c1.peer.client.history(c1.chat.id)).messages.at(-1)?.spread?.label, 'spreading_fast', 'the recipient sees the label too');

    // 3: sharing needs a confirmation; refused without one, nothing sent.
    const d1 = await passOn(dave, post.id);
    await rejectsWith(d1.send(), 'confirmation_required', 428);
    assert.equal((await d1.peer.client.history(d1.chat.id)).messages.length, 0);
    const d1c = await passOn(dave, post.id, { confirm_spread: true });
    assert.equal((await d1c.send()).spread?.label, 'spreading_fast');

    // 4: a cooldown per person — Dave, who just shared it, must wait; Erin, who has not, may.
    const d2 = await passOn(dave, post.id, { confirm_spread: true });
    await assert.rejects(d2.send(), (err: { code?: string; status?: number; message?: string }) => {
      assert.equal(err.code, 'forward_limit');
      assert.equal(err.status, 429);
      assert.match(String(err.message), /one new chat every 300 s/);
      return true;
    });
    const e1 = await passOn(erin, post.id, { confirm_spread: true });
    assert.equal((await e1.send()).status, 'sent');

    // 5: held for review: pending, visible to its sender alone, and the safety team alerted.
    const f1 = await passOn(frank, post.id, { confirm_spread: true });
    const held = await f1.send();
    assert.equal(held.status, 'pending');
    assert.deepEqual({ held: held.spread?.held, label: held.spread?.label }, { held: true, label: 'spreading_fast' });
    assert.equal((await f1.peer.client.history(f1.chat.id)).messages.length, 0, 'the recipient sees nothing of a held share');
    await rejectsWith(f1.peer.client.message(held.id), 'not_found', 404);
    // Another share waits too (no confirmation asked: it is held anyway).
    const g1 = await passOn(gina, post.id);
    assert.equal((await g1.send()).status, 'pending');

    // The console: held clusters first, with their velocity, and the alert on record.
    const mod = await signUpModerator(server);
    const list = await mod.client.spreadClusters();
    assert.equal(list.alerts, 1);
    const top = list.clusters[0]!;
    assert.deepEqual(
      { id: top.id, state: top.state, tier: top.tier, held: top.held, reach: top.reach, chats_per_hour: top.velocity.chats_per_hour },
      { id: cluster, state: 'hold', tier: 4, held: 2, reach: 5, chats_per_hour: 5 },
    );
    const detail = await mod.client.spreadCluster(cluster);
    assert.equal(detail.conversations.length, 5);
    assert.equal(detail.timeline.reduce((n, m) => n + m.chats, 0), 5);
    assert.deepEqual(detail.hops.map((h) => h.hops), [0, 1]);
    assert.ok(detail.media_ids.length >= 1);
    assert.ok(detail.sharers.some((s) => s.handle === dave.handle));
    const audit = await mod.client.request<{ entries: { action: string; subject_id: string | null }[] }>('GET', '/v1/safety/audit?action=spread.alert');
    assert.equal(audit.entries.filter((e) => e.subject_id === cluster).length, 1, 'alerted once');

    // Cleared: what waited goes out (to its chat), and only the label stays.
    const decided = await mod.client.decideSpreadCluster(cluster, { action: 'clear', note: 'a news photo, fine' });
    assert.deepEqual({ released: decided.released, state: decided.cluster.state, tier: decided.cluster.tier }, { released: 2, state: 'cleared', tier: 1 });
    const arrived = (await f1.peer.client.history(f1.chat.id)).messages;
    assert.equal(arrived.length, 1);
    assert.deepEqual({ id: arrived[0]!.id, status: arrived[0]!.status, label: arrived[0]!.spread?.label, held: arrived[0]!.spread?.held }, { id: held.id, status: 'sent', label: 'spreading_fast', held: undefined });
    const b2 = await passOn(bob, post.id);
    assert.equal((await b2.send()).status, 'sent', 'no confirmation once cleared');

    // Hold it again, then take the whole cluster down: what waits is rejected, every copy removed.
    await mod.client.decideSpreadCluster(cluster, { action: 'hold' });
    const c2 = await passOn(carol, post.id);
    const waiting = await c2.send();
    assert.equal(waiting.status, 'pending');
    const down = await mod.client.decideSpreadCluster(cluster, { action: 'takedown', note: 'leaked image' });
    assert.ok(down.takedown_id);
    assert.equal(down.cluster.state, 'removed');
    assert.equal((await carol.client.message(waiting.id)).status, 'failed');
    const removed = (await b1.peer.client.history(b1.chat.id)).messages.at(-1);
    assert.equal(removed?.deleted, true);
  });

  test('the console is for moderators: denials, unknown clusters and bad decisions', async () => {
    const someone = await server.signUp();
    await rejectsWith(someone.client.spreadClusters(), 'forbidden', 403);
    await rejectsWith(someone.client.spreadCluster('spc_nope'), 'forbidden', 403);
    await rejectsWith(someone.client.decideSpreadCluster('spc_nope', { action: 'clear' }), 'forbidden', 403);
    await rejectsWith(someone.client.amplificationNetworks(), 'forbidden', 403);
    await rejectsWith(someone.client.restrictAccount(someone.accountId, { mode: 'suspend', reason: 'x' }), 'forbidden', 403);
    await rejectsWith(server.anonymous.spreadClusters(), 'unauthenticated', 401);
    const mod = await signUpModerator(server);
    await rejectsWith(mod.client.spreadCluster('spc_nope'), 'not_found', 404);
    await rejectsWith(mod.client.decideSpreadCluster('spc_nope', { action: 'clear' }), 'not_found', 404);
    await rejectsWith(mod.client.request('POST', '/v1/safety/clusters/spc_nope/decision', { action: 'delete' }), 'validation_failed', 400);
    await rejectsWith(mod.client.request('GET', '/v1/safety/clusters?hours=0'), 'validation_failed', 400);
    await rejectsWith(mod.client.restrictAccount('acc_nope', { mode: 'review', reason: 'x' }), 'not_found', 404);
    await rejectsWith(mod.client.restrictAccount(mod.accountId, { mode: 'suspend', reason: 'x' }), 'conflict', 409);
  });

  test('coordinated amplification: accounts co-sharing several pictures are listed with their evidence; review, rate-limit and suspension', { skip: noData }, async () => {
    const photos = await Promise.all(['Aqua.jpg', 'Storm.jpg', 'Wood.jpg'].map((n) => smallPhoto(n, 480)));
    const ring = [await server.signUp(), await server.signUp(), await server.signUp()];
    const bystander = await server.signUp();
    // Each account of the ring posts each picture into a chat of its own, within seconds of the others.
    for (const photo of photos) {
      for (const member of ring) {
        const item = await uploadAndWait(member.client, photo);
        const chat = await member.client.openDirect((await server.signUp()).handle);
        assert.equal((await member.client.send(chat.id, { media: [item.id], confirm_spread: true })).status, 'sent');
      }
    }
    // Someone else sharing one of them once is not part of it.
    const lone = await uploadAndWait(bystander.client, photos[0]!);
    await bystander.client.send((await bystander.client.openDirect((await server.signUp()).handle)).id, { media: [lone.id], confirm_spread: true });

    const mod = await signUpModerator(server);
    const { networks } = await mod.client.amplificationNetworks({ hours: 1 });
    const found = networks.find((n) => n.accounts.some((a) => a.account_id === ring[0]!.accountId));
    assert.ok(found, 'the ring is listed');
    assert.deepEqual(found.accounts.map((a) => a.account_id).sort(), ring.map((u) => u.accountId).sort());
    assert.equal(found.evidence.co_shared_clusters.length, 3);
    assert.equal(found.evidence.young_accounts, 3);
    assert.ok(networks.every((n) => n.accounts.every((a) => a.account_id !== bystander.accountId)));

    // Review of their shares: the next one waits; lifting it releases what waited.
    const [amy, ben, cat] = ring as [User, User, User];
    assert.equal((await mod.client.restrictAccount(amy.accountId, { mode: 'review', reason: 'co-sharing ring' })).mode, 'review');
    const again = await uploadAndWait(amy.client, photos[1]!);
    const peer = await server.signUp();
    const chat = await amy.client.openDirect(peer.handle);
    const waiting = await amy.client.send(chat.id, { media: [again.id], confirm_spread: true });
    assert.deepEqual({ status: waiting.status, held: waiting.spread?.held }, { status: 'pending', held: true });
    assert.equal((await peer.client.history(chat.id)).messages.length, 0);
    const listed = (await mod.client.amplificationNetworks({ hours: 1 })).networks.flatMap((n) => n.accounts).find((a) => a.account_id === amy.accountId);
    assert.equal(listed?.restriction, 'review');
    assert.equal((await mod.client.restrictAccount(amy.accountId, { mode: 'none', reason: 'reviewed' })).released, 1);
    assert.equal((await peer.client.history(chat.id)).messages.at(-1)?.id, waiting.id);

    // Rate-limited: one new chat per cooldown for each picture.
    await mod.client.restrictAccount(ben.accountId, { mode: 'rate_limit', reason: 'co-sharing ring' });
    const benItem = await uploadAndWait(ben.client, photos[2]!);
    await rejectsWith(ben.client.send((await ben.client.openDirect((await server.signUp()).handle)).id, { media: [benItem.id], confirm_spread: true }), 'forward_limit', 429);

    // Suspended: its live connection closed, signed out everywhere, cannot sign in, and the audit log says who did it.
    const errors: { code: string }[] = [];
    const live = cat.client.stream({ onEvent: () => {}, onError: (e: { code: string }) => errors.push(e) });
    await live.ready;
    await mod.client.restrictAccount(cat.accountId, { mode: 'suspend', reason: 'bot network' });
    await eventually('the suspended account is disconnected', () => errors.some((e) => e.code === 'account_suspended'));
    live.close();
    await rejectsWith(cat.client.me(), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.login({ handle: cat.handle, password: cat.password }), 'forbidden', 403);
    const audit = await mod.client.request<{ entries: { action: string; subject_id: string | null; actor_id: string | null }[] }>('GET', '/v1/safety/audit?action=spread.restricted');
    assert.ok(audit.entries.some((e) => e.subject_id === cat.accountId && e.actor_id === mod.accountId));
    await mod.client.restrictAccount(cat.accountId, { mode: 'none', reason: 'appeal upheld' });
    assert.ok((await server.anonymous.login({ handle: cat.handle, password: cat.password })).token);
  });
});
