/**
 * Rotating an instance's federation key, between two whole instances on loopback: the new key is
 * published beside the old one, a peer takes it on first sight (its pinned key endorsed it), the old
 * key keeps working for the grace period and is refused after it. A document whose endorsements do
 * not lead from the pinned key is not taken, and made-up key ids do not make an instance fetch its
 * peers' documents more than once a minute each.
 */
import assert from 'node:assert/strict';
import { type KeyObject, generateKeyPairSync, sign } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type TestServer, type User, rejectsWith, startTestServer } from './harness.ts';
import { signUpModerator } from './safety-fixtures.ts';
import { endorsementValid, keyIdOf, rotationStatement } from '../src/federation/identity.ts';
import { signRequest } from '../src/federation/signatures.ts';

interface Instance {
  server: TestServer;
  admin: User;
}

async function instance(clock?: () => number): Promise<Instance> {
  const server = await startTestServer({ dialect: 'sqlite', config: { outboundAllowPrivate: true, federationPullIntervalMs: 0 }, ...(clock ? { clock } : {}) });
  return { server, admin: await signUpModerator(server, 'admin') };
}

/** A signed pull request to `to`, as a peer holding `identity` makes it. */
async function signedPull(to: TestServer, identity: { keyId: string; privateKey: KeyObject }, now = Date.now()) {
  const url = `${to.url}/v1/federation/messages?after=0&limit=1`;
  const headers = await signRequest({ identity, method: 'GET', url, now });
  return fetch(url, { headers });
}

function keyPair() {
  const pair = generateKeyPairSync('ed25519');
  const x = pair.publicKey.export({ format: 'jwk' }).x!;
  return { keyId: keyIdOf(x), publicKey: x, privateKey: pair.privateKey };
}

describe('federation: key rotation between two instances', () => {
  let a: Instance;
  let b: Instance;
  let bAhead = 0;
  let aPeerOnB: string;
  let bPeerOnA: string;
  /** A's key before the rotation, as a process of A that has not reloaded yet still holds it. */
  let oldKey: { keyId: string; privateKey: KeyObject };
  before(async () => {
    [a, b] = await Promise.all([instance(), instance(() => Date.now() + bAhead)]);
    bPeerOnA = (await a.admin.client.connectPeer({ name: 'B', base_url: b.server.url, share_categories: ['other'] })).id;
    aPeerOnB = (await b.admin.client.connectPeer({ name: 'A', base_url: a.server.url, share_categories: ['other'] })).id;
  });
  after(async () => {
    await Promise.all([a?.server.close(), b?.server.close()]);
  });

  test('rotating is for admins, with a grace period of at least 10 minutes', async () => {
    const mod = await signUpModerator(a.server);
    await rejectsWith(a.server.anonymous.rotateFederationKey(), 'unauthenticated', 401);
    await rejectsWith(mod.client.rotateFederationKey(), 'forbidden', 403);
    await rejectsWith(a.admin.client.rotateFederationKey({ grace_seconds: 60 }), 'validation_failed', 400);
  });

  test('the new key is published with the old one; the peer takes it on first sight and keeps the old one for the grace period', async () => {
    const old = await a.server.services.federation.identity();
    oldKey = old;
    const startedAt = Date.now();
    const rotated = await a.admin.client.rotateFederationKey({ grace_seconds: 600 });
    assert.notEqual(rotated.key_id, old.keyId);
    assert.equal(rotated.key_id, keyIdOf(rotated.public_key));
    const published = await a.server.anonymous.federationIdentity();
    assert.deepEqual(published, rotated);
    const previous = published.previous_keys?.[0];
    assert.equal(previous?.key_id, old.keyId);
    assert.equal(previous?.next_key_id, rotated.key_id);
    assert.ok(previous.expires_at >= startedAt + 600_000 && previous.expires_at <= Date.now() + 600_000);
    assert.ok(endorsementValid({ publicKey: old.publicKey, oldKeyId: old.keyId, newKeyId: rotated.key_id, endorsement: previous.endorsement }));

    // A signs its request to B with the new key: B, not knowing it, reads A's document again.
    assert.deepEqual(await a.admin.client.pullPeer(bPeerOnA), { received: 0, skipped: 0 });
    const seen = await b.admin.client.peer(aPeerOnB);
    assert.equal(seen.key_id, rotated.key_id);
    assert.equal(seen.public_key, rotated.public_key);
    assert.equal(seen.previous_key_id, old.keyId);
    assert.equal(seen.previous_key_expires_at, previous.expires_at);
    const audit = await b.admin.client.audit({ action: 'federation.peer' });
    assert.ok(audit.entries.some((e) => e.detail.change === 'key_rotated' && e.detail.key_id === rotated.key_id));
    // A's answers to B's pulls are signed with the new key too.
    assert.deepEqual(await b.admin.client.pullPeer(aPeerOnB), { received: 0, skipped: 0 });
    assert.ok((await b.admin.client.peer(aPeerOnB)).last_pull_at);
  });

  test('a message signed with the old key is accepted within the grace period and refused after it', async () => {
    assert.equal((await b.admin.client.peer(aPeerOnB)).previous_key_id, oldKey.keyId);
    const current = await a.server.services.federation.identity();
    assert.equal((await signedPull(b.server, oldKey)).status, 200);

    // B's clock passes the end of the grace period (11 minutes on; the signatures are made for that time).
    bAhead = 11 * 60_000;
    try {
      const refused = await signedPull(b.server, oldKey, Date.now() + bAhead);
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { code: string }).code, 'signature_invalid');
      assert.equal((await signedPull(b.server, current, Date.now() + bAhead)).status, 200);
    } finally {
      bAhead = 0;
    }
  });
});

describe('federation: a rotation a peer cannot prove', () => {
  let b: Instance;
  let fake: Server;
  let fakeUrl = '';
  let documentReads = 0;
  let doc: object = {};
  const k0 = keyPair();
  const k1 = keyPair();
  const stranger = keyPair();
  before(async () => {
    b = await instance();
    fake = createServer((req, res) => {
      if (req.url?.endsWith('/.well-known/mmd-federation')) {
        documentReads++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
  });
  after(async () => {
    await b?.server.close();
    await new Promise((resolve) => fake?.close(resolve));
  });

  test('a new key its pinned key did not endorse is refused; made-up key ids fetch each peer document at most once a minute', async () => {
    await b.admin.client.connectPeer({ name: 'Fake', base_url: fakeUrl, public_key: k0.publicKey });
    // The document names k1, "endorsed" by a key that is not the pinned k0.
    doc = {
      protocol: 'mmd-federation/1',
      key_id: k1.keyId,
      alg: 'ed25519',
      public_key: k1.publicKey,
      inbox: '/v1/federation/inbox',
      messages: '/v1/federation/messages',
      previous_keys: [{ key_id: k0.keyId, public_key: k0.publicKey, expires_at: Date.now() + 600_000, next_key_id: k1.keyId, endorsement: sign(null, rotationStatement(k0.keyId, k1.keyId), stranger.privateKey).toString('base64url') }],
    };
    const refused = await signedPull(b.server, k1);
    assert.equal(refused.status, 401);
    assert.equal(documentReads, 1);
    // Strangers' key ids within the minute read nothing more.
    for (let i = 0; i < 3; i++) assert.equal((await signedPull(b.server, keyPair())).status, 401);
    assert.equal(documentReads, 1);
    const peer = (await b.admin.client.peers()).peers.find((p) => p.base_url === fakeUrl);
    assert.equal(peer?.key_id, k0.keyId);
    assert.equal(peer?.previous_key_id, null);
  });

  test('the same rotation, endorsed by the pinned key, is taken', async () => {
    const k2 = keyPair();
    const k3 = keyPair();
    await b.admin.client.connectPeer({ name: 'Fake 2', base_url: `${fakeUrl}/two`, public_key: k2.publicKey });
    // Two rotations in a row: k2 endorsed an intermediate key, which endorsed k3.
    const mid = keyPair();
    const expires = Date.now() + 600_000;
    const endorse = (from: typeof k2, to: string) => sign(null, rotationStatement(from.keyId, to), from.privateKey).toString('base64url');
    doc = {
      protocol: 'mmd-federation/1',
      key_id: k3.keyId,
      alg: 'ed25519',
      public_key: k3.publicKey,
      inbox: '/v1/federation/inbox',
      messages: '/v1/federation/messages',
      previous_keys: [
        { key_id: mid.keyId, public_key: mid.publicKey, expires_at: expires + 1000, next_key_id: k3.keyId, endorsement: endorse(mid, k3.keyId) },
        { key_id: k2.keyId, public_key: k2.publicKey, expires_at: expires, next_key_id: mid.keyId, endorsement: endorse(k2, mid.keyId) },
      ],
    };
    const before = documentReads;
    assert.equal((await signedPull(b.server, k3)).status, 200);
    assert.equal(documentReads, before + 1);
    const peer = (await b.admin.client.peers()).peers.find((p) => p.base_url === `${fakeUrl}/two`);
    assert.equal(peer?.key_id, k3.keyId);
    assert.equal(peer?.previous_key_id, k2.keyId);
    assert.equal(peer?.previous_key_expires_at, expires);
    // The old key still signs within the grace period.
    assert.equal((await signedPull(b.server, k2)).status, 200);
  });
});
