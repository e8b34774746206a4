/**
 * The right to be forgotten: a person (signed in, or holding a protection case and its key) asks
 * for every copy of media they appear in to be removed, by hashes from their browser. The request
 * waits in the moderators' queue and removes nothing by itself; a moderator removes every copy (a
 * takedown by those hashes) or declines, with reasons the requester sees and the audit log keeps.
 * And the denials: no credential, a wrong case key, not a moderator, no reasons, deciding twice,
 * too many pending requests, made-up hashes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { ErasureBody } from '@mmd/sdk';
import sharp from 'sharp';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { browserHashes, noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

/** A detailed synthetic picture: no two calls alike. */
async function picture(): Promise<Buffer> {
  return sharp(randomBytes(12 * 12 * 3), { raw: { width: 12, height: 12, channels: 3 } }).resize(480, 480, { kernel: 'cubic' }).jpeg({ quality: 92 }).toBuffer();
}

async function hashesOf(image: Buffer): Promise<NonNullable<ErasureBody['images']>> {
  const h = await browserHashes(image);
  return [{ pdq: h.pdq, quality: h.quality, robust: h.robust }];
}

onEachDatabase('safety: removal requests (right to be forgotten)', (dialect) => {
  let server: TestServer;
  let mod: User;
  let sharer: User;
  let requester: User;
  before(async () => {
    server = await startTestServer({ dialect, config: { protectRequestsPerWindow: 1000 } });
    [mod, sharer, requester] = await Promise.all([signUpModerator(server), server.signUp(), server.signUp()]);
  });
  after(() => server?.close());

  test('a signed-in request waits for a moderator; "remove" takes every copy down and the requester sees the decision and reasons', { skip: noData }, async () => {
    const photo = await smallPhoto('Elephants.jpg');
    const first = await uploadAndWait(sharer.client, photo, 'one.jpg');
    const second = await uploadAndWait(sharer.client, photo, 'two.jpg');
    const request = await requester.client.requestErasure({ images: await hashesOf(photo), note: 'this is me at a party' });
    assert.equal(request.status, 'pending');

    // Nothing happens from the request alone: both copies are still there.
    assert.equal((await sharer.client.media(first.id)).status, 'ready');
    assert.equal((await sharer.client.media(second.id)).status, 'ready');
    const queued = (await mod.client.erasureQueue()).find((r) => r.id === request.id);
    assert.ok(queued, 'the request is in the moderators’ queue');
    assert.equal(queued.requester, 'account');
    assert.equal(queued.note, 'this is me at a party');
    assert.deepEqual([...queued.matching].sort(), [first.id, second.id].sort());
    // The moderator sees what it matches, blurred; nothing else, and only moderators.
    const preview = await server.app.inject({ method: 'GET', url: `/v1/safety/erasure-requests/${request.id}/media/${first.id}/preview`, headers: { authorization: `Bearer ${mod.token}` } });
    assert.equal(preview.statusCode, 200);
    assert.equal(preview.headers['content-type'], 'image/jpeg');
    const unrelated = await uploadAndWait(sharer.client, await picture());
    await rejectsWith(mod.client.erasurePreview(request.id, unrelated.id), 'not_found', 404);
    await rejectsWith(requester.client.erasurePreview(request.id, first.id), 'forbidden', 403);

    const decided = await mod.client.decideErasure(request.id, { action: 'remove', reasons: 'the person is identifiable and did not consent' });
    assert.equal(decided.status, 'removed');
    assert.equal(decided.copies_removed, 2);
    await rejectsWith(sharer.client.media(first.id), 'not_found', 404);
    await rejectsWith(sharer.client.media(second.id), 'not_found', 404);
    // New uploads of it are refused from now on.
    const again = await uploadAndWait(sharer.client, photo, 'three.jpg');
    assert.equal(again.status, 'failed', 'a new upload of it is refused');

    const mine = (await requester.client.myErasureRequests()).find((r) => r.id === request.id);
    assert.equal(mine?.status, 'removed');
    assert.equal(mine?.reasons, 'the person is identifiable and did not consent');
    assert.equal(mine?.copies_removed, 2);
    // Recorded: who decided, and why.
    const audit = (await mod.client.audit({ action: 'erasure.removed' })).entries.find((e) => e.subject_id === request.id);
    assert.ok(audit);
    assert.equal(audit.actor_id, mod.accountId);
    assert.equal((audit.detail as { reasons: string }).reasons, 'the person is identifiable and did not consent');
    // Another person does not see it.
    assert.equal((await sharer.client.myErasureRequests()).length, 0);
  });

  test('"decline" removes nothing, and the requester sees why', async () => {
    const image = await picture();
    const copy = await uploadAndWait(sharer.client, image);
    const request = await requester.client.requestErasure({ images: await hashesOf(image) });
    const decided = await mod.client.decideErasure(request.id, { action: 'decline', reasons: 'the picture shows a landscape, not a person' });
    assert.equal(decided.status, 'declined');
    assert.equal((await sharer.client.media(copy.id)).status, 'ready');
    const mine = (await requester.client.myErasureRequests()).find((r) => r.id === request.id);
    assert.equal(mine?.status, 'declined');
    assert.equal(mine?.reasons, 'the picture shows a landscape, not a person');
    assert.ok((await mod.client.audit({ action: 'erasure.declined' })).entries.some((e) => e.subject_id === request.id));
    await rejectsWith(mod.client.decideErasure(request.id, { action: 'remove', reasons: 'changed my mind' }), 'conflict', 409);
  });

  test('with a protection case and its key, the request shows on the case page', async () => {
    const image = await picture();
    const h = await browserHashes(image);
    const receipt = await server.anonymous.protect({ images: [{ pdq: h.pdq, quality: h.quality }] });
    const request = await server.anonymous.requestErasure({ images: await hashesOf(image), case: { reference: receipt.reference, secret: receipt.secret } });
    const queued = await mod.client.erasureRequest(request.id);
    assert.equal(queued.requester, 'case');
    assert.equal(queued.case_reference, receipt.reference);
    await mod.client.decideErasure(request.id, { action: 'decline', reasons: 'no copy of it is here' });
    const view = await server.anonymous.caseView(receipt.reference, receipt.secret);
    assert.equal(view.erasure_requests.length, 1);
    assert.equal(view.erasure_requests[0]!.status, 'declined');
    assert.equal(view.erasure_requests[0]!.reasons, 'no copy of it is here');
  });

  test('denials: no credential, a wrong case key, not a moderator, no reasons, bad hashes, too many pending', async () => {
    const images = await hashesOf(await picture());
    // Neither signed in nor a case.
    await rejectsWith(server.anonymous.requestErasure({ images }), 'unauthenticated', 401);
    // A wrong key and an unknown case: the same answer.
    const h = await browserHashes(await picture());
    const receipt = await server.anonymous.protect({ images: [{ pdq: h.pdq, quality: h.quality }] });
    await rejectsWith(server.anonymous.requestErasure({ images, case: { reference: receipt.reference, secret: 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01' } }), 'not_found', 404);
    await rejectsWith(server.anonymous.requestErasure({ images, case: { reference: 'P-AAAA-BBBB-CCCC-DDDD', secret: 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01' } }), 'not_found', 404);
    // A bad token is refused, never taken as anonymous.
    const bad = await server.app.inject({ method: 'POST', url: '/v1/safety/erasure', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, payload: { images } });
    assert.equal(bad.statusCode, 401);
    // Flat or made-up hashes are refused like protection's.
    await rejectsWith(requester.client.requestErasure({ images: [{ pdq: '0'.repeat(64), quality: 100 }] }), 'validation_failed', 400);
    await rejectsWith(requester.client.requestErasure({ images: [] as never }), 'validation_failed', 400);

    const request = await requester.client.requestErasure({ images });
    // Only moderators see or decide the queue.
    await rejectsWith(requester.client.erasureQueue(), 'forbidden', 403);
    await rejectsWith(requester.client.erasureRequest(request.id), 'forbidden', 403);
    await rejectsWith(requester.client.decideErasure(request.id, { action: 'remove', reasons: 'mine' }), 'forbidden', 403);
    await rejectsWith(mod.client.decideErasure(request.id, { action: 'remove', reasons: '' }), 'validation_failed', 400);
    await rejectsWith(mod.client.decideErasure('E-AAAA-BBBB-CCCC-DDDD', { action: 'remove', reasons: 'x' }), 'not_found', 404);
    const unauthenticated = await server.app.inject({ method: 'GET', url: '/v1/safety/erasure' });
    assert.equal(unauthenticated.statusCode, 401);

    // At most 5 pending per requester (this one has one pending already).
    const other = await server.signUp();
    for (let i = 0; i < 5; i++) await other.client.requestErasure({ images });
    await rejectsWith(other.client.requestErasure({ images }), 'rate_limited', 429);
  });
});
