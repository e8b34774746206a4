/**
 * `GET /v1/reports`: a reporter who was offline when a moderator decided still learns the outcome.
 * Each person reads their own reports only; a key without `messages:read`, no token and bad input
 * are refused with problem+json.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { signUpModerator } from './safety-fixtures.ts';

onEachDatabase('safety: a reporter’s own reports', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let eve: User;
  let mod: User;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice, bob, eve, mod] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), signUpModerator(server)]);
  });
  after(() => server.close());

  test('lists the reporter’s reports with their outcomes, newest first, decided while they were away', async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const spam = await alice.client.send(chat.id, { text: 'buy followers' });
    const rude = await alice.client.send(chat.id, { text: 'you are awful' });
    const first = await bob.client.report({ message_id: spam.id, reason: 'spam' });
    const second = await bob.client.report({ message_id: rude.id, reason: 'harassment' });
    assert.equal(first.resolved_at, null);

    // Bob is offline (no stream) while the moderator decides both.
    const reviews = (await mod.client.reviews()).reviews;
    const reviewOf = (id: string) => reviews.find((r) => r.message?.id === id)!;
    await mod.client.decideReview(reviewOf(spam.id).id, { action: 'takedown' });
    await mod.client.decideReview(reviewOf(rude.id).id, { action: 'dismiss' });

    const mine = await bob.client.myReports();
    assert.deepEqual(
      mine.reports.map((r) => [r.id, r.status, r.outcome]),
      [
        [second.id, 'resolved', 'no_action'],
        [first.id, 'resolved', 'removed'],
      ],
    );
    assert.ok(mine.reports.every((r) => typeof r.resolved_at === 'number' && r.resolved_at >= r.created_at));
    assert.equal(mine.next_before, null);

    // Pages go back in time.
    const page = await bob.client.myReports({ limit: 1 });
    assert.equal(page.reports.length, 1);
    assert.ok(page.next_before);
  });

  test('a message moderators took down reads as removed in history for everyone; one its sender deleted does not', async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const bad = await alice.client.send(chat.id, { text: 'take me down' });
    const regret = await alice.client.send(chat.id, { text: 'oops' });
    await bob.client.report({ message_id: bad.id, reason: 'harassment' });
    await alice.client.deleteMessage(regret.id);
    const review = (await mod.client.reviews()).reviews.find((r) => r.message?.id === bad.id)!;
    await mod.client.decideReview(review.id, { action: 'takedown' });
    for (const user of [alice, bob]) {
      const history = (await user.client.history(chat.id)).messages;
      const removed = history.find((m) => m.id === bad.id)!;
      assert.equal(removed.deleted, true);
      assert.equal(removed.removed, true, 'taken down by moderators');
      const deleted = history.find((m) => m.id === regret.id)!;
      assert.equal(deleted.deleted, true);
      assert.equal(deleted.removed, undefined, 'deleted by its sender');
    }
    const live = (await alice.client.updates({ limit: 200 })).events.find((e) => e.type === 'message.deleted' && (e.data as { id: string }).id === bad.id);
    assert.ok(live, 'the deletion went out live');
    assert.equal((live.data as { reason?: string }).reason, 'removed');
  });

  test('shows nobody else’s reports: not the reported person’s, not a stranger’s', async () => {
    const chat = await alice.client.openDirect(eve.handle);
    const message = await alice.client.send(chat.id, { text: 'hello eve' });
    await eve.client.report({ message_id: message.id, reason: 'spam' });
    assert.deepEqual((await alice.client.myReports()).reports, [], 'the reported person sees no report about them');
    const stranger = await server.signUp();
    assert.deepEqual((await stranger.client.myReports()).reports, []);
    assert.ok((await eve.client.myReports()).reports.some((r) => r.message_id === message.id));
  });

  test('refuses no token, a key without messages:read, and bad input', async () => {
    await rejectsWith(server.anonymous.myReports(), 'unauthenticated', 401);
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const writeOnly = await bot.client.createApiKey({ name: 'poster', scopes: ['messages:write'] });
    await rejectsWith(server.anonymous.as(writeOnly.key).myReports(), 'insufficient_scope', 403);
    const reader = await bot.client.createApiKey({ name: 'reader', scopes: ['messages:read'] });
    assert.deepEqual((await server.anonymous.as(reader.key).myReports()).reports, []);
    for (const url of ['/v1/reports?limit=0', '/v1/reports?limit=101', '/v1/reports?before=soon', '/v1/reports?status=open']) {
      const res = await server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bob.token}` } });
      assert.equal(res.statusCode, 400, url);
      assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      assert.equal(JSON.parse(res.body).code, 'validation_failed', url);
    }
  });
});
