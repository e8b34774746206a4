/**
 * Presence through the API, on each database: online while a device holds the event stream, last
 * seen when the last one closes, and the last-seen setting applied both ways as WhatsApp does.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { TestContext } from 'node:test';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

onEachDatabase('presence', (dialect) => {
  let server: TestServer;
  let now = Date.UTC(2026, 11, 6, 14, 2);
  before(async () => {
    server = await startTestServer({ dialect, clock: () => now });
  });
  after(() => server.close());

  async function online(t: TestContext, user: User) {
    const stream = user.client.stream({ onEvent: () => {} });
    t.after(() => stream.close());
    await stream.ready;
    return stream;
  }
  const presenceOf = async (viewer: User, of: User) => (await viewer.client.profiles.presence([of.accountId]))[0]!;

  it('is online while a stream is open, then last seen at the moment the last one closed', async (t) => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    assert.deepEqual(await presenceOf(alice, bob), { account_id: bob.accountId, online: false, last_seen_at: null });
    const phone = await online(t, bob);
    const laptop = await online(t, bob);
    assert.equal((await presenceOf(alice, bob)).online, true);
    phone.close();
    // One device still streams: still online.
    now += 1000;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await presenceOf(alice, bob)).online, true);
    now += 60_000;
    const closedAt = now;
    laptop.close();
    const seen = await eventually('bob offline', async () => {
      const p = await presenceOf(alice, bob);
      return p.online === false && p.last_seen_at === closedAt ? p : null;
    });
    assert.equal(seen.last_seen_at, closedAt);
    now += 5 * 60_000;
    // Later reads keep the moment they left, not the moment asked.
    assert.equal((await presenceOf(alice, bob)).last_seen_at, closedAt);
  });

  it('the last-seen setting applies both ways: contacts only, nobody, and blocks', async (t) => {
    const [carol, contact, stranger] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    // Carol writes to her contact; the stranger opens a chat with her and writes too (that is not enough).
    await carol.client.send((await carol.client.openDirect(contact.handle)).id, { text: 'hi' });
    await stranger.client.send((await stranger.client.openDirect(carol.handle)).id, { text: 'hi carol' });
    await online(t, carol);
    await online(t, contact);
    await online(t, stranger);
    await carol.client.setPrivacy({ last_seen: 'contacts' });
    assert.equal((await presenceOf(contact, carol)).online, true);
    assert.deepEqual(await presenceOf(stranger, carol), { account_id: carol.accountId, online: null, last_seen_at: null });
    // Carol does not share hers with the stranger, so she cannot see the stranger's either…
    assert.equal((await presenceOf(carol, stranger)).online, null);
    // …but she still sees her contact's.
    assert.equal((await presenceOf(carol, contact)).online, true);
    await carol.client.setPrivacy({ last_seen: 'nobody' });
    assert.equal((await presenceOf(contact, carol)).online, null);
    assert.equal((await presenceOf(carol, contact)).online, null);
    // One's own is always there.
    assert.equal((await presenceOf(carol, carol)).online, true);
    await carol.client.setPrivacy({ last_seen: 'everyone' });
    await stranger.client.block(carol.handle);
    assert.equal((await presenceOf(carol, stranger)).online, null, 'hidden from someone they blocked');
    assert.equal((await presenceOf(stranger, carol)).online, null, 'and hidden from the one who blocked');
    assert.equal((await presenceOf(contact, carol)).online, true);
  });

  it('refuses strangers (401), API keys (403) and too many ids (400); unknown ids read as hidden', async () => {
    const dave = await server.signUp();
    await rejectsWith(server.anonymous.profiles.presence([dave.accountId]), 'unauthenticated', 401);
    const biz = await server.signUp(uniqueHandle('biz'), { kind: 'business' });
    const { key } = await biz.client.createApiKey({ name: 'r', scopes: ['messages:read'] });
    await rejectsWith(server.anonymous.as(key).profiles.presence([dave.accountId]), 'insufficient_scope', 403);
    await rejectsWith(dave.client.profiles.presence(Array.from({ length: 101 }, (_, i) => `acc_${i}`)), 'validation_failed', 400);
    assert.deepEqual(await dave.client.profiles.presence(['acc_nobody']), [{ account_id: 'acc_nobody', online: null, last_seen_at: null }]);
  });
});
