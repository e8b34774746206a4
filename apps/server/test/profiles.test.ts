/**
 * Profiles through the API, on each database: display name and about line (limits, Unicode,
 * no control characters), the profile photo (square sizes, metadata stripped, signed per viewer,
 * its privacy setting re-checked on every fetch), people search (prefix, capped, rate-limited,
 * blockers hidden) and profile.updated reaching the people one chats with.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type BlobStore, createBlobStore } from '../src/platform/blobs/index.ts';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

/** A 600×400 JPEG carrying camera and GPS EXIF: left third red, the rest blue. */
async function gpsPhoto(): Promise<Buffer> {
  const red = await sharp({ create: { width: 200, height: 400, channels: 3, background: '#ff0000' } }).png().toBuffer();
  return sharp({ create: { width: 600, height: 400, channels: 3, background: '#0000ff' } })
    .composite([{ input: red, left: 0, top: 0 }])
    .jpeg()
    .withExif({ IFD0: { Make: 'SecretCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' } })
    .toBuffer();
}

async function fetchPhoto(server: TestServer, url: string, accept = 'image/webp') {
  return fetch(new URL(url, server.url), { headers: { accept } });
}

/** Raw HTTP with a token: for bodies the SDK would never send. */
function call(server: TestServer, token: string | null, method: string, path: string, body?: BodyInit, contentType?: string) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (contentType) headers['content-type'] = contentType;
  return fetch(`${server.url}${path}`, { method, headers, body });
}

/** `a` opens a direct chat with `b` and writes in it: `b` is now `a`'s contact. */
async function chat(a: User, b: User) {
  const conversation = await a.client.openDirect(b.handle);
  await a.client.send(conversation.id, { text: 'hello' });
  return conversation;
}

onEachDatabase('profiles', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { profilePhotoChangesPerHour: 4, profileEditsPerHour: 12, peopleSearchRateLimit: 6, profilePhotoMaxBytes: 200_000 } });
  });
  after(() => server.close());

  describe('display name and about', () => {
    it('stores a trimmed, NFC-normalised name and about line that others read; null clears', async () => {
      const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
      const updated = await alice.client.profiles.update({ display_name: '  Jose\u0301   Nu\u0301n\u0303ez 👩‍💻 ', about: 'Out hiking 🏔️' });
      assert.equal(updated.display_name, 'José Núñez 👩‍💻');
      assert.equal(updated.display_name, updated.display_name?.normalize('NFC'));
      assert.equal(updated.about, 'Out hiking 🏔️');
      assert.equal(updated.handle, alice.handle);
      assert.deepEqual(await alice.client.profiles.mine(), updated);
      const seen = await bob.client.profiles.byHandle(alice.handle);
      assert.equal(seen.display_name, 'José Núñez 👩‍💻');
      assert.equal(seen.about, 'Out hiking 🏔️');
      // A field left out keeps its value; null and "" clear.
      assert.equal((await alice.client.profiles.update({ about: null })).display_name, 'José Núñez 👩‍💻');
      const cleared = await alice.client.profiles.update({ display_name: '   ' });
      assert.equal(cleared.display_name, null);
      assert.equal(cleared.about, null);
    });

    it('refuses names that are too long, carry control characters or direction overrides', async () => {
      const carol = await server.signUp();
      // 64 code points is the limit, counted as characters (an emoji is one), not UTF-16 units.
      assert.equal((await carol.client.profiles.update({ display_name: '😀'.repeat(64) })).display_name, '😀'.repeat(64));
      await rejectsWith(carol.client.profiles.update({ display_name: 'a'.repeat(65) }), 'validation_failed', 400);
      await rejectsWith(carol.client.profiles.update({ about: 'b'.repeat(141) }), 'validation_failed', 400);
      await rejectsWith(carol.client.profiles.update({ display_name: 'bell\u0007' }), 'validation_failed', 400);
      await rejectsWith(carol.client.profiles.update({ display_name: 'line\nbreak' }), 'validation_failed', 400);
      await rejectsWith(carol.client.profiles.update({ display_name: 'evil\u202Egnp.exe' }), 'validation_failed', 400);
      await rejectsWith(carol.client.profiles.update({ handle: 'x' } as never), 'validation_failed', 400);
      // Nothing changed.
      assert.equal((await carol.client.profiles.mine()).display_name, '😀'.repeat(64));
    });

    it('allows a limited number of changes an hour (429 with Retry-After past it)', async () => {
      const eve = await server.signUp();
      for (let i = 0; i < 12; i++) await eve.client.profiles.update({ about: `take ${i}` });
      await rejectsWith(eve.client.profiles.update({ about: 'one more' }), 'rate_limited', 429);
      assert.equal((await eve.client.profiles.mine()).about, 'take 11');
    });

    it('refuses strangers (401), bot-less API keys where a person is needed (403) and unknown people (404)', async () => {
      await rejectsWith(server.anonymous.profiles.mine(), 'unauthenticated', 401);
      await rejectsWith(server.anonymous.profiles.update({ display_name: 'x' }), 'unauthenticated', 401);
      await rejectsWith(server.anonymous.profiles.byHandle('nobodyhere'), 'unauthenticated', 401);
      await rejectsWith(server.anonymous.profiles.search('abc'), 'unauthenticated', 401);
      const biz = await server.signUp(uniqueHandle('biz'), { kind: 'business' });
      const { key } = await biz.client.createApiKey({ name: 'reader', scopes: ['messages:read'] });
      const keyed = server.anonymous.as(key);
      // An API key may read profiles of people it talks to, not change the profile or search the directory.
      assert.equal((await keyed.profiles.byHandle(biz.handle)).handle, biz.handle);
      await rejectsWith(keyed.profiles.update({ display_name: 'x' }), 'insufficient_scope', 403);
      await rejectsWith(keyed.profiles.search('abc'), 'insufficient_scope', 403);
      const dave = await server.signUp();
      await rejectsWith(dave.client.profiles.byHandle('nobody_by_this_name'), 'not_found', 404);
      await rejectsWith(dave.client.profiles.byIds(Array.from({ length: 101 }, (_, i) => `acc_${i}`)), 'validation_failed', 400);
      assert.deepEqual(await dave.client.profiles.byIds(['acc_unknown', dave.accountId]).then((p) => p.map((x) => x.account_id)), [dave.accountId]);
    });
  });

  describe('profile photo', () => {
    it('is cropped square in three sizes, stripped of EXIF and GPS, with a placeholder; others load it', async () => {
      const [erin, frank] = await Promise.all([server.signUp(), server.signUp()]);
      const profile = await erin.client.profiles.setPhoto(await gpsPhoto(), 'image/jpeg');
      assert.ok(profile.photo);
      assert.match(profile.photo.placeholder, /^data:image\/webp;base64,/);
      assert.match(profile.photo.average_color, /^#[0-9a-f]{6}$/);
      const seen = await frank.client.profiles.byHandle(erin.handle);
      assert.equal(seen.photo?.id, profile.photo.id);
      for (const [size, side] of [['small', 96], ['medium', 320], ['large', 400]] as const) {
        const response = await fetchPhoto(server, seen.photo!.urls[size]);
        assert.equal(response.status, 200, size);
        assert.equal(response.headers.get('content-type'), 'image/webp');
        const bytes = Buffer.from(await response.arrayBuffer());
        const meta = await sharp(bytes).metadata();
        // The large size keeps the short side (400), never enlarged to 640.
        assert.deepEqual([meta.width, meta.height], [side, side], size);
        assert.equal(meta.exif, undefined);
        assert.ok(!bytes.includes(Buffer.from('SecretCam')));
      }
      // A JPEG for clients without WebP; the centred square starts inside the red third.
      const jpeg = Buffer.from(await (await fetchPhoto(server, seen.photo!.urls.large, 'image/jpeg')).arrayBuffer());
      const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.width, 400);
      const px = (x: number) => [...data.subarray((200 * info.width + x) * 3, (200 * info.width + x) * 3 + 3)];
      assert.ok(px(5)[0]! > 200, `left edge red: ${px(5)}`);
      assert.ok(px(390)[2]! > 200, `right edge blue: ${px(390)}`);
      // A URL signed for Frank is refused with a tampered viewer or signature.
      const tampered = seen.photo!.urls.small.replace(frank.accountId, erin.accountId);
      assert.equal((await fetchPhoto(server, tampered)).status, 403);
    });

    it('replacing or removing the photo ends its old links; removing twice is 404', async () => {
      const [gina, hal] = await Promise.all([server.signUp(), server.signUp()]);
      const first = await gina.client.profiles.setPhoto(await gpsPhoto(), 'image/jpeg');
      const oldUrl = (await hal.client.profiles.byHandle(gina.handle)).photo!.urls.medium;
      const second = await gina.client.profiles.setPhoto(await sharp({ create: { width: 100, height: 300, channels: 3, background: '#00ff00' } }).png().toBuffer(), 'image/png');
      assert.notEqual(second.photo!.id, first.photo!.id);
      assert.equal((await fetchPhoto(server, oldUrl)).status, 404);
      const newUrl = (await hal.client.profiles.byHandle(gina.handle)).photo!.urls.medium;
      assert.equal((await fetchPhoto(server, newUrl)).status, 200);
      await gina.client.profiles.removePhoto();
      assert.equal((await gina.client.profiles.mine()).photo, null);
      assert.equal((await fetchPhoto(server, newUrl)).status, 404);
      await rejectsWith(gina.client.profiles.removePhoto(), 'not_found', 404);
      await rejectsWith(server.anonymous.profiles.removePhoto(), 'unauthenticated', 401);
    });

    it('refuses what is not an image (422), a JSON body (415), too many bytes (413) and too many changes (429)', async () => {
      const ivy = await server.signUp();
      await rejectsWith(ivy.client.profiles.setPhoto(new TextEncoder().encode('<svg onload=alert(1)></svg>'), 'image/svg+xml'), 'invalid_image', 422);
      await rejectsWith(ivy.client.profiles.setPhoto(new Uint8Array(0), 'image/png'), 'invalid_image', 422);
      const json = await call(server, ivy.token, 'PUT', '/v1/profile/photo', JSON.stringify({ url: 'http://x' }), 'application/json');
      assert.equal(json.status, 415);
      const big = await call(server, ivy.token, 'PUT', '/v1/profile/photo', new Uint8Array(300_000), 'image/jpeg');
      assert.equal(big.status, 413);
      assert.equal((await call(server, null, 'PUT', '/v1/profile/photo', new Uint8Array(await gpsPhoto()), 'image/jpeg')).status, 401);
      assert.equal((await ivy.client.profiles.mine()).photo, null);
      // Four tries an hour in this server's config, the refused SVG included (it cost a decode
      // attempt); the fifth is refused with Retry-After.
      const small = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#123456' } }).png().toBuffer();
      for (let i = 0; i < 3; i++) await ivy.client.profiles.setPhoto(small, 'image/png');
      const refused = await call(server, ivy.token, 'PUT', '/v1/profile/photo', new Uint8Array(small), 'image/png');
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
    });

    it('follows the photo setting: contacts only, nobody, and never to someone blocked', async () => {
      const [jo, contact, stranger] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
      await chat(jo, contact);
      await jo.client.profiles.setPhoto(await gpsPhoto(), 'image/jpeg');
      const contactUrl = (await contact.client.profiles.byHandle(jo.handle)).photo!.urls.small;
      const strangerUrl = (await stranger.client.profiles.byHandle(jo.handle)).photo!.urls.small;
      await jo.client.setPrivacy({ photo: 'contacts' });
      assert.ok((await contact.client.profiles.byHandle(jo.handle)).photo);
      assert.equal((await stranger.client.profiles.byHandle(jo.handle)).photo, null);
      // A link signed before the change stops working at once for whoever lost access.
      assert.equal((await fetchPhoto(server, strangerUrl)).status, 404);
      assert.equal((await fetchPhoto(server, contactUrl)).status, 200);
      await jo.client.setPrivacy({ photo: 'nobody' });
      assert.equal((await contact.client.profiles.byHandle(jo.handle)).photo, null);
      assert.equal((await fetchPhoto(server, contactUrl)).status, 404);
      assert.ok((await jo.client.profiles.mine()).photo, 'one always sees one own photo');
      await jo.client.setPrivacy({ photo: 'everyone' });
      await jo.client.block(stranger.handle);
      assert.equal((await stranger.client.profiles.byHandle(jo.handle)).photo, null);
      assert.ok((await contact.client.profiles.byHandle(jo.handle)).photo);
    });
  });

  it('a stranger who opens a direct chat, or writes in it, is no contact: a contacts-only photo and "find me" stay hidden until the owner writes back', async () => {
    const stem = `ct${process.pid}${dialect === 'sqlite' ? 's' : 'p'}`;
    const [owner, stranger] = await Promise.all([server.signUp(`${stem}_own`), server.signUp()]);
    await owner.client.profiles.setPhoto(await gpsPhoto(), 'image/jpeg');
    await owner.client.setPrivacy({ photo: 'contacts', find_me: 'contacts' });
    // The stranger knows the handle, opens a chat and writes: nothing the owner keeps for contacts.
    await chat(stranger, owner);
    assert.equal((await stranger.client.profiles.byHandle(owner.handle)).photo, null);
    assert.deepEqual(await stranger.client.profiles.search(`${stem}_o`), []);
    // The owner writes back: now the stranger is a contact.
    await chat(owner, stranger);
    assert.ok((await stranger.client.profiles.byHandle(owner.handle)).photo);
    assert.deepEqual((await stranger.client.profiles.search(`${stem}_o`)).map((p) => p.handle), [owner.handle]);
  });

  describe('people search', () => {
    it('finds by handle prefix and by a word of the display name, accents folded', async () => {
      const stem = `zq${process.pid}${dialect === 'sqlite' ? 's' : 'p'}`;
      const [searcher, target, other] = await Promise.all([server.signUp(), server.signUp(uniqueHandle(`${stem}han`)), server.signUp()]);
      await other.client.profiles.update({ display_name: `Renée ${stem}Ñame` });
      const byHandle = await searcher.client.profiles.search(`${stem}HAN`);
      assert.deepEqual(byHandle.map((p) => p.handle), [target.handle]);
      const byName = await searcher.client.profiles.search(`${stem}nam`);
      assert.deepEqual(byName.map((p) => p.account_id), [other.accountId]);
      assert.deepEqual((await searcher.client.profiles.search('renee')).filter((p) => p.account_id === other.accountId).length, 1);
      // Not a substring search: the middle of a word finds nothing.
      assert.deepEqual(await searcher.client.profiles.search(`${stem.slice(1)}nam`), []);
    });

    it('gives at most 10 results, refuses short or empty queries, hides those who blocked the searcher', async () => {
      const stem = `cap${process.pid}${dialect === 'sqlite' ? 's' : 'p'}`;
      const searcher = await server.signUp();
      const many = await Promise.all(Array.from({ length: 12 }, (_, i) => server.signUp(`${stem}_${i}`)));
      assert.equal((await searcher.client.profiles.search(stem)).length, 10);
      assert.equal((await searcher.client.profiles.search(stem, 3)).length, 3);
      await rejectsWith(searcher.client.profiles.search(stem, 11), 'validation_failed', 400);
      await rejectsWith(searcher.client.profiles.search('ab'), 'validation_failed', 400);
      await rejectsWith(searcher.client.profiles.search(''), 'validation_failed', 400);
      await rejectsWith(searcher.client.profiles.search('a\u0000b'), 'validation_failed', 400);
      await rejectsWith(searcher.client.profiles.search('...'), 'validation_failed', 400);
      await many[3]!.client.block(searcher.handle);
      const exact = await searcher.client.profiles.search(`${stem}_3`);
      assert.deepEqual(exact, []);
      assert.deepEqual((await searcher.client.profiles.search(`${stem}_4`)).map((p) => p.handle), [`${stem}_4`]);
    });

    it('follows "who can find me": contacts only, or nobody (an exact handle still opens a chat)', async () => {
      const stem = `fm${process.pid}${dialect === 'sqlite' ? 's' : 'p'}`;
      const [hidden, contact, stranger] = await Promise.all([server.signUp(`${stem}_hid`), server.signUp(), server.signUp()]);
      await chat(hidden, contact);
      await hidden.client.setPrivacy({ find_me: 'contacts' });
      assert.deepEqual((await contact.client.profiles.search(`${stem}_h`)).map((p) => p.handle), [hidden.handle]);
      assert.deepEqual(await stranger.client.profiles.search(`${stem}_h`), []);
      await hidden.client.setPrivacy({ find_me: 'nobody' });
      assert.deepEqual(await contact.client.profiles.search(`${stem}_h`), []);
      assert.deepEqual((await hidden.client.profiles.search(`${stem}_h`)).map((p) => p.handle), [hidden.handle], 'one finds oneself');
      assert.equal((await stranger.client.openDirect(hidden.handle)).kind, 'direct');
    });

    it('never finds a suspended account, by handle or by name', async () => {
      const stem = `sus${process.pid}${dialect === 'sqlite' ? 's' : 'p'}`;
      const [searcher, gone] = await Promise.all([server.signUp(), server.signUp(`${stem}_gone`)]);
      await gone.client.profiles.update({ display_name: `${stem}name Gone` });
      assert.deepEqual((await searcher.client.profiles.search(`${stem}name`)).map((p) => p.handle), [gone.handle]);
      await server.db.db.updateTable('accounts').set({ suspended_at: Date.now() }).where('id', '=', gone.accountId).execute();
      assert.deepEqual(await searcher.client.profiles.search(`${stem}_g`), []);
      assert.deepEqual(await searcher.client.profiles.search(`${stem}name`), []);
    });

    it('is rate-limited per account (429 with Retry-After)', async () => {
      const [a, b] = await Promise.all([server.signUp(), server.signUp()]);
      for (let i = 0; i < 6; i++) await a.client.profiles.search(`lim${i}xx`);
      await rejectsWith(a.client.profiles.search('limitxx'), 'rate_limited', 429);
      // Another account has its own allowance.
      await b.client.profiles.search('limitxx');
    });
  });

  describe('live changes', () => {
    it('a new name or photo reaches the people one chats with through the event stream, not strangers', async () => {
      const [kim, lee, stranger] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
      await chat(kim, lee);
      const [leeCursor, strangerCursor] = await Promise.all([lee.client.updatesState(), stranger.client.updatesState()]);
      await kim.client.profiles.update({ display_name: 'Kim K' });
      const event = await eventually('profile.updated for lee', async () => {
        const { events } = await lee.client.updates({ cursor: leeCursor });
        return events.find((e) => e.type === 'profile.updated');
      });
      assert.equal(event.type, 'profile.updated');
      if (event.type === 'profile.updated') {
        assert.equal(event.data.account_id, kim.accountId);
        assert.equal(event.data.display_name, 'Kim K');
      }
      const { events } = await stranger.client.updates({ cursor: strangerCursor });
      assert.equal(events.filter((e) => e.type === 'profile.updated').length, 0);
      // The owner's other devices hear it too, even with no chats.
      const loner = await server.signUp();
      const cursor = await loner.client.updatesState();
      await loner.client.profiles.setPhoto(await gpsPhoto(), 'image/jpeg');
      const own = (await loner.client.updates({ cursor })).events.find((e) => e.type === 'profile.updated');
      assert.ok(own && own.type === 'profile.updated' && own.data.photo_id);
    });
  });
});


describe('profiles: a photo removed while its fetch is under way', () => {
  it('answers 404 problem+json, not 500, when the files vanish between the lookup and the read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmd-photo-race-'));
    const store = createBlobStore({ kind: 'local', root: dir });
    // Reads of a profile photo find its files gone, as if the owner's removal ran between the
    // route's lookup of the row and its read of the file.
    const racing: BlobStore = {
      ...store,
      get: async (key, range) => {
        if (key.startsWith('profile-photos/')) await store.deletePrefix(key.slice(0, key.indexOf('/', 'profile-photos/'.length) + 1));
        return store.get(key, range);
      },
    };
    const server = await startTestServer({ dialect: 'sqlite', blobs: racing });
    try {
      const [mo, ned] = await Promise.all([server.signUp(), server.signUp()]);
      await chat(mo, ned);
      await chat(ned, mo);
      await mo.client.profiles.setPhoto(await gpsPhoto(), 'image/jpeg');
      const url = (await ned.client.profiles.byHandle(mo.handle)).photo!.urls.small;
      const response = await fetchPhoto(server, url);
      assert.equal(response.status, 404);
      assert.match(response.headers.get('content-type') ?? '', /problem\+json/);
      assert.equal(((await response.json()) as { code: string }).code, 'not_found');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
