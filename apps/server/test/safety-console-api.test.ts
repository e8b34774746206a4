/**
 * What the safety console reads beyond the original API: how many uploads matched each bank (at
 * screening, in sweeps, in takedowns), takedowns as records whose progress can be watched while
 * they run (and that say so when one fails or its process stopped), every reason reporters gave,
 * and who did what in the audit log by handle. Plus the refusals of the new endpoints.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MmdError } from '@mmd/sdk';
import { sql } from 'kysely';
import { type BlobStore, createLocalDiskStore } from '../src/platform/blobs/index.ts';
import { INTERRUPTED_AFTER_MS } from '../src/safety/takedown-records.ts';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { jobResult, noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

/** Local storage whose file deletions wait while `hold()` is on: a takedown then pauses at its last step. */
function pausableBlobs(root: string) {
  const inner = createLocalDiskStore({ root });
  let paused: { promise: Promise<void>; release: () => void } | null = null;
  const store: BlobStore = {
    kind: inner.kind,
    put: (key, body, options) => inner.put(key, body, options),
    get: (key, range) => inner.get(key, range),
    stat: (key) => inner.stat(key),
    exists: (key) => inner.exists(key),
    delete: async (key) => {
      await paused?.promise;
      return inner.delete(key);
    },
    deletePrefix: async (prefix) => {
      await paused?.promise;
      return inner.deletePrefix(prefix);
    },
  };
  return {
    store,
    hold() {
      let release = () => {};
      const promise = new Promise<void>((resolve) => {
        release = resolve;
      });
      paused = { promise, release };
    },
    release() {
      paused?.release();
      paused = null;
    },
  };
}

const md5 = () => randomBytes(16).toString('hex');

onEachDatabase('safety: what the console reads', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  let eve: User;
  let mod: User;
  let blobDir: string;
  let blobs: ReturnType<typeof pausableBlobs>;
  before(async () => {
    blobDir = mkdtempSync(path.join(tmpdir(), 'mmd-blobs-'));
    blobs = pausableBlobs(blobDir);
    server = await startTestServer({ dialect, blobs: blobs.store });
    [alice, bob, carol, eve, mod] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), server.signUp(), signUpModerator(server)]);
  });
  after(async () => {
    blobs.release();
    await server.close();
    rmSync(blobDir, { recursive: true, force: true });
  });

  /** alice sends photos to bob in their direct chat. */
  async function sharedPhotos(...names: string[]) {
    const items = [];
    for (const name of names) {
      const item = await uploadAndWait(alice.client, await smallPhoto(name));
      assert.equal(item.status, 'ready', item.reason ?? '');
      items.push(item);
    }
    const chat = await alice.client.openDirect(bob.handle);
    const message = await alice.client.send(chat.id, { text: 'look', media: items.map((i) => i.id) });
    return { items, message };
  }

  test('a bank counts the uploads that match it: at screening, in sweeps and in takedowns, each item once', { skip: noData }, async () => {
    const dune = await smallPhoto('Dune.jpg');
    const meadow = await smallPhoto('GreenMeadow.jpg', 600);
    const flagged = await mod.client.createBank({ name: 'Flagged', category: 'spam', action: 'blur' });
    assert.equal(flagged.match_count, 0);
    assert.equal(flagged.last_match_at, null);
    await mod.client.addSignalsFromFile(flagged.id, dune, { filename: 'dune.jpg' });

    const startedAt = Date.now();
    const first = await uploadAndWait(alice.client, dune);
    assert.equal(first.blurred, true, 'screening matched it');
    const bank = await mod.client.bank(flagged.id);
    assert.equal(bank.match_count, 1);
    assert.ok(bank.last_match_at !== null && bank.last_match_at >= startedAt);
    await uploadAndWait(bob.client, dune, 'again.jpg');
    assert.equal((await mod.client.bank(flagged.id)).match_count, 2, 'another upload of the same file is another item');

    // Every matching bank counts the item, not only the one whose action wins.
    const exact = await mod.client.createBank({ name: 'Exact', category: 'other', action: 'blur' });
    const added = await mod.client.addSignals(exact.id, [{ type: 'sha256', value: createHash('sha256').update(dune).digest('hex') }]);
    const swept = await jobResult(server, added.sweep_job_id);
    assert.equal(swept.matched, 2, 'the sweep found both stored copies');
    assert.equal((await mod.client.bank(exact.id)).match_count, 2);
    await uploadAndWait(carol.client, dune, 'third.jpg');
    const banks = new Map((await mod.client.banks()).map((b) => [b.id, b]));
    assert.equal(banks.get(flagged.id)?.match_count, 3);
    assert.equal(banks.get(exact.id)?.match_count, 3);

    // A sweep of new signals counts what it finds; running it again counts nothing twice.
    const other = await uploadAndWait(alice.client, meadow);
    assert.ok(!other.blurred, 'a different photo does not match');
    const fromFile = await mod.client.addSignalsFromFile(flagged.id, meadow, { filename: 'meadow.jpg' });
    await jobResult(server, fromFile.sweep_job_id);
    assert.equal((await mod.client.bank(flagged.id)).match_count, 4);
    await server.services.safety.sweeps.run({ bankId: flagged.id, afterSignalId: 0, upToSignalId: Number.MAX_SAFE_INTEGER });
    assert.equal((await mod.client.bank(flagged.id)).match_count, 4, 'a second sweep over the same items');

    // A takedown counts every copy it removed against the bank its hashes went to.
    const takedown = await mod.client.takedown({ media_id: other.id, reason: 'test' });
    const takedownBank = await mod.client.bank(takedown.bank_id);
    const rows = await server.db.db.selectFrom('safety_matches').select(['media_id', 'source']).where('bank_id', '=', takedown.bank_id).execute();
    assert.deepEqual(rows.map((r) => r.media_id).sort(), takedown.copies.map((c) => c.media_id).sort());
    assert.ok(rows.every((r) => r.source === 'takedown'));
    assert.equal(takedownBank.match_count, rows.length);
  });

  test('a takedown is on record while it runs, with live figures, and after with those of its reply', { skip: noData }, async () => {
    const { items, message } = await sharedPhotos('LadyBird.jpg', 'RainDrops.jpg');
    await bob.client.report({ message_id: message.id, reason: 'harassment', note: 'again' });
    const review = (await mod.client.reviews()).reviews.find((r) => r.message?.id === message.id)!;

    blobs.hold();
    const decided = mod.client.decideReview(review.id, { action: 'takedown', note: 'harassment campaign' });
    try {
      // Paused at its last step (deleting files): everything else is done and on record.
      const running = await eventually('the takedown to show its progress', async () => {
        const { takedowns } = await mod.client.takedowns({ status: 'running' });
        const t = takedowns.find((x) => x.review_id === review.id);
        return t && t.messages_removed === 1 ? t : null;
      }, 20_000);
      assert.equal(running.status, 'running');
      assert.equal(running.stage, 'removing');
      assert.equal(running.copies_found, 2);
      assert.equal(running.media_removed, 2);
      assert.equal(running.conversations, 1);
      assert.equal(running.finished_at, null);
      assert.equal(running.duration_ms, null);
      assert.equal(running.actor_handle, mod.handle);
      assert.equal(running.reason, 'harassment campaign');
      assert.deepEqual(await mod.client.takedownStatus(running.id), running);
    } finally {
      blobs.release();
    }
    const { takedown } = await decided;
    assert.ok(takedown);
    const record = await mod.client.takedownStatus(takedown.id);
    assert.equal(record.status, 'done');
    assert.equal(record.stage, 'finished');
    assert.equal(record.review_id, review.id);
    assert.equal(record.bank_id, takedown.bank_id);
    assert.equal(record.bank_name, 'Takedowns');
    assert.deepEqual(
      { signals: record.signals_added, copies: record.copies_found, media: record.media_removed, messages: record.messages_removed, conversations: record.conversations, duration: record.duration_ms },
      { signals: takedown.signals_added, copies: takedown.copies.length, media: takedown.media_removed, messages: takedown.messages_removed, conversations: takedown.conversations, duration: takedown.duration_ms },
    );
    assert.ok(record.finished_at !== null && record.finished_at >= record.started_at);
    assert.equal(record.error, null);
    assert.deepEqual(new Set(takedown.copies.map((c) => c.media_id)), new Set(items.map((i) => i.id)));
    const audited = await mod.client.audit({ action: 'takedown', limit: 5 });
    assert.equal(audited.entries.find((e) => e.subject_id === takedown.id)?.detail.copies_found, 2);
  });

  test('takedowns are listed newest first, page by page, and filter by status', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await mod.client.takedown({ hashes: [{ type: 'md5', value: md5() }], reason: `paging ${i}` })).id);
    const seen: string[] = [];
    let before: number | undefined;
    do {
      const page = await mod.client.takedowns({ limit: 2, ...(before ? { before } : {}) });
      assert.ok(page.takedowns.length <= 2);
      seen.push(...page.takedowns.map((t) => t.id));
      before = page.next_before ?? undefined;
    } while (before !== undefined);
    assert.equal(new Set(seen).size, seen.length, 'no takedown on two pages');
    assert.deepEqual(seen.filter((id) => ids.includes(id)), [...ids].reverse(), 'newest first');
    const done = await mod.client.takedowns({ status: 'done', limit: 100 });
    assert.ok(ids.every((id) => done.takedowns.some((t) => t.id === id)));
    assert.ok(done.takedowns.every((t) => t.status === 'done'));
    const empty = await mod.client.takedowns({ status: 'failed', limit: 100 });
    assert.ok(!empty.takedowns.some((t) => ids.includes(t.id)));
    // Nothing was found or removed for a hash nobody uploaded, and that is what the record says.
    const quiet = await mod.client.takedownStatus(ids[0]!);
    assert.deepEqual([quiet.copies_found, quiet.media_removed, quiet.messages_removed, quiet.signals_added], [0, 0, 0, 1]);
  });

  test('a takedown stopped by an error is on record as failed, and audited', { skip: noData }, async () => {
    const { items, message } = await sharedPhotos('Aqua.jpg');
    const target = items[0]!.id;
    // Fault injection: the database refuses to change this one item.
    if (dialect === 'sqlite') {
      await sql.raw(`create trigger refuse_removal before update on media when new.id = '${target}' begin select raise(abort, 'refused for the test'); end`).execute(server.db.db);
    } else {
      await sql.raw(`create function refuse_removal() returns trigger language plpgsql as $$ begin raise exception 'refused for the test'; end $$`).execute(server.db.db);
      await sql.raw(`create trigger refuse_removal before update on media for each row when (new.id = '${target}') execute function refuse_removal()`).execute(server.db.db);
    }
    try {
      await rejectsWith(mod.client.takedown({ message_id: message.id, reason: 'will fail' }), 'internal_error', 500);
    } finally {
      await sql.raw(dialect === 'sqlite' ? 'drop trigger refuse_removal' : 'drop trigger refuse_removal on media').execute(server.db.db);
    }
    const failed = (await mod.client.takedowns({ status: 'failed' })).takedowns.find((t) => t.reason === 'will fail');
    assert.ok(failed, 'the failed takedown is listed');
    assert.equal(failed.stage, 'removing', 'it says where it stopped');
    assert.equal(failed.copies_found, 1);
    assert.match(failed.error ?? '', /internal error/);
    assert.doesNotMatch(failed.error ?? '', /refused for the test/, 'no internals in the record');
    assert.ok(failed.finished_at !== null);
    const audit = await mod.client.audit({ action: 'takedown.failed' });
    assert.equal(audit.entries[0]?.subject_id, failed.id);
    // Run again, it goes through.
    const again = await mod.client.takedown({ message_id: message.id, reason: 'second try' });
    assert.equal(again.media_removed, 1);
  });

  test('a takedown left running by a stopped process is marked failed when someone looks, and at start', async () => {
    const now = Date.now();
    const row = { status: 'running' as const, stage: 'removing' as const, reason: 'crash', actor_id: mod.accountId, review_id: null, bank_id: (await mod.client.banks())[0]!.id, signals_added: 3, copies_found: 10, media_removed: 4, messages_removed: 7, conversations: 2, error: null, started_at: now - INTERRUPTED_AFTER_MS - 5000, finished_at: null, duration_ms: null };
    await server.db.db.insertInto('safety_takedowns').values([
      { ...row, id: 'tkd_stale', updated_at: now - INTERRUPTED_AFTER_MS - 1000 },
      { ...row, id: 'tkd_moving', updated_at: now },
    ]).execute();
    // No restart needed: the console reading it is enough.
    const stale = await mod.client.takedownStatus('tkd_stale');
    assert.equal(stale.status, 'failed');
    assert.match(stale.error ?? '', /interrupted/);
    assert.equal(stale.media_removed, 4, 'the progress it made is kept');
    assert.equal((await mod.client.takedownStatus('tkd_moving')).status, 'running', 'one still moving is left alone');
    await server.db.db.updateTable('safety_takedowns').set({ status: 'running', updated_at: now - INTERRUPTED_AFTER_MS - 1000 }).where('id', '=', 'tkd_stale').execute();
    await server.services.safety.start();
    const afterStart = await server.db.db.selectFrom('safety_takedowns').select('status').where('id', '=', 'tkd_stale').executeTakeFirstOrThrow();
    assert.equal(afterStart.status, 'failed', 'and at start');
    await server.db.db.updateTable('safety_takedowns').set({ status: 'done' }).where('id', '=', 'tkd_moving').execute();
  });

  test('a review lists every reason reporters gave, most given first', async () => {
    const group = await alice.client.createConversation({ kind: 'group', title: 'club', members: [bob.handle, carol.handle, eve.handle] });
    const post = await alice.client.send(group.id, { text: 'nasty' });
    await bob.client.report({ message_id: post.id, reason: 'spam' });
    await carol.client.report({ message_id: post.id, reason: 'harassment', note: 'targets me' });
    await eve.client.report({ message_id: post.id, reason: 'harassment' });
    const review = (await mod.client.reviews()).reviews.find((r) => r.message?.id === post.id)!;
    assert.equal(review.report_count, 3);
    assert.deepEqual(review.reasons, [{ reason: 'harassment', count: 2 }, { reason: 'spam', count: 1 }]);
    assert.deepEqual(review.notes, ['targets me']);
  });

  test('the audit log names actors by handle and filters by @handle', async () => {
    const bank = await mod.client.createBank({ name: `by ${mod.handle}`, category: 'other', action: 'hold' });
    const mine = await mod.client.audit({ actor: `@${mod.handle.toUpperCase()}`, action: 'bank.created' });
    const entry = mine.entries.find((e) => e.subject_id === bank.id);
    assert.ok(entry);
    assert.equal(entry.actor_handle, mod.handle);
    assert.ok(mine.entries.every((e) => e.actor_id === mod.accountId));
    assert.deepEqual(await mod.client.audit({ actor: '@nobody-by-that-name' }), { entries: [], next_before: null });
    const system = await mod.client.audit({ action: 'sweep.completed', limit: 1 });
    if (system.entries[0]) assert.equal(system.entries[0].actor_handle, null, 'MMD itself has no handle');
  });

  test('takedown records refuse no token, plain users, unknown ids and bad queries', async () => {
    await rejectsWith(server.anonymous.takedowns(), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.takedownStatus('tkd_x'), 'unauthenticated', 401);
    await rejectsWith(eve.client.takedowns(), 'forbidden', 403);
    await rejectsWith(eve.client.takedownStatus('tkd_x'), 'forbidden', 403);
    await rejectsWith(mod.client.takedownStatus('tkd_nope'), 'not_found', 404);
    for (const bad of [{ status: 'pending' }, { limit: 0 }, { limit: 101 }, { before: 0 }, { before: 'x' }]) {
      await rejectsWith(mod.client.takedowns(bad as never), 'validation_failed', 400);
    }
    const res = await server.app.inject({ method: 'GET', url: '/v1/safety/takedowns?sort=asc', headers: { authorization: `Bearer ${mod.token}` } });
    assert.equal(res.statusCode, 400, 'unknown query parameters are refused');
    // The problem lists what was wrong.
    await assert.rejects(mod.client.takedowns({ status: 'pending' as never }), (err: unknown) => err instanceof MmdError && JSON.stringify(err.problem).includes('status'));
  });
});
