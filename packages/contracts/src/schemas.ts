/**
 * Request and response schemas of the MMD HTTP API (v1). The server validates against them and
 * generates its OpenAPI document from them; the SDK takes its types from them. Field names are
 * snake_case on the wire.
 */
import { type Static, Type } from 'typebox';
import { PASSWORD_RULE } from './password.ts';
import { MediaSummary } from './media-summary.ts';
import { AI_DISCLOSURES } from './provenance.ts';
import { ChatSettings } from './chats.ts';
import { InteractiveMessageFields, InteractiveSendFields, MessageContentType } from './interactive.ts';
import { MentionRef } from './mentions.ts';

/** Largest text a message may carry, in characters (Unicode code points). */
export const MAX_MESSAGE_TEXT = 4096;
/** Largest page of history or updates a client may ask for. */
export const MAX_PAGE_LIMIT = 200;

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

export const Handle = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: '^[A-Za-z][A-Za-z0-9_]{2,31}$',
  description: 'A public name: a letter, then letters, digits or underscores; unique ignoring case',
});
/**
 * A new password. Length is checked by the server with the rest of the rule, so every breach of
 * it answers one code, `weak_password`.
 */
export const Password = Type.String({ minLength: 1, maxLength: 256, description: `${PASSWORD_RULE} Refused with code weak_password.` });
export const DeviceName = Type.String({ minLength: 1, maxLength: 64 });

export const AccountKind = Type.Enum(['person', 'bot', 'business']);
export type AccountKind = Static<typeof AccountKind>;
export const AccountRole = Type.Enum(['user', 'moderator', 'admin']);
export type AccountRole = Static<typeof AccountRole>;

export const Account = Type.Object({
  id: Id('account id'),
  handle: Type.String(),
  kind: AccountKind,
  role: AccountRole,
  created_at: Millis,
});
export type Account = Static<typeof Account>;

export const Device = Type.Object({
  id: Id('device id'),
  name: Type.String(),
  created_at: Millis,
  last_seen_at: Millis,
  current: Type.Boolean({ description: 'true for the device whose token made this request' }),
});
export type Device = Static<typeof Device>;

/** Changing one's password: the current one proves it is really them (a stolen session is not enough). */
export const ChangePasswordBody = Type.Object(
  { current_password: Type.String({ minLength: 1, maxLength: 256 }), new_password: Password },
  { additionalProperties: false },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;
export const ChangePasswordReply = Type.Object({ signed_out_devices: Type.Integer({ minimum: 0, description: 'your other devices, signed out by the change' }) });
export type ChangePasswordReply = Static<typeof ChangePasswordReply>;
export const CreateAccountBody = Type.Object(
  { handle: Handle, password: Password, kind: Type.Optional(AccountKind), device_name: Type.Optional(DeviceName) },
  { additionalProperties: false },
);
export type CreateAccountBody = Static<typeof CreateAccountBody>;
export const CreateAccountReply = Type.Object({ account: Account, token: Type.String(), device: Device });
export type CreateAccountReply = Static<typeof CreateAccountReply>;

export const CreateSessionBody = Type.Object(
  { handle: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }), device_name: Type.Optional(DeviceName) },
  { additionalProperties: false },
);
export type CreateSessionBody = Static<typeof CreateSessionBody>;
export const CreateSessionReply = Type.Object({ token: Type.String(), device: Device, account: Account });
export type CreateSessionReply = Static<typeof CreateSessionReply>;

/** What an API key may do. A device token may do everything its account may. */
export const API_SCOPES = [
  'messages:read',
  'messages:write',
  'conversations:write',
  'updates:read',
  // A business's API keys (business messaging): what each key may do on the business's behalf.
  'business:read',
  'contacts:write',
  'contacts:export',
  'templates:write',
  'campaigns:write',
  'notifications:write',
  'inbox:write',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];
export const ApiScopeSchema = Type.Enum([...API_SCOPES]);

export const ApiKey = Type.Object({
  id: Id('api key id'),
  name: Type.String(),
  scopes: Type.Array(ApiScopeSchema),
  created_at: Millis,
});
export type ApiKey = Static<typeof ApiKey>;
export const CreateApiKeyBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }), scopes: Type.Array(ApiScopeSchema, { minItems: 1, maxItems: API_SCOPES.length, uniqueItems: true }) },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;
export const CreateApiKeyReply = Type.Object({ api_key: ApiKey, key: Type.String({ description: 'shown once; store it' }) });
export type CreateApiKeyReply = Static<typeof CreateApiKeyReply>;

export const ConversationKind = Type.Enum(['direct', 'group', 'channel']);
export type ConversationKind = Static<typeof ConversationKind>;
export const MemberRole = Type.Enum(['owner', 'admin', 'member']);
export type MemberRole = Static<typeof MemberRole>;

export const Conversation = Type.Object({
  id: Id('conversation id'),
  kind: ConversationKind,
  title: Type.Union([Type.String(), Type.Null()]),
  handle: Type.Union([Type.String(), Type.Null()]),
  created_by: Type.String(),
  created_at: Millis,
  member_count: Type.Integer({ minimum: 0 }),
  last_seq: Type.Integer({ minimum: 0, description: 'seq of the newest message' }),
  my_role: Type.Union([MemberRole, Type.Null()]),
  read_seq: Type.Integer({ minimum: 0, description: 'the caller has read every message up to this seq' }),
  unread_count: Type.Integer({ minimum: 0 }),
  unread_mentions: Type.Integer({ minimum: 0, description: 'groups: unread messages that mention the caller (GET /v1/conversations/{id}/mentions lists them); 0 elsewhere' }),
  history_visible: Type.Boolean({
    description: 'groups: new members read messages sent before they joined (never what was sent while they were out); channels and direct chats: always true',
  }),
  peer: Type.Optional(
    Type.Object({
      account_id: Type.String(),
      handle: Type.String(),
      delivered_seq: Type.Integer({ minimum: 0 }),
      read_seq: Type.Integer({ minimum: 0 }),
    }, { description: 'direct chats only: the other person and how far they have received and read' }),
  ),
  last_message: Type.Optional(Type.Union([Type.Unknown(), Type.Null()])),
  invited: Type.Optional(
    Type.Array(Type.String(), { description: 'on creation: handles invited instead of added (their privacy settings); they join if they accept' }),
  ),
  settings: Type.Optional(ChatSettings),
  sign_posts: Type.Optional(Type.Boolean({ description: "channels: posts carry their admin's display name as a signature (default false: posts show the channel alone)" })),
});
export type Conversation = Static<typeof Conversation>;

export const CreateConversationBody = Type.Object(
  {
    kind: ConversationKind,
    members: Type.Optional(Type.Array(Handle, { maxItems: 1000, uniqueItems: true })),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    handle: Type.Optional(Handle),
  },
  { additionalProperties: false },
);
export type CreateConversationBody = Static<typeof CreateConversationBody>;

/** What a group's or channel's admins may change (at least one field). */
export const UpdateConversationBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    history_visible: Type.Optional(Type.Boolean({ description: 'groups only: new members read earlier history' })),
    sign_posts: Type.Optional(Type.Boolean({ description: "channels only: sign new posts with the posting admin's display name" })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateConversationBody = Static<typeof UpdateConversationBody>;

export const Member = Type.Object({
  account_id: Type.String(),
  handle: Type.String(),
  role: MemberRole,
  joined_at: Millis,
});
export type Member = Static<typeof Member>;
export const AddMemberBody = Type.Object({ handle: Handle }, { additionalProperties: false });
export const SetRoleBody = Type.Object({ role: Type.Enum(['admin', 'member']) }, { additionalProperties: false });

export const Reaction = Type.Object({ emoji: Type.String(), count: Type.Integer({ minimum: 1 }) });
export const Forward = Type.Object({
  origin_message_id: Type.String(),
  origin_conversation_id: Type.String(),
  origin_sender_id: Type.String(),
  hops: Type.Integer({ minimum: 1, description: 'how many times this content has been forwarded' }),
  label: Type.Union([Type.Literal('forwarded'), Type.Literal('forwarded_many_times')], {
    description: 'what clients show: "Forwarded many times" from 5 hops (such a message may be forwarded to one chat a minute, any other to 5)',
  }),
});

/**
 * How far a message's picture or video has travelled, counted per near-duplicate cluster: a
 * forward, a re-upload, a crop or a screenshot of the same picture inherit its hops.
 */
export const Spread = Type.Object({
  cluster_id: Type.String({ description: 'the same id on every message carrying the same picture or video (or a near-duplicate of it)' }),
  hops: Type.Integer({ minimum: 0, description: 'how many times it had been passed on before reaching this chat, whatever the route' }),
  label: Type.Union([Type.Literal('forwarded'), Type.Literal('forwarded_many_times'), Type.Literal('spreading_fast'), Type.Null()], {
    description: '"Forwarded" from 1 hop, "Forwarded many times" from 5; "Spreading fast" when its cluster was reaching new chats faster than the instance allows as it was sent',
  }),
  held: Type.Optional(Type.Boolean({ description: "to its sender only: held for a moderator's review (it is spreading too fast, or your shares are under review); it reaches the chat if they clear it" })),
});
export type Spread = Static<typeof Spread>;

export { MediaSummary } from './media-summary.ts';

/**
 * A preview of the first link in a message's text, made by the server (never the sender's
 * device): its page's title, description and picture. The picture is a media item like any
 * upload (processed, stripped, screened), fetched with GET /v1/media/{id} by anyone who can read
 * the message; never the page's own image URL.
 */
export const LinkPreview = Type.Object({
  url: Type.String({ description: 'the link as written in the text' }),
  title: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  site_name: Type.Union([Type.String(), Type.Null()]),
  image: Type.Union([MediaSummary, Type.Null()]),
});
export type LinkPreview = Static<typeof LinkPreview>;

export const Message = Type.Object({
  id: Id('message id'),
  conversation_id: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  sender_id: Type.String(),
  sender_handle: Type.String(),
  text: Type.Union([Type.String(), Type.Null()]),
  reply_to: Type.Union([Type.String(), Type.Null()]),
  forward: Type.Union([Forward, Type.Null()]),
  spread: Type.Optional(Type.Union([Spread, Type.Null()], { description: 'on messages with media: its spread per near-duplicate cluster (null before its media was screened into one)' })),
  reactions: Type.Array(Reaction),
  media: Type.Array(MediaSummary),
  mentions: Type.Array(MentionRef, {
    description: 'groups: the members its text mentions (@handle), resolved when it was sent or last edited; a handle of anyone else stays plain text. Empty in direct chats and channels, and once deleted',
  }),
  status: Type.Enum(['sent', 'pending', 'failed'], { description: 'pending: waiting for its media to finish processing (only the sender sees it)' }),
  created_at: Millis,
  edited_at: Type.Union([Millis, Type.Null()]),
  deleted: Type.Boolean(),
  removed: Type.Optional(Type.Boolean({ description: 'present (true) on a deleted message that moderators took down, rather than a person deleting it' })),
  automated: Type.Optional(Type.Boolean({ description: "present (true) when a business's automation (a rule or the assistant) sent it, not a person: clients label it" })),
  sender_kind: Type.Optional(
    Type.Enum(['bot', 'business', 'channel'], {
      description: "present when a bot or a business account sent it (absent for people): clients label it; 'channel': a channel post, whose sender_id and sender_handle are the channel's own (id and handle), never the posting admin's",
    }),
  ),
  signature: Type.Optional(Type.String({ description: "channel posts of a channel that signs them: the posting admin's display name (or handle) when it was posted" })),
  views: Type.Optional(Type.Integer({ minimum: 0, description: 'channel posts: how many subscribers have seen it (each once; from read marks and view calls)' })),
  agent: Type.Optional(
    Type.Object(
      { id: Type.String(), handle: Type.String() },
      { description: "present on a business's message that a person on its team wrote (team inbox): clients show \"Business · handle\"" },
    ),
  ),
  link_preview: Type.Optional(
    Type.Union([LinkPreview, Type.Null()], {
      description: 'present once the server has made a preview of the first link in the text (message.link_preview tells of it later); absent while none is made, or after its sender removed it',
    }),
  ),
  ...InteractiveMessageFields,
});
export type Message = Static<typeof Message>;

export const SendMessageBody = Type.Object(
  {
    text: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_MESSAGE_TEXT })),
    reply_to: Type.Optional(Id('message id in the same conversation')),
    forward_of: Type.Optional(Id('a message the sender can read, in any conversation')),
    media: Type.Optional(Type.Array(Id('a media item you uploaded'), { minItems: 1, maxItems: 10, description: 'up to 10 items: an album' })),
    idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    confirm_spread: Type.Optional(Type.Boolean({ description: 'the sender confirmed sharing media that is spreading fast; without it such a share is refused with 428 confirmation_required' })),
    link_preview: Type.Optional(Type.Boolean({ description: 'false: make no preview of the link in the text (default true: the server previews the first link)' })),
    ai_disclosure: Type.Optional(Type.Enum([...AI_DISCLOSURES], { description: 'the sender discloses that the media they uploaded for this message were made with AI (generated) or contain AI-generated parts (partial); shown as a label' })),
    ...InteractiveSendFields,
  },
  { additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBody>;
export const EditMessageBody = Type.Object(
  // Empty only for a message with media: its caption removed.
  { text: Type.String({ minLength: 0, maxLength: MAX_MESSAGE_TEXT, description: 'the new text; empty removes the caption of a message with media' }) },
  { additionalProperties: false },
);
export const ReactBody = Type.Object(
  { emoji: Type.String({ minLength: 1, maxLength: 16 }) },
  { additionalProperties: false },
);
export const ReadBody = Type.Object({ up_to_seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

export const HistoryQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'messages with seq greater than this' })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'messages with seq less than this' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: 50 })),
    type: Type.Optional(MessageContentType),
  },
  { additionalProperties: false },
);
export const HistoryReply = Type.Object({
  messages: Type.Array(Message),
  has_more: Type.Boolean(),
});
export type HistoryReply = Static<typeof HistoryReply>;

/** A message pinned at the top of its chat (admins in groups and channels; either person in a direct chat). */
export const PinnedMessage = Type.Object({ message: Message, pinned_by: Type.String(), pinned_at: Millis });
export type PinnedMessage = Static<typeof PinnedMessage>;
export const PinnedList = Type.Object({ pins: Type.Array(PinnedMessage, { description: 'newest pin first; only messages you can read' }) });
export type PinnedList = Static<typeof PinnedList>;
/** Your starred messages (yours alone), newest star first. */
export const StarredList = Type.Object({ messages: Type.Array(Type.Object({ message: Message, starred_at: Millis })) });
export type StarredList = Static<typeof StarredList>;

/** What a person was writing in a chat, kept for them across reloads and devices. */
export const Draft = Type.Object({ conversation_id: Type.String(), text: Type.String(), updated_at: Millis });
export type Draft = Static<typeof Draft>;
export const DraftList = Type.Object({ drafts: Type.Array(Draft) });
export type DraftList = Static<typeof DraftList>;
/** The draft as it now is; an empty text deletes it. */
export const PutDraftBody = Type.Object({ text: Type.String({ maxLength: MAX_MESSAGE_TEXT }) }, { additionalProperties: false });
export type PutDraftBody = Static<typeof PutDraftBody>;

export const Receipts = Type.Object({
  message_id: Type.String(),
  recipients: Type.Integer({ minimum: 0 }),
  delivered: Type.Integer({ minimum: 0 }),
  read: Type.Integer({ minimum: 0 }),
  per_recipient: Type.Optional(
    Type.Array(Type.Object({ account_id: Type.String(), handle: Type.String(), status: Type.Enum(['sent', 'delivered', 'read']) })),
  ),
});
export type Receipts = Static<typeof Receipts>;

/** Who reacted to a message, per emoji (GET /v1/messages/{id}/reactions). */
export const ReactionDetails = Type.Object({
  message_id: Type.String(),
  reactions: Type.Array(
    Type.Object({
      emoji: Type.String(),
      count: Type.Integer({ minimum: 1 }),
      accounts: Type.Array(Type.Object({ account_id: Type.String(), handle: Type.String(), reacted_at: Millis }), {
        description: 'the latest 100 who reacted with this emoji, newest first (count has them all)',
      }),
    }),
  ),
});
export type ReactionDetails = Static<typeof ReactionDetails>;

export const UpdatesQuery = Type.Object(
  {
    cursor: Type.Optional(Type.Integer({ minimum: 0, description: 'the cursor of the last event received; 0 for everything' })),
    timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, default: 0, description: 'seconds to wait for an event when none is ready' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: 100 })),
  },
  { additionalProperties: false },
);

export const ConversationList = Type.Object({ conversations: Type.Array(Conversation) });
export const MemberList = Type.Object({ members: Type.Array(Member), next: Type.Union([Type.String(), Type.Null()]) });
export const DeviceList = Type.Object({ devices: Type.Array(Device) });
export const ApiKeyList = Type.Object({ api_keys: Type.Array(ApiKey) });
