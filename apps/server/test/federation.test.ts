/**
 * Federation between MMD instances on loopback, each a whole server with its own database: a
 * takedown on A is held on B within 5 s, B's moderator confirms and A sees "removed 1", a
 * retraction on A releases B's hold, a peer that was down catches up (pull, and the outbox's
 * retries), an ignoring peer ignores, and forged, replayed and altered messages are refused.
 */
import assert from 'node:assert/strict';
import { type KeyObject, createHash, generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Review } from '@mmd/sdk';
import type { MmdClient } from '@mmd/sdk';
import type { Dialect } from '../src/platform/db/index.ts';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';
import { keyIdOf } from '../src/federation/identity.ts';
import { signRequest } from '../src/federation/signatures.ts';

interface Instance {
  server: TestServer;
  admin: User;
  mod: User;
  person: User;
  port: number;
}

async function instance(dialect: Dialect = 'sqlite'): Promise<Instance> {
  const server = await startTestServer({ dialect, config: { outboundAllowPrivate: true, federationPullIntervalMs: 0 } });
  const [admin, mod, person] = await Promise.all([signUpModerator(server, 'admin'), signUpModerator(server), server.signUp()]);
  return { server, admin, mod, person, port: (server.app.server.address() as { port: number }).port };
}

/** `from` connects `to` as a peer (key fetched from its well-known document). */
async function connect(from: Instance, to: Instance, options: { name: string; share?: string[]; policy?: Record<string, 'block' | 'hold' | 'review' | 'ignore'>; trusted?: string[] }) {
  return from.admin.client.connectPeer({
    name: options.name,
    base_url: to.server.url,
    share_categories: (options.share ?? ['other']) as never,
    policy: options.policy ?? { other: 'hold' },
    trusted_categories: (options.trusted ?? []) as never,
  });
}

/** The open hold review of a media item. */
async function holdOf(mod: User, mediaId: string): Promise<Review | undefined> {
  return (await mod.client.reviews({ status: 'open' })).reviews.find((r) => r.kind === 'hold' && r.media.some((m) => m.id === mediaId));
}

/** The same, asked through inject: for an instance whose listener is closed ("down" to its peers). */
async function holdOfInside(at: Instance, mediaId: string): Promise<Review | undefined> {
  const answer = await at.server.app.inject({ method: 'GET', url: '/v1/safety/reviews?status=open', headers: { authorization: `Bearer ${at.mod.token}` } });
  return (JSON.parse(answer.body) as { reviews: Review[] }).reviews.find((r) => r.kind === 'hold' && r.media.some((m) => m.id === mediaId));
}

/** A stored copy on `at`: uploaded by its person and sent in a chat. */
async function storedCopy(at: Instance, bytes: Buffer) {
  const item = await uploadAndWait(at.person.client, bytes);
  assert.equal(item.status, 'ready', item.reason ?? '');
  return item;
}

/** A takedown on `at` of an upload of `bytes` there. */
async function takeDown(at: Instance, bytes: Buffer) {
  const item = await uploadAndWait(at.person.client, bytes, 'original.jpg');
  const takedown = await at.mod.client.takedown({ media_id: item.id, reason: 'shared without consent' });
  return { takedown, started: performance.now() };
}

async function sharedOf(at: Instance, takedownId: string) {
  return eventually('the takedown is shared', async () => (await at.mod.client.sharedCases({ takedown_id: takedownId })).cases[0]);
}

onEachDatabase('federation: two instances', (dialect) => {
  let a: Instance;
  let b: Instance;
  let bPeerOnA: string;
  let aPeerOnB: string;
  before(async () => {
    if (noData) return;
    [a, b] = await Promise.all([instance(dialect), instance(dialect)]);
    bPeerOnA = (await connect(a, b, { name: 'B', share: ['other'] })).id;
    aPeerOnB = (await connect(b, a, { name: 'A', share: ['other'], policy: { other: 'hold' } })).id;
  });
  after(async () => {
    await Promise.all([a?.server.close(), b?.server.close()]);
  });

  test('a takedown confirmed on A holds the stored copy on B within 5 s; B confirms and A sees "removed 1"', { skip: noData }, async () => {
    const photo = await smallPhoto('GreenMeadow.jpg');
    const copy = await storedCopy(b, photo);
    const { takedown, started } = await takeDown(a, photo);
    const review = await eventually('B holds its copy for review', () => holdOf(b.mod, copy.id), 5000);
    const heldAfterMs = performance.now() - started;
    assert.ok(heldAfterMs < 5000, `held after ${heldAfterMs} ms`);
    assert.equal(review.bank?.category, 'other');

    // A sees B's answers: received, then under review.
    const shared = await sharedOf(a, takedown.id);
    await eventually('A hears B has it under review', async () => (await a.mod.client.sharedCase(shared.id)).peers.find((p) => p.peer_id === bPeerOnA && p.outcome === 'under_review'));

    const decided = await b.mod.client.decideReview(review.id, { action: 'takedown', note: 'confirmed here too' });
    assert.equal(decided.takedown?.media_removed, 1);
    const outcome = await eventually('A sees "removed 1" from B', async () => (await a.mod.client.sharedCase(shared.id)).peers.find((p) => p.peer_id === bPeerOnA && p.outcome === 'removed'));
    assert.equal(outcome.copies, 1);
    // B's own confirmation went to its own takedown bank, which blocks: not back to A as a new case.
    assert.equal((await b.mod.client.sharedCases()).cases.length, 0);
    const received = (await b.mod.client.receivedCases()).cases.find((c) => c.case_ref === shared.id);
    assert.equal(received?.status, 'confirmed');
  });

  test('a retraction on A releases the hold on B and takes the signals out of B', { skip: noData }, async () => {
    const photo = await smallPhoto('LadyBird.jpg');
    const copy = await storedCopy(b, photo);
    const { takedown } = await takeDown(a, photo);
    const review = await eventually('B holds its copy', () => holdOf(b.mod, copy.id), 5000);
    // A new upload of it on B is held too, before anyone sees it.
    const held = await uploadAndWait(b.person.client, photo, 'again.jpg');
    assert.equal(held.status, 'held');
    const shared = await sharedOf(a, takedown.id);
    const retracted = await a.mod.client.retractShared(shared.id);
    assert.equal(retracted.status, 'retracted');
    await eventually('B released the hold', async () => (await b.mod.client.review(review.id)).status === 'closed');
    const closed = await b.mod.client.review(review.id);
    assert.equal(closed.outcome, 'dismiss');
    await eventually('the held upload is delivered', async () => (await b.person.client.media(held.id)).status === 'ready');
    await eventually('B recorded the case as withdrawn', async () => (await b.mod.client.receivedCases()).cases.find((c) => c.case_ref === shared.id && c.status === 'retracted'));
    // Gone from B's bank: a new upload is delivered, not held.
    const again = await uploadAndWait(b.person.client, photo, 'after-retraction.jpg');
    assert.equal(again.status, 'ready');
    await rejectsWith(a.mod.client.retractShared(shared.id), 'conflict', 409);
  });

  test('a peer that was down catches up: by pulling, and by the outbox retrying', { skip: noData }, async () => {
    const first = await smallPhoto('Aqua.jpg');
    const second = await smallPhoto('Dune.jpg');
    const copies = [await storedCopy(b, first), await storedCopy(b, second)];
    // B stops answering (its listener closes; its worker and database stay).
    await new Promise<void>((resolve) => b.server.app.server.close(() => resolve()));
    b.server.app.server.closeAllConnections();
    await takeDown(a, first);
    await eventually('A failed to push to B', async () => (await a.admin.client.peer(bPeerOnA)).last_delivery_error, 10_000);
    // B asks A for what it missed (its own API answers through inject while it is "down").
    const bAdmin = { authorization: `Bearer ${b.admin.token}` };
    const pulled = await b.server.app.inject({ method: 'POST', url: `/v1/federation/peers/${aPeerOnB}/pull`, headers: bAdmin });
    assert.equal(pulled.statusCode, 200, pulled.body);
    assert.ok((JSON.parse(pulled.body) as { received: number }).received >= 1);
    await eventually('B holds the first copy after pulling', () => holdOfInside(b, copies[0]!.id), 5000);

    // A second takedown while B is still down: only A's outbox has it.
    await takeDown(a, second);
    await eventually('A has it waiting for B', async () => (await a.admin.client.peer(bPeerOnA)).outbox_pending > 0);
    await new Promise<void>((resolve) => b.server.app.server.listen({ port: b.port, host: '127.0.0.1' }, () => resolve()));
    await eventually('B holds the second copy once A retries', () => holdOf(b.mod, copies[1]!.id), 30_000);
    const peer = await eventually('A delivered everything', async () => {
      const p = await a.admin.client.peer(bPeerOnA);
      return p.outbox_pending === 0 ? p : null;
    }, 30_000);
    assert.equal(peer.last_delivery_error, null);
  });

  test('a forged, replayed or altered message is refused and logged', { skip: noData }, async () => {
    const url = `${b.server.url}/v1/federation/inbox`;
    const me = await a.server.services.federation.identity();
    const bKey = (await b.server.anonymous.federationIdentity()).key_id;
    const message = (id: string) => JSON.stringify({ id, type: 'ack', from: me.keyId, to: bKey, created_at: Date.now(), body: { case_ref: 'fc_test', outcome: 'received', copies: 0 } });
    const post = async (headers: Record<string, string>, body: string) => {
      const r = await fetch(url, { method: 'POST', headers, body });
      return { status: r.status, code: ((await r.json()) as { code?: string }).code };
    };
    const signed = async (body: string, identity: { keyId: string; privateKey: KeyObject } = me) => signRequest({ identity, method: 'POST', url, headers: { 'content-type': 'application/json' }, body, now: Date.now() });

    // Forged: a key B never connected, and another key claiming A's key id.
    const stranger = generateKeyPairSync('ed25519');
    const strangerId = keyIdOf(stranger.publicKey.export({ format: 'jwk' }).x!);
    // Both get the same answer, so a stranger cannot learn which keys are this instance's peers
    // (the audit below still tells the operator which it was).
    const postFull = async (headers: Record<string, string>, body: string) => {
      const r = await fetch(url, { method: 'POST', headers, body });
      const problem = (await r.json()) as { code?: string; detail?: string };
      return { status: r.status, code: problem.code, detail: problem.detail };
    };
    const unknown = await postFull(await signed(message('m_forged_unknown_1'), { keyId: strangerId, privateKey: stranger.privateKey }), message('m_forged_unknown_1'));
    const claimed = await postFull(await signed(message('m_forged_claimed_1'), { keyId: me.keyId, privateKey: stranger.privateKey }), message('m_forged_claimed_1'));
    assert.equal(unknown.code, 'signature_invalid');
    assert.deepEqual(unknown, claimed);
    // Stale signatures too: a peer's key id and an unknown one are both "expired".
    const staleBy = async (identity: { keyId: string; privateKey: KeyObject }, id: string) => postFull(await signRequest({ identity, method: 'POST', url, headers: { 'content-type': 'application/json' }, body: message(id), now: Date.now() - 10 * 60_000 }), message(id));
    assert.deepEqual(await staleBy({ keyId: strangerId, privateKey: stranger.privateKey }, 'm_stale_unknown_1'), await staleBy({ keyId: me.keyId, privateKey: stranger.privateKey }, 'm_stale_claimed_1'));
    // Unsigned.
    assert.deepEqual(await post({ 'content-type': 'application/json' }, message('m_unsigned_00001')), { status: 401, code: 'signature_invalid' });

    // Accepted once; the same request again (same nonce) and the same id with a fresh signature are replays.
    const body = message('m_replay_000001');
    const headers = await signed(body);
    assert.equal((await post(headers, body)).status, 202);
    assert.deepEqual(await post(headers, body), { status: 409, code: 'message_replayed' });
    assert.deepEqual(await post(await signed(body), body), { status: 409, code: 'message_replayed' });

    // Altered: the body changed after signing (the digest no longer matches it).
    const original = message('m_altered_00001');
    const altered = original.replace('"received"', '"removed"');
    assert.deepEqual(await post(await signed(original), altered), { status: 400, code: 'digest_mismatch' });
    // Signed long ago: outside the window.
    const old = message('m_expired_00001');
    const stale = await signRequest({ identity: me, method: 'POST', url, headers: { 'content-type': 'application/json' }, body: old, now: Date.now() - 10 * 60_000 });
    assert.deepEqual(await post(stale, old), { status: 401, code: 'signature_expired' });
    // Addressed to someone else (a message for A replayed to B).
    const elsewhere = JSON.stringify({ ...JSON.parse(message('m_elsewhere_0001')), to: me.keyId });
    assert.deepEqual(await post(await signed(elsewhere), elsewhere), { status: 403, code: 'forbidden' });
    // Not a message.
    const junk = JSON.stringify({ id: 'm_junk_00000001', type: 'gossip' });
    assert.deepEqual(await post(await signed(junk), junk), { status: 400, code: 'validation_failed' });

    const refusals = (await b.mod.client.audit({ action: 'federation.refused' })).entries.map((e) => e.detail.code);
    for (const code of ['unknown_key', 'signature_invalid', 'message_replayed', 'digest_mismatch', 'signature_expired', 'forbidden', 'validation_failed']) assert.ok(refusals.includes(code), `${code} logged`);
  });
});

describe('federation: three instances', { skip: noData }, () => {
  let a: Instance;
  let b: Instance;
  let c: Instance;
  before(async () => {
    [a, b, c] = await Promise.all([instance(), instance(), instance()]);
    await connect(a, b, { name: 'B' });
    await connect(a, c, { name: 'C' });
    await connect(b, a, { name: 'A', policy: { other: 'block' }, trusted: ['other'] });
    await connect(b, c, { name: 'C' });
    await connect(c, a, { name: 'A', policy: { other: 'ignore' } });
    await connect(c, b, { name: 'B', policy: { other: 'review' } });
  });
  after(async () => {
    await Promise.all([a?.server.close(), b?.server.close(), c?.server.close()]);
  });

  test('each peer acts by its own policy: trusted block removes, ignore ignores, review waits; A sees each outcome', async () => {
    const photo = await smallPhoto('Garden.jpg');
    const [onB, onC] = [await storedCopy(b, photo), await storedCopy(c, photo)];
    const { takedown } = await takeDown(a, photo);
    const shared = await sharedOf(a, takedown.id);
    const outcomes = await eventually('A hears from both', async () => {
      const peers = (await a.mod.client.sharedCase(shared.id)).peers;
      const byName = new Map(peers.map((p) => [p.peer_name, p]));
      return byName.get('B')?.outcome === 'blocked' && byName.get('C')?.outcome === 'received' ? byName : null;
    });
    assert.equal(outcomes.get('B')?.copies, 1);
    const onBNow = await b.server.db.db.selectFrom('media').select('status').where('id', '=', onB.id).executeTakeFirstOrThrow();
    assert.equal(onBNow.status, 'removed');
    // C ignores A: nothing held, the case recorded as ignored.
    assert.equal(await holdOf(c.mod, onC.id), undefined);
    const onCfromA = (await c.mod.client.receivedCases()).cases.find((r) => r.case_ref === shared.id && r.peer_name === 'A');
    assert.equal(onCfromA?.status, 'ignored');
    assert.equal((await c.person.client.media(onC.id)).status, 'ready');
  });

  test('a confirmation from B reaches C, whose policy for B sends it to a moderator first', async () => {
    const photo = await smallPhoto('RainDrops.jpg');
    const onB = await storedCopy(b, photo);
    const onC = await storedCopy(c, photo);
    // B holds A's signals here (policy changed to hold), B's moderator confirms.
    const aOnB = (await b.admin.client.peers()).peers.find((p) => p.name === 'A')!;
    await b.admin.client.updatePeer(aOnB.id, { policy: { other: 'hold' } });
    await takeDown(a, photo);
    const review = await eventually('B holds it', () => holdOf(b.mod, onB.id), 5000);
    await b.mod.client.decideReview(review.id, { action: 'takedown' });
    const pending = await eventually('C has B\'s confirmation waiting', async () => (await c.mod.client.receivedCases({ status: 'pending' })).cases.find((r) => r.type === 'confirmation' && r.peer_name === 'B'));
    assert.equal(await holdOf(c.mod, onC.id), undefined);
    const decided = await c.mod.client.decideReceived(pending.id, 'hold');
    assert.equal(decided.status, 'active');
    await eventually('C holds its copy once its moderator agreed', () => holdOf(c.mod, onC.id), 5000);
  });
});

describe('federation: denials', () => {
  let a: Instance;
  let outsider: MmdClient;
  before(async () => {
    a = await instance();
    outsider = a.server.anonymous;
  });
  after(() => a?.server.close());

  test('the well-known document names the key by its thumbprint', async () => {
    const doc = await outsider.federationIdentity();
    assert.equal(doc.protocol, 'mmd-federation/1');
    assert.equal(doc.key_id, keyIdOf(doc.public_key));
  });

  test('peers are for admins: 401 without a token, 403 for a moderator or a person, 404 for an unknown peer, 400 for a bad body, 422 for a peer without a well-known document', async () => {
    const body = { name: 'X', base_url: 'http://127.0.0.1:9', share_categories: [] };
    await rejectsWith(outsider.connectPeer(body), 'unauthenticated', 401);
    await rejectsWith(a.mod.client.connectPeer(body), 'forbidden', 403);
    await rejectsWith(a.person.client.peers(), 'forbidden', 403);
    await rejectsWith(outsider.peers(), 'unauthenticated', 401);
    await rejectsWith(a.admin.client.peer('peer_nothere'), 'not_found', 404);
    await rejectsWith(a.admin.client.updatePeer('peer_nothere', { status: 'disabled' }), 'not_found', 404);
    await rejectsWith(a.mod.client.updatePeer('peer_nothere', { status: 'disabled' }), 'forbidden', 403);
    await rejectsWith(a.admin.client.pullPeer('peer_nothere'), 'not_found', 404);
    await rejectsWith(a.mod.client.pullPeer('peer_nothere'), 'forbidden', 403);
    await rejectsWith(a.admin.client.connectPeer({ ...body, base_url: 'ftp://example.org' }), 'validation_failed', 400);
    await rejectsWith(a.admin.client.connectPeer({ ...body, public_key: 'not-a-key' }), 'validation_failed', 400);
    await rejectsWith(a.admin.client.connectPeer(body), 'peer_unreachable', 422);
    const own = await outsider.federationIdentity();
    await rejectsWith(a.admin.client.connectPeer({ ...body, public_key: own.public_key }), 'conflict', 409);
  });

  test('shared and received cases are for moderators: 401, 403, 404', async () => {
    await rejectsWith(outsider.sharedCases(), 'unauthenticated', 401);
    await rejectsWith(a.person.client.sharedCases(), 'forbidden', 403);
    await rejectsWith(a.mod.client.sharedCase('fc_nothere'), 'not_found', 404);
    await rejectsWith(a.person.client.sharedCase('fc_nothere'), 'forbidden', 403);
    await rejectsWith(a.mod.client.retractShared('fc_nothere'), 'not_found', 404);
    await rejectsWith(a.person.client.retractShared('fc_nothere'), 'forbidden', 403);
    await rejectsWith(outsider.retractShared('fc_nothere'), 'unauthenticated', 401);
    await rejectsWith(outsider.receivedCases(), 'unauthenticated', 401);
    await rejectsWith(a.person.client.receivedCases(), 'forbidden', 403);
    await rejectsWith(a.mod.client.decideReceived('rcv_nothere', 'hold'), 'not_found', 404);
    await rejectsWith(a.person.client.decideReceived('rcv_nothere', 'hold'), 'forbidden', 403);
  });

  test('the inbox and the pull endpoint refuse what no peer signed', async () => {
    const inbox = await fetch(`${a.server.url}/v1/federation/inbox`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(inbox.status, 401);
    assert.equal(((await inbox.json()) as { code: string }).code, 'signature_invalid');
    const pull = await fetch(`${a.server.url}/v1/federation/messages?after=0`);
    assert.equal(pull.status, 401);
    assert.equal(((await pull.json()) as { code: string }).code, 'signature_invalid');
    const badQuery = await fetch(`${a.server.url}/v1/federation/messages?after=-1`);
    assert.equal(badQuery.status, 400);
  });

  test("a stranger's refused requests cannot flood the audit log: one entry per address and code a minute", async () => {
    const refusals = async () => (await a.mod.client.audit({ action: 'federation.refused', limit: 200 })).entries.length;
    const before = await refusals();
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${a.server.url}/v1/federation/inbox`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(r.status, 401);
    }
    assert.ok((await refusals()) - before <= 1, 'at most one new entry');
  });

  test('an unsigned inbox request is refused before its body is read: announcing 8 MB and sending 1 KB gets 401 at once', async () => {
    const answer = await new Promise<{ status: number; code: string }>((resolve, reject) => {
      const req = request(`${a.server.url}/v1/federation/inbox`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(8 * 1024 * 1024 - 1) } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { code: string }).code }));
      });
      req.on('error', reject);
      // The rest of the body never comes: a server that reads it first never answers.
      req.write(Buffer.alloc(1024, 0x20));
      setTimeout(() => {
        req.destroy();
        reject(new Error('no answer within 5 s: the body was being read first'));
      }, 5000).unref();
    });
    assert.deepEqual(answer, { status: 401, code: 'signature_invalid' });
  });
});

describe('federation: trust withdrawn', { skip: noData }, () => {
  let a: Instance;
  before(async () => {
    a = await instance();
  });
  after(() => a?.server.close());

  test("withdrawing a peer's trust (or disabling it) stops its bank blocking at once: later copies are held for a moderator, not removed", async () => {
    // A peer of A's, trusted for "other" with policy block; its key is this test's own.
    const peerKey = generateKeyPairSync('ed25519');
    const publicKey = peerKey.publicKey.export({ format: 'jwk' }).x!;
    const peer = await a.admin.client.connectPeer({ name: 'P', base_url: 'http://127.0.0.1:9', public_key: publicKey, share_categories: [], policy: { other: 'block' }, trusted_categories: ['other'] as never });
    const aKey = (await a.server.anonymous.federationIdentity()).key_id;
    const photo = await smallPhoto('Garden.jpg');
    const sha256 = createHash('sha256').update(photo).digest('hex');
    const url = `${a.server.url}/v1/federation/inbox`;
    const send = async (id: string) => {
      const body = JSON.stringify({ id, type: 'signals', from: keyIdOf(publicKey), to: aKey, created_at: Date.now(), body: { case_ref: id, category: 'other', confidence: 1, signals: [{ type: 'sha256', value: sha256 }] } });
      const headers = await signRequest({ identity: { keyId: keyIdOf(publicKey), privateKey: peerKey.privateKey }, method: 'POST', url, headers: { 'content-type': 'application/json' }, body, now: Date.now() });
      assert.equal((await fetch(url, { method: 'POST', headers, body })).status, 202);
    };
    await send('m_trust_0000001');
    // Trusted: a copy uploaded now is blocked without a moderator.
    const blocked = await uploadAndWait(a.person.client, photo, 'first.jpg');
    assert.equal(blocked.reason_code, 'blocked');

    // The admin withdraws the trust: the policy still says block, but untrusted block means hold.
    await a.admin.client.updatePeer(peer.id, { trusted_categories: [] });
    const held = await uploadAndWait(a.person.client, photo, 'second.jpg');
    assert.equal(held.status, 'held');
    assert.ok(await holdOf(a.mod, held.id), 'a moderator decides');

    // Trusted again, its next case blocks again; then the peer is disabled: its signals remove nothing more.
    await a.admin.client.updatePeer(peer.id, { trusted_categories: ['other'] as never });
    await send('m_trust_0000002');
    assert.equal((await uploadAndWait(a.person.client, photo, 'again.jpg')).reason_code, 'blocked');
    await a.admin.client.updatePeer(peer.id, { status: 'disabled' });
    const third = await uploadAndWait(a.person.client, photo, 'third.jpg');
    assert.equal(third.status, 'held');
  });
});
