/**
 * Hash-only protection as a claim, not a verdict, and the ways a stranger could abuse it:
 * - the denial and abuse table: floods, per-request / per-address / per-day caps (429 with stable
 *   codes), made-up quality and degenerate hashes, malformed and oversized hashes;
 * - no oracle: a known hash and an unknown one get the same answer, shape and database work, and
 *   unknown references all look alike;
 * - nothing is removed or blocked before a moderator decides: a new upload is held (its message
 *   waits), a copy already shared stays up with a review; rejecting releases and delivers;
 * - the operator's trusted-source setting: only an item that matches a case AND a trusted bank is
 *   acted on alone, and only when the setting is on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Message, ProtectBody } from '@mmd/sdk';
import sharp from 'sharp';
import { type TestServer, type User, eventually, onEachDatabase, startTestServer } from './harness.ts';
import { browserHashes, crop, jobResult, noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

type Inject = { statusCode: number; headers: Record<string, unknown>; body: string };

/** A detailed synthetic picture (random blocks, smoothly scaled up): no two calls alike. */
async function picture(): Promise<Buffer> {
  return sharp(randomBytes(12 * 12 * 3), { raw: { width: 12, height: 12, channels: 3 } })
    .resize(480, 480, { kernel: 'cubic' })
    .jpeg({ quality: 92 })
    .toBuffer();
}

async function protectBody(image: Buffer): Promise<ProtectBody> {
  const h = await browserHashes(image);
  return { images: [{ pdq: h.pdq, quality: h.quality, robust: h.robust }] };
}

/** A balanced made-up PDQ hash (128 bits set), which the server cannot tell from a real one. */
function madeUpPdq(): string {
  const bits = [...Array(256).keys()].sort(() => Math.random() - 0.5).slice(0, 128);
  const bytes = new Uint8Array(32);
  for (const b of bits) bytes[b >> 3]! |= 1 << (b & 7);
  return Buffer.from(bytes).toString('hex');
}

async function protect(server: TestServer, body: unknown, address = '127.0.0.1'): Promise<Inject> {
  return (await server.app.inject({
    method: 'POST',
    url: '/v1/safety/protect',
    remoteAddress: address,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  })) as Inject;
}

function expectProblem(res: Inject, status: number, code: string, what: string) {
  assert.equal(res.statusCode, status, `${what}: ${res.body.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /application\/problem\+json/, what);
  assert.equal((JSON.parse(res.body) as { code: string }).code, code, what);
}

async function sweepOf(server: TestServer, reference: string): Promise<string> {
  const row = await server.db.db
    .selectFrom('safety_audit')
    .select('detail')
    .where('action', '=', 'protect.submitted')
    .where('subject_id', '=', reference)
    .executeTakeFirstOrThrow();
  return (JSON.parse(row.detail) as { sweep_job_id: string }).sweep_job_id;
}

/** Row counts of everything a submission writes. */
async function footprint(server: TestServer) {
  const count = async (table: 'safety_cases' | 'safety_signals' | 'jobs') =>
    Number(
      (
        await server.db.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  // Sweeps finishing in the background audit too; a submission's own entry is protect.submitted.
  const audit = await server.db.db
    .selectFrom('safety_audit')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', '=', 'protect.submitted')
    .executeTakeFirstOrThrow();
  return {
    cases: await count('safety_cases'),
    signals: await count('safety_signals'),
    audit: Number(audit.n),
    jobs: await count('jobs'),
  };
}

onEachDatabase('safety: hash-only protection, denial and abuse table', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      dialect,
      config: {
        rateLimitWindowMs: 60_000,
        protectRequestsPerWindow: 3,
        protectMaxSignalsPerSubmission: 3,
        protectMaxSignalsPerAddressPerDay: 5,
        protectMaxSignalsPerDay: 9,
      },
    });
  });
  after(() => server.close());

  test('floods and caps are refused with 429 or 400 problem+json and stable codes, and count nothing', async () => {
    const one = () => ({ images: [{ pdq: madeUpPdq(), quality: 90 }] });
    const many = (n: number) => ({
      images: Array.from({ length: n }, () => ({ pdq: madeUpPdq(), quality: 90 })),
    });
    const rows: Array<{ what: string; address: string; body: unknown; status: number; code?: string }> = [
      // Anonymous flood: requests per address per window.
      { what: 'flood 1', address: '10.0.0.1', body: one(), status: 201 },
      { what: 'flood 2', address: '10.0.0.1', body: one(), status: 201 },
      { what: 'flood 3', address: '10.0.0.1', body: one(), status: 201 },
      {
        what: 'flood 4: over the window',
        address: '10.0.0.1',
        body: one(),
        status: 429,
        code: 'rate_limited',
      },
      // Signals per request: the request is malformed, not early, so 400 (retrying cannot help).
      {
        what: 'four signals in one request (cap 3)',
        address: '10.0.0.2',
        body: many(4),
        status: 400,
        code: 'validation_failed',
      },
      // Signals per address per UTC day (5).
      { what: 'address: 3 signals', address: '10.0.0.3', body: many(3), status: 201 },
      {
        what: 'address: 3 more (6 > 5)',
        address: '10.0.0.3',
        body: many(3),
        status: 429,
        code: 'daily_limit_reached',
      },
      { what: 'address: 2 more (5)', address: '10.0.0.3', body: many(2), status: 201 },
      // Everyone together per UTC day (9): 3 + 3 + 2 used so far.
      {
        what: 'total: 2 more (10 > 9)',
        address: '10.0.0.4',
        body: many(2),
        status: 429,
        code: 'daily_capacity_reached',
      },
      { what: 'total: 1 more (9)', address: '10.0.0.5', body: one(), status: 201 },
      {
        what: 'total: any more',
        address: '10.0.0.6',
        body: one(),
        status: 429,
        code: 'daily_capacity_reached',
      },
    ];
    for (const row of rows) {
      const before = await footprint(server);
      const res = await protect(server, row.body, row.address);
      if (row.code) {
        expectProblem(res, row.status, row.code, row.what);
        assert.deepEqual(await footprint(server), before, `${row.what}: nothing stored`);
        if (row.code.startsWith('daily_')) {
          const retry = Number(res.headers['retry-after']);
          assert.ok(
            retry > 0 && retry <= 86_400,
            `${row.what}: Retry-After says when the day ends (${retry})`,
          );
        }
      } else {
        assert.equal(res.statusCode, row.status, `${row.what}: ${res.body}`);
      }
    }
    // The quota table keys addresses, it does not store them.
    const keys = await server.db.db.selectFrom('safety_protect_quota').select('address_key').execute();
    assert.ok(keys.length > 0 && keys.every((k) => !k.address_key.includes('10.0.0')));
  });

  test('bogus quality, degenerate, malformed and oversized hashes are refused with validation_failed', async () => {
    const good = madeUpPdq();
    const zeroFrame = `${'0'.repeat(64)},100,0.000`;
    const bad: Array<[string, unknown, number, string]> = [
      ['no hashes at all', {}, 400, 'validation_failed'],
      ['an empty list', { images: [] }, 400, 'validation_failed'],
      [
        'quality 100 claimed for an all-zero hash (a flat picture)',
        { images: [{ pdq: '0'.repeat(64), quality: 100 }] },
        400,
        'validation_failed',
      ],
      [
        'quality 100 claimed for an all-ones hash (impossible for PDQ)',
        { images: [{ pdq: 'f'.repeat(64), quality: 100 }] },
        400,
        'validation_failed',
      ],
      [
        'quality 100 claimed for a nearly flat hash',
        { images: [{ pdq: `${'f'.repeat(8)}${'0'.repeat(56)}`, quality: 100 }] },
        400,
        'validation_failed',
      ],
      [
        'a weak quality (the client says so itself)',
        { images: [{ pdq: good, quality: 20 }] },
        400,
        'validation_failed',
      ],
      ['quality above 100', { images: [{ pdq: good, quality: 1000 }] }, 400, 'validation_failed'],
      ['quality not a number', { images: [{ pdq: good, quality: 'high' }] }, 400, 'validation_failed'],
      ['pdq not hex', { images: [{ pdq: 'z'.repeat(64), quality: 90 }] }, 400, 'validation_failed'],
      ['pdq too short', { images: [{ pdq: good.slice(1), quality: 90 }] }, 400, 'validation_failed'],
      ['pdq too long', { images: [{ pdq: `${good}0`, quality: 90 }] }, 400, 'validation_failed'],
      ['an unknown field', { images: [{ pdq: good, quality: 90, label: 'x' }] }, 400, 'validation_failed'],
      [
        'a robust set too big',
        {
          images: [
            { pdq: good, quality: 90, robust: { global: Array(9).fill(good), centre: [], anchors: [] } },
          ],
        },
        400,
        'validation_failed',
      ],
      [
        'a robust set naming a scheme this server does not know',
        {
          images: [{ pdq: good, quality: 90, robust: { v: 2, scheme: 7, global: [good], centre: [], anchors: [] } }],
        },
        400,
        'validation_failed',
      ],
      [
        'more images than any request may carry',
        { images: Array(21).fill({ pdq: good, quality: 90 }) },
        400,
        'validation_failed',
      ],
      ['a vPDQ that is not one', { videos: [{ vpdq: 'not,a,vpdq' }] }, 400, 'validation_failed'],
      [
        'a vPDQ of black frames only',
        { videos: [{ vpdq: JSON.stringify([zeroFrame, zeroFrame]) }] },
        400,
        'validation_failed',
      ],
      [
        'a vPDQ over a million characters',
        { videos: [{ vpdq: 'x'.repeat(1_000_001) }] },
        400,
        'validation_failed',
      ],
      ['a body over 8 MB', { videos: [{ vpdq: 'x'.repeat(9 * 1024 * 1024) }] }, 413, 'body_too_large'],
    ];
    const before = await footprint(server);
    // One address per row: the per-address request limit is not what this table tests.
    for (const [n, [what, body, status, code]] of bad.entries())
      expectProblem(await protect(server, body, `10.1.0.${n + 10}`), status, code, what);
    const malformed = (await server.app.inject({
      method: 'POST',
      url: '/v1/safety/protect',
      remoteAddress: '10.1.0.2',
      headers: { 'content-type': 'application/json' },
      payload: '{"images": [',
    })) as Inject;
    expectProblem(malformed, 400, 'malformed_json', 'malformed JSON');
    assert.deepEqual(await footprint(server), before, 'nothing refused was stored');
  });

  test('unknown references all answer alike, and a bad one is refused', async () => {
    const answers = [];
    for (const ref of ['P-0000-0000-0000-0000', 'P-ZZZZ-ZZZZ-ZZZZ-ZZZZ', 'P-7KQ2-M9XD-43TF-AW8R']) {
      const res = (await server.app.inject({
        method: 'GET',
        url: `/v1/safety/protect/${ref}`,
        remoteAddress: '10.2.0.1',
      })) as Inject;
      expectProblem(res, 404, 'not_found', ref);
      const { request_id: _id, ...rest } = JSON.parse(res.body) as Record<string, unknown>;
      answers.push(rest);
    }
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
    for (const ref of ['../../etc', 'P-0000', 'p-0000-0000-0000-0000', 'P-IIII-0000-0000-0000']) {
      expectProblem(
        (await server.app.inject({
          method: 'GET',
          url: `/v1/safety/protect/${encodeURIComponent(ref)}`,
          remoteAddress: '10.2.0.1',
        })) as Inject,
        400,
        'validation_failed',
        ref,
      );
    }
  });
});

onEachDatabase('safety: hash-only protection holds, a moderator decides', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  let mod: User;
  before(async () => {
    server = await startTestServer({
      dialect,
      config: { rateLimitWindowMs: 60_000, protectRequestsPerWindow: 100 },
    });
    [alice, bob, carol, mod] = await Promise.all([
      server.signUp(),
      server.signUp(),
      server.signUp(),
      signUpModerator(server),
    ]);
  });
  after(() => server.close());

  test('a known hash and an unknown one get the same answer, the same writes and the same state', async () => {
    const shared = await picture();
    const item = await uploadAndWait(alice.client, shared);
    assert.equal(item.status, 'ready');
    const known = await protectBody(shared);
    const unknown = await protectBody(await picture());
    // Known twice over: stored here, and already sent by someone else.
    const first = await protect(server, known, '10.3.0.1');
    assert.equal(first.statusCode, 201, first.body);
    await jobResult(
      server,
      await sweepOf(server, String((JSON.parse(first.body) as { reference: string }).reference)),
    );
    const answers: Record<string, { res: Inject; writes: Record<string, number> }> = {};
    for (const [what, body] of [
      ['known', known],
      ['unknown', unknown],
    ] as const) {
      const jobsBefore = (await footprint(server)).jobs;
      const res = await protect(server, body, '10.3.0.2');
      const reference = String((JSON.parse(res.body) as { reference: string }).reference);
      // What this submission wrote (a sweep finishing meanwhile writes its own rows, not counted).
      const count = async (
        table: 'safety_signals' | 'safety_audit' | 'safety_cases',
        column: 'case_ref' | 'subject_id' | 'reference',
      ) =>
        Number(
          (
            await server.db.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where(column as never, '=', reference as never)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const submitted = Number(
        (
          await server.db.db
            .selectFrom('safety_audit')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('subject_id', '=', reference)
            .where('action', '=', 'protect.submitted')
            .executeTakeFirstOrThrow()
        ).n,
      );
      answers[what] = {
        res,
        writes: {
          cases: await count('safety_cases', 'reference'),
          signals: await count('safety_signals', 'case_ref'),
          audit: submitted,
          jobs: (await footprint(server)).jobs - jobsBefore,
        },
      };
    }
    const k = answers.known!;
    const u = answers.unknown!;
    assert.equal(k.res.statusCode, 201);
    assert.equal(u.res.statusCode, 201);
    assert.deepEqual(
      Object.keys(k.res.headers).sort(),
      Object.keys(u.res.headers).sort(),
      'the same headers',
    );
    const kb = JSON.parse(k.res.body) as Record<string, unknown>;
    const ub = JSON.parse(u.res.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(kb).sort(), ['reference', 'secret', 'shared', 'status', 'submitted_at', 'updated_at']);
    assert.deepEqual(Object.keys(ub).sort(), Object.keys(kb).sort());
    assert.equal(kb.status, 'received');
    assert.equal(ub.status, 'received');
    assert.equal(k.res.body.length, u.res.body.length, 'the same length');
    assert.deepEqual(k.writes, u.writes, 'the same rows written either way');
    assert.deepEqual(k.writes, { cases: 1, signals: 1, audit: 1, jobs: 1 });

    // Once checked, both are "under review"; neither says what it found.
    for (const body of [kb, ub]) {
      const reference = String(body.reference);
      await jobResult(server, await sweepOf(server, reference));
      const status = await server.anonymous.protectStatus(reference);
      assert.equal(status.status, 'under_review');
      assert.deepEqual(Object.keys(status).sort(), ['reference', 'status', 'submitted_at', 'updated_at']);
    }
    // The moderator sees what each matched.
    assert.equal((await mod.client.protectCase(String(kb.reference))).item_count, 1);
    assert.equal((await mod.client.protectCase(String(ub.reference))).item_count, 0);
    // Nothing was removed: the stored copy is still ready.
    assert.equal((await alice.client.media(item.id)).status, 'ready');
  });

  test('nothing is removed before a decision; rejecting releases the held upload and delivers its message', async () => {
    const image = await picture();
    const chat = await alice.client.openDirect(bob.handle);
    const shared = await uploadAndWait(alice.client, image);
    const sharedMessage = await alice.client.send(chat.id, { text: 'holiday', media: [shared.id] });
    const opened = await server.anonymous.protect(await protectBody(image));
    const swept = await jobResult(server, await sweepOf(server, opened.reference));
    assert.equal(swept.removed, 0, 'the sweep removes nothing');
    assert.equal(swept.held, 1, 'the copy already shared is queued for review');
    const visible = (await bob.client.history(chat.id)).messages.find((m) => m.id === sharedMessage.id);
    assert.ok(
      visible && !visible.deleted && visible.media.length === 1,
      'the shared copy stays up until a moderator decides',
    );

    // A new upload of it is held: not delivered, its sender sees it waiting.
    const again = await uploadAndWait(carol.client, image);
    assert.equal(again.status, 'held');
    assert.equal(again.reason_code, undefined, 'the sender is told nothing about banks');
    const carolChat = await carol.client.openDirect(bob.handle);
    const waiting: Message = await carol.client.send(carolChat.id, { media: [again.id] });
    assert.equal(waiting.status, 'pending');
    assert.ok(
      !(await bob.client.history(carolChat.id)).messages.some((m) => m.id === waiting.id),
      'bob does not get the held message',
    );

    // The moderator sees the case, both items, their reviews and blurred previews.
    const listed = await mod.client.cases();
    const found = listed.cases.find((c) => c.reference === opened.reference);
    assert.ok(found, 'the case is in the moderators’ list');
    assert.equal(found.status, 'under_review');
    const bySource = Object.fromEntries(found.items.map((i) => [i.source, i]));
    assert.equal(bySource.sweep?.media_id, shared.id);
    assert.equal(bySource.screening?.media_id, again.id);
    assert.equal(bySource.screening?.status, 'held');
    for (const item of found.items) {
      assert.ok(item.review_id && item.preview, 'each item has its review and a blurred preview');
      const preview = await mod.client.reviewPreview(item.review_id, item.media_id);
      assert.ok(preview.length > 100);
    }

    // Plain users and strangers cannot see or decide cases.
    await assert.rejects(bob.client.cases(), (e: { code: string }) => e.code === 'forbidden');
    await assert.rejects(
      server.anonymous.decideCase(opened.reference, { action: 'confirm' }),
      (e: { code: string }) => e.code === 'unauthenticated',
    );

    const decided = await mod.client.decideCase(opened.reference, {
      action: 'reject',
      note: 'not an intimate image',
    });
    assert.equal(decided.case.status, 'closed');
    assert.equal(decided.released, 2, 'both reviews dismissed');
    assert.equal(decided.takedown, null);
    assert.equal((await carol.client.media(again.id)).status, 'ready', 'the held upload is released');
    const delivered = await eventually('bob gets the released message', async () =>
      (await bob.client.history(carolChat.id)).messages.find(
        (m) => m.id === waiting.id && m.status === 'sent',
      ),
    );
    assert.equal(delivered.media.length, 1);
    assert.equal((await server.anonymous.protectStatus(opened.reference)).status, 'closed');
    const audit = await mod.client.audit({ action: 'case.rejected' });
    assert.equal(audit.entries[0]?.subject_id, opened.reference);
    assert.equal(audit.entries[0]?.actor_id, mod.accountId);
    // Its hashes are retired: the picture is not held any more.
    assert.equal((await uploadAndWait(alice.client, image)).status, 'ready');
    await assert.rejects(
      mod.client.decideCase(opened.reference, { action: 'confirm' }),
      (e: { code: string }) => e.code === 'conflict',
    );
  });

  test('confirming takes down what the case matched and blocks its hashes', async () => {
    const image = await picture();
    const chat = await alice.client.openDirect(bob.handle);
    const shared = await uploadAndWait(alice.client, image);
    const message = await alice.client.send(chat.id, { media: [shared.id] });
    const opened = await server.anonymous.protect(await protectBody(image));
    await jobResult(server, await sweepOf(server, opened.reference));
    const held = await uploadAndWait(carol.client, image);
    assert.equal(held.status, 'held');
    const decided = await mod.client.decideCase(opened.reference, { action: 'confirm' });
    assert.equal(decided.case.status, 'action_taken');
    assert.ok(decided.takedown, 'a takedown ran');
    assert.deepEqual(new Set(decided.takedown.copies.map((c) => c.media_id)), new Set([shared.id, held.id]));
    const gone = (await bob.client.history(chat.id)).messages.find((m) => m.id === message.id);
    assert.ok(gone?.deleted, 'the shared copy is gone');
    assert.equal((await server.anonymous.protectStatus(opened.reference)).status, 'action_taken');
    const blocked = await uploadAndWait(bob.client, image);
    assert.equal(blocked.status, 'failed');
    assert.equal(blocked.reason_code, 'blocked');
  });

  test('a trusted bank does not act alone on a case when the operator setting is off', async () => {
    const image = await picture();
    const bank = await mod.client.createBank({
      name: 'partner list',
      category: 'ncii',
      action: 'hold',
      trusted: true,
    });
    assert.equal(bank.trusted, true);
    await mod.client.addSignalsFromFile(bank.id, image, { filename: 'x.jpg' });
    await server.anonymous.protect(await protectBody(image));
    const upload = await uploadAndWait(carol.client, image);
    assert.equal(upload.status, 'held', 'held, not blocked: automatic action is off by default');
  });
});

onEachDatabase('safety: trusted-source automatic action (operator setting on)', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let mod: User;
  before(async () => {
    server = await startTestServer({ dialect, config: { protectTrustedAutoAction: true } });
    [alice, bob, mod] = await Promise.all([server.signUp(), server.signUp(), signUpModerator(server)]);
  });
  after(() => server.close());

  test('only items that match a case and a trusted bank are acted on without a moderator', async () => {
    const [trustedImage, plainImage] = [await picture(), await picture()];
    const chat = await alice.client.openDirect(bob.handle);
    const shared = await uploadAndWait(alice.client, trustedImage);
    const message = await alice.client.send(chat.id, { media: [shared.id] });
    const partner = await mod.client.createBank({ name: 'partner', category: 'ncii', action: 'hold' });
    await jobResult(
      server,
      (await mod.client.addSignalsFromFile(partner.id, trustedImage, { filename: 't.jpg' })).sweep_job_id,
    );
    // The partner bank is not trusted yet: the case removes nothing.
    const first = await server.anonymous.protect(await protectBody(trustedImage));
    assert.equal((await jobResult(server, await sweepOf(server, first.reference))).removed, 0);
    assert.equal((await uploadAndWait(bob.client, trustedImage)).status, 'held');

    await assert.rejects(
      bob.client.updateBank(partner.id, { trusted: true }),
      (e: { code: string }) => e.code === 'forbidden',
    );
    const marked = await mod.client.updateBank(partner.id, { trusted: true });
    assert.equal(marked.trusted, true);
    assert.equal((await mod.client.audit({ action: 'bank.updated' })).entries[0]?.subject_id, partner.id);
    const protectBank = (await mod.client.banks()).find((b) => b.system === 'protect');
    assert.ok(protectBank);
    await assert.rejects(
      mod.client.updateBank(protectBank.id, { trusted: true }),
      (e: { code: string }) => e.code === 'validation_failed',
    );

    // Now a case and a trusted bank agree: a new upload is blocked at once...
    const blocked = await uploadAndWait(bob.client, trustedImage);
    assert.equal(blocked.status, 'failed', 'a new upload is blocked');
    assert.equal(blocked.reason_code, 'blocked');
    // ...and a new case's sweep removes the copy already shared.
    const second = await server.anonymous.protect(await protectBody(trustedImage));
    const swept = await jobResult(server, await sweepOf(server, second.reference));
    assert.ok((swept.removed ?? 0) >= 1, 'the shared copy a trusted bank also matches is removed at once');
    assert.ok((await bob.client.history(chat.id)).messages.find((m) => m.id === message.id)?.deleted);
    const detail = await mod.client.protectCase(second.reference);
    assert.ok(
      detail.items.some((i) => i.auto_action),
      'the case shows what was acted on automatically',
    );
    assert.equal(detail.status, 'under_review', 'the case itself still waits for a moderator');
    assert.equal(
      (await server.anonymous.protectStatus(second.reference)).status,
      'under_review',
      'the submitter learns nothing from it',
    );

    // A case with no trusted corroboration still only holds.
    await server.anonymous.protect(await protectBody(plainImage));
    assert.equal((await uploadAndWait(bob.client, plainImage)).status, 'held');
  });

  test('a crop that a case and a trusted bank match only through anchored regions is held, not blocked', { skip: noData }, async () => {
    const photo = await smallPhoto('Blinds.jpg', 900);
    const partner = await mod.client.createBank({ name: 'partner photos', category: 'ncii', action: 'block' });
    await mod.client.updateBank(partner.id, { trusted: true });
    await jobResult(server, (await mod.client.addSignalsFromFile(partner.id, photo, { filename: 'b.jpg' })).sweep_job_id);
    const opened = await server.anonymous.protect(await protectBody(photo));
    // The case's sweep runs in the background; let it finish first, or it may take down the
    // upload below (hashed, not yet decided) and the owner sees 404 instead of "blocked".
    await jobResult(server, await sweepOf(server, opened.reference));
    const cropped = await crop(photo, 0.2);
    assert.ok((await mod.client.matchFile(cropped)).matches.every((m) => m.rule === 'pdq_crop'), 'only anchored regions match');
    assert.equal((await uploadAndWait(bob.client, cropped)).status, 'held', 'weaker evidence never acts alone, trusted or not');
    assert.equal((await uploadAndWait(bob.client, photo)).status, 'failed', 'the photo itself is blocked at once');
  });
});
