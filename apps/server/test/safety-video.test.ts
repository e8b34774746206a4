/**
 * MMD's robust video signature in the server (issue 12, part 1): plain vPDQ misses a mirrored, a
 * letterboxed or a cropped copy of a banned video; the robust signature stored beside it catches
 * them at upload (before any transcode), in takedowns (every stored copy), in bank files (exported
 * and imported with the signal) and in near-duplicate clusters (a mirrored re-upload joins the
 * cluster of the original, so spread counting is not reset).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { locateBinaries } from '@mmd/media';
import { VIDEO_SIGNATURES_COMPARED } from '../src/safety/clusters.ts';
import { VIDEO_CANDIDATES_VERIFIED } from '../src/safety/matcher.ts';
import { type TestServer, type User, onEachDatabase, startTestServer } from './harness.ts';
import { DATA, noData, signUpModerator, uploadAndWait } from './safety-fixtures.ts';

const CITY = path.join(DATA, 'video', 'city-night.mpg');
const DOORKNOB = path.join(DATA, 'vpdq', 'videos', 'doorknob-hd-no-bar.mp4');

/** The city clip (real footage, 7.6 s) at 640×360 through a filter, as H.264. */
async function edit(dir: string, name: string, filter: string, input = CITY): Promise<Buffer> {
  const { ffmpeg } = await locateBinaries();
  const out = path.join(dir, `${name}.mp4`);
  await promisify(execFile)(ffmpeg, ['-v', 'error', '-i', input, '-an', '-vf', `scale=640:360,setsar=1,${filter}`, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-y', out]);
  return readFileSync(out);
}

onEachDatabase('safety: robust video matching', (dialect) => {
  let server: TestServer;
  let dir: string;
  let mod: User;
  const clips: Record<string, Buffer> = {};
  before(async () => {
    if (noData) return;
    dir = mkdtempSync(path.join(tmpdir(), 'mmd-video-robust-'));
    server = await startTestServer({ dialect });
    mod = await signUpModerator(server);
    clips.source = await edit(dir, 'source', 'null');
    clips.mirror = await edit(dir, 'mirror', 'hflip');
    clips.letterbox = await edit(dir, 'letterbox', 'pad=640:640:0:140:black');
    clips.crop = await edit(dir, 'crop', 'crop=512:288:96:20');
    clips.other = await edit(dir, 'other', 'null', DOORKNOB);
  });
  after(async () => {
    if (noData) return;
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a bank entry made from a file catches mirrored, letterboxed and cropped copies that vPDQ misses; another video passes', { skip: noData, timeout: 300_000 }, async () => {
    const bank = await mod.client.createBank({ name: 'Known videos', category: 'ncii', action: 'block' });
    const added = await mod.client.addSignalsFromFile(bank.id, clips.source!, { filename: 'known.mp4' });
    assert.ok(added.signals.some((s) => s.type === 'vpdq' && s.crop_resistant), 'the vPDQ signal carries the robust signature');

    // The checking endpoint names the route: not plain vPDQ for these edits.
    for (const name of ['mirror', 'letterbox', 'crop'] as const) {
      const check = await mod.client.matchFile(clips[name]!, { filename: `${name}.mp4` });
      const rules = check.matches.filter((m) => m.bank_id === bank.id).map((m) => m.rule);
      assert.equal(rules.length, 1, `${name}: found once (${JSON.stringify(rules)})`);
      assert.ok(rules[0] === 'video' || rules[0] === 'video_crop', `${name}: found by the robust signature, not vPDQ (${rules[0]})`);
    }
    const other = await mod.client.matchFile(clips.other!, { filename: 'other.mp4' });
    assert.deepEqual(other.matches.filter((m) => m.bank_id === bank.id), [], 'a different video matches nothing');

    // Uploads: a whole-picture match blocks before any transcode; a regions-only one is held.
    const uploader = await server.signUp();
    const mirrored = await uploadAndWait(uploader.client, clips.mirror!, 'mirror.mp4');
    assert.equal(mirrored.status, 'failed');
    assert.equal(mirrored.reason_code, 'blocked');
    const cropRule = (await mod.client.matchFile(clips.crop!, { filename: 'crop.mp4' })).matches.find((m) => m.bank_id === bank.id)?.rule;
    const cropped = await uploadAndWait(uploader.client, clips.crop!, 'crop.mp4');
    if (cropRule === 'video') {
      assert.equal(cropped.reason_code, 'blocked', 'a crop matched through whole frames is blocked');
    } else {
      assert.notEqual(cropped.status, 'ready', 'a crop matched only through regions is not delivered');
      const reviews = await mod.client.reviews({ status: 'open' });
      assert.ok(reviews.reviews.some((r) => r.kind === 'hold' && r.media.some((m) => m.id === cropped.id)), 'and waits for a moderator');
    }
    const fine = await uploadAndWait(uploader.client, clips.other!, 'other.mp4');
    assert.equal(fine.status, 'ready', 'another video is delivered');

    // The bank file keeps the signature: imported elsewhere, it still catches the mirror.
    const exported = await mod.client.exportBank(bank.id, 'json');
    assert.match(exported.body, /"video_signature":"/);
    const copy = await mod.client.createBank({ name: 'Imported videos', category: 'ncii', action: 'hold' });
    const imported = await mod.client.importBank(copy.id, new TextEncoder().encode(exported.body), 'json');
    assert.equal(imported.added, added.signals.length);
    const again = await mod.client.matchFile(clips.mirror!, { filename: 'mirror.mp4' });
    assert.ok(again.matches.some((m) => m.bank_id === copy.id && m.rule === 'video'), 'the imported signal matches the mirror by its signature');

    // A signature that is not one is refused with its place named.
    const broken = JSON.parse(exported.body) as { signals: Array<Record<string, unknown>> };
    for (const s of broken.signals) if (s.video_signature) s.video_signature = 'TVYBAAAA9999';
    await assert.rejects(
      mod.client.importBank(copy.id, new TextEncoder().encode(JSON.stringify(broken)), 'json'),
      (err: { status?: number; code?: string; message?: string }) => err.status === 400 && /video_signature/.test(JSON.stringify(err)),
    );
  });

  test(`screening compares at most ${VIDEO_CANDIDATES_VERIFIED} bank signatures by their robust signature (the nearest first), however many are near`, { skip: noData, timeout: 300_000 }, async () => {
    // 40 entries carrying the same robust signature as the source clip (vPDQ values differing only in
    // a timestamp, so they are distinct entries): each is a candidate for the mirrored copy, which
    // only the robust comparison finds. Each comparison can cost up to a second of a hashing thread,
    // so an upload compares a bounded number: the mirror is found through exactly that many.
    const source = await mod.client.createBank({ name: 'Signature source', category: 'ncii', action: 'hold' });
    await mod.client.addSignalsFromFile(source.id, clips.source!, { filename: 'source.mp4' });
    const file = JSON.parse((await mod.client.exportBank(source.id, 'json')).body) as { signals: Array<Record<string, unknown>> };
    const signed = file.signals.find((s) => s.type === 'vpdq' && s.video_signature);
    assert.ok(signed, 'the exported bank carries the robust signature');
    const frames = JSON.parse(String(signed.value)) as string[];
    const copies = Array.from({ length: 40 }, (_, i) => {
      const last = frames.at(-1)!.split(',');
      last[2] = (Number(last[2]) + (i + 1) / 1000).toFixed(3);
      return { ...signed, value: JSON.stringify([...frames.slice(0, -1), last.join(',')]) };
    });
    const many = await mod.client.createBank({ name: 'Many near', category: 'ncii', action: 'hold' });
    const imported = await mod.client.importBank(many.id, new TextEncoder().encode(JSON.stringify({ ...file, signals: copies })), 'json');
    assert.equal(imported.added, 40);
    const check = await mod.client.matchFile(clips.mirror!, { filename: 'mirror.mp4' });
    // Every bank here holds the same signature (this suite's earlier banks too, all equally near):
    // robust matches across all of them stop at the cap, and 40 alone would pass it.
    const robust = check.matches.filter((m) => m.rule === 'video' || m.rule === 'video_crop');
    assert.equal(robust.length, VIDEO_CANDIDATES_VERIFIED, `${robust.length} robust matches`);
    assert.equal(check.matches.length, robust.length, 'nothing else matched the mirror (vPDQ misses it)');
    assert.ok(robust.some((m) => m.bank_id === many.id));
  });

  test(`a video upload joins a cluster through at most ${VIDEO_SIGNATURES_COMPARED} robust comparisons with stored videos (the oldest first), however many are near`, { skip: noData, timeout: 600_000 }, async (t) => {
    // A server of its own: the clusters here depend on exactly which rows are stored.
    const fresh = await startTestServer({ dialect });
    t.after(() => fresh.close());
    const uploader = await fresh.signUp();
    const source = await uploadAndWait(uploader.client, clips.source!, 'source.mp4');
    const other = await uploadAndWait(uploader.client, clips.other!, 'other.mp4');
    assert.equal(source.status, 'ready');
    assert.equal(other.status, 'ready');
    const db = fresh.db.db;
    const hashRow = (mediaId: string) => db.selectFrom('safety_media_hashes').selectAll().where('media_id', '=', mediaId).executeTakeFirstOrThrow();
    const [sourceRow, otherRow] = [await hashRow(source.id), await hashRow(other.id)];
    assert.ok(sourceRow.video_signature && sourceRow.video_keys && otherRow.video_signature, 'both uploads stored their robust signatures');
    const mediaRow = await db.selectFrom('media').selectAll().where('id', '=', source.id).executeTakeFirstOrThrow();
    let stored = 0;
    /**
     * A stored video row (and its media item) with the source's vPDQ and index keys, so the index
     * proposes it for a mirrored copy as near as the source itself, and a given robust signature:
     * the source's (a real copy, which verifies) or another video's (a decoy: it costs a
     * comparison and never verifies).
     */
    const store = async (signature: string) => {
      const mediaId = `med_capcopy${++stored}`;
      await db.insertInto('media').values({ ...mediaRow, id: mediaId }).execute();
      const row = await db
        .insertInto('safety_media_hashes')
        .values({ media_id: mediaId, kind: 'video', sha256: randomBytes(32).toString('hex'), md5: randomBytes(16).toString('hex'), pdq: null, quality: null, query: null, reference: null, vpdq: sourceRow.vpdq, video_signature: signature, video_keys: sourceRow.video_keys, removed_at: null, created_at: Date.now() })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    };
    const remove = (ids: number[]) => db.updateTable('safety_media_hashes').set({ removed_at: Date.now() }).where('id', 'in', ids).execute();
    const clusterOf = async (mediaId: string) => (await fresh.services.safety.clustersOf([mediaId])).get(mediaId);
    // The source itself would be compared first (the oldest): out of the way, as after a takedown
    // (and the other video, lest the index propose it too).
    await remove([Number(sourceRow.id), Number(otherRow.id)]);

    // One comparison short of the cap: 15 decoys, then a real copy, which is the 16th compared.
    const decoys: number[] = [];
    for (let i = 0; i < VIDEO_SIGNATURES_COMPARED - 1; i++) decoys.push(await store(otherRow.video_signature!));
    const copyBelow = await store(sourceRow.video_signature!);
    const mirrorBelow = await uploadAndWait(uploader.client, clips.mirror!, 'mirror.mp4');
    assert.equal(await clusterOf(mirrorBelow.id), copyBelow, `the mirror joined the copy compared ${VIDEO_SIGNATURES_COMPARED}th (vPDQ misses it, the robust signature finds it)`);

    // At the cap: one more decoy, older than a new real copy. The copy is never compared, so a
    // mirrored upload starts its own cluster instead of costing more comparisons.
    await remove([copyBelow, Number((await hashRow(mirrorBelow.id)).id)]);
    decoys.push(await store(otherRow.video_signature!));
    const copyPast = await store(sourceRow.video_signature!);
    const mirrorAgain = await edit(dir, 'mirror-again', 'hflip,eq=brightness=0.02');
    const mirrorPast = await uploadAndWait(uploader.client, mirrorAgain, 'mirror-again.mp4');
    assert.equal(mirrorPast.status, 'ready');
    const ownRow = Number((await hashRow(mirrorPast.id)).id);
    assert.equal(await clusterOf(mirrorPast.id), ownRow, `past ${VIDEO_SIGNATURES_COMPARED} comparisons the copy behind the decoys is not compared: the upload has its own cluster`);
    assert.notEqual(ownRow, copyPast);
    // The same copy is still found when it is within the first comparisons: a mirrored upload after
    // the decoys are gone joins it (so the miss above was the cap, not the copy).
    await remove(decoys);
    const mirrorLast = await uploadAndWait(uploader.client, await edit(dir, 'mirror-last', 'hflip,eq=brightness=0.04'), 'mirror-last.mp4');
    assert.equal(await clusterOf(mirrorLast.id), copyPast, 'with the decoys gone, the same copy is found');
  });

  test('a video ffmpeg cannot read gets a clear outcome: the upload ends as not ready, the check endpoint answers 4xx with a code', { skip: noData, timeout: 300_000 }, async () => {
    // The MP4's first third: it still sniffs as MP4 (ftyp box first), but its index (written at
    // the end) is gone, so ffprobe and ffmpeg cannot read a frame.
    const truncated = clips.source!.subarray(0, Math.floor(clips.source!.length / 3));
    const user = await server.signUp();
    const item = await uploadAndWait(user.client, truncated, 'truncated.mp4');
    assert.notEqual(item.status, 'ready', 'no rendition of an unreadable file');
    await assert.rejects(mod.client.matchFile(truncated, { filename: 'truncated.mp4' }), (err: { status?: number; code?: string }) => {
      assert.ok(err.status !== undefined && err.status >= 400 && err.status < 500, `a client error, not ${err.status}`);
      assert.ok(err.code, 'with a stable code');
      return true;
    });
  });

  test('a takedown of a video removes its letterboxed and mirrored copies and blocks the next one; mirrored and letterboxed re-uploads join its cluster', { skip: noData, timeout: 300_000 }, async (t) => {
    // A server of its own: the first test banked the source.
    const fresh = await startTestServer({ dialect });
    t.after(() => fresh.close());
    const moderator = await signUpModerator(fresh);
    const [a, b] = await Promise.all([fresh.signUp(), fresh.signUp()]);
    const original = await uploadAndWait(a.client, clips.source!, 'original.mp4');
    assert.equal(original.status, 'ready');
    const mirrored = await uploadAndWait(b.client, clips.mirror!, 'mirrored.mp4');
    const boxed = await uploadAndWait(b.client, clips.letterbox!, 'boxed.mp4');
    const other = await uploadAndWait(b.client, clips.other!, 'other.mp4');
    for (const m of [mirrored, boxed, other]) assert.equal(m.status, 'ready', 'no bank holds them yet');

    const clusters = await fresh.services.safety.clustersOf([original.id, mirrored.id, boxed.id, other.id]);
    assert.equal(clusters.get(mirrored.id), clusters.get(original.id), 'the mirrored re-upload joined the original’s cluster');
    assert.equal(clusters.get(boxed.id), clusters.get(original.id), 'so did the letterboxed one');
    assert.notEqual(clusters.get(other.id), clusters.get(original.id), 'another video did not');

    const takedown = await moderator.client.takedown({ media_id: original.id, reason: 'leaked video' });
    const rules = new Map(takedown.copies.map((c) => [c.media_id, c.rule]));
    assert.ok(['video', 'video_crop'].includes(rules.get(boxed.id) ?? ''), `the letterboxed copy was found by its signature (${rules.get(boxed.id)})`);
    // Stored signatures keep their rotation variants, so a mirrored stored copy is found too.
    assert.equal(rules.get(mirrored.id), 'video', 'the mirrored copy was found and removed');
    // The bank entry the takedown made catches the next mirrored upload at screening.
    const again = await uploadAndWait(a.client, clips.mirror!, 'mirrored-again.mp4');
    assert.equal(again.reason_code, 'blocked');
    assert.ok(!rules.has(other.id), 'another video was not touched');
    if (rules.get(boxed.id) === 'video') {
      const boxedAfter = await b.client.media(boxed.id).then((m) => m.status, (err: { status?: number }) => err.status);
      assert.notEqual(boxedAfter, 'ready', 'and removed');
    }
  });
});
