/**
 * Re-hashing stored uploads (safety/rehash.ts): an upload an older build screened keeps the sets
 * that build made until the server re-hashes it from its file. A takedown of a photo must find an
 * earlier upload of a crop of it the way it finds a new one; with the older sets it cannot.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hammingDistance, pdqIntermediate, robustQueryHashes, robustReferenceHashes, type PixelImage } from '@mmd/phash';
import sharp from 'sharp';
import { decodeRobust, encodeRobust, readStoredRobust } from '../src/safety/hash-codec.ts';
import { createHasher } from '../src/safety/hasher.ts';
import { createSafetyIndexes, mediaIndexHashes } from '../src/safety/indexes.ts';
import { createMatcher } from '../src/safety/matcher.ts';
import { createRehash, imageHashParams } from '../src/safety/rehash.ts';
import { eventually, type TestServer, type User, onEachDatabase, startTestServer } from './harness.ts';
import { browserHashes, crop, noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

async function pixels(image: Buffer): Promise<PixelImage> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** Turns a stored upload's row into what an older build wrote: scheme-1 sets, no fingerprint. */
async function asOlderBuild(server: TestServer, mediaId: string, image: Buffer): Promise<{ id: number; query: string; reference: string }> {
  const p = await pixels(image);
  const it = pdqIntermediate(p);
  const query = JSON.stringify(encodeRobust(robustQueryHashes(p, it, { scheme: 1 })));
  const reference = JSON.stringify(encodeRobust(robustReferenceHashes(p, it, { scheme: 1 })));
  await server.db.db.updateTable('safety_media_hashes').set({ query, reference, hash_params: null }).where('media_id', '=', mediaId).execute();
  const row = await server.db.db.selectFrom('safety_media_hashes').select('id').where('media_id', '=', mediaId).executeTakeFirstOrThrow();
  // The server's index as a process started on that older build would have loaded it.
  await server.services.safety.indexes.replaceMedia(Number(row.id), { query, reference, vpdq: null });
  return { id: Number(row.id), query, reference };
}

const storedRow = (server: TestServer, mediaId: string) =>
  server.db.db.selectFrom('safety_media_hashes').select(['query', 'reference', 'hash_params', 'pdq']).where('media_id', '=', mediaId).executeTakeFirstOrThrow();

onEachDatabase('safety: re-hashing stored uploads', (dialect) => {
  let server: TestServer;
  let alice: User;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice] = await Promise.all([server.signUp(), signUpModerator(server)]);
  });
  after(() => server.close());

  test('an upload stored with an older build’s sets is re-hashed by the job the server queues at start; a takedown of the photo then finds the crop', { skip: noData, timeout: 120_000 }, async () => {
    const image = await smallPhoto('TwoWings.jpg', 900);
    const cropped = await crop(image, 0.25);
    const item = await uploadAndWait(alice.client, cropped, 'crop.jpg');
    assert.equal(item.status, 'ready');
    const fresh = await storedRow(server, item.id);
    assert.equal(fresh.hash_params, imageHashParams(), 'a new upload records the parameters its sets were made with');
    const older = await asOlderBuild(server, item.id, cropped);

    // What a takedown of the whole photo searches with (takedown.ts: the seed's reference set).
    const whole = await browserHashes(image);
    const seed = { images: [{ reference: decodeRobust(whole.robust), threshold: 31 }] };
    const matcher = createMatcher({ db: server.db, indexes: server.services.safety.indexes });
    assert.deepEqual([...(await matcher.findCopies(seed)).keys()], [], 'older sets: across schemes only whole pictures compare, and a crop has none in common');

    // A restart: start() sees a row made with other parameters and queues the job; the worker runs it.
    assert.equal(await server.services.safety.rehash.needed(), true);
    await server.services.safety.start();
    const row = await eventually('the row re-hashed', async () => {
      const r = await storedRow(server, item.id);
      return r.hash_params === imageHashParams() ? r : null;
    }, 60_000);
    assert.equal(readStoredRobust(row.query)?.scheme, 2);
    assert.equal(readStoredRobust(row.reference)?.scheme, 2);
    assert.equal(row.pdq, fresh.pdq, 'the plain hash stays the original’s (the original is gone; a rendition was hashed)');
    assert.equal(await server.services.safety.rehash.needed(), false);

    // This process's index holds the new sets at once (a hash only the new sets have is there)...
    const oldHashes = mediaIndexHashes({ ...older, vpdq: null });
    const onlyNew = mediaIndexHashes({ query: row.query, reference: row.reference, vpdq: null }).filter((h) => oldHashes.every((o) => hammingDistance(h, o) > 31));
    assert.ok(onlyNew.length > 0);
    assert.ok(server.services.safety.indexes.media.search(onlyNew, 0).has(older.id));
    // ...and a takedown's search finds the crop, here and through another process's fresh load.
    const found = await matcher.findCopies(seed);
    assert.deepEqual([...found.keys()], [item.id]);
    assert.equal(found.get(item.id), 'pdq_crop', 'found through anchored regions: queued for review by a takedown, not removed');
    const other = createSafetyIndexes(server.db);
    assert.deepEqual([...(await createMatcher({ db: server.db, indexes: other }).findCopies(seed)).keys()], [item.id]);
    other.close();

  });

  test('pages hand on to the next; an item whose files are gone, or taken down, is left as it is', { skip: noData, timeout: 120_000 }, async () => {
    const photos = ['Wood.jpg', 'Aqua.jpg', 'Dune.jpg'];
    const items = [];
    for (const name of photos) {
      const image = await smallPhoto(name, 500);
      const item = await uploadAndWait(alice.client, image, name);
      await asOlderBuild(server, item.id, image);
      items.push(item);
    }
    // The first item's files are gone (erased); the second was taken down.
    await server.services.blobs.deletePrefix(`media/${items[0]!.id}/`);
    const gone = await server.db.db.selectFrom('media').select('original_key').where('id', '=', items[0]!.id).executeTakeFirstOrThrow();
    await server.services.blobs.delete(gone.original_key);
    await server.db.db.updateTable('safety_media_hashes').set({ removed_at: Date.now() }).where('media_id', '=', items[1]!.id).execute();

    const queued: number[] = [];
    const hasher = createHasher({ maxPixels: 50_000_000, maxVideoSeconds: 60 });
    const rehash = createRehash({
      db: server.db,
      hasher,
      blobs: server.services.blobs,
      indexes: server.services.safety.indexes,
      enqueue: async (p) => void queued.push(p.afterId),
      log: { warn() {} },
      pageSize: 1,
    });
    const idOf = async (mediaId: string) => Number((await server.db.db.selectFrom('safety_media_hashes').select('id').where('media_id', '=', mediaId).executeTakeFirstOrThrow()).id);
    const firstId = await idOf(items[0]!.id);
    const thirdId = await idOf(items[2]!.id);
    const first = await rehash.run({ afterId: firstId - 1, run: 'test' });
    assert.deepEqual(first, { rehashed: 0, fromOriginal: 0, skipped: 1, next: firstId });
    assert.deepEqual(queued, [firstId], 'a full page queues the next');
    // The taken-down row is not a candidate at all: the next page is the third item; then nothing is left.
    const second = await rehash.run({ afterId: firstId, run: 'test' });
    assert.deepEqual(second, { rehashed: 1, fromOriginal: 0, skipped: 0, next: thirdId });
    const third = await rehash.run({ afterId: thirdId, run: 'test' });
    assert.deepEqual(third, { rehashed: 0, fromOriginal: 0, skipped: 0, next: null });
    assert.equal((await storedRow(server, items[0]!.id)).hash_params, null, 'no file: left unmarked');
    assert.equal((await storedRow(server, items[1]!.id)).hash_params, null, 'taken down: left alone');
    assert.equal((await storedRow(server, items[2]!.id)).hash_params, imageHashParams());
  });

  test('the original is hashed while its blob is stored; an item taken down while it is hashed is not written back', { skip: noData, timeout: 120_000 }, async () => {
    const image = await smallPhoto('LadyBird.jpg', 700);
    const kept = await uploadAndWait(alice.client, image, 'kept.jpg');
    const fresh = await storedRow(server, kept.id);
    await asOlderBuild(server, kept.id, image);
    // The original is dropped after processing by default; an operator who keeps originals has it.
    const media = await server.db.db.selectFrom('media').select('original_key').where('id', '=', kept.id).executeTakeFirstOrThrow();
    assert.equal(await server.services.blobs.exists(media.original_key), false);
    await server.services.blobs.put(media.original_key, image, { contentType: 'image/jpeg' });
    await server.db.db.updateTable('safety_media_hashes').set({ pdq: '0'.repeat(64) }).where('media_id', '=', kept.id).execute();

    const hasher = createHasher({ maxPixels: 50_000_000, maxVideoSeconds: 60 });
    const rehashOf = (hashFile: typeof hasher.hashFile) =>
      createRehash({ db: server.db, hasher: { hashFile }, blobs: server.services.blobs, indexes: server.services.safety.indexes, enqueue: async () => {}, log: { warn() {} }, pageSize: 100 });
    const id = Number((await server.db.db.selectFrom('safety_media_hashes').select('id').where('media_id', '=', kept.id).executeTakeFirstOrThrow()).id);
    const done = await rehashOf(hasher.hashFile).run({ afterId: id - 1, run: 'test' });
    assert.equal(done.fromOriginal, 1);
    assert.equal((await storedRow(server, kept.id)).pdq, fresh.pdq, 'from the original, the plain hash is written again');

    // Taken down while its file is being hashed: the row stays as the takedown left it, out of the index.
    const other = await uploadAndWait(alice.client, await smallPhoto('Garden.jpg', 600), 'garden.jpg');
    const older = await asOlderBuild(server, other.id, await smallPhoto('Garden.jpg', 600));
    const removedWhileHashing = rehashOf(async (file, known) => {
      await server.services.safety.takedowns.run(null, { mediaIds: [other.id], reason: 'test' });
      return hasher.hashFile(file, known);
    });
    const raced = await removedWhileHashing.run({ afterId: older.id - 1, run: 'test' });
    assert.equal(raced.rehashed, 0);
    assert.equal(raced.skipped, 1);
    const row = await storedRow(server, other.id);
    assert.equal(row.hash_params, null, 'not written back');
    assert.equal(server.services.safety.indexes.media.search(mediaIndexHashes({ query: row.query, reference: row.reference, vpdq: null }), 0).has(older.id), false);
  });

  test('a walk is named by the parameters and the day it starts: processes starting the same day share it, the next day walks again', async () => {
    const jobs = async () => (await server.db.db.selectFrom('jobs').select('payload').where('type', '=', 'safety-rehash').execute()).length;
    const before = await jobs();
    const day = Date.UTC(2030, 0, 7, 9);
    await server.services.safety.rehash.enqueueFirst(day);
    assert.equal(await jobs(), before + 1);
    await server.services.safety.rehash.enqueueFirst(day + 3 * 3600_000);
    assert.equal(await jobs(), before + 1, 'the same day: the same walk, queued once');
    await server.services.safety.rehash.enqueueFirst(day + 24 * 3600_000);
    assert.equal(await jobs(), before + 2, 'the next day: a new walk, which looks again at what the last one skipped');
  });
});
