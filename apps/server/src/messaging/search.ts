/**
 * Message search: across every chat a person is in, or within one; by words (search-text.ts),
 * sender and what a message carries. The index (`message_search`) is written in the same
 * transactions as the messages it describes — a send, an edit (the old words go), a deletion (the
 * row goes) — so a search never finds what history no longer shows.
 *
 * Who finds what mirrors history exactly (messaging/service.ts `history`, conversations'
 * `readableRanges`): only conversations the caller is a member of now; in a group only the seqs of
 * their stays (and earlier history where the group shows it to newcomers); never a deleted
 * message; a held message (pending or failed) by its sender alone.
 *
 * Order: newest first, by the index row's id (the order messages were written); `next_cursor` is
 * the last id of a page. Ranking by relevance is left out on purpose: FTS5's bm25 and PostgreSQL's
 * ts_rank differ, and results must be the same on both databases.
 */
import { type GalleryItem, type GalleryReply, type GalleryType, MAX_SEARCH_WORDS, type MediaSummary, type Message, type SearchReply, type SearchType } from '@mmd/contracts';
import { type RawBuilder, sql } from 'kysely';
import type { Principal } from '../accounts/index.ts';
import { accountIdByHandle } from '../accounts/index.ts';
import { channelsSubscribedOnly, inRanges, readableConversations, requireMember, type SeqRange } from '../conversations/index.ts';
import { AppError } from '../errors.ts';
import { type Limits, createMemoryLimits } from '../platform/limits/index.ts';
import { type Database, type Tx, prepared } from '../platform/db/index.ts';
import type { MessagesTable } from './schema.ts';
import { type IndexQuery, KIND_BITS, fts5Query, highlightsOf, indexTerms, kindBits, searchWords, tsQuery, usesIndex } from './search-text.ts';
import { linksAsWritten } from './links.ts';
import { loadMessageViews, positionOf } from './views.ts';

/** Indexes messages just written (in their transaction). Nothing to find (no words, no media): no row. */
export async function indexMessages(tx: Tx, messages: readonly { id: string; conversationId: string; text: string | null; mediaKinds?: readonly (string | null)[] }[]): Promise<void> {
  const rows = messages
    .map((m) => ({ m, kinds: kindBits(m.mediaKinds ?? [], m.text) }))
    .filter(({ m, kinds }) => kinds !== 0 || searchWords(m.text).length > 0)
    .map(({ m, kinds }) => ({ message_id: m.id, conversation_id: m.conversationId, terms: indexTerms({ text: m.text, conversationId: m.conversationId, kinds }), kinds }));
  // One message (every send): a statement prepared once; many (a campaign's batch): 200 a statement.
  if (rows.length === 1) await indexOne(tx, rows[0]!);
  else for (let i = 0; i < rows.length; i += 200) await tx.insertInto('message_search').values(rows.slice(i, i + 200)).execute();
}

const indexOne = prepared((db, p: { message_id: string; conversation_id: string; terms: string; kinds: number }) =>
  db.insertInto('message_search').values({ message_id: p.message_id, conversation_id: p.conversation_id, terms: p.terms, kinds: p.kinds }),
);

/** An edited message: its new words replace the old (its media stays what it was). */
export async function reindexText(tx: Tx, m: { id: string; conversationId: string; text: string }): Promise<void> {
  const row = await tx.selectFrom('message_search').select(['kinds']).where('message_id', '=', m.id).executeTakeFirst();
  if (!row) return indexMessages(tx, [m]);
  const kinds = (Number(row.kinds) & ~KIND_BITS.link) | kindBits([], m.text);
  await tx.updateTable('message_search').set({ terms: indexTerms({ text: m.text, conversationId: m.conversationId, kinds }), kinds }).where('message_id', '=', m.id).execute();
}

/** A held message's media has settled: its kinds are known now (processing may not have known them). */
export async function reindexMedia(tx: Tx, m: { id: string; conversationId: string; text: string | null; mediaKinds: readonly (string | null)[] }): Promise<void> {
  const kinds = kindBits(m.mediaKinds, m.text);
  const done = await tx.updateTable('message_search').set({ terms: indexTerms({ text: m.text, conversationId: m.conversationId, kinds }), kinds }).where('message_id', '=', m.id).executeTakeFirst();
  if (Number(done.numUpdatedRows) === 0) await indexMessages(tx, [m]);
}

/** Deleted messages leave the index with their text (in the deleting transaction). */
export async function unindexMessages(tx: Tx, messageIds: readonly string[]): Promise<void> {
  for (let i = 0; i < messageIds.length; i += 500) await tx.deleteFrom('message_search').where('message_id', 'in', messageIds.slice(i, i + 500)).execute();
}

export interface MessageSearchDeps {
  db: Database;
  clock: () => number;
  /** Searches one account may run per window. */
  rateLimit: { max: number; windowMs: number };
  /** Where searches are counted (default: this process's memory). */
  limits?: Limits;
  /** Matches of the words alone looked at before naming the caller's conversations (tests make it small). */
  firstLook?: number;
}

export interface GalleryInput {
  type: GalleryType;
  /** next_cursor of the previous page. */
  before?: string;
  limit?: number;
}

/** The media kind a gallery tab shows (links have none). */
const GALLERY_MEDIA_KIND: Record<GalleryType, MediaSummary['kind'] | null> = { photo: 'image', video: 'video', document: 'document', link: null };

/** A gallery's items are things to open: taken-down ones and ones that never processed are left out. */
const OPENABLE: ReadonlySet<MediaSummary['status']> = new Set(['ready', 'processing', 'held']);

export interface SearchInput {
  q?: string;
  conversationId?: string;
  type?: SearchType;
  from?: string;
  cursor?: string;
  limit?: number;
}

type Row = MessagesTable & { search_id: number };

/**
 * Up to this many conversations, a search names the caller's conversations to the index (one OR
 * of scope tokens); beyond it, the index is asked for the words and type alone and the access
 * check drops other conversations' matches, which costs more for common words.
 */
export const MAX_SCOPED_CONVERSATIONS = 500;

/** Terms a word's prefix is expanded to at most on SQLite (see IndexQuery.expansions). */
const MAX_EXPANSION = 64;

/** Matches of the words alone looked at before a search names the caller's conversations. */
const FIRST_LOOK = 1000;

export function createMessageSearch(deps: MessageSearchDeps) {
  const { db, clock } = deps;
  const firstLook = deps.firstLook ?? FIRST_LOOK;
  const limits = deps.limits ?? createMemoryLimits();
  const limiter = limits.limiter({ name: 'message-search', max: deps.rateLimit.max, windowMs: deps.rateLimit.windowMs, clock });
  // Gallery pages count apart from searches, so scrolling a gallery never uses up search.
  const galleryLimiter = limits.limiter({ name: 'gallery', max: deps.rateLimit.max, windowMs: deps.rateLimit.windowMs, clock });

  function refuseIfLimited(wait: number, what: string): void {
    if (wait <= 0) return;
    const seconds = String(Math.ceil(wait / 1000));
    throw new AppError('rate_limited', `too many ${what}; retry in ${seconds} s`, { headers: { 'retry-after': seconds } });
  }

  function parseCursor(cursor: string | undefined, path: string): number | undefined {
    if (cursor === undefined) return undefined;
    if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw new AppError('validation_failed', 'the cursor must be a next_cursor this endpoint gave', { errors: [{ path, message: 'not a cursor' }] });
    return Number(cursor);
  }

  /** Of a page of rows, those the caller sees (held ones where history shows them to their sender), as Messages. */
  async function visibleViews(principal: Principal, page: Row[], scopes: { conversationId: string; ranges: SeqRange[] | null }[]): Promise<{ row: Row; message: Message }[]> {
    const ranges = new Map(scopes.map((s) => [s.conversationId, s.ranges]));
    // A held message is its sender's where history would show it to them (its position in their stays).
    const visible = page.filter((r) => r.status === 'sent' || inRanges(ranges.get(r.conversation_id) ?? [], positionOf(r)));
    const views = new Map<string, Message>((await loadMessageViews(db.db, visible, { viewerId: principal.accountId, now: clock() })).map((m) => [m.id, m]));
    return visible.flatMap((row) => {
      const message = views.get(row.id);
      return message ? [{ row, message }] : [];
    });
  }

  /** Who may read what, as one condition on `m` (messages): see the file's comment. */
  function access(accountId: string, scopes: { conversationId: string; ranges: SeqRange[] | null }[]): RawBuilder<unknown> {
    const all = scopes.map((s) => s.conversationId);
    const open = scopes.filter((s) => s.ranges === null).map((s) => s.conversationId);
    const parts: RawBuilder<unknown>[] = [];
    if (open.length > 0) parts.push(sql`m.conversation_id in (${sql.join(open)})`);
    for (const s of scopes) {
      if (!s.ranges || s.ranges.length === 0) continue;
      const seqs = s.ranges.map((r) => (r.to === null ? sql`m.seq >= ${r.from}` : sql`(m.seq >= ${r.from} and m.seq <= ${r.to})`));
      parts.push(sql`(m.conversation_id = ${s.conversationId} and (${sql.join(seqs, sql` or `)}))`);
    }
    const sent = parts.length > 0 ? sql`(m.status = 'sent' and (${sql.join(parts, sql` or `)}))` : sql`1 = 0`;
    // Held messages have a placeholder seq: checked against the stays after the query (positionOf).
    const own = sql`(m.sender_id = ${accountId} and m.status <> 'sent' and m.conversation_id in (${sql.join(all)}))`;
    // Deleted for me ("delete for me", hides.ts): not found by me, still by everyone else.
    const hidden = sql`not exists (select 1 from message_hides h where h.account_id = ${accountId} and h.message_id = m.id)`;
    return sql`m.deleted_at is null and (${sent} or ${own}) and ${hidden}`;
  }

  /** SQLite: each word's prefix as the index's terms that start with it, when there are few (see IndexQuery). */
  async function expand(words: readonly string[]): Promise<(string[] | null)[]> {
    const out: (string[] | null)[] = [];
    for (const w of words) {
      // Every term starting with w sorts from w up to w followed by the highest code point.
      const rows = (await sql<{ term: string }>`select term from message_search_vocab where term >= ${w} and term < ${`${w}\u{10FFFF}`} limit ${MAX_EXPANSION + 1}`.execute(db.db)).rows;
      out.push(rows.length > MAX_EXPANSION ? null : rows.map((r) => r.term));
    }
    return out;
  }

  /** The ids of the newest index rows matching `index`, below `below`. */
  async function matchIds(index: IndexQuery, below: number | undefined, limit: number): Promise<number[]> {
    const under = below === undefined ? sql`` : db.dialect === 'sqlite' ? sql`and rowid < ${below}` : sql`and id < ${below}`;
    const query =
      db.dialect === 'sqlite'
        ? sql<{ id: number }>`select rowid as id from message_search_fts where message_search_fts match ${fts5Query(index)} ${under} order by rowid desc limit ${limit}`
        : sql<{ id: number }>`select id from message_search where array_to_tsvector(string_to_array(terms, ' ')) @@ ${tsQuery(index)}::tsquery ${under} order by id desc limit ${limit}`;
    return (await query.execute(db.db)).rows.map((r) => Number(r.id));
  }

  /**
   * One page of rows the caller may read (`where`), newest first: among these index ids, or
   * matching `index` (FTS5 or GIN), or — neither — every row, below `below`.
   */
  async function pageOf(o: { where: RawBuilder<unknown>; ids?: number[]; index?: IndexQuery | undefined; below?: number | undefined; limit: number }): Promise<Row[]> {
    const { where, index, limit } = o;
    const below = o.below === undefined ? sql`` : sql`and s.id < ${o.below}`;
    let query: RawBuilder<Row>;
    if (o.ids) {
      query = sql<Row>`select m.*, s.id as search_id from message_search s
        join messages m on m.id = s.message_id
        where s.id in (${sql.join(o.ids)}) and ${where} ${below}
        order by s.id desc limit ${limit}`;
    } else if (index && db.dialect === 'sqlite') {
      // FTS5 drives: its matches come in rowid (= s.id) order, newest first, so the page ends
      // the scan; each match joins its message by key.
      query = sql<Row>`select m.*, s.id as search_id from message_search_fts
        join message_search s on s.id = message_search_fts.rowid
        join messages m on m.id = s.message_id
        where message_search_fts match ${fts5Query(index)} and ${where} ${below}
        order by message_search_fts.rowid desc limit ${limit}`;
    } else if (index) {
      // The same expression as the GIN index (migrations.ts), so PostgreSQL can use it.
      query = sql<Row>`select m.*, s.id as search_id from message_search s
        join messages m on m.id = s.message_id
        where array_to_tsvector(string_to_array(s.terms, ' ')) @@ ${tsQuery(index)}::tsquery and ${where} ${below}
        order by s.id desc limit ${limit}`;
    } else {
      query = sql<Row>`select m.*, s.id as search_id from message_search s
        join messages m on m.id = s.message_id
        where ${where} ${below}
        order by s.id desc limit ${limit}`;
    }
    return (await query.execute(db.db)).rows;
  }

  return {
    async search(principal: Principal, input: SearchInput): Promise<SearchReply> {
      refuseIfLimited(await limiter.hit(principal.accountId), 'searches');
      const q = input.q?.trim() ?? '';
      const words = searchWords(q);
      if (q === '' && !input.type && !input.from) {
        throw new AppError('validation_failed', 'give words to search for (q), or a type or sender to list', { errors: [{ path: '/q', message: 'required unless type or from is given' }] });
      }
      if (q !== '' && words.length === 0) {
        throw new AppError('validation_failed', 'the query has no words to search for (letters or digits)', { errors: [{ path: '/q', message: 'has no letters or digits' }] });
      }
      if (words.length > MAX_SEARCH_WORDS) {
        throw new AppError('validation_failed', `at most ${MAX_SEARCH_WORDS} words per search`, { errors: [{ path: '/q', message: `more than ${MAX_SEARCH_WORDS} words` }] });
      }
      const cursor = parseCursor(input.cursor, '/cursor');
      const limit = input.limit ?? 20;
      // One conversation: refused as history refuses it (unknown: 404, not a member: 403).
      if (input.conversationId !== undefined) await requireMember(db.db, input.conversationId, principal.accountId);
      let scopes = await readableConversations(db.db, principal.accountId, input.conversationId);
      let senderId: string | undefined;
      if (input.from !== undefined) {
        senderId = await accountIdByHandle(db.db, input.from.replace(/^@/, ''));
        if (!senderId) return { results: [], next_cursor: null };
        // A channel's posts are the channel's: searching them by an account would tell a
        // subscriber which admin wrote what. Its admins may; subscribers find nothing by sender there.
        const hidden = await channelsSubscribedOnly(db.db, principal.accountId, scopes.map((s) => s.conversationId));
        scopes = scopes.filter((s) => !hidden.has(s.conversationId));
      }
      if (scopes.length === 0) return { results: [], next_cursor: null };
      const conditions: RawBuilder<unknown>[] = [access(principal.accountId, scopes)];
      if (input.type) conditions.push(sql`(s.kinds & ${KIND_BITS[input.type]}) <> 0`);
      if (senderId) conditions.push(sql`m.sender_id = ${senderId}`);
      const where = sql.join(conditions, sql` and `);
      // The index narrows by words, type and the caller's conversations (scope tokens, see
      // search-text.ts) so that a common word costs the caller's share of its matches, not the
      // instance's; `where` then decides exactly what the caller may read.
      const expansions = db.dialect === 'sqlite' && words.length > 0 ? await expand(words) : undefined;
      // A word no message has: nothing to find.
      if (expansions?.some((terms) => terms?.length === 0)) return { results: [], next_cursor: null };
      const scoped: IndexQuery = { words, expansions, type: input.type, conversations: scopes.length <= MAX_SCOPED_CONVERSATIONS ? scopes.map((s) => s.conversationId) : null };
      const open: IndexQuery = { ...scoped, conversations: null };
      let rows: Row[];
      if (db.dialect === 'sqlite' && scopes.length > 1 && usesIndex(open)) {
        // Naming every conversation costs FTS5 a look-up per conversation, whatever the words:
        // first look at the newest FIRST_LOOK matches of the words alone. A rare word is done there
        // (all its matches seen), a word common in the caller's chats too (a page found); only a
        // word common elsewhere and rare for the caller goes on, scoped, below what was seen.
        // Not on PostgreSQL: there the newest 1,000 matches of a common word mean a bitmap of all
        // of them and a sort (bench:search: 175 ms at the median), while GIN intersects the
        // conversations' short lists cheaply.
        const ids = await matchIds(open, cursor, firstLook);
        rows = ids.length === 0 ? [] : await pageOf({ where, ids, limit: limit + 1 });
        if (rows.length <= limit && ids.length === firstLook) rows = [...rows, ...(await pageOf({ where, index: scoped, below: ids.at(-1)!, limit: limit + 1 - rows.length }))];
      } else {
        rows = await pageOf({ where, index: usesIndex(scoped) ? scoped : undefined, below: cursor, limit: limit + 1 });
      }
      const hasMore = rows.length > limit;
      const page = rows.slice(0, limit);
      return {
        results: (await visibleViews(principal, page, scopes)).map(({ row, message }) => ({ message, conversation_id: row.conversation_id, highlights: highlightsOf(message.text, words) })),
        next_cursor: hasMore ? String(page.at(-1)!.search_id) : null,
      };
    },

    /**
     * One chat's media, documents or links, newest first: search's index and access rules with
     * no words (a type and one conversation), so the gallery shows exactly what a search by type
     * finds and what history shows — the caller's stays, no deleted or deleted-for-me messages,
     * nothing before a clear, held messages to their sender alone.
     */
    async gallery(principal: Principal, conversationId: string, input: GalleryInput): Promise<GalleryReply> {
      refuseIfLimited(await galleryLimiter.hit(principal.accountId), 'gallery pages');
      const below = parseCursor(input.before, '/before');
      const limit = input.limit ?? 30;
      await requireMember(db.db, conversationId, principal.accountId);
      const scopes = await readableConversations(db.db, principal.accountId, conversationId);
      if (scopes.length === 0) return { items: [], next_cursor: null };
      const where = sql`${access(principal.accountId, scopes)} and (s.kinds & ${KIND_BITS[input.type]}) <> 0`;
      const index: IndexQuery = { words: [], type: input.type, conversations: [conversationId] };
      const rows = await pageOf({ where, index: usesIndex(index) ? index : undefined, below, limit: limit + 1 });
      const hasMore = rows.length > limit;
      const page = rows.slice(0, limit);
      const kind = GALLERY_MEDIA_KIND[input.type];
      const items = (await visibleViews(principal, page, scopes)).flatMap(({ message }): GalleryItem[] => {
        if (kind === null) {
          const links = linksAsWritten(message.text);
          return links.length > 0 ? [{ message, media: [], links }] : [];
        }
        const media = message.media.filter((m) => m.kind === kind && OPENABLE.has(m.status));
        // Every item of the kind taken down: nothing left to show for this message.
        return media.length > 0 ? [{ message, media, links: [] }] : [];
      });
      return { items, next_cursor: hasMore ? String(page.at(-1)!.search_id) : null };
    },
  };
}

export type MessageSearch = ReturnType<typeof createMessageSearch>;
