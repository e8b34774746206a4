/**
 * Message search (GET /v1/search): words, prefixes, accents and case; the same rules as history
 * for who finds what (membership, stays in groups, deletions, held messages); edits and deletions
 * in the index at once; filters, pages, highlights; refusals; and parity — the same corpus and
 * queries give the same messages on SQLite and PostgreSQL, and what a plain reference model of
 * the rules says.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SearchReply } from '@mmd/sdk';
import sharp from 'sharp';
import { searchWords } from '../src/messaging/search-text.ts';
import { createMessageSearch } from '../src/messaging/search.ts';
import { POSTGRES_URL, type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

const texts = (reply: SearchReply) => reply.results.map((r) => r.message.text);

async function picture(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(96 * 64 * 3);
  for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 29 + seed * 89 + ((i / 3) | 0) * 5) & 0xff;
  return sharp(raw, { raw: { width: 96, height: 64, channels: 3 } }).png().toBuffer();
}

onEachDatabase('message search', (dialect) => {
  let server: TestServer;
  let ann: User;
  let ben: User;
  let cat: User;
  before(async () => {
    server = await startTestServer({ dialect });
    [ann, ben, cat] = [await server.signUp(), await server.signUp(), await server.signUp()];
  });
  after(() => server.close());

  test('finds messages by words across chats and within one, newest first, with highlights', async () => {
    const direct = await ann.client.openDirect(ben.handle);
    const group = await ann.client.createConversation({ kind: 'group', title: 'Trip', members: [ben.handle] });
    await ann.client.send(direct.id, { text: 'Dinner at the Café Fleur tonight?' });
    await ben.client.send(group.id, { text: 'The CAFE near the station opens at 7' });
    await ben.client.send(group.id, { text: 'Train tickets booked' });
    const all = await ben.client.search({ q: 'cafe' });
    assert.deepEqual(texts(all), ['The CAFE near the station opens at 7', 'Dinner at the Café Fleur tonight?']);
    assert.deepEqual(all.results.map((r) => r.conversation_id), [group.id, direct.id]);
    const [first, second] = all.results;
    assert.deepEqual(first!.highlights.map((h) => first!.message.text!.slice(h.start, h.end)), ['CAFE']);
    assert.deepEqual(second!.highlights.map((h) => second!.message.text!.slice(h.start, h.end)), ['Café']);
    // A prefix of every word, all words required.
    assert.deepEqual(texts(await ben.client.search({ q: 'caf stat' })), ['The CAFE near the station opens at 7']);
    assert.deepEqual(texts(await ben.client.search({ q: 'café', conversationId: direct.id })), ['Dinner at the Café Fleur tonight?']);
    assert.deepEqual(texts(await ben.client.search({ q: 'zzzz' })), []);
  });

  test('query syntax is plain text: quotes, stars, NEAR, minus and OR are never operators', async () => {
    const group = await ann.client.createConversation({ kind: 'group', title: 'Syntax', members: [] });
    await ann.client.send(group.id, { text: 'apple pie or near banana' });
    await ann.client.send(group.id, { text: 'apple crumble' });
    for (const q of ['"apple', 'apple"', '"apple" "pie', 'apple*', '*', 'apple -pie', 'apple OR crumble', 'NEAR(apple pie)', "apple' pie", 'apple\\', 'apple AND', '(apple', 'apple:pie', '^apple', '{apple}']) {
      const reply = await ann.client.search({ q, conversationId: group.id }).catch((err: { code?: string }) => err.code);
      const words = searchWords(q);
      if (words.length === 0) {
        assert.equal(reply, 'validation_failed', q);
        continue;
      }
      const expected = ['apple crumble', 'apple pie or near banana'].filter((t) => words.every((w) => searchWords(t).some((x) => x.startsWith(w))));
      assert.deepEqual(texts(reply as SearchReply), expected, q);
    }
  });

  test('an edit replaces the words found; a deletion takes the message out', async () => {
    const group = await ann.client.createConversation({ kind: 'group', title: 'Edits', members: [ben.handle] });
    const m = await ann.client.send(group.id, { text: 'meeting on tuesday' });
    assert.equal((await ben.client.search({ q: 'tuesday', conversationId: group.id })).results.length, 1);
    await ann.client.edit(m.id, 'meeting on wednesday');
    assert.equal((await ben.client.search({ q: 'tuesday', conversationId: group.id })).results.length, 0);
    assert.deepEqual(texts(await ben.client.search({ q: 'wednesday', conversationId: group.id })), ['meeting on wednesday']);
    await ann.client.deleteMessage(m.id);
    assert.equal((await ben.client.search({ q: 'wednesday', conversationId: group.id })).results.length, 0);
    assert.equal((await ben.client.search({ q: 'meeting', conversationId: group.id })).results.length, 0);
  });

  test('finds only what history shows: members, stays in groups, removed members find nothing', async () => {
    const direct = await ann.client.openDirect(ben.handle);
    await ann.client.send(direct.id, { text: 'secretword between ann and ben' });
    assert.equal((await cat.client.search({ q: 'secretword' })).results.length, 0);
    await rejectsWith(cat.client.search({ q: 'secretword', conversationId: direct.id }), 'not_a_member', 403);
    await rejectsWith(cat.client.search({ q: 'secretword', conversationId: 'cnv_doesnotexist' }), 'not_found', 404);

    // A group hiding its history: a newcomer finds nothing from before they joined.
    const group = await ann.client.createConversation({ kind: 'group', title: 'Hidden', members: [ben.handle] });
    await ann.client.updateConversation(group.id, { history_visible: false });
    await ann.client.send(group.id, { text: 'hiddenword before cat' });
    await ann.client.addMember(group.id, cat.handle);
    await ann.client.send(group.id, { text: 'hiddenword with cat' });
    assert.deepEqual(texts(await cat.client.search({ q: 'hiddenword' })), ['hiddenword with cat']);
    assert.deepEqual(
      texts(await cat.client.search({ q: 'hiddenword' })),
      (await cat.client.history(group.id)).messages.filter((m) => m.text?.includes('hiddenword')).map((m) => m.text),
    );
    // Removed: nothing from that chat, before or after.
    await ann.client.removeMember(group.id, cat.accountId);
    await ann.client.send(group.id, { text: 'hiddenword after cat' });
    assert.deepEqual(texts(await cat.client.search({ q: 'hiddenword' })), []);
    assert.deepEqual(texts(await ben.client.search({ q: 'hiddenword' })), ['hiddenword after cat', 'hiddenword with cat', 'hiddenword before cat']);
  });

  test('filters by type and sender; pages with a cursor', async () => {
    const group = await ann.client.createConversation({ kind: 'group', title: 'Filters', members: [ben.handle] });
    await ann.client.send(group.id, { text: 'look https://example.com/filterword' });
    await ben.client.send(group.id, { text: 'filterword from ben' });
    const { id } = await ann.client.upload(await picture(dialect === 'postgres' ? 7 : 3), { filename: 'p.png' });
    assert.equal((await ann.client.waitForMedia(id, { timeoutMs: 90_000 })).status, 'ready');
    await ann.client.send(group.id, { text: 'filterword photo', media: [id] });
    assert.deepEqual(texts(await ben.client.search({ q: 'filterword', type: 'link' })), ['look https://example.com/filterword']);
    assert.deepEqual(texts(await ben.client.search({ q: 'filterword', type: 'photo' })), ['filterword photo']);
    assert.deepEqual(texts(await ben.client.search({ type: 'photo', conversationId: group.id })), ['filterword photo']);
    assert.deepEqual(texts(await ben.client.search({ q: 'filterword', type: 'video' })), []);
    assert.deepEqual(texts(await ann.client.search({ q: 'filterword', from: ben.handle })), ['filterword from ben']);
    assert.deepEqual(texts(await ann.client.search({ q: 'filterword', from: `@${ann.handle}` })), ['filterword photo', 'look https://example.com/filterword']);
    assert.deepEqual(texts(await ann.client.search({ q: 'filterword', from: 'nobody-at-all' })), []);

    for (let i = 0; i < 5; i += 1) await ann.client.send(group.id, { text: `pageword ${i}` });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await ben.client.search({ q: 'pageword', limit: 2, cursor });
      seen.push(...texts(page).map(String));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    assert.deepEqual(seen, ['pageword 4', 'pageword 3', 'pageword 2', 'pageword 1', 'pageword 0']);
  });

  test('a search that goes past its first look at the matches finds the same pages', async () => {
    // Matches in chats ben is not in come first (newest), so a tiny first look finds nothing of his.
    const mine = await ben.client.createConversation({ kind: 'group', title: 'Mine', members: [] });
    const theirs = await cat.client.createConversation({ kind: 'group', title: 'Theirs', members: [] });
    for (let i = 0; i < 4; i += 1) await ben.client.send(mine.id, { text: `lookword mine ${i}` });
    for (let i = 0; i < 6; i += 1) await cat.client.send(theirs.id, { text: `lookword theirs ${i}` });
    const search = createMessageSearch({ db: server.db, clock: Date.now, rateLimit: { max: 1000, windowMs: 60_000 }, firstLook: 2 });
    const principal = { accountId: ben.accountId, handle: ben.handle, kind: 'person' as const, role: 'user' as const, deviceId: 'd', apiKeyId: null, scopes: new Set<never>() };
    const pages = async (read: (cursor?: string) => Promise<SearchReply>) => {
      const out: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await read(cursor);
        out.push(texts(page).map(String));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return out;
    };
    const small = await pages((cursor) => search.search(principal, { q: 'lookword', limit: 3, cursor }));
    assert.deepEqual(small, [['lookword mine 3', 'lookword mine 2', 'lookword mine 1'], ['lookword mine 0']]);
    assert.deepEqual(small, await pages((cursor) => ben.client.search({ q: 'lookword', limit: 3, cursor })));
  });

  test("a held message is found by its sender alone", async () => {
    const group = await ann.client.createConversation({ kind: 'group', title: 'Held', members: [ben.handle] });
    const { id } = await ann.client.upload(await picture(dialect === 'postgres' ? 11 : 5), { filename: 'p.png' });
    assert.equal((await ann.client.waitForMedia(id, { timeoutMs: 90_000 })).status, 'ready');
    await server.db.db.updateTable('media').set({ status: 'held' }).where('id', '=', id).execute();
    const held = await ann.client.send(group.id, { text: 'heldword caption', media: [id] });
    assert.equal(held.status, 'pending');
    assert.deepEqual(texts(await ann.client.search({ q: 'heldword' })), ['heldword caption']);
    assert.deepEqual(texts(await ben.client.search({ q: 'heldword' })), []);
  });

  test('refuses: no token, no words, too long, too many words, bad type or cursor', async () => {
    await rejectsWith(server.anonymous.search({ q: 'hello' }), 'unauthenticated', 401);
    await rejectsWith(ann.client.search({}), 'validation_failed', 400);
    await rejectsWith(ann.client.search({ q: '   ' }), 'validation_failed', 400);
    await rejectsWith(ann.client.search({ q: '"" ** --' }), 'validation_failed', 400);
    await rejectsWith(ann.client.search({ q: 'a'.repeat(201) }), 'validation_failed', 400);
    await rejectsWith(ann.client.search({ q: 'one two three four five six seven eight nine' }), 'validation_failed', 400);
    await rejectsWith(ann.client.search({ q: 'hello', type: 'gif' as 'photo' }), 'validation_failed', 400);
    await rejectsWith(ann.client.search({ q: 'hello', cursor: 'abc' }), 'validation_failed', 400);
    await rejectsWith(ann.client.search({ q: 'hello', limit: 51 }), 'validation_failed', 400);
  });
});

describe('message search rate limit', () => {
  test('refuses past the per-account limit with 429 rate_limited and Retry-After', async () => {
    const server = await startTestServer({ dialect: 'sqlite', config: { searchRateLimit: 3 } });
    try {
      const me = await server.signUp();
      for (let i = 0; i < 3; i += 1) await me.client.search({ q: 'hello' });
      await rejectsWith(me.client.search({ q: 'hello' }), 'rate_limited', 429);
      const response = await fetch(`${server.url}/v1/search?q=hello`, { headers: { authorization: `Bearer ${me.token}` } });
      assert.equal(response.status, 429);
      assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.ok(Number(response.headers.get('retry-after')) > 0);
      // Another account is not held back by this one's searches.
      await (await server.signUp()).client.search({ q: 'hello' });
    } finally {
      await server.close();
    }
  });
});

/** Text that tokenisers disagree on: accents, case, scripts, symbols, URLs, numbers. */
const CORPUS = [
  'Café crème at noon',
  'CAFE CREME AT NOON',
  'cafe\u0301 with a combining accent',
  'naïve coöperation',
  'İstanbul and istanbul',
  'Straße and strasse',
  'Σίσυφος ΣΊΣΥΦΟΣ',
  'Москва привет',
  'مرحبا بالعالم',
  'שלום עולם',
  '東京タワー に行く',
  'ﬁne ﬂour ½ cup',
  'party 🎉🎉 tonight 👩‍👩‍👧',
  'C++ and C# and F#',
  'mail me at someone@example.com',
  'see https://www.example.com/a/b?utm_source=x&id=42#frag',
  'version 1.5.2 released 2026-12-06',
  'well-known self-hosted thing',
  "don't won't can't",
  'under_score and snake_case_words',
  'x'.repeat(60),
  'supercalifragilisticexpialidocious words',
  '"quoted" and (bracketed) and *starred*',
  'NEAR OR AND NOT words',
  'zero\u200bwidth joiner\u200dhere',
  'ǅungla ǆ Ǆ',
  '１２３ full-width ＡＢＣ',
  'tab\tseparated\nnew line',
];
const QUERIES = [
  'cafe', 'café', 'CAFÉ', 'caf', 'creme', 'crème noon', 'naive', 'cooperation', 'istanbul', 'straße', 'strasse', 'stras',
  'σίσυφος', 'σισυφ', 'москва', 'мос', 'مرحبا', 'שלום', '東京', '東京タワー', 'fine', 'flour', 'cup', '1', 'party', '🎉', 'tonight',
  'c', 'f', 'someone', 'example.com', 'example', 'https', 'utm', 'frag', '1.5', '2026', '12-06', 'well-known', 'known', 'self',
  "don't", 'don', 't', 'snake', 'case', 'under_score', 'x'.repeat(45), 'x'.repeat(40), 'supercal', '"quoted"', '(bracketed', '*starred*',
  'near', 'or', 'and', 'not', 'zero', 'width', 'joiner', 'dzungla', 'ǆungla', '123', 'abc', 'full', 'tab', 'separated', 'new line',
  '"unbalanced', 'a "b', 'NEAR(x y)', '-words', 'words*', 'OR words',
];

async function corpusServer(dialect: 'sqlite' | 'postgres') {
  const server = await startTestServer({ dialect, config: { searchRateLimit: 100_000 } });
  const me = await server.signUp();
  const group = await me.client.createConversation({ kind: 'group', title: 'Corpus', members: [] });
  for (const text of CORPUS) await me.client.send(group.id, { text });
  return { server, me };
}

async function answers(me: User): Promise<Map<string, string[] | string>> {
  const out = new Map<string, string[] | string>();
  for (const q of QUERIES) {
    out.set(q, await me.client.search({ q, limit: 50 }).then((r) => texts(r).map(String), (err: { code?: string }) => `refused: ${err.code}`));
  }
  return out;
}

/** The rule, with no database: every query word is the start of some word of the text. */
function reference(q: string): string[] | string {
  const words = searchWords(q);
  if (words.length === 0) return 'refused: validation_failed';
  return CORPUS.filter((t) => words.every((w) => searchWords(t).some((x) => x.startsWith(w)))).reverse();
}

describe('message search parity', () => {
  test('SQLite finds what the reference model says, for every query', async () => {
    const { server, me } = await corpusServer('sqlite');
    try {
      const got = await answers(me);
      for (const q of QUERIES) assert.deepEqual(got.get(q), reference(q), `q=${q}`);
      // Spot checks of the tokeniser's decisions, so a change to it is a visible change here.
      assert.deepEqual(got.get('cafe'), ['cafe\u0301 with a combining accent', 'CAFE CREME AT NOON', 'Café crème at noon']);
      assert.deepEqual(got.get('straße'), ['Straße and strasse']);
      assert.deepEqual(got.get('🎉'), 'refused: validation_failed');
    } finally {
      await server.close();
    }
  });

  test('PostgreSQL finds the same messages as SQLite, for every query', { skip: POSTGRES_URL ? false : 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' }, async () => {
    const a = await corpusServer('sqlite');
    const b = await corpusServer('postgres');
    try {
      const [sqlite, postgres] = [await answers(a.me), await answers(b.me)];
      for (const q of QUERIES) assert.deepEqual(postgres.get(q), sqlite.get(q), `q=${q}`);
    } finally {
      await a.server.close();
      await b.server.close();
    }
  });
});

describe('message search migration', () => {
  test('indexes the messages a database already held, with their media kinds, and skips deleted ones', async () => {
    const { migrateToLatest } = await import('../src/platform/db/migrations.ts');
    const { migrationParts } = await import('../src/schema.ts');
    const { messagingMigrations } = await import('../src/messaging/migrations.ts');
    const { openDatabase } = await import('../src/platform/db/index.ts');
    const { sql } = await import('kysely');
    const db = openDatabase({ sqlitePath: ':memory:' });
    try {
      const NAME = '202612060130-messaging-search';
      const before = migrationParts.map((p) => (p === messagingMigrations ? Object.fromEntries(Object.entries(p).filter(([k]) => k !== NAME)) : p));
      await migrateToLatest(db.db as never, { dialect: 'sqlite', parts: before });
      const now = Date.now();
      await sql`insert into accounts (id, handle, handle_key, password_hash, kind, role, created_at) values ('acc_a', 'a', 'a', 'x', 'person', 'user', ${now})`.execute(db.db);
      await sql`insert into conversations (id, kind, created_by, created_at, last_seq, member_count) values ('cnv_1', 'group', 'acc_a', ${now}, 3, 1)`.execute(db.db);
      const message = (id: string, seq: number, text: string | null, deleted: number | null) =>
        sql`insert into messages (id, conversation_id, seq, sender_id, text, forward_hops, created_at, deleted_at, status, automated) values (${id}, 'cnv_1', ${seq}, 'acc_a', ${text}, 0, ${now}, ${deleted}, 'sent', 0)`.execute(db.db);
      await message('msg_1', 1, 'Olá https://example.com', null);
      await message('msg_2', 2, 'gone words', now);
      await message('msg_3', 3, null, null);
      await sql`insert into media (id, owner_id, kind, status, created_at) values ('med_1', 'acc_a', 'image', 'ready', ${now})`.execute(db.db).catch(async () => {
        // media has more required columns: take them from its table's definition.
        const cols = (await sql<{ name: string; notnull: number; dflt_value: unknown }>`pragma table_info(media)`.execute(db.db)).rows.filter((c) => c.notnull && c.dflt_value === null);
        const values: Record<string, unknown> = { id: 'med_1', owner_id: 'acc_a', kind: 'image', status: 'ready', created_at: now };
        for (const c of cols) if (!(c.name in values)) values[c.name] = c.name.endsWith('_at') || c.name === 'size' || c.name === 'bytes' ? 0 : 'x';
        await db.db.insertInto('media' as never).values(values as never).execute();
      });
      await sql`insert into message_media (message_id, media_id, position) values ('msg_3', 'med_1', 0)`.execute(db.db);
      await db.migrate();
      const rows = await db.db.selectFrom('message_search').select(['message_id', 'kinds']).orderBy('id').execute();
      assert.deepEqual(rows, [
        { message_id: 'msg_1', kinds: 16 },
        { message_id: 'msg_3', kinds: 1 },
      ]);
      const found = await sql<{ rowid: number }>`select rowid from message_search_fts where message_search_fts match '"ola"*'`.execute(db.db);
      assert.equal(found.rows.length, 1);
    } finally {
      await db.close();
    }
  });
});
