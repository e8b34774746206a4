/**
 * Web Push: registering a device's subscription (and every refusal), and pushes end to end
 * against a loopback push service stand-in that decrypts them as a browser would — no message
 * content unless the person asked for previews, never to the sender, a muted chat, someone
 * removed, a signed-out device or a suspended account, and a subscription the push service
 * calls gone is deleted.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_PUSH_SUBSCRIPTIONS_PER_DEVICE, type PushPayload } from '@mmd/contracts';
import sharp from 'sharp';
import { setSuspended } from '../src/accounts/index.ts';
import { releaseHeld } from '../src/media/index.ts';
import { spreadPolicyFrom } from '../src/messaging/index.ts';
import { createLocalEventBus } from '../src/platform/pubsub/index.ts';
import { checkPushEndpoint, mentionedAccountIds, vapidKeys } from '../src/push/index.ts';
import { createEventWriter } from '../src/sync/index.ts';
import { type TestServer, type User, eventually, newBot, onEachDatabase, rejectsWith, secondDevice, startTestServer } from './harness.ts';
import { type PushStandIn, type StandInSubscription, startPushStandIn } from './push-stand-in.ts';

const SUBSCRIBE_LIMIT = 12;

test('an endpoint must be https on a public address; http only to loopback when the operator allows it', () => {
  const refused = (url: string, options = { allowLoopback: false }) => assert.throws(() => checkPushEndpoint(url, options), (err: { code?: string }) => err.code === 'validation_failed', url);
  assert.equal(checkPushEndpoint('https://fcm.googleapis.com/fcm/send/abc', { allowLoopback: false }).hostname, 'fcm.googleapis.com');
  for (const url of ['http://push.example.com/x', 'ftp://push.example.com/x', 'https://user:pw@push.example.com/x', 'https://10.0.0.7/x', 'https://169.254.169.254/latest', 'https://[::1]/x', 'https://[fd00::1]/x', 'https://127.0.0.1/x', 'not a url', `https://push.example.com/${'a'.repeat(1100)}`]) refused(url);
  refused('http://127.0.0.1:9/x');
  assert.equal(checkPushEndpoint('http://127.0.0.1:9/x', { allowLoopback: true }).port, '9');
  // The flag opens loopback alone, not the rest of the private network.
  refused('http://10.0.0.7/x', { allowLoopback: true });
  refused('https://192.168.1.1/x', { allowLoopback: true });
});

test('mentions are read from the message when it carries them', () => {
  assert.deepEqual(mentionedAccountIds({ id: 'm' }), []);
  assert.deepEqual(mentionedAccountIds({ mentions: [{ account_id: 'acc_1', handle: 'a' }, { account_id: 'acc_1', handle: 'a' }, { handle: 'x' }] }), ['acc_1']);
});

async function picture(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(64 * 48 * 3);
  for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 31 + seed * 97 + ((i / 3) | 0) * 7) & 0xff;
  return sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer();
}

onEachDatabase('web push', (dialect) => {
  let server: TestServer;
  let pushService: PushStandIn;
  before(async () => {
    pushService = await startPushStandIn();
    server = await startTestServer({ dialect, config: { pushAllowLoopback: true, pushSubscribeRateLimit: SUBSCRIBE_LIMIT } });
  });
  after(async () => {
    await server.close();
    await pushService.close();
  });

  async function subscribed(user: { client: User['client'] }, options: { previews?: boolean } = {}): Promise<StandInSubscription & { serverId: string }> {
    const sub = pushService.subscribe();
    const view = await user.client.subscribePush({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys, ...options });
    return { ...sub, serverId: view.id };
  }

  /** The push job of a message, once it finished: what it did (sent, skipped, gone, …). */
  async function pushJob(messageId: string): Promise<Record<string, number>> {
    return eventually(`push job of ${messageId}`, async () => {
      const row = await server.db.db.selectFrom('jobs').select(['status', 'result']).where('dedupe_key', '=', `push-message:${messageId}`).executeTakeFirst();
      return row?.status === 'succeeded' ? (JSON.parse(row.result!) as Record<string, number>) : null;
    }, 20_000);
  }
  async function noPushJob(messageId: string) {
    const row = await server.db.db.selectFrom('jobs').select('id').where('dedupe_key', '=', `push-message:${messageId}`).executeTakeFirst();
    assert.equal(row, undefined, 'no push job was enqueued');
  }
  const payloadOf = (text: string) => JSON.parse(text) as PushPayload;

  test('the VAPID key is made once and kept in the database', async () => {
    const alice = await server.signUp();
    const { public_key } = await alice.client.pushVapidKey();
    assert.equal(Buffer.from(public_key, 'base64url').length, 65);
    assert.equal((await (await server.signUp()).client.pushVapidKey()).public_key, public_key);
    // What another API process (or a restart) on the same database derives.
    assert.equal((await vapidKeys(server.db, { subject: '', publicUrl: '' })).publicKey, public_key);
  });

  test('a message reaches the recipient as a push with ids and a count, no content; the sender gets none', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const alicePhone = await subscribed(alice);
    const bobPhone = await subscribed(bob);
    const chat = await alice.client.openDirect(bob.handle);
    const sent = await alice.client.send(chat.id, { text: 'the secret is tangerine' });
    assert.deepEqual(await pushJob(sent.id), { sent: 1, gone: 0, retry: 0, rejected: 0, skipped: 0 });
    const [push] = pushService.pushesTo(bobPhone.id);
    assert.ok(push, 'bob got a push');
    assert.deepEqual(payloadOf(push.text), { v: 1, type: 'message', conversation_id: chat.id, message_id: sent.id, unread: 1 });
    assert.doesNotMatch(push.text, /tangerine/);
    // Signed with the server's VAPID key, for the push service's origin.
    assert.equal(push.vapid.key, (await bob.client.pushVapidKey()).public_key);
    assert.equal(push.vapid.claims.aud, pushService.origin);
    assert.equal(push.headers.urgency, 'high');
    assert.equal(pushService.pushesTo(alicePhone.id).length, 0);
    // The count is the person's unread total over all their chats.
    const second = await alice.client.send(chat.id, { text: 'two' });
    await pushJob(second.id);
    assert.equal(payloadOf(pushService.pushesTo(bobPhone.id)[1]!.text).unread, 2);
    assert.deepEqual(pushService.errors, []);
  });

  test('a person who opted in to previews gets the sender and the start of the text', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const bobPhone = await subscribed(bob, { previews: true });
    const chat = await alice.client.openDirect(bob.handle);
    const sent = await alice.client.send(chat.id, { text: `lunch? ${'x'.repeat(300)}` });
    await pushJob(sent.id);
    const payload = payloadOf(pushService.pushesTo(bobPhone.id)[0]!.text);
    assert.equal(payload.preview?.sender, alice.handle);
    assert.equal(payload.preview?.text, `lunch? ${'x'.repeat(133)}`);
    // Turned off again (the same endpoint registered again updates it): ids only.
    const again = await bob.client.subscribePush({ endpoint: bobPhone.endpoint, keys: bobPhone.keys, previews: false });
    assert.equal(again.id, bobPhone.serverId);
    const next = await alice.client.send(chat.id, { text: 'no preview now' });
    await pushJob(next.id);
    assert.equal(payloadOf(pushService.pushesTo(bobPhone.id)[1]!.text).preview, undefined);
  });

  test("a channel's post is pushed to subscribers as the channel's, never naming the admin; the admin gets none", async () => {
    const admin = await server.signUp();
    const reader = await server.signUp();
    const handle = `news${Date.now().toString(36)}`;
    const channel = await admin.client.createConversation({ kind: 'channel', title: 'Night news', handle });
    await reader.client.join(channel.id);
    const adminPhone = await subscribed(admin);
    const readerPhone = await subscribed(reader, { previews: true });
    const post = await admin.client.send(channel.id, { text: 'Tonight: the harbour lights' });
    assert.deepEqual(await pushJob(post.id), { sent: 1, gone: 0, retry: 0, rejected: 0, skipped: 0 });
    const [push] = pushService.pushesTo(readerPhone.id);
    assert.ok(push, 'the subscriber got a push');
    assert.equal(payloadOf(push.text).preview?.sender, handle);
    assert.doesNotMatch(push.text, new RegExp(admin.handle));
    assert.equal(pushService.pushesTo(adminPhone.id).length, 0, 'the admin is not pushed their own post');
  });

  test('a muted chat is not pushed; a mention breaks through the mute', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const bobPhone = await subscribed(bob);
    const chat = await alice.client.openDirect(bob.handle);
    for (const mute of ['8h', '1w', 'always'] as const) {
      await bob.client.updateChatSettings(chat.id, { mute });
      const sent = await alice.client.send(chat.id, { text: `while muted ${mute}` });
      assert.equal((await pushJob(sent.id)).skipped, 1, mute);
    }
    assert.equal(pushService.pushesTo(bobPhone.id).length, 0);
    // The job of a message mentioning bob (messaging's mentions put the ids on the message).
    const mentioning = await alice.client.send(chat.id, { text: `@${bob.handle} look` });
    const outcome = await server.services.push.deliver({ messageId: mentioning.id, conversationId: chat.id, senderId: alice.accountId, joinedBy: null, to: null, mentioned: [bob.accountId] });
    assert.equal(outcome.sent, 1);
    assert.equal(payloadOf(pushService.pushesTo(bobPhone.id)[0]!.text).mention, true);
    await bob.client.updateChatSettings(chat.id, { mute: 'off' });
    const after = await alice.client.send(chat.id, { text: 'unmuted' });
    assert.equal((await pushJob(after.id)).sent, 1);
  });

  test('a group pushes its members but not one who was removed', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const carol = await server.signUp();
    const bobPhone = await subscribed(bob);
    const carolPhone = await subscribed(carol);
    const group = await alice.client.createConversation({ kind: 'group', title: 'Push', members: [bob.handle, carol.handle] });
    await alice.client.removeMember(group.id, carol.accountId);
    const sent = await alice.client.send(group.id, { text: 'after carol left' });
    assert.equal((await pushJob(sent.id)).sent, 1);
    assert.equal(pushService.pushesTo(bobPhone.id).length, 1);
    assert.equal(pushService.pushesTo(carolPhone.id).length, 0);
  });

  test('a held message is not pushed until it is released', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const bobPhone = await subscribed(bob);
    const chat = await alice.client.openDirect(bob.handle);
    const { id } = await alice.client.upload(await picture(dialect === 'postgres' ? 7 : 3), { filename: 'p.png' });
    assert.equal((await alice.client.waitForMedia(id, { timeoutMs: 90_000 })).status, 'ready');
    await server.db.db.updateTable('media').set({ status: 'held' }).where('id', '=', id).execute();
    const held = await alice.client.send(chat.id, { text: 'held back', media: [id] });
    assert.equal(held.status, 'pending');
    await noPushJob(held.id);
    // A moderator's dismissal releases it, through a writer tapped as app.ts taps it.
    const write = createEventWriter(server.db, createLocalEventBus(), [server.services.push.tap]);
    assert.equal(await write((tx, emit) => releaseHeld(tx, emit, { mediaId: id, now: Date.now(), spread: spreadPolicyFrom(server.config) })), true);
    assert.equal((await pushJob(held.id)).sent, 1);
    assert.equal(payloadOf(pushService.pushesTo(bobPhone.id)[0]!.text).message_id, held.id);
  });

  test('a subscription the push service calls gone (410 or 404) is deleted', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const gone = await subscribed(bob);
    const chat = await alice.client.openDirect(bob.handle);
    pushService.answer(gone.id, 410);
    const sent = await alice.client.send(chat.id, { text: 'to a gone browser' });
    assert.equal((await pushJob(sent.id)).gone, 1);
    assert.deepEqual(await bob.client.pushSubscriptions(), []);
    // Nobody subscribed any more: later messages enqueue no push at all.
    const later = await alice.client.send(chat.id, { text: 'later' });
    await noPushJob(later.id);
  });

  test('signing a device out, or a suspension, ends its subscriptions', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const laptop = await secondDevice(server, bob);
    const laptopSub = await subscribed({ client: laptop });
    const phoneSub = await subscribed(bob);
    const chat = await alice.client.openDirect(bob.handle);
    const laptopId = (await laptop.devices()).find((d) => d.current)!.id;
    await bob.client.revokeDevice(laptopId);
    const sent = await alice.client.send(chat.id, { text: 'after the laptop signed out' });
    assert.equal((await pushJob(sent.id)).sent, 1);
    assert.equal(pushService.pushesTo(laptopSub.id).length, 0);
    assert.equal(pushService.pushesTo(phoneSub.id).length, 1);
    assert.equal((await bob.client.pushSubscriptions()).length, 1);
    // Suspended (by another process, say): the push job itself finds the grant ended.
    await setSuspended(server.db.db, bob.accountId, Date.now());
    const whileSuspended = await alice.client.send(chat.id, { text: 'to a suspended account' });
    assert.deepEqual(await pushJob(whileSuspended.id), { sent: 0, gone: 1, retry: 0, rejected: 0, skipped: 0 });
    assert.equal(pushService.pushesTo(phoneSub.id).length, 1);
    await setSuspended(server.db.db, bob.accountId, null);
    assert.deepEqual(await bob.client.pushSubscriptions(), []);
  });

  test('registration refuses strangers, bots and bad input, and is limited per device and per account', async () => {
    const alice = await server.signUp();
    const sub = pushService.subscribe();
    const body = { endpoint: sub.endpoint, keys: sub.keys };
    await rejectsWith(server.anonymous.subscribePush(body), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.pushVapidKey(), 'unauthenticated', 401);
    const bot = await newBot(server);
    await rejectsWith(server.anonymous.as(bot.token).subscribePush(body), 'person_only', 403);
    const business = await server.signUp(undefined, { kind: 'business' });
    const key = await business.client.createApiKey({ name: 'k', scopes: ['messages:read', 'messages:write'] });
    await rejectsWith(server.anonymous.as(key.key).subscribePush(body), 'insufficient_scope', 403);
    await rejectsWith(alice.client.subscribePush({ ...body, endpoint: 'http://push.example.com/x' }), 'validation_failed', 400);
    await rejectsWith(alice.client.subscribePush({ ...body, endpoint: 'https://10.1.2.3/x' }), 'validation_failed', 400);
    await rejectsWith(alice.client.subscribePush({ ...body, endpoint: 'https://169.254.169.254/x' }), 'validation_failed', 400);
    await rejectsWith(alice.client.subscribePush({ ...body, endpoint: `https://push.example.com/${'a'.repeat(1100)}` }), 'validation_failed', 400);
    await rejectsWith(alice.client.subscribePush({ ...body, keys: { ...sub.keys, p256dh: Buffer.alloc(65, 4).toString('base64url') } }), 'validation_failed', 400);
    await rejectsWith(alice.client.subscribePush({ ...body, keys: { ...sub.keys, auth: Buffer.alloc(17, 1).toString('base64url') } }), 'validation_failed', 400);
    await rejectsWith(alice.client.subscribePush({ ...body, expirationTime: 1 }), 'validation_failed', 400);
    await rejectsWith(alice.client.request('POST', '/v1/push/subscriptions', { ...body, extra: 1 }), 'validation_failed', 400);
    assert.deepEqual(await alice.client.pushSubscriptions(), []);
    for (let i = 0; i < MAX_PUSH_SUBSCRIPTIONS_PER_DEVICE; i++) await subscribed(alice);
    await rejectsWith(subscribed(alice), 'limit_reached', 409);
    // Registrations are counted per account per window (each makes the server POST somewhere).
    const carol = await server.signUp();
    const one = pushService.subscribe();
    for (let i = 0; i < SUBSCRIBE_LIMIT; i++) await carol.client.subscribePush({ endpoint: one.endpoint, keys: one.keys });
    await rejectsWith(carol.client.subscribePush({ endpoint: one.endpoint, keys: one.keys }), 'rate_limited', 429);
  });

  test('a subscription is deleted by its own account only', async () => {
    const alice = await server.signUp();
    const mallory = await server.signUp();
    const sub = await subscribed(alice);
    await rejectsWith(mallory.client.unsubscribePush(sub.serverId), 'not_found', 404);
    await rejectsWith(alice.client.unsubscribePush('psh_nope'), 'not_found', 404);
    // Another of alice's devices may delete it (a lost phone's pushes turned off from the laptop)…
    const laptop = await secondDevice(server, alice);
    assert.deepEqual(await laptop.pushSubscriptions(), [], "a device lists its own subscriptions only");
    await laptop.unsubscribePush(sub.serverId);
    assert.deepEqual(await alice.client.pushSubscriptions(), []);
    await rejectsWith(alice.client.unsubscribePush(sub.serverId), 'not_found', 404);
  });
});
