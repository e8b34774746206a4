/**
 * Hash banks through the API: signals from pasted hashes, files and bank files in HMA,
 * ThreatExchange and MMD formats (round trips), the match endpoint under MMD's full scheme, what
 * each bank action does to an upload (block, hold for review, blur) and to content already on the
 * server (sweeps), and review decisions including escalation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { locateBinaries } from '@mmd/media';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { DATA, browserHashes, crop, findEvent, follow, jobResult, noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

const run = promisify(execFile);

onEachDatabase('safety: banks and screening', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let mod: User;
  let admin: User;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice, bob, mod, admin] = await Promise.all([server.signUp(), server.signUp(), signUpModerator(server), signUpModerator(server, 'admin')]);
  });
  after(() => server.close());

  test('banks import and export HMA, ThreatExchange and MMD files without losing signals', async () => {
    const bank = await mod.client.createBank({ name: 'Partner list', category: 'terrorism', source: 'a partner platform', action: 'block' });
    assert.equal(bank.pdq_threshold, 31);
    const pdq = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
    const md5 = 'b8ed4f8b2ec3c6f3e2b2a1dcd2e1a6f0';
    const vpdq = '0,100,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,0.000\n1,98,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b23,1.000\n';
    const hma = `pdq ${pdq.toUpperCase()}\nvideo_md5 ${md5}\nurl https://example.com/not-a-hash\n\n`;
    const imported = await mod.client.importBank(bank.id, hma, 'hma');
    assert.deepEqual({ added: imported.added, skipped: imported.skipped, duplicates: imported.duplicates }, { added: 2, skipped: 1, duplicates: 0 });
    const again = await mod.client.importBank(bank.id, hma, 'hma');
    assert.deepEqual({ added: again.added, duplicates: again.duplicates }, { added: 0, duplicates: 2 });
    await mod.client.addSignals(bank.id, [{ type: 'vpdq', value: vpdq, label: 'clip' }]);

    const asHma = await mod.client.exportBank(bank.id, 'hma');
    assert.match(asHma.contentType, /^text\/plain/);
    const lines = asHma.body.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), [`pdq ${pdq}`, `video_md5 ${md5}`]);
    assert.match(lines[2]!, /^vpdq \["f8f8[0-9a-f]{60},100,0\.000","f8f8[0-9a-f]{60},98,1\.000"\]$/, 'vPDQ in HMA compact JSON');

    const asTe = await mod.client.exportBank(bank.id, 'te');
    assert.equal(asTe.skipped, 1, 'ThreatExchange has no vPDQ type');
    const te = JSON.parse(asTe.body) as { data: Array<{ indicator: string; type: string; should_delete: boolean; descriptors: { data: Array<{ tags: string[] }> } }> };
    assert.deepEqual(te.data.map((d) => [d.type, d.indicator]), [['HASH_PDQ', pdq], ['HASH_MD5', md5]]);
    const copy = await mod.client.createBank({ name: 'Copy', category: 'other', action: 'hold' });
    const fromTe = await mod.client.importBank(copy.id, asTe.body, 'te');
    assert.equal(fromTe.added, 2);
    const tombstone = await mod.client.importBank(copy.id, JSON.stringify({ data: [{ id: '1', indicator: pdq, type: 'HASH_PDQ', should_delete: true }] }), 'te');
    assert.equal(tombstone.skipped, 1, 'deleted records are not imported');

    const json = await mod.client.exportBank(bank.id, 'json');
    const third = await mod.client.createBank({ name: 'Third', category: 'other', action: 'blur' });
    assert.equal((await mod.client.importBank(third.id, json.body, 'json')).added, 3);
    assert.equal((await mod.client.exportBank(third.id, 'hma')).body, asHma.body, 'an MMD round trip keeps every signal');
    assert.equal((await mod.client.bank(third.id)).signal_count, 3);

    const bad = `pdq ${pdq}\npdq not-a-hash\nvideo_md5 123\n`;
    await assert.rejects(mod.client.importBank(copy.id, bad, 'hma'), (err: { code: string; problem: { errors: { path: string }[] } }) => {
      assert.equal(err.code, 'validation_failed');
      assert.deepEqual(err.problem.errors.map((e) => e.path), ['line 2', 'line 3']);
      return true;
    });
    await rejectsWith(mod.client.importBank(copy.id, '{"data": 5}', 'te'), 'validation_failed', 400);
    await rejectsWith(mod.client.importBank(copy.id, '{not json', 'json'), 'malformed_json', 400);
    await rejectsWith(mod.client.addSignals(copy.id, [{ type: 'md5', value: pdq }]), 'validation_failed', 400);
    const banks = await mod.client.banks();
    assert.ok(banks.some((b) => b.id === bank.id && b.signal_count === 3));
    assert.equal((await mod.client.audit({ action: 'bank.imported', actor: mod.accountId })).entries.length, 5);
  });

  test('matching under the full scheme: exact, whole picture, crops, and videos by vPDQ', { skip: noData, timeout: 120_000 }, async () => {
    const bank = await mod.client.createBank({ name: 'Known images', category: 'deepfake', action: 'block' });
    const image = await smallPhoto('TwoWings.jpg', 900);
    const added = await mod.client.addSignalsFromFile(bank.id, image, { filename: 'known.jpg', label: 'case 17' });
    assert.deepEqual(added.signals.map((s) => s.type).sort(), ['md5', 'pdq', 'sha256']);
    assert.ok(added.signals.find((s) => s.type === 'pdq')!.crop_resistant);

    const exact = await mod.client.matchFile(image);
    assert.deepEqual(exact.matches.map((m) => m.rule).sort(), ['md5', 'pdq', 'sha256']);
    assert.equal(exact.matches.find((m) => m.rule === 'pdq')?.distance, 0);
    assert.equal(exact.matches[0]!.label, 'case 17');
    const cropped = await mod.client.matchFile(await crop(image, 0.25));
    assert.deepEqual(cropped.matches.map((m) => [m.bank_id, m.rule]), [[bank.id, 'pdq_crop']]);
    const other = await mod.client.matchFile(await smallPhoto('Wood.jpg', 900));
    assert.equal(other.matches.filter((m) => m.bank_id === bank.id).length, 0, 'a different photo does not match');

    // Videos: the bank holds the original's vPDQ; a re-encoded, shrunk copy still matches.
    const video = readFileSync(path.join(DATA, 'video', 'city-night.mpg'));
    const videos = await mod.client.createBank({ name: 'Known videos', category: 'terrorism', action: 'block' });
    const fromVideo = await mod.client.addSignalsFromFile(videos.id, video, { filename: 'city.mpg' });
    assert.ok(fromVideo.signals.some((s) => s.type === 'vpdq'));
    const dir = mkdtempSync(path.join(tmpdir(), 'mmd-safety-video-'));
    try {
      const { ffmpeg } = await locateBinaries();
      const out = path.join(dir, 'copy.mp4');
      await run(ffmpeg, ['-v', 'error', '-i', path.join(DATA, 'video', 'city-night.mpg'), '-vf', 'scale=480:-2', '-c:v', 'libx264', '-crf', '30', '-an', out]);
      const reply = await mod.client.matchFile(readFileSync(out));
      assert.equal(reply.kind, 'video');
      assert.ok((reply.hashes.vpdq_frames ?? 0) >= 7);
      assert.deepEqual(reply.matches.map((m) => [m.bank_id, m.rule]), [[videos.id, 'vpdq']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a crop matched only through anchored regions is held for review, not blocked, and the bank threshold applies to that route', {
    skip: noData,
    timeout: 120_000,
  }, async () => {
    const image = await smallPhoto('TwoWings.jpg', 900);
    const cropped = await crop(image, 0.25);
    // Threshold 0: every route — anchored regions included — needs identical hashes, which a
    // re-encoded crop does not give (it matches from distance 2 on).
    const strict = await mod.client.createBank({
      name: 'Strict crops',
      category: 'ncii',
      action: 'block',
      pdq_threshold: 0,
    });
    await mod.client.addSignalsFromFile(strict.id, image, { filename: 'strict.jpg' });
    const loose = await mod.client.createBank({ name: 'Crops', category: 'ncii', action: 'block' });
    await mod.client.addSignalsFromFile(loose.id, image, { filename: 'loose.jpg' });
    const matched = await mod.client.matchFile(cropped);
    assert.deepEqual(
      matched.matches.filter((m) => m.bank_id === strict.id),
      [],
      "the strict bank's threshold holds for anchored regions",
    );
    assert.deepEqual(
      matched.matches.filter((m) => m.bank_id === loose.id).map((m) => [m.rule, m.action]),
      [['pdq_crop', 'block']],
    );
    assert.ok(
      matched.matches.every((m) => m.rule === 'pdq_crop'),
      'only anchored regions match this crop',
    );

    const chat = await alice.client.openDirect(bob.handle);
    const { id } = await alice.client.upload(cropped);
    const sent = await alice.client.send(chat.id, { text: 'look', media: [id] });
    assert.equal(sent.status, 'pending');
    const item = await alice.client.waitForMedia(id, { timeoutMs: 60_000 });
    assert.equal(item.status, 'held', 'a crop-only match against a block bank waits for a moderator');
    const review = await eventually('the crop is queued for review', async () =>
      (await mod.client.reviews()).reviews.find((r) => r.media[0]?.id === id),
    );
    assert.equal(review.kind, 'hold');
    const audited = (await mod.client.audit({ action: 'upload.held', limit: 5 })).entries.find(
      (e) => e.subject_id === id,
    );
    assert.equal(audited?.detail.rule, 'pdq_crop');
    assert.equal(
      (await mod.client.audit({ action: 'upload.blocked', limit: 50 })).entries.filter(
        (e) => e.subject_id === id,
      ).length,
      0,
    );
  });

  test('a block sweep and a takedown queue copies found only through anchored regions for review instead of removing them', {
    skip: noData,
    timeout: 120_000,
  }, async () => {
    const image = await smallPhoto('Blinds.jpg', 900);
    const chat = await alice.client.openDirect(bob.handle);
    const croppedItem = await uploadAndWait(alice.client, await crop(image, 0.2), 'crop.jpg');
    const cropMessage = await alice.client.send(chat.id, { media: [croppedItem.id] });
    const original = await uploadAndWait(alice.client, image, 'original.jpg');
    const originalMessage = await alice.client.send(chat.id, { media: [original.id] });

    const bank = await mod.client.createBank({ name: 'Blinds', category: 'other', action: 'block' });
    const added = await mod.client.addSignalsFromFile(bank.id, image, { filename: 'blinds.jpg' });
    const swept = await jobResult(server, added.sweep_job_id);
    assert.deepEqual(
      { matched: swept.matched, removed: swept.removed, held: swept.held },
      { matched: 2, removed: 1, held: 1 },
      'the exact copy goes, the crop is queued',
    );
    assert.equal((await bob.client.message(originalMessage.id)).deleted, true);
    assert.equal(
      (await bob.client.message(cropMessage.id)).deleted,
      false,
      'the crop stays up until a moderator decides',
    );
    const review = (await mod.client.reviews()).reviews.find((r) => r.media[0]?.id === croppedItem.id);
    assert.equal(review?.kind, 'hold');

    // A takedown of a photo: the moderator decided on it and its exact copies, not on its crop.
    const other = await smallPhoto('RainDrops.jpg', 900);
    const otherCrop = await uploadAndWait(alice.client, await crop(other, 0.2), 'crop.jpg');
    const otherCropMessage = await alice.client.send(chat.id, { media: [otherCrop.id] });
    const otherItem = await uploadAndWait(alice.client, other, 'other.jpg');
    const takedown = await mod.client.takedown({ media_id: otherItem.id, reason: 'test' });
    assert.deepEqual(takedown.copies.find((c) => c.media_id === otherCrop.id)?.rule, 'pdq_crop');
    assert.equal(takedown.queued_for_review, 1);
    assert.equal(takedown.media_removed, 1);
    assert.equal((await bob.client.message(otherCropMessage.id)).deleted, false);
    assert.equal(
      (await mod.client.reviews()).reviews.find((r) => r.media[0]?.id === otherCrop.id)?.kind,
      'hold',
    );
    assert.notEqual((await alice.client.media(otherCrop.id)).status, 'removed');
  });

  test('a hold bank keeps an upload and its message back until a moderator decides', { skip: noData }, async () => {
    const bank = await mod.client.createBank({ name: 'Review first', category: 'ncii', action: 'hold' });
    const image = await smallPhoto('Dune.jpg');
    await mod.client.addSignalsFromFile(bank.id, image);
    const chat = await alice.client.openDirect(bob.handle);
    const bobSees = await follow(bob);
    try {
      const { id } = await alice.client.upload(image);
      const sent = await alice.client.send(chat.id, { text: 'hello', media: [id] });
      assert.equal(sent.status, 'pending');
      const held = await alice.client.waitForMedia(id, { timeoutMs: 60_000 });
      assert.equal(held.status, 'held');
      assert.deepEqual(held.renditions, {}, 'nothing of a held item is served');
      const review = await eventually('the hold is queued', async () => (await mod.client.reviews()).reviews.find((r) => r.media[0]?.id === id));
      assert.equal(review.kind, 'hold');
      assert.equal(review.bank?.id, bank.id);
      assert.ok((await mod.client.reviewPreview(review.id, id)).length > 100);
      assert.ok(!(await bob.client.history(chat.id)).messages.some((m) => m.id === sent.id), 'not delivered while held');
      await rejectsWith(bob.client.report({ message_id: sent.id, reason: 'spam' }), 'not_found', 404);

      await mod.client.decideReview(review.id, { action: 'escalate', note: 'not sure' });
      await rejectsWith(mod.client.decideReview(review.id, { action: 'dismiss' }), 'forbidden', 403);
      const decided = await admin.client.decideReview(review.id, { action: 'dismiss', note: 'consensual, her own photo' });
      assert.equal(decided.review.outcome, 'dismiss');
      await rejectsWith(admin.client.decideReview(review.id, { action: 'takedown' }), 'conflict', 409);
      await eventually('the message is delivered once released', () => findEvent(bobSees.events, 'message.created', (d) => d.id === sent.id));
      assert.equal((await bob.client.media(id)).status, 'ready');
      assert.equal((await mod.client.audit({ action: 'hold.released' })).entries[0]?.subject_id, id);
    } finally {
      bobSees.close();
    }
  });

  test('a blur bank delivers behind a warning, and a growing bank flags what is already shared', { skip: noData }, async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const early = await smallPhoto('Garden.jpg');
    const earlyItem = await uploadAndWait(alice.client, early);
    const earlyMessage = await alice.client.send(chat.id, { media: [earlyItem.id] });
    assert.equal(earlyMessage.media[0]?.blurred, undefined);
    const bobSees = await follow(bob);
    try {
      const bank = await mod.client.createBank({ name: 'Graphic', category: 'other', action: 'blur' });
      // A pasted hash (as from a partner), not a file: whole-picture matching with rotations.
      const { pdq } = await browserHashes(early);
      const added = await mod.client.addSignals(bank.id, [{ type: 'pdq', value: pdq, label: 'garden' }]);
      const sweep = await jobResult(server, added.sweep_job_id);
      assert.equal(sweep.blurred, 1);
      const flagged = await eventually('bob is told to blur it', () => findEvent(bobSees.events, 'message.media_flagged', (d) => d.message_id === earlyMessage.id));
      assert.equal((flagged.data as { media_id: string }).media_id, earlyItem.id);
      assert.equal((await bob.client.message(earlyMessage.id)).media[0]?.blurred, true);

      const later = await uploadAndWait(alice.client, await smallPhoto('Garden.jpg', 500));
      assert.equal(later.status, 'ready');
      assert.equal(later.blurred, true);
      const message = await alice.client.send(chat.id, { media: [later.id] });
      assert.equal(message.media[0]?.blurred, true, 'recipients get the flag with the message');
    } finally {
      bobSees.close();
    }
  });

  test('a hold bank that grows queues what is already shared; an exact-hash block refuses any file kind', async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const doc = Buffer.from(`confidential notes, leaked ${Date.now()}\n`);
    const item = await uploadAndWait(alice.client, doc, 'leak.txt');
    assert.equal(item.status, 'ready', item.reason ?? '');
    const message = await alice.client.send(chat.id, { media: [item.id] });
    const hold = await mod.client.createBank({ name: 'Docs to look at', category: 'other', action: 'hold' });
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(doc).digest('hex');
    const added = await mod.client.addSignals(hold.id, [{ type: 'sha256', value: sha256 }]);
    assert.equal((await jobResult(server, added.sweep_job_id)).held, 1);
    const review = (await mod.client.reviews()).reviews.find((r) => r.media[0]?.id === item.id);
    assert.ok(review, 'queued for review');
    assert.equal(review.media[0]?.preview, null, 'documents have no preview');
    assert.equal((await bob.client.message(message.id)).deleted, false, 'a hold leaves delivered content up until decided');

    const block = await mod.client.createBank({ name: 'Docs', category: 'spam', action: 'block' });
    const blocking = await mod.client.addSignals(block.id, [{ type: 'md5', value: createHash('md5').update(doc).digest('hex') }]);
    assert.equal((await jobResult(server, blocking.sweep_job_id)).removed, 1, 'the block bank removes the copy already shared');
    assert.equal((await bob.client.message(message.id)).deleted, true);
    const again = await uploadAndWait(bob.client, doc, 'again.txt');
    assert.equal(again.status, 'failed');
    assert.equal(again.reason_code, 'blocked');
  });
});
