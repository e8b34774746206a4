/**
 * Who may do what in trust and safety, endpoint by endpoint: every moderator endpoint refuses a
 * request without a token, a plain user, and a moderator's API key, and answers bad input with
 * problem+json — and none of those refusals changes anything. Reports: only members who can read
 * a message may report it, with a known reason. Protection: anonymous, rate-limited.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { jobResult, signUpModerator } from './safety-fixtures.ts';

type Inject = { statusCode: number; headers: Record<string, unknown>; body: string };

onEachDatabase('safety: access', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let eve: User;
  let mod: User;
  let modKey: string;
  const ids: Record<string, string> = {};
  before(async () => {
    server = await startTestServer({ dialect, config: { rateLimitWindowMs: 60_000 } });
    [alice, bob, eve, mod] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), signUpModerator(server)]);
    // API keys belong to bot and business accounts: a moderation bot's key must still be refused.
    const modBot = await signUpModerator(server, 'moderator', 'bot');
    modKey = (await modBot.client.createApiKey({ name: 'automation', scopes: ['messages:read', 'messages:write'] })).key;
    const bank = await mod.client.createBank({ name: 'b', category: 'spam', action: 'block' });
    const chat = await alice.client.openDirect(bob.handle);
    const message = await alice.client.send(chat.id, { text: 'buy followers now' });
    await bob.client.report({ message_id: message.id, reason: 'spam' });
    const review = (await mod.client.reviews()).reviews[0]!;
    const opened = await server.anonymous.protect({ images: [{ pdq: 'a'.repeat(64), quality: 90 }] });
    // Its sweep audits when it ends: let it end before the tests count audit entries.
    const submitted = await server.db.db
      .selectFrom('safety_audit')
      .select('detail')
      .where('subject_id', '=', opened.reference)
      .executeTakeFirstOrThrow();
    await jobResult(server, (JSON.parse(submitted.detail) as { sweep_job_id: string }).sweep_job_id);
    Object.assign(ids, {
      bank: bank.id,
      review: review.id,
      message: message.id,
      chat: chat.id,
      case: opened.reference,
      target: (await server.signUp()).accountId,
    });
  });
  after(() => server.close());

  const form = () => {
    const boundary = 'mmdboundary';
    return {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\ncontent-type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`,
    };
  };
  const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

  /** Every moderator endpoint: a valid request, and a request with bad input (null when the endpoint takes none). */
  const endpoints = () => [
    { method: 'POST', url: '/v1/safety/banks', ok: json({ name: 'x', category: 'spam', action: 'block' }), bad: json({ name: 'x', category: 'gossip', action: 'block' }) },
    { method: 'GET', url: '/v1/safety/banks', ok: {}, bad: null },
    {
      method: 'GET',
      url: `/v1/safety/banks/${ids.bank}`,
      ok: {},
      bad: { url: `/v1/safety/banks/${'x'.repeat(65)}` },
    },
    {
      method: 'PATCH',
      url: `/v1/safety/banks/${ids.bank}`,
      ok: json({ trusted: true }),
      bad: json({ trusted: true, action: 'blur' }),
    },
    {
      method: 'POST',
      url: `/v1/safety/banks/${ids.bank}/signals`,
      ok: json({ hashes: [{ type: 'md5', value: '0'.repeat(32) }] }),
      bad: json({ hashes: [{ type: 'crc32', value: '00' }] }),
    },
    // Removing a signal that exists: cluster-banks.test.ts and federation-hma.test.ts (the exchange reports it as deleted).
    {
      method: 'DELETE',
      url: `/v1/safety/banks/${ids.bank}/signals/999999999`,
      ok: null,
      deny: {},
      bad: { url: `/v1/safety/banks/${ids.bank}/signals/0` },
    },
    {
      method: 'POST',
      url: `/v1/safety/banks/${ids.bank}/signals/file`,
      ok: form(),
      bad: json({ file: 'not multipart' }),
    },
    {
      method: 'POST',
      url: `/v1/safety/banks/${ids.bank}/import?format=hma`,
      ok: { headers: { 'content-type': 'text/plain' }, payload: `video_md5 ${'1'.repeat(32)}\n` },
      bad: {
        url: `/v1/safety/banks/${ids.bank}/import?format=csv`,
        headers: { 'content-type': 'text/plain' },
        payload: 'x',
      },
    },
    {
      method: 'GET',
      url: `/v1/safety/banks/${ids.bank}/export?format=hma`,
      ok: {},
      bad: { url: `/v1/safety/banks/${ids.bank}/export?format=xml` },
    },
    { method: 'POST', url: '/v1/safety/match', ok: form(), bad: json({}) },
    { method: 'GET', url: '/v1/safety/reviews', ok: {}, bad: { url: '/v1/safety/reviews?status=pending' } },
    { method: 'GET', url: `/v1/safety/reviews/${ids.review}`, ok: {}, bad: { url: '/v1/safety/reviews/rev_nope' }, badCode: 'not_found' },
    { method: 'GET', url: `/v1/safety/reviews/${ids.review}/media/med_x/preview`, ok: null, bad: {}, badCode: 'not_found' },
    { method: 'POST', url: `/v1/safety/reviews/${ids.review}/media/med_x/reveal`, ok: null, bad: {}, badCode: 'not_found' },
    { method: 'POST', url: `/v1/safety/reviews/${ids.review}/decision`, ok: json({ action: 'escalate' }), bad: json({ action: 'delete' }) },
    { method: 'GET', url: '/v1/safety/takedowns', ok: {}, bad: { url: '/v1/safety/takedowns?status=pending' } },
    { method: 'GET', url: '/v1/safety/takedowns/tkd_x', ok: null, bad: {}, badCode: 'not_found' },
    { method: 'POST', url: '/v1/safety/takedowns', ok: json({ message_id: ids.message, reason: 'spam' }), bad: json({ message_id: ids.message }) },
    { method: 'GET', url: '/v1/safety/audit', ok: {}, bad: { url: '/v1/safety/audit?limit=0' } },
    { method: 'GET', url: '/v1/safety/cases', ok: {}, bad: { url: '/v1/safety/cases?status=active' } },
    {
      method: 'GET',
      url: `/v1/safety/cases/${ids.case}`,
      ok: {},
      bad: { url: '/v1/safety/cases/P-0000-0000-0000-0000' },
      badCode: 'not_found',
    },
    {
      method: 'POST',
      url: `/v1/safety/cases/${ids.case}/decision`,
      ok: json({ action: 'reject' }),
      bad: json({ action: 'delete' }),
    },
    { method: 'GET', url: '/v1/safety/erasure-requests', ok: {}, bad: { url: '/v1/safety/erasure-requests?status=open' } },
    { method: 'GET', url: '/v1/safety/erasure-requests/ers_x', ok: null, bad: {}, badCode: 'not_found' },
    { method: 'GET', url: '/v1/safety/erasure-requests/ers_x/media/med_x/preview', ok: null, bad: {}, badCode: 'not_found' },
    // No removal request exists here (its decisions are in safety-erasure.test.ts).
    { method: 'POST', url: '/v1/safety/erasure-requests/ers_x/decision', ok: null, deny: json({ action: 'decline', reasons: 'x' }), bad: json({ action: 'delete', reasons: 'x' }) },
    { method: 'GET', url: '/v1/safety/clusters', ok: {}, bad: { url: '/v1/safety/clusters?hours=0' } },
    { method: 'GET', url: '/v1/safety/clusters/spc_x', ok: null, bad: {}, badCode: 'not_found' },
    { method: 'GET', url: '/v1/safety/clusters/spc_x/media/med_x/preview', ok: null, bad: {}, badCode: 'not_found' },
    // No cluster exists here (its decisions are in spread-friction.test.ts): the denials get a well-formed body.
    { method: 'POST', url: '/v1/safety/clusters/spc_x/decision', ok: null, deny: json({ action: 'clear' }), bad: json({ action: 'delete' }) },
    { method: 'GET', url: '/v1/safety/networks', ok: {}, bad: { url: '/v1/safety/networks?hours=0' } },
    {
      method: 'POST',
      url: `/v1/safety/accounts/${ids.target}/restriction`,
      ok: json({ mode: 'rate_limit', reason: 'co-sharing' }),
      bad: json({ mode: 'ban', reason: 'x' }),
    },
  ];

  async function call(e: { method: string; url: string }, variant: { url?: string; headers?: Record<string, string>; payload?: string }, token?: string): Promise<Inject> {
    return (await server.app.inject({
      method: e.method as 'GET',
      url: variant.url ?? e.url,
      headers: { ...(variant.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(variant.payload !== undefined ? { payload: variant.payload } : {}),
    })) as Inject;
  }
  function expectProblem(res: Inject, status: number, code: string, what: string) {
    assert.equal(res.statusCode, status, `${what}: ${res.body.slice(0, 200)}`);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/, what);
    assert.equal((JSON.parse(res.body) as { code: string }).code, code, what);
  }

  test('the denial table covers every moderator endpoint in the OpenAPI document', async () => {
    const doc = JSON.parse((await server.app.inject({ method: 'GET', url: '/openapi.json' })).body) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/v1/safety/') && !p.startsWith('/v1/safety/protect') && p !== '/v1/safety/erasure')
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const covered = endpoints()
      .map(
        (e) =>
          `${e.method} ${e.url.split('?')[0]!.replace(ids.bank!, '{id}').replace(ids.review!, '{id}').replace('med_x', '{mediaId}').replace('tkd_x', '{id}').replace('spc_x', '{id}').replace('ers_x', '{id}').replace(ids.target!, '{id}').replace(ids.case!, '{reference}').replace('/signals/999999999', '/signals/{signalId}')}`,
      )
      .sort();
    assert.deepEqual(covered, documented);
  });

  test('every moderator endpoint refuses no token, a plain user and an API key, without side effects', async () => {
    const before = await server.db.db.selectFrom('safety_audit').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const banksBefore = (await mod.client.banks()).length;
    for (const e of endpoints()) {
      const variant = ('deny' in e ? e.deny : undefined) ?? e.ok ?? e.bad!;
      expectProblem(await call(e, variant), 401, 'unauthenticated', `${e.method} ${e.url} without a token`);
      expectProblem(await call(e, variant, eve.token), 403, 'forbidden', `${e.method} ${e.url} as a plain user`);
      expectProblem(await call(e, variant, modKey), 403, 'insufficient_scope', `${e.method} ${e.url} with a moderator's API key`);
    }
    const afterCount = await server.db.db.selectFrom('safety_audit').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n), 'nothing refused was acted on');
    assert.equal((await mod.client.banks()).length, banksBefore);
    assert.equal((await bob.client.message(ids.message!)).deleted, false);
  });

  test('every moderator endpoint answers bad input with a stable code, and valid input as a moderator', async () => {
    for (const e of endpoints()) {
      if (e.bad) {
        const res = await call(e, e.bad, mod.token);
        const code = e.badCode ?? 'validation_failed';
        expectProblem(res, code === 'not_found' ? 404 : 400, code, `${e.method} ${e.url} with bad input`);
      }
    }
    // The valid requests work (the takedown last: it removes the reported message).
    for (const e of endpoints()) {
      if (!e.ok) continue;
      const res = await call(e, e.ok, mod.token);
      assert.ok(res.statusCode >= 200 && res.statusCode < 300, `${e.method} ${e.url} as a moderator → ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    assert.equal((await bob.client.message(ids.message!)).deleted, true);
  });

  test('only a member who can read a message reports it, with a known reason', async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const message = await alice.client.send(chat.id, { text: 'you will regret this' });
    await rejectsWith(server.anonymous.report({ message_id: message.id, reason: 'harassment' }), 'unauthenticated', 401);
    await rejectsWith(eve.client.report({ message_id: message.id, reason: 'harassment' }), 'not_a_member', 403);
    await rejectsWith(bob.client.report({ message_id: message.id, reason: 'rude' as 'spam' }), 'validation_failed', 400);
    await rejectsWith(bob.client.report({ message_id: 'msg_nope', reason: 'spam' }), 'not_found', 404);
    const first = await bob.client.report({ message_id: message.id, reason: 'harassment', note: 'threat' });
    const again = await bob.client.report({ message_id: message.id, reason: 'harassment' });
    assert.equal(again.id, first.id, 'reporting twice is one report');
    const review = (await mod.client.reviews()).reviews.find((r) => r.message?.id === message.id);
    assert.equal(review?.report_count, 1);
    await alice.client.deleteMessage(message.id);
    await rejectsWith(alice.client.report({ message_id: message.id, reason: 'spam' }), 'message_deleted', 410);
    // A group: a member who left can no longer report what is there.
    const group = await alice.client.createConversation({ kind: 'group', title: 'g', members: [bob.handle, eve.handle] });
    const post = await alice.client.send(group.id, { text: 'hi' });
    await eve.client.report({ message_id: post.id, reason: 'other' });
    await alice.client.removeMember(group.id, eve.accountId);
    const post2 = await alice.client.send(group.id, { text: 'after' });
    await rejectsWith(eve.client.report({ message_id: post2.id, reason: 'other' }), 'not_a_member', 403);
  });

  test('a dismissed report tells the reporter: no action', async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const message = await alice.client.send(chat.id, { text: 'meh' });
    const report = await bob.client.report({ message_id: message.id, reason: 'spam' });
    const review = (await mod.client.reviews()).reviews.find((r) => r.message?.id === message.id)!;
    await mod.client.decideReview(review.id, { action: 'dismiss' });
    const updates = await bob.client.updates({ limit: 200 });
    const resolved = updates.events.find((e) => e.type === 'report.resolved' && (e.data as { report_id: string }).report_id === report.id);
    assert.ok(resolved, 'the reporter is told');
    assert.equal((resolved.data as { outcome: string }).outcome, 'no_action');
    assert.ok(!(await alice.client.updates({ limit: 200 })).events.some((e) => e.type === 'report.resolved'), 'the reported person is not told who reported');
  });

  test('protection needs no account, is rate-limited, and refuses bad hashes (the full table: safety-protect.test.ts)', async () => {
    const pdq = 'a'.repeat(64);
    await rejectsWith(server.anonymous.protect({}), 'validation_failed', 400);
    await rejectsWith(server.anonymous.protect({ images: [{ pdq: 'zz', quality: 90 }] }), 'validation_failed', 400);
    await rejectsWith(server.anonymous.protect({ videos: [{ vpdq: 'not,a,vpdq' }] }), 'validation_failed', 400);
    await rejectsWith(server.anonymous.protectStatus('../../etc'), 'validation_failed', 400);
    let limited = false;
    for (let i = 0; i < 12 && !limited; i++) {
      try {
        await server.anonymous.protect({ images: [{ pdq, quality: 80 }] });
      } catch (err) {
        assert.equal((err as { code: string }).code, 'rate_limited');
        limited = true;
      }
    }
    assert.ok(limited, 'the eleventh submission in a window is refused');
  });
});
