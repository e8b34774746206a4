/**
 * @mentions in groups: "@handle" in a message's text names a member. The server resolves the
 * handles against the group's current members when the message is sent or edited and stores the
 * ones it found; every view of the message carries them (`mentions`). A handle that is not a
 * member's is left as plain text, so a mention never tells anyone who is outside the group.
 */
import { type Static, Type } from 'typebox';

/** At most this many different handles are looked up per message (the rest stay plain text). */
export const MAX_MENTIONS_PER_MESSAGE = 50;

/** One person a message mentions: a member of the group when it was written (or last edited). */
export const MentionRef = Type.Object({
  account_id: Type.String(),
  handle: Type.String({ description: "the member's handle (its current spelling)" }),
});
export type MentionRef = Static<typeof MentionRef>;

/** One of your unread mentions in a chat (GET /v1/conversations/{id}/mentions). */
export const UnreadMention = Type.Object({
  message_id: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  sender_id: Type.String(),
});
export type UnreadMention = Static<typeof UnreadMention>;
export const UnreadMentionList = Type.Object({
  mentions: Type.Array(UnreadMention, { description: 'oldest first: the next one to jump to comes first' }),
  has_more: Type.Boolean(),
});
export type UnreadMentionList = Static<typeof UnreadMentionList>;
export const UnreadMentionsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'only mentions in messages with a seq greater than this' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);
export type UnreadMentionsQuery = Static<typeof UnreadMentionsQuery>;

const HANDLE_CHAR = /[A-Za-z0-9_]/;

/**
 * The handles a text mentions, lower-cased, in order of first appearance, each once, at most
 * MAX_MENTIONS_PER_MESSAGE. A mention is "@" at the start or after a character that cannot be
 * part of a word or address (so "ann@example.com" mentions nobody), then a handle's shape (a
 * letter, then 2 to 31 letters, digits or underscores) not followed by another handle character.
 * One pass over the text.
 */
export function mentionedHandles(text: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (let i = text.indexOf('@'); i !== -1 && found.length < MAX_MENTIONS_PER_MESSAGE; i = text.indexOf('@', i + 1)) {
    const before = i > 0 ? text[i - 1]! : '';
    if (before !== '' && (HANDLE_CHAR.test(before) || before === '@' || before === '.' || before === '/')) continue;
    let end = i + 1;
    while (end < text.length && end - i - 1 < 33 && HANDLE_CHAR.test(text[end]!)) end++;
    const handle = text.slice(i + 1, end);
    if (handle.length < 3 || handle.length > 32 || !/^[A-Za-z]/.test(handle)) continue;
    const key = handle.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      found.push(key);
    }
    i = end - 1;
  }
  return found;
}

/**
 * Whether a message mentions this account (a notification breaks through a muted chat for it).
 * Works on any view of a message, including a `message.created` or `message.edited` payload.
 */
export function mentionsAccount(message: { mentions?: readonly MentionRef[] | undefined }, accountId: string): boolean {
  return message.mentions?.some((m) => m.account_id === accountId) ?? false;
}
