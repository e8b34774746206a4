/**
 * The team inbox of a business: every customer's direct chat with the business in one list, with
 * assignment, status (open / pending / resolved), internal notes the customer never sees, canned
 * replies, and automation's bot/human hand-off. Team members call it with `x-mmd-business`; the
 * business account itself calls it as the owner.
 */
import { type Static, Type } from 'typebox';
import { MAX_MESSAGE_TEXT, Message } from './schemas.ts';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

/** open: someone on the team should act; pending: waiting for the customer; resolved: done (a new customer message reopens it). */
export const InboxStatus = Type.Enum(['open', 'pending', 'resolved']);
export type InboxStatus = Static<typeof InboxStatus>;

/** Most notes one conversation keeps. */
export const MAX_INBOX_NOTES = 500;
/** Largest internal note, in characters. */
export const MAX_INBOX_NOTE_TEXT = 4096;

const Person = Type.Object({ id: Type.String(), handle: Type.String() });

/** One conversation as the inbox lists it. */
export const InboxConversation = Type.Object({
  conversation_id: Type.String(),
  customer: Person,
  status: InboxStatus,
  /** The team member it is assigned to, or null (unassigned). */
  assignee: Type.Union([Person, Type.Null()]),
  /** Who answers: automation ('bot') or a person on the team ('human'), automation's hand-off state; null when the business has no automation on. */
  handoff: Type.Union([Type.Enum(['bot', 'human']), Type.Null()]),
  /** Newest message either way. */
  last_activity_at: Millis,
  /** When the customer last wrote. */
  last_customer_message_at: Type.Union([Millis, Type.Null()]),
  /** The newest message's text, shortened (null for media alone or a deleted message). */
  last_message_preview: Type.Union([Type.String(), Type.Null()]),
  /** Who wrote the newest message. */
  last_message_from: Type.Union([Type.Enum(['customer', 'business']), Type.Null()]),
  created_at: Millis,
});
export type InboxConversation = Static<typeof InboxConversation>;

/** A note only the business's team sees: never a message, never in the customer's chat, stream, history or webhooks. */
export const InboxNote = Type.Object({
  id: Type.String(),
  conversation_id: Type.String(),
  author: Person,
  text: Type.String(),
  created_at: Millis,
});
export type InboxNote = Static<typeof InboxNote>;

export const InboxListQuery = Type.Object(
  {
    /** mine: assigned to the caller; unassigned: to nobody; all (default). */
    assignee: Type.Optional(Type.Enum(['all', 'mine', 'unassigned'])),
    status: Type.Optional(InboxStatus),
    /** The start of the customer's handle (case-insensitive). */
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the `next` of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 30 })),
  },
  { additionalProperties: false },
);
export type InboxListQuery = Static<typeof InboxListQuery>;

export const InboxList = Type.Object({
  conversations: Type.Array(InboxConversation),
  /** Pass back as `cursor` for the next page; null on the last. */
  next: Type.Union([Type.String(), Type.Null()]),
});
export type InboxList = Static<typeof InboxList>;

/** GET /v1/business/inbox/{id}: the conversation, its messages (newest page) and its notes. */
export const InboxConversationDetail = Type.Object({
  conversation: InboxConversation,
  messages: Type.Array(Message),
  has_more: Type.Boolean({ description: 'older messages exist: ask again with before=<the oldest seq>' }),
  notes: Type.Array(InboxNote),
});
export type InboxConversationDetail = Static<typeof InboxConversationDetail>;

export const InboxDetailQuery = Type.Object(
  {
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'messages with seq less than this' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);

export const UpdateInboxConversationBody = Type.Object(
  {
    /** A team member who may reply (owner, admin, agent), or null to unassign. */
    assignee_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    /** With assignee_id: fail with 409 `conflict` if someone else has it already (two agents taking it at once). */
    if_unassigned: Type.Optional(Type.Boolean()),
    status: Type.Optional(InboxStatus),
    /** Take the chat from automation ('human') or hand it back ('bot'). */
    handoff: Type.Optional(Type.Enum(['bot', 'human'])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateInboxConversationBody = Static<typeof UpdateInboxConversationBody>;

export const AddInboxNoteBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: MAX_INBOX_NOTE_TEXT }) }, { additionalProperties: false });
export type AddInboxNoteBody = Static<typeof AddInboxNoteBody>;

export const InboxReplyBody = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_TEXT }),
    reply_to: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type InboxReplyBody = Static<typeof InboxReplyBody>;

/** A saved reply for the composer: automation's templates ({{handle}}, {{business}}, {{date}}, {{time}} filled when used). */
export const CannedReply = Type.Object({ id: Type.String(), name: Type.String(), text: Type.String(), created_at: Millis, updated_at: Millis });
export type CannedReply = Static<typeof CannedReply>;
export const CannedReplyList = Type.Object({ canned_replies: Type.Array(CannedReply) });
export type CannedReplyList = Static<typeof CannedReplyList>;
export const CreateCannedReplyBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }), text: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_TEXT }) },
  { additionalProperties: false },
);
export type CreateCannedReplyBody = Static<typeof CreateCannedReplyBody>;

/** What changed, in an `inbox.updated` event. */
export type InboxChange = 'message' | 'reply' | 'assigned' | 'status' | 'handoff';
