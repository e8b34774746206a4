/**
 * The trust-and-safety path that matters most, through the SDK with live streams open: a real
 * photo shared in a direct chat, a group and a channel (as an upload, a forward, an exact copy and
 * a re-encoded near-duplicate) is reported, taken down, and disappears for every connected client
 * and from history; its URLs die; edited re-uploads are refused. And the StopNCII model: hashes
 * alone, computed as a browser would, hold copies for a moderator; a confirmed case removes them
 * and blocks the photo and crops.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Message } from '@mmd/sdk';
import sharp from 'sharp';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';
import { browserHashes, crop, findEvent, follow, greyscale, jobResult, moreContrast, noData, photo, reencode, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

onEachDatabase('safety: takedown everywhere', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  let dave: User;
  let mod: User;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice, bob, carol, dave, mod] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), server.signUp(), signUpModerator(server)]);
  });
  after(() => server.close());

  test('a reported photo is taken down from a direct chat, a group and a channel, live and for good', { skip: noData }, async () => {
    const original = photo('GreenMeadow.jpg');
    const streams = { bob: await follow(bob), carol: await follow(carol), dave: await follow(dave), alice: await follow(alice) };
    try {
      const direct = await alice.client.openDirect(bob.handle);
      const group = await alice.client.createConversation({ kind: 'group', title: 'friends', members: [bob.handle, carol.handle] });
      const channel = await alice.client.createConversation({ kind: 'channel', title: 'news', handle: uniqueHandle('news') });
      await dave.client.join(channel.id);

      const item = await uploadAndWait(alice.client, original);
      assert.equal(item.status, 'ready', item.reason ?? '');
      const url = item.renditions['preview.jpg']!.url;
      const renditionKeys = Object.values(JSON.parse((await server.db.db.selectFrom('media').select('renditions').where('id', '=', item.id).executeTakeFirstOrThrow()).renditions) as Record<string, { key: string }>).map((r) => r.key);
      assert.ok(renditionKeys.length >= 6 && (await server.services.blobs.exists(renditionKeys[0]!)));
      assert.equal((await alice.client.fetchFile(url)).status, 200);
      const copy = await uploadAndWait(alice.client, original, 'again.jpg');
      const nearDuplicate = await uploadAndWait(alice.client, await reencode(original, 55), 'smaller.jpg');
      assert.equal(nearDuplicate.status, 'ready');

      const inDirect = await alice.client.send(direct.id, { text: 'look', media: [item.id] });
      const forwarded = await alice.client.send(group.id, { forward_of: inDirect.id });
      const nearInGroup = await alice.client.send(group.id, { media: [nearDuplicate.id] });
      const inChannel = await alice.client.send(channel.id, { text: 'for everyone', media: [copy.id] });
      const delivered = (s: { events: { type: string; data: unknown }[] }, m: Message) => () => findEvent(s.events as never, 'message.created', (d) => d.id === m.id);
      await eventually('bob has the photo', delivered(streams.bob, inDirect));
      await eventually('carol has both group messages', () => delivered(streams.carol, forwarded)() && delivered(streams.carol, nearInGroup)());
      await eventually('dave has the channel post', delivered(streams.dave, inChannel));

      const report = await carol.client.report({ message_id: forwarded.id, reason: 'ncii', note: 'this is me, I did not agree to this' });
      assert.equal(report.status, 'open');
      const queue = await mod.client.reviews();
      const review = queue.reviews.find((r) => r.message?.id === forwarded.id);
      assert.ok(review, 'the report is in the review queue');
      assert.equal(review.kind, 'report');
      assert.deepEqual(review.notes, ['this is me, I did not agree to this']);
      assert.equal(review.media[0]?.id, item.id);
      const blurred = await mod.client.reviewPreview(review.id, item.id);
      const real = await mod.client.revealMedia(review.id, item.id);
      // The blurred preview keeps almost nothing: compare each with the real preview at 32×32.
      const tiny = (b: Uint8Array) => sharp(b).resize(32, 32, { fit: 'fill' }).greyscale().raw().toBuffer();
      const [b32, r32] = await Promise.all([tiny(blurred), tiny(real)]);
      const edges = (p: Buffer) => p.reduce((s, v, i) => (i % 32 ? s + Math.abs(v - p[i - 1]!) : s), 0);
      assert.ok(edges(b32) * 3 < edges(r32), `the default preview is strongly blurred (${edges(b32)} vs ${edges(r32)})`);
      const reveals = await mod.client.audit({ action: 'media.revealed', actor: mod.accountId });
      assert.equal(reveals.entries[0]?.subject_id, item.id, 'the reveal is audited');

      const decided = await mod.client.decideReview(review.id, { action: 'takedown', note: 'non-consensual intimate image' });
      const takedown = decided.takedown!;
      assert.equal(decided.review.status, 'closed');
      assert.equal(decided.review.outcome, 'takedown');
      assert.deepEqual(new Set(takedown.copies.map((c) => c.media_id)), new Set([item.id, copy.id, nearDuplicate.id]));
      assert.equal(takedown.copies.find((c) => c.media_id === nearDuplicate.id)?.rule, 'pdq', 'the re-encoded copy is a near-duplicate, not the same bytes');
      assert.equal(takedown.messages_removed, 4);
      assert.equal(takedown.conversations, 3);
      assert.ok(takedown.duration_ms > 0 && takedown.duration_ms < 10_000, `measured ${takedown.duration_ms} ms`);
      assert.ok(takedown.signals_added >= 3, 'sha256, md5 and pdq banked');

      // Live, without a reload: every connected member sees each message go.
      const deleted = (s: { events: unknown[] }, m: Message) => () => findEvent(s.events as never, 'message.deleted', (d) => d.id === m.id);
      await eventually('bob sees the direct message go', deleted(streams.bob, inDirect));
      await eventually('bob and carol see both group messages go', () => deleted(streams.bob, forwarded)() && deleted(streams.carol, forwarded)() && deleted(streams.carol, nearInGroup)());
      await eventually('dave sees the channel post go', deleted(streams.dave, inChannel));
      const resolved = await eventually('carol hears the outcome', () => findEvent(streams.carol.events, 'report.resolved', (d) => d.report_id === report.id));
      assert.equal((resolved.data as { outcome: string }).outcome, 'removed');
      assert.ok(!findEvent(streams.bob.events, 'report.resolved', () => true), 'only the reporter hears about the report');

      // Gone from history too, and every URL is dead.
      for (const [client, conversation] of [[bob.client, direct.id], [carol.client, group.id], [dave.client, channel.id]] as const) {
        const history = await client.history(conversation);
        for (const m of history.messages.filter((x) => [inDirect.id, forwarded.id, nearInGroup.id, inChannel.id].includes(x.id))) {
          assert.ok(m.deleted && m.media.length === 0 && m.text === null, `${m.id} gone from history`);
        }
      }
      assert.equal((await alice.client.fetchFile(url)).status, 404, 'the signed URL stopped working');
      await rejectsWith(alice.client.media(item.id), 'not_found', 404);
      await rejectsWith(bob.client.media(copy.id), 'not_found', 404);
      const stored = await server.db.db.selectFrom('media').select(['status', 'renditions']).where('id', 'in', [item.id, copy.id, nearDuplicate.id]).execute();
      assert.ok(stored.every((s) => s.status === 'removed' && s.renditions === '{}'));
      for (const key of renditionKeys) assert.equal(await server.services.blobs.exists(key), false, `${key} deleted from storage`);

      // It cannot come back unseen: a 20% crop in greyscale, or with more contrast, is refused when
      // the centre of the picture matches, and held for a moderator when only anchored regions do
      // (weaker evidence: different pictures can share regions).
      for (const [what, edited] of [['cropped 20% and greyscale', await greyscale(await crop(original, 0.2))], ['cropped 20% with more contrast', await moreContrast(await crop(original, 0.2))]] as const) {
        const again = await uploadAndWait(bob.client, edited);
        const action = again.status === 'held' ? 'upload.held' : 'upload.blocked';
        const verdict = (await server.services.safety.audit({ action, limit: 10 })).entries.find((e) => e.subject_id === again.id);
        assert.ok(verdict, `${what}: stopped (${again.status})`);
        assert.equal(verdict.bank_id, takedown.bank_id);
        if (again.status === 'held') {
          assert.equal(verdict.detail.rule, 'pdq_crop', `${what}: held only on a crop match`);
        } else {
          assert.equal(again.status, 'failed', `${what}: refused`);
          assert.equal(again.reason_code, 'blocked');
          assert.equal(again.reason, "This file can't be shared on MMD", 'the reason names no bank');
          // Plain PDQ misses a 20% crop; MMD's centre hash is what caught it.
          assert.equal(verdict.detail.rule, 'pdq_centre');
        }
      }
      const audited = await mod.client.audit({ action: 'takedown' });
      assert.equal(audited.entries[0]?.detail.messages_removed, 4);
    } finally {
      for (const s of Object.values(streams)) s.close();
    }
  });

  test('hash-only protection holds copies for a moderator, and only a confirmed case removes them and blocks the photo and a crop', {
    skip: noData,
  }, async () => {
    const image = await smallPhoto('LadyBird.jpg', 1000);
    const chat = await alice.client.openDirect(carol.handle);
    const shared = await uploadAndWait(alice.client, image);
    const message = await alice.client.send(chat.id, { media: [shared.id] });
    const carolSees = await follow(carol);
    try {
      // The person hashes the photo on their own device; only hashes travel, with no account.
      const hashes = await browserHashes(image);
      const opened = await server.anonymous.protect({ images: [{ pdq: hashes.pdq, quality: hashes.quality, robust: hashes.robust }] });
      assert.match(opened.reference, /^P-[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
      assert.equal(opened.status, 'received');
      const audit = await server.db.db
        .selectFrom('safety_audit')
        .select('detail')
        .where('action', '=', 'protect.submitted')
        .where('subject_id', '=', opened.reference)
        .executeTakeFirstOrThrow();
      const done = await jobResult(
        server,
        (JSON.parse(audit.detail) as { sweep_job_id: string }).sweep_job_id,
      );
      // A claim anyone can make removes nothing: the shared copy goes to review and stays up.
      assert.equal(done.removed, 0);
      assert.equal(done.held, 1);
      const status = await server.anonymous.protectStatus(opened.reference);
      assert.equal(status.status, 'under_review');
      assert.deepEqual(
        Object.keys(status).sort(),
        ['reference', 'status', 'submitted_at', 'updated_at'],
        'the case shows its state and nothing else',
      );
      assert.equal(
        (await carol.client.history(chat.id)).messages.find((m) => m.id === message.id)?.deleted,
        false,
      );

      // A crop uploaded now is held, not delivered and not refused.
      const cropped = await uploadAndWait(bob.client, await crop(image, 0.2));
      assert.equal(cropped.status, 'held', 'a 20% crop is held for review');

      const decided = await mod.client.decideCase(opened.reference, {
        action: 'confirm',
        note: 'confirmed against the blurred previews',
      });
      assert.equal(decided.case.status, 'action_taken');
      assert.deepEqual(
        new Set(decided.takedown?.copies.map((c) => c.media_id)),
        new Set([shared.id, cropped.id]),
      );
      await eventually('the shared copy disappears live', () =>
        findEvent(carolSees.events, 'message.deleted', (d) => d.id === message.id),
      );
      assert.equal((await server.anonymous.protectStatus(opened.reference)).status, 'action_taken');

      // The moderator confirmed the photo and that very crop, so both files are banked as they are.
      for (const [what, bytes] of [['the photo', image], ['the 20% crop', await crop(image, 0.2)]] as const) {
        const again = await uploadAndWait(bob.client, bytes);
        assert.equal(again.status, 'failed', `${what} is blocked once the case is confirmed`);
        assert.equal(again.reason_code, 'blocked');
      }
      await rejectsWith(server.anonymous.protectStatus('P-0000-0000-0000-0000'), 'not_found', 404);
      await rejectsWith(server.anonymous.protect({ images: [{ pdq: hashes.pdq, quality: 20 }] }), 'validation_failed', 400);
    } finally {
      carolSees.close();
    }
  });
});
