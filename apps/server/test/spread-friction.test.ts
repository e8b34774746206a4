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
import { type TestServer, type User, eventually, newBot, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { SPREAD_TIERS_PER_HOUR, noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

onEachDatabase('friction on what spreads too fast', (dialect) => {
  let server: TestServer;
  const start = Date.now();
  const clock = () => start + Math.floor((Date.now() - start) / 10);
  before(async () => {
    server = await startTestServer({
      dialect,
      clock,
      config: { ...SPREAD_TIERS_PER_HOUR, spreadCooldownSeconds: 300 },
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

    // 4 (counting only others' chats for each sharer): a cooldown per person — Erin, who has not
    // shared it, may; Dave, who just did, must wait.
    const e1 = await passOn(erin, post.id, { confirm_spread: true });
    assert.equal((await e1.send()).status, 'sent');
    const d2 = await passOn(dave, post.id, { confirm_spread: true });
    await assert.rejects(d2.send(), (err: { code?: string; status?: number; message?: string }) => {
      assert.equal(err.code, 'forward_limit');
      assert.equal(err.status, 429);
      assert.match(String(err.message), /one new chat every 300 s/);
      return true;
    });

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

  test('hops: your own share passed back to you through others raises nothing', { skip: noData }, async () => {
    const [ann, ben, cal, dot] = [await server.signUp(), await server.signUp(), await server.signUp(), await server.signUp()];
    const g1 = await ann.client.createConversation({ kind: 'group', title: 'g1', members: [ben.handle] });
    const g2 = await ben.client.createConversation({ kind: 'group', title: 'g2', members: [cal.handle] });
    const g3 = await cal.client.createConversation({ kind: 'group', title: 'g3', members: [ben.handle] });
    const g4 = await ben.client.createConversation({ kind: 'group', title: 'g4', members: [dot.handle] });
    const item = await uploadAndWait(ann.client, await smallPhoto('YellowFlower.jpg', 480));
    const post = await ann.client.send(g1.id, { text: 'echo', media: [item.id] });
    const inG2 = await ben.client.send(g2.id, { forward_of: post.id, confirm_spread: true });
    assert.equal(inG2.spread?.hops, 1);
    // Cal passes Ben's copy on into another group Ben is in: two hops, for Cal.
    assert.equal((await cal.client.send(g3.id, { forward_of: inG2.id, confirm_spread: true })).spread?.hops, 2);
    // Ben shares Ann's picture once more: he got it at one hop; Cal's copy of his own share does not count.
    const again = await ben.client.send(g4.id, { forward_of: post.id, confirm_spread: true });
    assert.equal(again.spread?.hops, 1);
  });

  test('a held share goes out only if its sender could still send it; an album waits for each of its pictures', { skip: noData }, async () => {
    const mod = await signUpModerator(server);
    const [owner, xav, admin] = [await server.signUp(), await server.signUp(), await server.signUp()];
    const source = await owner.client.createConversation({ kind: 'group', title: 'source', members: [xav.handle] });
    const p = await uploadAndWait(owner.client, await smallPhoto('LadyBird.jpg', 480));
    const q = await uploadAndWait(owner.client, await smallPhoto('Blinds.jpg', 480));
    const postP = await owner.client.send(source.id, { text: 'p', media: [p.id] });
    const postQ = await owner.client.send(source.id, { text: 'q', media: [q.id] });
    const clusterP = postP.spread!.cluster_id;
    const clusterQ = postQ.spread!.cluster_id;
    await mod.client.decideSpreadCluster(clusterP, { action: 'hold' });

    // Held, then its sender is removed from the group: clearing the cluster does not deliver it.
    const target = await admin.client.createConversation({ kind: 'group', title: 'target', members: [xav.handle] });
    const held = await xav.client.send(target.id, { forward_of: postP.id });
    assert.equal(held.status, 'pending');
    await admin.client.removeMember(target.id, xav.accountId);

    // An album of Q (open) and P (held) waits for P alone.
    const mine = await uploadAndWait(xav.client, await smallPhoto('LadyBird.jpg', 480));
    const other = await uploadAndWait(xav.client, await smallPhoto('Blinds.jpg', 480));
    const friend = await server.signUp();
    const chat = await xav.client.openDirect(friend.handle);
    const album = await xav.client.send(chat.id, { media: [other.id, mine.id] });
    assert.equal(album.status, 'pending');
    const list = await mod.client.spreadClusters();
    assert.equal(list.clusters.find((c) => c.id === clusterP)?.held, 2);
    assert.equal(list.clusters.find((c) => c.id === clusterQ)?.held ?? 0, 0);

    const cleared = await mod.client.decideSpreadCluster(clusterP, { action: 'clear' });
    assert.equal(cleared.released, 1, 'the album went out; the removed member\'s share did not');
    const row = await server.db.db.selectFrom('messages').select('status').where('id', '=', held.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'failed', 'failed, not delivered to a group its sender was removed from');
    assert.equal((await admin.client.history(target.id)).messages.some((m) => m.id === held.id), false);
    assert.equal((await friend.client.history(chat.id)).messages.at(-1)?.id, album.id);
  });

  test('suspension is its own decision: other restrictions do not lift it, staff are restricted by admins only', async () => {
    const mod = await signUpModerator(server);
    const otherMod = await signUpModerator(server);
    const admin = await signUpModerator(server, 'admin');
    const target = await server.signUp();
    await rejectsWith(mod.client.restrictAccount(admin.accountId, { mode: 'suspend', reason: 'x' }), 'forbidden', 403);
    await rejectsWith(mod.client.restrictAccount(otherMod.accountId, { mode: 'review', reason: 'x' }), 'forbidden', 403);
    assert.equal((await admin.client.restrictAccount(otherMod.accountId, { mode: 'rate_limit', reason: 'x' })).mode, 'rate_limit');
    const peer = await server.signUp();
    const chat = await target.client.openDirect(peer.handle);
    await mod.client.restrictAccount(target.accountId, { mode: 'suspend', reason: 'bot network' });
    // A principal the server builds itself (a business's team inbox, automation, campaigns,
    // a bot's webhook reply) presents no token: the send path looks the account up.
    const built = { accountId: target.accountId, handle: target.handle, kind: 'person' as const, role: 'user' as const, deviceId: null, apiKeyId: null, scopes: new Set<never>() };
    await assert.rejects(server.services.messaging.send(built, chat.id, { text: 'still here' }), (err: { code?: string }) => err.code === 'forbidden');
    await mod.client.restrictAccount(target.accountId, { mode: 'rate_limit', reason: 'changed my mind?' });
    await rejectsWith(target.client.me(), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.login({ handle: target.handle, password: target.password }), 'forbidden', 403);
    await mod.client.restrictAccount(target.accountId, { mode: 'none', reason: 'appeal upheld' });
    assert.ok((await server.anonymous.login({ handle: target.handle, password: target.password })).token);
  });

  test('coordinated sharing of links is found like pictures, with only the link\'s host and path as evidence', async () => {
    const ring = [await server.signUp(), await server.signUp(), await server.signUp()];
    for (const path of ['a', 'b', 'c'])
      for (const member of ring) {
        const chat = await member.client.openDirect((await server.signUp()).handle);
        await member.client.send(chat.id, { text: `read this https://rumours.example/${path}?utm_source=ring&id=${path} now` });
      }
    const mod = await signUpModerator(server);
    // A window length no earlier test asked for: the console keeps each window's detection a minute (of this slowed clock, ten).
    const net = (await mod.client.amplificationNetworks({ hours: 2 })).networks.find((n) => n.accounts.some((a) => a.account_id === ring[0]!.accountId));
    assert.ok(net, 'the ring is listed');
    assert.deepEqual(net.accounts.map((a) => a.account_id).sort(), ring.map((u) => u.accountId).sort());
    assert.deepEqual([...net.evidence.co_shared_clusters].sort(), ['link rumours.example/a', 'link rumours.example/b', 'link rumours.example/c']);
  });

  test('retention: a cluster\'s minute buckets and shared links older than a week go as new shares come', { skip: noData }, async () => {
    const [ann, ben] = [await server.signUp(), await server.signUp()];
    const chat = await ann.client.openDirect(ben.handle);
    const item = await uploadAndWait(ann.client, await smallPhoto('RainDrops.jpg', 400));
    const first = await ann.client.send(chat.id, { media: [item.id] });
    const row = await server.db.db.selectFrom('spread_clusters').select('cluster_id').where('public_id', '=', first.spread!.cluster_id).executeTakeFirstOrThrow();
    const weekAgo = Math.floor((clock() - 8 * 24 * 3_600_000) / 60_000);
    await server.db.db.insertInto('spread_minutes').values({ cluster_id: row.cluster_id, minute: weekAgo, shares: 9, chats: 9, sharers: 9, max_hops: 0 }).execute();
    await server.db.db.insertInto('link_shares').values({ link: 'old.example/x', message_id: 'msg_old', conversation_id: chat.id, sender_id: ann.accountId, at: clock() - 8 * 24 * 3_600_000 }).execute();
    await ann.client.send((await ann.client.openDirect((await server.signUp()).handle)).id, { media: [item.id], text: 'again https://new.example/y' });
    const minutes = await server.db.db.selectFrom('spread_minutes').select('minute').where('cluster_id', '=', row.cluster_id).execute();
    assert.ok(minutes.length >= 1 && minutes.every((m) => Number(m.minute) > weekAgo), 'the week-old bucket is gone, the current one kept');
    const links = await server.db.db.selectFrom('link_shares').select('link').where('sender_id', '=', ann.accountId).execute();
    assert.deepEqual(links.map((l) => l.link), ['new.example/y']);
  });

  test('a Telegram-API bot cannot be asked to confirm: its share of something spreading fast goes out labelled, and the cooldown still holds it', { skip: noData }, async () => {
    const photo = await smallPhoto('Dune.jpg', 640);
    const { members, post } = await seed(photo, 6);
    const [bob, carol, dave] = members as [User, User, User];
    // Two more chats: now a person sharing it must confirm.
    await (await passOn(bob, post.id)).send();
    await (await passOn(carol, post.id)).send();
    await rejectsWith((await passOn(dave, post.id)).send(), 'confirmation_required', 428);

    const bot = await newBot(server);
    let offset = 0;
    const sendPhoto = async (to: User) => {
      const chat = await to.client.openDirect(bot.handle);
      const hello = `hi ${to.handle}`;
      await to.client.send(chat.id, { text: hello });
      const updates = (await (await fetch(`${server.url}/telegram/bot${bot.token}/getUpdates?offset=${offset}`)).json()) as { result: Array<{ update_id: number; message?: { text?: string; chat: { id: number } } }> };
      const update = updates.result.find((u) => u.message?.text === hello)!;
      offset = Math.max(...updates.result.map((u) => u.update_id)) + 1;
      const form = new FormData();
      form.set('chat_id', String(update.message!.chat.id));
      form.set('photo', new Blob([new Uint8Array(photo)]), 'photo.jpg');
      const response = await fetch(`${server.url}/telegram/bot${bot.token}/sendPhoto`, { method: 'POST', body: form });
      return { to, chat, body: (await response.json()) as { ok: boolean; error_code?: number; description?: string; parameters?: { retry_after?: number } } };
    };
    const first = await sendPhoto(await server.signUp());
    assert.equal(first.body.ok, true, `the bot's photo went out (${first.body.description})`);
    const got = await eventually('the photo in the chat', async () => (await first.to.client.history(first.chat.id)).messages.find((m) => m.media.length > 0));
    assert.equal(got.spread?.label, 'spreading_fast', 'labelled like anyone\'s share');
    // One more person's chat reaches the cooldown tier: the bot, which shared it a moment ago,
    // waits like a person would, told in Telegram's words (429 with retry_after).
    assert.equal((await (await passOn(dave, post.id, { confirm_spread: true })).send()).status, 'sent');
    const slowed = await sendPhoto(await server.signUp());
    assert.equal(slowed.body.ok, false);
    assert.equal(slowed.body.error_code, 429, String(slowed.body.description));
    assert.ok((slowed.body.parameters?.retry_after ?? 0) > 0);
  });
});
