/** Message search: GET /v1/search (messaging/search.ts on the server). */
import { type Static, Type } from 'typebox';
import { MediaSummary } from './media-summary.ts';
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

/** Gallery items per page at most (GET /v1/conversations/{id}/media). */
export const MAX_GALLERY_LIMIT = 60;

/** A chat's gallery tab: the same classification as search's `type` (voice notes are left out). */
export const GalleryType = Type.Enum(['photo', 'video', 'document', 'link'], {
  description: 'photo: images; video; document: any other file; link: http(s) links in message text',
});
export type GalleryType = Static<typeof GalleryType>;

export const GalleryQuery = Type.Object(
  {
    type: GalleryType,
    before: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'next_cursor of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_GALLERY_LIMIT, default: 30 })),
  },
  { additionalProperties: false },
);
export type GalleryQuery = Static<typeof GalleryQuery>;

export const GalleryItem = Type.Object({
  message: Message,
  media: Type.Array(MediaSummary, { description: "the message's items of the asked type (photo, video, document), taken-down ones left out; empty for links" }),
  links: Type.Array(Type.String(), { description: 'type=link: the http(s) links in the message text, as written (at most 5); empty otherwise' }),
});
export type GalleryItem = Static<typeof GalleryItem>;

export const GalleryReply = Type.Object({
  items: Type.Array(GalleryItem, { description: 'newest first (the order messages were written); one per message' }),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as before for older items; null at the end' }),
});
export type GalleryReply = Static<typeof GalleryReply>;
