/**
 * How message search reads text: one tokeniser, here in TypeScript, for both databases. SQLite's
 * FTS5 and PostgreSQL's text search each split and fold words their own way (Unicode versions,
 * URL and e-mail parsers, stemming); to give the same answers on both, neither is asked to:
 * the index stores the words this file makes, space-separated (`message_search.terms`), SQLite
 * indexes them with FTS5's `ascii` tokeniser (which splits only at ASCII spaces and punctuation —
 * our words contain neither — and folds only ASCII case, already folded), PostgreSQL with
 * `array_to_tsvector`, which takes lexemes as given. Queries are made of the same words, quoted,
 * so nothing a person types is ever read as query syntax.
 *
 * A word: a run of letters, digits and combining marks in the text, decomposed (NFKD), marks
 * dropped, lower-cased, then split again at anything that is not a letter or a digit (NFKD can
 * turn ½ into 1⁄2). So "Café", "CAFE" and "café" are one word. Scripts written without spaces
 * (Chinese, Japanese, Thai) make one word per run: a search finds such a run by its start only.
 */
import type { SearchType } from '@mmd/contracts';
import { extractLinks } from './links.ts';

/** A word longer than this is indexed and searched by its first MAX_WORD_LENGTH code points. */
export const MAX_WORD_LENGTH = 40;
/** Distinct words indexed per message; a longer message is found by its first ones. */
export const MAX_WORDS_PER_MESSAGE = 2000;

const RUN = /[\p{L}\p{N}\p{M}]+/gu;
const PART = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}/gu;

/** The words of one run of the original text. */
function wordsOfRun(run: string): string[] {
  const folded = run.normalize('NFKD').replace(MARKS, '').toLowerCase();
  const out: string[] = [];
  for (const m of folded.matchAll(PART)) {
    const cps = Array.from(m[0]);
    out.push(cps.length > MAX_WORD_LENGTH ? cps.slice(0, MAX_WORD_LENGTH).join('') : m[0]);
  }
  return out;
}

/** The distinct words of a text, in order of first appearance. */
export function searchWords(text: string | null | undefined): string[] {
  if (!text) return [];
  const seen = new Set<string>();
  for (const run of text.matchAll(RUN)) {
    for (const w of wordsOfRun(run[0])) {
      seen.add(w);
      if (seen.size >= MAX_WORDS_PER_MESSAGE) return [...seen];
    }
  }
  return [...seen];
}

/**
 * Besides its words, a message's terms carry a token for its conversation and one per kind of
 * thing it carries. They start with "·" (U+00B7), which no word has (it is punctuation), so no
 * query word or prefix can reach them; FTS5's ascii tokeniser keeps it inside the token (it is not
 * ASCII). They let the index itself narrow a search to the caller's conversations and to a type,
 * instead of walking every match in the instance and dropping what the caller may not read.
 */
const MARK = '\u00b7';

/** The token of a conversation (its id in hex: ids mix cases, and FTS5 folds ASCII case). */
export function scopeToken(conversationId: string): string {
  return `${MARK}c${Buffer.from(conversationId, 'utf8').toString('hex')}`;
}

/** The token of a kind of content (photo, video, …). */
export function kindToken(type: SearchType): string {
  return `${MARK}k${type}`;
}

/** What `message_search.terms` holds: the text's words, its conversation's token, its kinds' tokens. */
export function indexTerms(o: { text: string | null | undefined; conversationId: string; kinds: number }): string {
  const kinds = (Object.keys(KIND_BITS) as SearchType[]).filter((t) => (o.kinds & KIND_BITS[t]) !== 0).map(kindToken);
  return [...searchWords(o.text), scopeToken(o.conversationId), ...kinds].join(' ');
}

/** What one search asks the index: words (each a prefix), a kind, and conversations (any of them). */
export interface IndexQuery {
  words: readonly string[];
  /**
   * SQLite only: each word's prefix expanded to the index's terms (null: too many, ask for the
   * prefix). FTS5 reads an OR of terms lazily, newest first, but builds a prefix's whole list of
   * matches before the first one: for a word in half the messages, most of a search's time.
   */
  expansions?: readonly (readonly string[] | null)[];
  type?: SearchType | undefined;
  /** Null: every conversation (the caller is in too many to list; the access check alone narrows). */
  conversations: readonly string[] | null;
}

/** Whether the index has anything to narrow by (else the search walks message_search by id). */
export function usesIndex(q: IndexQuery): boolean {
  return q.words.length > 0 || q.type !== undefined || q.conversations !== null;
}

/**
 * The FTS5 query: each word quoted (a double quote inside doubled, though our words have none) as
 * a prefix, all required, with the kind and one of the conversations. Never built from the raw
 * query text.
 */
export function fts5Query(q: IndexQuery): string {
  const quote = (t: string) => `"${t.replaceAll('"', '""')}"`;
  const parts = q.words.map((w, i) => {
    const terms = q.expansions?.[i];
    return terms ? `(${terms.map(quote).join(' OR ')})` : `${quote(w)}*`;
  });
  if (q.type) parts.push(quote(kindToken(q.type)));
  if (q.conversations) parts.push(`(${q.conversations.map((c) => quote(scopeToken(c))).join(' OR ')})`);
  return parts.join(' AND ');
}

/**
 * The same as a PostgreSQL tsquery literal: quoted lexemes, `:*` for prefixes. Cast with
 * `::tsquery` (not to_tsquery, which would parse and fold them again).
 */
export function tsQuery(q: IndexQuery): string {
  const quote = (t: string) => `'${t.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
  const parts = q.words.map((w) => `${quote(w)}:*`);
  if (q.type) parts.push(quote(kindToken(q.type)));
  if (q.conversations) parts.push(`(${q.conversations.map((c) => quote(scopeToken(c))).join(' | ')})`);
  return parts.join(' & ');
}

/**
 * Where the query's words match in a text: each run of the text holding a word that starts with
 * one of them, as UTF-16 offsets into the text. Clients render the text with these stretches
 * marked, as text (never as HTML).
 */
export function highlightsOf(text: string | null | undefined, words: readonly string[]): { start: number; end: number }[] {
  if (!text || words.length === 0) return [];
  const out: { start: number; end: number }[] = [];
  for (const run of text.matchAll(RUN)) {
    if (wordsOfRun(run[0]).some((w) => words.some((q) => w.startsWith(q)))) {
      out.push({ start: run.index, end: run.index + run[0].length });
      if (out.length >= 100) break;
    }
  }
  return out;
}

/** What a message carries, as bits of `message_search.kinds`. */
export const KIND_BITS: Record<SearchType, number> = { photo: 1, video: 2, voice: 4, document: 8, link: 16 };

const MEDIA_KIND_BITS: Record<string, number> = { image: KIND_BITS.photo, video: KIND_BITS.video, audio: KIND_BITS.voice, document: KIND_BITS.document };

/** The kinds bits of a message with media of these kinds (null: not known yet) and this text. */
export function kindBits(mediaKinds: readonly (string | null)[], text: string | null | undefined): number {
  let bits = 0;
  for (const k of mediaKinds) bits |= (k && MEDIA_KIND_BITS[k]) || 0;
  if (extractLinks(text).length > 0) bits |= KIND_BITS.link;
  return bits;
}
