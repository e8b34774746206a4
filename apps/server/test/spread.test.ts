/**
 * Spread counted per near-duplicate cluster (messaging/spread.ts): a forward, an exact re-upload,
 * a re-encode or a crop of a picture carries the same cluster and inherits its hops, so
 * re-uploading does not reset "forwarded many times"; the forward limits apply to re-uploads of a
 * cluster's media too, on messages sent at once and on messages released later.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MmdError } from '@mmd/sdk';
import { releaseHeld } from '../src/media/index.ts';
import { spreadPolicyFrom } from '../src/messaging/index.ts';
import { createLocalEventBus } from '../src/platform/pubsub/index.ts';
import { createEventWriter } from '../src/sync/index.ts';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { crop, noData, reencode, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

onEachDatabase('spread per near-duplicate cluster', (dialect) => {
  let server: TestServer;
  // The server's time runs at a tenth of real time: "within a minute" holds however slowly a
  // loaded machine processes the uploads (the limits' window is a minute of this clock).
  const start = Date.now();
  const clock = () => start + Math.floor((Date.now() - start) / 10);
  before(async () => {
    server = await startTestServer({ dialect, clock });
  });
  after(() => server.close());

  /** `from` sends a fresh upload of `bytes` into a new chat with a new person; the message. */
  async function upload(from: User, bytes: Buffer, to?: User) {
    const item = await uploadAndWait(from.client, bytes);
    assert.equal(item.status, 'ready', item.reason ?? '');
    const chat = await from.client.openDirect((to ?? (await server.signUp())).handle);
    return { chat, message: await from.client.send(chat.id, { media: [item.id] }) };
  }

  test('a forward and re-uploads (exact, re-encoded, cropped) carry the same cluster and inherit its hops; another picture does not', { skip: noData }, async () => {
    const photo = await smallPhoto('Garden.jpg', 800);
    const [alice, bob, carol, dave] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), server.signUp()]);
    const first = await upload(alice, photo, bob);
    assert.ok(first.message.spread, 'a message with a screened picture has a spread');
    assert.deepEqual({ hops: first.message.spread.hops, label: first.message.spread.label }, { hops: 0, label: null });
    const cluster = first.message.spread.cluster_id;
    assert.match(cluster, /^spc_/);
    // Bob forwards it: one hop, by the chain and by the cluster.
    const bobCarol = await bob.client.openDirect(carol.handle);
    const forwarded = await bob.client.send(bobCarol.id, { forward_of: first.message.id });
    assert.deepEqual(forwarded.spread, { cluster_id: cluster, hops: 1, label: 'forwarded' });
    // Carol saves it and uploads a re-encoded copy: no forward chain, but two hops of the cluster.
    const reuploaded = await upload(carol, await reencode(photo, 55), dave);
    assert.equal(reuploaded.message.forward, null);
    assert.deepEqual(reuploaded.message.spread, { cluster_id: cluster, hops: 2, label: 'forwarded' });
    // Dave crops it and uploads that: three hops.
    const cropped = await upload(dave, await crop(await reencode(photo, 55), 0.2));
    assert.deepEqual(cropped.message.spread, { cluster_id: cluster, hops: 3, label: 'forwarded' });
    // What the recipient reads in history says the same.
    const seen = (await dave.client.history(reuploaded.chat.id)).messages.at(-1);
    assert.deepEqual(seen?.spread, { cluster_id: cluster, hops: 2, label: 'forwarded' });
    // Sending your own picture to another chat is not "forwarded" while nobody else passed it on.
    const other = await smallPhoto('Storm.jpg', 800);
    const erin = await server.signUp();
    const mine = await upload(erin, other);
    const mineAgain = await upload(erin, other);
    assert.notEqual(mine.message.spread?.cluster_id, cluster);
    assert.equal(mineAgain.message.spread?.cluster_id, mine.message.spread?.cluster_id);
    assert.deepEqual([mine.message.spread?.hops, mineAgain.message.spread?.hops], [0, 0]);
  });

  test('re-uploading resets nothing: a picture passed on by re-upload five times is "forwarded many times" and goes to one chat a minute; a stranger learns nothing of it', { skip: noData }, async () => {
    const photo = await smallPhoto('LadyBird.jpg', 800);
    // A chain of people, each re-uploading (a fresh upload, a little re-encoded) the picture they were sent to the next.
    const people = [];
    for (let i = 0; i < 7; i += 1) people.push(await server.signUp());
    let last = await upload(people[0]!, photo, people[1]!);
    assert.equal(last.message.spread?.hops, 0);
    for (let hop = 1; hop <= 5; hop += 1) {
      last = await upload(people[hop]!, await reencode(photo, 90 - hop * 5), people[hop + 1]!);
      assert.equal(last.message.forward, null);
      assert.equal(last.message.spread?.hops, hop);
      assert.equal(last.message.spread?.label, hop >= 5 ? 'forwarded_many_times' : 'forwarded');
    }
    // The last one received it at five hops: six now, and one chat a minute, whichever copy they upload.
    const frank = people[6]!;
    const once = await upload(frank, await reencode(photo, 50));
    assert.equal(once.message.spread?.hops, 6);
    assert.equal(once.message.spread?.label, 'forwarded_many_times');
    const second = await uploadAndWait(frank.client, await reencode(photo, 45));
    const chat = await frank.client.openDirect((await server.signUp()).handle);
    const refused = await frank.client.send(chat.id, { media: [second.id] }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof MmdError && refused.code === 'forward_limit' && refused.status === 429, String(refused));
    assert.match(refused.message, /forwarded many times: it can go to 1 chat a minute/);
    // Into the chat it already went to: allowed.
    await frank.client.send(once.chat.id, { media: [second.id] });
    // Someone who was never sent it uploads the same picture: nothing of its travels shows, and
    // nothing limits them beyond their own sharing (sending tells nobody whether strangers shared it).
    const stranger = await server.signUp();
    const theirs = await upload(stranger, photo);
    assert.equal(theirs.message.spread?.cluster_id, once.message.spread?.cluster_id, 'the same picture, the same cluster');
    assert.deepEqual([theirs.message.spread?.hops, theirs.message.spread?.label], [0, null]);
    await upload(stranger, photo);
  });

  test('the same picture re-uploaded to a 6th chat within a minute is refused; a held one is failed when released, its sender told why', { skip: noData }, async () => {
    const photo = await smallPhoto('Aqua.jpg', 800);
    const grace = await server.signUp();
    for (let i = 0; i < 5; i += 1) await upload(grace, photo);
    const sixth = await uploadAndWait(grace.client, photo);
    const recipient = await server.signUp();
    const chat = await grace.client.openDirect(recipient.handle);
    await rejectsWith(grace.client.send(chat.id, { media: [sixth.id] }), 'forward_limit', 429);
    // Held for review when sent (pending), then released: over the limit, so it fails instead of going out.
    await server.db.db.updateTable('media').set({ status: 'held' }).where('id', '=', sixth.id).execute();
    const pending = await grace.client.send(chat.id, { media: [sixth.id] });
    assert.equal(pending.status, 'pending');
    const write = createEventWriter(server.db, createLocalEventBus(), []);
    await write((tx, emit) => releaseHeld(tx, emit, { mediaId: sixth.id, now: clock(), spread: spreadPolicyFrom(server.config) }));
    const after = await grace.client.message(pending.id);
    assert.equal(after.status, 'failed');
    const row = await server.db.db.selectFrom('messages').select(['status', 'seq']).where('id', '=', pending.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'failed');
    // The recipient never sees it.
    assert.equal((await recipient.client.history(chat.id)).messages.some((m) => m.id === pending.id), false);
  });

  test('a business or bot account sharing one picture is limited like a person (anyone may sign up as one)', { skip: noData }, async () => {
    const shop = await server.signUp(undefined, { kind: 'business' });
    const item = await uploadAndWait(shop.client, await smallPhoto('Dune.jpg', 800));
    const chats = [];
    for (let i = 0; i < 6; i += 1) chats.push(await (await server.signUp()).client.openDirect(shop.handle));
    for (const chat of chats.slice(0, 5)) assert.equal((await shop.client.send(chat.id, { text: 'look', media: [item.id] })).status, 'sent');
    await rejectsWith(shop.client.send(chats[5]!.id, { text: 'look', media: [item.id] }), 'forward_limit', 429);
  });
});
