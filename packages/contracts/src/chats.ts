/**
 * How one person keeps a chat: muted, pinned, archived, marked unread, cleared. These belong to
 * the person, not the chat (nobody else sees them), and reach all of their devices through the
 * event stream (`chat.settings_updated`, addressed to them alone).
 */
import { type Static, Type } from 'typebox';

import { MAX_PINNED_CHATS, MUTED_FOREVER, MUTE_CHOICES } from './chat-rules.ts';

export * from './chat-rules.ts';
export const MuteChoice = Type.Enum([...MUTE_CHOICES]);
export type MuteChoice = Static<typeof MuteChoice>;

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

export const ChatSettings = Type.Object({
  conversation_id: Type.String(),
  muted_until: Type.Union([Millis, Type.Null()], {
    description: `notifications are silent until this time (${MUTED_FOREVER}: always); null or past: not muted`,
  }),
  pinned_at: Type.Union([Millis, Type.Null()], { description: `when the chat was pinned to the top of the list (null: not pinned; at most ${MAX_PINNED_CHATS})` }),
  archived: Type.Boolean({ description: 'listed under "Archived" instead of the main list' }),
  marked_unread: Type.Boolean({ description: 'the person marked the chat unread (a dot in the list) until they open it' }),
  cleared_seq: Type.Integer({ minimum: 0, description: '"Clear chat": messages up to this seq are gone for this person (not for the others)' }),
});
/** One person's settings for one chat. */
export type ChatSettings = Static<typeof ChatSettings>;

export const UpdateChatSettingsBody = Type.Object(
  {
    mute: Type.Optional(MuteChoice),
    pinned: Type.Optional(Type.Boolean()),
    archived: Type.Optional(Type.Boolean()),
    marked_unread: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
/** What a person changes about how they keep a chat (at least one field). */
export type UpdateChatSettingsBody = Static<typeof UpdateChatSettingsBody>;
