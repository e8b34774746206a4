/**
 * A victim's protection case, followed everywhere: two MMD instances on loopback. A case its
 * submitter shares is held on the peer, and the case page shows the peer's answer move from
 * received to removed; withdrawing it releases the peer's hold and the page says withdrawn. The
 * page's denials: a wrong key answers exactly like an unknown case, the page is rate-limited, and
 * a case nobody chose to share never leaves the instance.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CaseView, ProtectReceipt, Review } from '@mmd/sdk';
import type { Dialect } from '../src/platform/db/index.ts';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { browserHashes, noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

interface Instance {
  server: TestServer;
  admin: User;
  mod: User;
  person: User;
}

async function instance(dialect: Dialect, config: Record<string, unknown> = {}): Promise<Instance> {
  const server = await startTestServer({ dialect, config: { outboundAllowPrivate: true, federationPullIntervalMs: 0, ...config } });
  const [admin, mod, person] = await Promise.all([signUpModerator(server, 'admin'), signUpModerator(server), server.signUp()]);
  return { server, admin, mod, person };
}

async function holdOf(mod: User, mediaId: string): Promise<Review | undefined> {
  return (await mod.client.reviews({ status: 'open' })).reviews.find((r) => r.kind === 'hold' && r.media.some((m) => m.id === mediaId));
}

/** A person protects a photo from their browser, sharing it with the platforms or not. */
async function protect(at: Instance, photo: Buffer, share: boolean): Promise<ProtectReceipt> {
  const h = await browserHashes(photo);
  return at.server.anonymous.protect({ images: [{ pdq: h.pdq, quality: h.quality, robust: h.robust }], share });
}

const statusOf = (view: CaseView, platform: string) => view.platforms.find((p) => p.platform === platform);

onEachDatabase('federation: a victim shares a protection case', (dialect) => {
  let a: Instance;
  let b: Instance;
  before(async () => {
    if (noData) return;
    [a, b] = await Promise.all([instance(dialect), instance(dialect)]);
    // A shares victims' cases (ncii) with B. B would block what A sends in ncii (trusted, policy
    // block), but a victim's own case is a claim nobody confirmed (confidence 0.5): B only holds.
    await a.admin.client.connectPeer({ name: 'Platform B', base_url: b.server.url, share_categories: ['ncii'], policy: { other: 'hold' }, trusted_categories: [] });
    await b.admin.client.connectPeer({ name: 'Platform A', base_url: a.server.url, share_categories: [], policy: { ncii: 'block' }, trusted_categories: ['ncii'] });
  });
  after(async () => {
    await Promise.all([a?.server.close(), b?.server.close()]);
  });

  test('a shared case holds the copy on B; the case page shows B moving from received to removed', { skip: noData }, async () => {
    const photo = await smallPhoto('GreenMeadow.jpg');
    const copy = await uploadAndWait(b.person.client, photo);
    assert.equal(copy.status, 'ready');
    const receipt = await protect(a, photo, true);
    assert.equal(receipt.shared, true);
    assert.match(receipt.secret, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);

    const page = () => a.server.anonymous.caseView(receipt.reference, receipt.secret);
    const first = await page();
    assert.equal(first.shared, true);
    assert.ok(statusOf(first, 'Platform B'), 'B is listed as soon as the case is shared');

    const review = await eventually('B holds its copy for its moderators', () => holdOf(b.mod, copy.id), 30_000);
    assert.equal(review.bank?.category, 'ncii');
    // What B received names neither the person nor A's reference: an opaque id and the hashes.
    const received = (await b.mod.client.receivedCases()).cases.find((c) => c.category === 'ncii');
    assert.ok(received);
    assert.match(received.case_ref, /^fc_/);
    assert.notEqual(received.case_ref, receipt.reference);
    assert.equal(received.confidence, 0.5);
    const underReview = await eventually('the page shows B has it under review', async () => {
      const s = statusOf(await page(), 'Platform B');
      return s?.status === 'under_review' ? s : null;
    }, 30_000);
    // Held, not removed: B's copy is still there, waiting for B's moderator; and the page does not
    // say how many copies B's sweep found (anyone can submit a hash).
    assert.equal((await b.mod.client.review(review.id)).status, 'open');
    assert.equal(underReview.copies, 0);

    const decided = await b.mod.client.decideReview(review.id, { action: 'takedown', note: 'confirmed by B' });
    assert.equal(decided.takedown?.media_removed, 1);
    const removed = await eventually('the page shows B removed 1 copy', async () => {
      const s = statusOf(await page(), 'Platform B');
      return s?.status === 'removed' ? s : null;
    }, 30_000);
    assert.equal(removed.copies, 1);
  });

  test('withdrawing the case releases the hold on B, and the page says withdrawn', { skip: noData }, async () => {
    const photo = await smallPhoto('LadyBird.jpg');
    const copy = await uploadAndWait(b.person.client, photo);
    // Shared later, from the case page.
    const receipt = await protect(a, photo, false);
    const shared = await a.server.anonymous.shareCase(receipt.reference, receipt.secret);
    assert.equal(shared.shared, true);
    const review = await eventually('B holds its copy', () => holdOf(b.mod, copy.id), 30_000);
    const held = await uploadAndWait(b.person.client, photo, 'again.jpg');
    assert.equal(held.status, 'held');

    const withdrawn = await a.server.anonymous.withdrawCase(receipt.reference, receipt.secret);
    assert.equal(withdrawn.case.status, 'withdrawn');
    assert.equal(statusOf(withdrawn, 'Platform B')?.status, 'withdrawn');
    await eventually('B released its hold', async () => (await b.mod.client.review(review.id)).status === 'closed', 30_000);
    assert.equal((await b.mod.client.review(review.id)).outcome, 'dismiss');
    await eventually('the upload B held is delivered', async () => (await b.person.client.media(held.id)).status === 'ready', 30_000);
    // Gone from A too: the case's hashes no longer hold anything there.
    const onA = await uploadAndWait(a.person.client, photo, 'on-a.jpg');
    assert.equal(onA.status, 'ready');
    await rejectsWith(a.server.anonymous.withdrawCase(receipt.reference, receipt.secret), 'conflict', 409);
    await rejectsWith(a.server.anonymous.shareCase(receipt.reference, receipt.secret), 'conflict', 409);
  });

  test("this instance's moderator rejecting a shared case withdraws it from B too: B's hold is released", { skip: noData }, async () => {
    const photo = await smallPhoto('Garden.jpg');
    const copy = await uploadAndWait(b.person.client, photo);
    const receipt = await protect(a, photo, true);
    const review = await eventually('B holds its copy', () => holdOf(b.mod, copy.id), 30_000);
    await a.mod.client.decideCase(receipt.reference, { action: 'reject', note: 'not the person in the picture' });
    await eventually("B released its hold after A's rejection", async () => (await b.mod.client.review(review.id)).status === 'closed', 30_000);
    await eventually("B's copy is delivered", async () => (await b.person.client.media(copy.id)).status === 'ready', 30_000);
    const view = await a.server.anonymous.caseView(receipt.reference, receipt.secret);
    assert.equal(statusOf(view, 'Platform B')?.status, 'withdrawn');
  });

  test('a case nobody chose to share never leaves the instance', { skip: noData }, async () => {
    const photo = await smallPhoto('Storm.jpg');
    const copy = await uploadAndWait(b.person.client, photo);
    const receipt = await protect(a, photo, false);
    assert.equal(receipt.shared, false);
    const view = await a.server.anonymous.caseView(receipt.reference, receipt.secret);
    assert.equal(view.shared, false);
    assert.deepEqual(view.platforms, []);
    // Its own sweep runs on A; nothing about it is queued for B, and B holds nothing.
    const outbox = await a.server.db.db.selectFrom('federation_outbox').select(['body']).where('type', '=', 'signals').execute();
    const signals = await a.server.db.db.selectFrom('safety_signals').select('value').where('case_ref', '=', receipt.reference).execute();
    for (const row of outbox) for (const s of signals) assert.ok(!row.body.includes(s.value), 'an unshared case went into the outbox');
    assert.equal(await holdOf(b.mod, copy.id), undefined);
  });

  test('a wrong key gets the same answer as an unknown case', { skip: noData }, async () => {
    const receipt = await protect(a, await smallPhoto('Wood.jpg'), false);
    const ask = async (reference: string, secret: string, action: 'view' | 'share' | 'withdraw') => {
      const r = await a.server.app.inject({ method: 'POST', url: `/v1/safety/protect/${reference}/${action}`, headers: { 'content-type': 'application/json' }, payload: { secret } });
      // Everything but the request's own id.
      const { request_id: _id, ...problem } = JSON.parse(r.body) as Record<string, unknown>;
      return { status: r.statusCode, problem };
    };
    const wrongKey = 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01';
    const unknown = 'P-AAAA-BBBB-CCCC-DDDD';
    for (const action of ['view', 'share', 'withdraw'] as const) {
      const wrong = await ask(receipt.reference, wrongKey, action);
      assert.equal(wrong.status, 404);
      assert.equal(wrong.problem.code, 'not_found');
      assert.deepEqual(wrong, await ask(unknown, wrongKey, action));
    }
    // Nothing was shared or withdrawn by the wrong key.
    const view = await a.server.anonymous.caseView(receipt.reference, receipt.secret);
    assert.equal(view.shared, false);
    assert.notEqual(view.case.status, 'withdrawn');
    // A malformed key is a 400 before anything is looked up.
    assert.equal((await ask(receipt.reference, 'x', 'view')).status, 400);
  });
});

onEachDatabase('federation: the case page is rate-limited', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { casePageRequestsPerWindow: 3, rateLimitWindowMs: 60_000 } });
  });
  after(() => server?.close());

  test('an address asking too often gets 429 rate_limited, whatever the reference', async () => {
    const ask = async () =>
      server.app.inject({ method: 'POST', url: '/v1/safety/protect/P-AAAA-BBBB-CCCC-DDDD/view', remoteAddress: '10.9.9.9', headers: { 'content-type': 'application/json' }, payload: { secret: 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01' } });
    for (let i = 0; i < 3; i++) assert.equal((await ask()).statusCode, 404);
    const limited = await ask();
    assert.equal(limited.statusCode, 429);
    assert.equal((JSON.parse(limited.body) as { code: string }).code, 'rate_limited');
  });
});
