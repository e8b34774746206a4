/**
 * A chat's gallery (GET /v1/conversations/{id}/media): photos, videos, documents and links, newest
 * first and paged; the same rules as history for who sees what (membership, stays in groups,
 * clears, deletions for everyone and for me, held messages to their sender alone); taken-down
 * media left out; refusals as problem+json.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GalleryReply } from '@mmd/sdk';
import sharp from 'sharp';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

const texts = (reply: GalleryReply) => reply.items.map((i) => i.message.text);

async function picture(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(80 * 60 * 3);
  for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 31 + seed * 97 + ((i / 3) | 0) * 7) & 0xff;
  return sharp(raw, { raw: { width: 80, height: 60, channels: 3 } }).png().toBuffer();
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

async function ready(user: User, body: Buffer, filename: string): Promise<string> {
  const { id } = await user.client.upload(body, { filename });
  const item = await user.client.waitForMedia(id, { timeoutMs: 90_000 });
  assert.equal(item.status, 'ready', item.reason ?? '');
  return id;
}

onEachDatabase('chat gallery', (dialect) => {
  let server: TestServer;
  let ann: User;
  let ben: User;
  let cat: User;
  let seed = dialect === 'postgres' ? 100 : 0;
  const photo = async (user: User) => {
    seed += 1;
    return ready(user, await picture(seed), `p${seed}.png`);
  };
  before(async () => {
    server = await startTestServer({ dialect });
    [ann, ben, cat] = [await server.signUp(), await server.signUp(), await server.signUp()];
  });
  after(() => server.close());

  test('lists photos, documents and links of one chat in their tabs, newest first, with only the asked kind', async () => {
    const group = await ann.client.createConversation({ kind: 'group', title: 'Tabs', members: [ben.handle] });
    const other = await ann.client.createConversation({ kind: 'group', title: 'Elsewhere', members: [ben.handle] });
    const p1 = await photo(ann);
    const p2 = await photo(ann);
    const doc = await ready(ann, PDF, 'minutes.pdf');
    const notes = await ready(ann, PDF, 'notes.pdf');
    await ann.client.send(group.id, { text: 'first photo', media: [p1] });
    await ann.client.send(group.id, { text: 'read https://example.com/agenda, then (https://example.org/b).' });
    await ann.client.send(group.id, { text: 'photo and minutes', media: [p2, notes] });
    await ann.client.send(group.id, { text: 'the minutes', media: [doc] });
    await ann.client.send(group.id, { text: 'no media at all' });
    await ann.client.send(other.id, { text: 'elsewhere https://example.net', media: [await photo(ann)] });

    const photos = await ben.client.gallery(group.id, { type: 'photo' });
    assert.deepEqual(texts(photos), ['photo and minutes', 'first photo']);
    assert.deepEqual(photos.items.map((i) => i.media.map((m) => m.id)), [[p2], [p1]]);
    assert.ok(photos.items.every((i) => i.links.length === 0 && i.media.every((m) => m.kind === 'image')));
    assert.equal(photos.next_cursor, null);

    const docs = await ben.client.gallery(group.id, { type: 'document' });
    assert.deepEqual(texts(docs), ['the minutes', 'photo and minutes']);
    assert.deepEqual(docs.items.map((i) => i.media.map((m) => m.filename)), [['minutes.pdf'], ['notes.pdf']]);

    const links = await ben.client.gallery(group.id, { type: 'link' });
    assert.deepEqual(texts(links), ['read https://example.com/agenda, then (https://example.org/b).']);
    assert.deepEqual(links.items[0]!.links, ['https://example.com/agenda', 'https://example.org/b']);
    assert.deepEqual((await ben.client.gallery(group.id, { type: 'video' })).items, []);
    // The same classification as search by type in that chat.
    const searched = await ben.client.search({ type: 'photo', conversationId: group.id });
    assert.deepEqual(searched.results.map((r) => r.message.id), photos.items.map((i) => i.message.id));
  });

  test('pages with before=next_cursor until the end, each item once', async () => {
    const group = await ann.client.createConversation({ kind: 'group', title: 'Pages', members: [] });
    for (let i = 0; i < 5; i += 1) await ann.client.send(group.id, { text: `link ${i} https://example.com/${i}` });
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await ann.client.gallery(group.id, { type: 'link', limit: 2, before });
      assert.ok(page.items.length <= 2);
      seen.push(...texts(page).map(String));
      if (!page.next_cursor) break;
      before = page.next_cursor;
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0].map((i) => `link ${i} https://example.com/${i}`));
  });

  test('shows what history shows: not before joining a hidden-history group, nothing once removed', async () => {
    const group = await ann.client.createConversation({ kind: 'group', title: 'Stays', members: [ben.handle] });
    await ann.client.updateConversation(group.id, { history_visible: false });
    await ann.client.send(group.id, { text: 'before cat https://example.com/before' });
    await ann.client.addMember(group.id, cat.handle);
    await ann.client.send(group.id, { text: 'with cat https://example.com/with' });
    assert.deepEqual(texts(await cat.client.gallery(group.id, { type: 'link' })), ['with cat https://example.com/with']);
    await ann.client.removeMember(group.id, cat.accountId);
    await ann.client.send(group.id, { text: 'after cat https://example.com/after' });
    // Removed: refused like history, and nothing, old or new.
    await rejectsWith(cat.client.gallery(group.id, { type: 'link' }), 'not_a_member', 403);
    await rejectsWith(cat.client.history(group.id), 'not_a_member', 403);
    assert.equal((await ben.client.gallery(group.id, { type: 'link' })).items.length, 3);
  });

  test('leaves out deleted messages, those deleted for me, those before a clear, and taken-down media', async () => {
    const direct = await ann.client.openDirect(ben.handle);
    const gone = await ann.client.send(direct.id, { text: 'deleted for everyone', media: [await photo(ann)] });
    const mine = await ann.client.send(direct.id, { text: 'deleted for ben', media: [await photo(ann)] });
    const takenDown = await photo(ann);
    const kept = await photo(ann);
    await ann.client.send(direct.id, { text: 'half taken down', media: [takenDown, kept] });
    const wholly = await photo(ann);
    await ann.client.send(direct.id, { text: 'wholly taken down', media: [wholly] });
    await ann.client.deleteMessage(gone.id);
    await ben.client.deleteForMe(mine.id);
    await server.db.db.updateTable('media').set({ status: 'removed' }).where('id', 'in', [takenDown, wholly]).execute();

    const forBen = await ben.client.gallery(direct.id, { type: 'photo' });
    assert.deepEqual(texts(forBen), ['half taken down']);
    assert.deepEqual(forBen.items[0]!.media.map((m) => m.id), [kept]);
    assert.deepEqual(texts(await ann.client.gallery(direct.id, { type: 'photo' })), ['half taken down', 'deleted for ben']);

    await ben.client.clearChat(direct.id);
    assert.deepEqual((await ben.client.gallery(direct.id, { type: 'photo' })).items, []);
    await ann.client.send(direct.id, { text: 'after the clear', media: [await photo(ann)] });
    assert.deepEqual(texts(await ben.client.gallery(direct.id, { type: 'photo' })), ['after the clear']);
  });

  test("a held message is in its sender's gallery alone", async () => {
    const group = await ann.client.createConversation({ kind: 'group', title: 'Held', members: [ben.handle] });
    const id = await photo(ann);
    await server.db.db.updateTable('media').set({ status: 'held' }).where('id', '=', id).execute();
    const held = await ann.client.send(group.id, { text: 'held photo', media: [id] });
    assert.equal(held.status, 'pending');
    assert.deepEqual(texts(await ann.client.gallery(group.id, { type: 'photo' })), ['held photo']);
    assert.deepEqual(texts(await ben.client.gallery(group.id, { type: 'photo' })), []);
  });

  test('refuses: no token, not a member, unknown chat, bad type, cursor or limit', async () => {
    const direct = await ann.client.openDirect(ben.handle);
    await rejectsWith(server.anonymous.gallery(direct.id, { type: 'photo' }), 'unauthenticated', 401);
    await rejectsWith(cat.client.gallery(direct.id, { type: 'photo' }), 'not_a_member', 403);
    await rejectsWith(cat.client.gallery('cnv_doesnotexist', { type: 'photo' }), 'not_found', 404);
    await rejectsWith(ann.client.gallery(direct.id, { type: 'voice' as 'photo' }), 'validation_failed', 400);
    await rejectsWith(ann.client.gallery(direct.id, { type: 'gif' as 'photo' }), 'validation_failed', 400);
    await rejectsWith(ann.client.gallery(direct.id, { type: 'photo', before: 'abc' }), 'validation_failed', 400);
    await rejectsWith(ann.client.gallery(direct.id, { type: 'photo', limit: 61 }), 'validation_failed', 400);
    const response = await fetch(`${server.url}/v1/conversations/${direct.id}/media?type=stickers`, { headers: { authorization: `Bearer ${ann.token}` } });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(((await response.json()) as { code: string }).code, 'validation_failed');
    const missing = await fetch(`${server.url}/v1/conversations/${direct.id}/media`, { headers: { authorization: `Bearer ${ann.token}` } });
    assert.equal(missing.status, 400);
  });
});

describe('chat gallery rate limit', () => {
  test('refuses past the per-account limit with 429, apart from searches', async () => {
    const server = await startTestServer({ dialect: 'sqlite', config: { searchRateLimit: 2 } });
    try {
      const me = await server.signUp();
      const group = await me.client.createConversation({ kind: 'group', title: 'Limit', members: [] });
      for (let i = 0; i < 2; i += 1) await me.client.gallery(group.id, { type: 'photo' });
      await rejectsWith(me.client.gallery(group.id, { type: 'photo' }), 'rate_limited', 429);
      // Searching is not held back by gallery pages.
      await me.client.search({ q: 'hello' });
    } finally {
      await server.close();
    }
  });
});
