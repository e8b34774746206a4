/** Message search: GET /v1/search (messaging/search.ts on the server). */
import { type Static, Type } from 'typebox';
import { Message } from './schemas.ts';

/** Characters of `q` accepted; longer queries are refused (validation_failed). */
export const MAX_SEARCH_QUERY_LENGTH = 200;
/** Words of `q` used; a query with more is refused (validation_failed). */
export const MAX_SEARCH_WORDS = 8;
/** Results per page at most. */
export const MAX_SEARCH_LIMIT = 50;

/** What a message carries: a photo, a video, a voice note or other audio, a document, a link in its text. */
export const SearchType = Type.Enum(['photo', 'video', 'voice', 'document', 'link'], {
  description: 'photo: an image; video; voice: a voice note or other audio; document: any other file; link: an http(s) link in its text',
});
export type SearchType = Static<typeof SearchType>;

export const SearchQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        maxLength: MAX_SEARCH_QUERY_LENGTH,
        description:
          'words to find, all of them, each as the start of a word of the message (case, accents and punctuation ignored; quotes, *, -, OR, NEAR are plain text). May be left out only with type or from.',
      }),
    ),
    conversation_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'search this conversation only (you must be a member)' })),
    type: Type.Optional(SearchType),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "the sender's handle" })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'next_cursor of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SEARCH_LIMIT, default: 20 })),
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;

/** A stretch of `message.text` that matched: UTF-16 offsets, as JavaScript's String.slice takes them. */
export const SearchHighlight = Type.Object({
  start: Type.Integer({ minimum: 0 }),
  end: Type.Integer({ minimum: 0 }),
});
export type SearchHighlight = Static<typeof SearchHighlight>;

export const SearchResult = Type.Object({
  message: Message,
  conversation_id: Type.String(),
  highlights: Type.Array(SearchHighlight, { description: 'where the query words matched in message.text, in order; render as text, never as HTML' }),
});
export type SearchResult = Static<typeof SearchResult>;

export const SearchReply = Type.Object({
  results: Type.Array(SearchResult, { description: 'newest first (the order messages were written)' }),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as cursor for older results; null at the end' }),
});
export type SearchReply = Static<typeof SearchReply>;
