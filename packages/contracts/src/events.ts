/**
 * Events a client receives, over the WebSocket stream or from `GET /v1/updates`. Every event has a
 * `cursor`: strictly increasing across everything one account can see, so a client that keeps the
 * last cursor it processed can resume from it and get every later event once, in order.
 */
import { type Static, Type } from 'typebox';
import type { ChatSettings } from './chats.ts';
import type { Invitation } from './privacy.ts';
import type { ReportReason } from './safety.ts';
import type { InboxChange, InboxConversation, InboxNote } from './inbox.ts';
import type { LinkPreview, MediaSummary, Message } from './schemas.ts';

export const EVENT_TYPES = [
  'conversation.created',
  /** An admin changed a group's or channel's title or history setting: data is the new `{id, title, history_visible}`. */
  'conversation.updated',
  /** To the invitee alone: an Invitation (their privacy setting asked for one instead of an add). */
  'invitation.created',
  /** To the invitee alone: `{id, accepted}` — answered on one of their devices. */
  'invitation.closed',
  'message.created',
  'message.edited',
  'message.deleted',
  'reaction.changed',
  /** A message's link preview was made, or its sender removed it: `{message_id, link_preview}` (null: removed). */
  'message.link_preview',
  'member.joined',
  'member.removed',
  'member.role_changed',
  'receipt.updated',
  'message.failed',
  'media.updated',
  /** To a reporter alone: the outcome of their report. */
  'report.resolved',
  /** A delivered item now matches a blur bank: show it behind a warning. */
  'message.media_flagged',
  /** A poll's latest counts: small and coalesced (a burst of votes → few events), never the whole message. */
  'poll.updated',
  /** To the sender bot alone: a person tapped a callback button; answer with POST /v1/callbacks/{id}/answer. */
  'callback.query',
  /** To the person who tapped alone (all their devices): the bot's answer to their callback query. */
  'callback.answered',
  /** To the sender alone: a person picked a row of a list. */
  'list.selected',
  /** To the sender alone, non-anonymous polls: how a person voted (`options: []` = retracted). */
  'poll.answer',
  /** To the sender alone: a person submitted (or edited) their answers to a form. */
  'form.submitted',
  /** A form's submission count or closed state changed (coalesced like poll.updated). */
  'form.updated',
  /** To a webhook's owner alone: it was disabled after failing for too long. */
  'webhook.disabled',
  /** To a business's team alone (each member): an inbox conversation was assigned, changed status or hand-off, or got a message. */
  'inbox.updated',
  /** To a business's team alone: an internal note (never a message; customers never see it). */
  'inbox.note_added',
  /** To the business alone: a transactional notification went out (its message is in the contact's chat). */
  'notification.sent',
  /** To the business alone: the contact's device received the notification. */
  'notification.delivered',
  /** To the business alone: the contact read the notification. */
  'notification.read',
  /** To the business alone: the notification could not be sent; `reason` says why. */
  'notification.failed',
  /**
   * Someone's display name, about line or photo changed: to their direct chats and groups, and to
   * themselves. Photo URLs are per viewer, so the event names the photo; read it with GET /v1/profiles.
   */
  'profile.updated',
  /** To one person alone (all their devices): how they keep a chat now (mute, pin, archive, unread mark, cleared up to). */
  'chat.settings_updated',
  /** To one person alone: messages they deleted for themselves ("delete for me"). */
  'message.hidden',
  /** A message was pinned to the top of its chat, or unpinned: `{conversation_id, message_id, pinned, by}`. */
  'message.pinned',
  /** To one person alone: they starred or unstarred a message. */
  'message.starred',
  /** To one person alone: their draft in a chat changed on one of their devices (`text: ""`: gone). */
  'draft.updated',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Who did something to a membership or message: an account id, or null for the system or moderators. */
type By = string | null;

/**
 * The payload (`data`) of each event type. The server writes events through this map, and the
 * SDK's `SyncEvent` narrows `data` by `type`, so a new event type is added here first and the
 * compiler finds every writer and reader that must follow.
 */
export interface EventPayloads {
  /** Created with you in it (direct chat, group or channel). */
  'conversation.created': {
    conversation: { id: string; kind: string; title: string | null; handle: string | null; created_by: string; created_at: number };
    member_ids: string[];
  };
  'conversation.updated': { id: string; title: string | null; history_visible: boolean; by: string };
  'invitation.created': Invitation;
  'invitation.closed': { id: string; accepted: boolean };
  'message.created': Message;
  /** The whole message as it now is. */
  'message.edited': Message;
  /** `reason: "removed"` when moderators took it down. */
  'message.deleted': { id: string; conversation_id: string; seq: number; by: By; reason?: string };
  'message.link_preview': { message_id: string; link_preview: LinkPreview | null };
  'reaction.changed': {
    message_id: string;
    account_id: string;
    emoji: string;
    action: 'added' | 'removed';
    reactions: Message['reactions'];
  };
  'member.joined': { account_id: string; handle: string; role: 'owner' | 'admin' | 'member'; by: By };
  /** `left` when they left on their own. */
  'member.removed': { account_id: string; by: By; left: boolean };
  'member.role_changed': { account_id: string; role: 'owner' | 'admin' | 'member'; by: By };
  /**
   * A member's delivered and read marks (message seqs) in this conversation. `reads_private`
   * (direct chats where either person has read receipts off): the reader's own devices get their
   * real marks, the other person read_seq 0; neither side shows reads to the other.
   */
  'receipt.updated': { account_id: string; delivered_seq: number; read_seq: number; reads_private?: true };
  /** To the sender: a message whose media could not be processed, or that was held and refused. */
  'message.failed': { message_id: string; conversation_id: string; reason: string };
  /** To the uploader: the item's new state. */
  'media.updated': MediaSummary & { reason?: string | null; reason_code?: string | null };
  'report.resolved': { report_id: string; message_id: string | null; reason: ReportReason; outcome: 'removed' | 'no_action' };
  'message.media_flagged': { message_id: string; conversation_id: string; media_id: string; blurred: true };
  'poll.updated': { message_id: string; conversation_id: string; counts: number[]; voters: number; closed: boolean };
  'callback.query': {
    /** The query id to answer. */
    id: string;
    message_id: string;
    conversation_id: string;
    from: { id: string; handle: string };
    button_id: string;
    data: string;
  };
  'callback.answered': { id: string; message_id: string; conversation_id: string; text: string; alert: boolean; url?: string };
  'list.selected': { message_id: string; conversation_id: string; from: { id: string; handle: string }; row_id: string; title: string };
  'poll.answer': { message_id: string; conversation_id: string; from: { id: string; handle: string }; options: number[] };
  'form.submitted': {
    message_id: string;
    conversation_id: string;
    from: { id: string; handle: string };
    answers: Record<string, string | number | number[]>;
    /** true when this replaces an earlier submission. */
    edited: boolean;
  };
  'form.updated': { message_id: string; conversation_id: string; submissions: number; closed: boolean };
  'webhook.disabled': { webhook_id: string; account_id: string; url: string; reason: string; failing_since: number | null };
  /**
   * `conversation`: the inbox entry as it now is, without its preview (`last_message_preview`
   * null: read the list); `by`: the team member who changed it (null for the customer or
   * automation); `message_id`: the new message, for `message` and `reply` — read it with
   * GET /v1/business/inbox/{id}. Events carry no message content, so a message deleted later is
   * not left readable in the event log.
   */
  'inbox.updated': { business_id: string; change: InboxChange; by: string | null; conversation: InboxConversation; message_id?: string };
  'inbox.note_added': { business_id: string; conversation_id: string; note: InboxNote };
  'notification.sent': NotificationView;
  'notification.delivered': NotificationView;
  'notification.read': NotificationView;
  'notification.failed': NotificationView;
  'profile.updated': { account_id: string; handle: string; display_name: string | null; about: string | null; photo_id: string | null; updated_at: number };
  'chat.settings_updated': ChatSettings;
  'message.hidden': { conversation_id: string; message_ids: string[] };
  'message.pinned': { conversation_id: string; message_id: string; pinned: boolean; by: string };
  'message.starred': { conversation_id: string; message_id: string; starred: boolean };
  'draft.updated': { conversation_id: string; text: string; updated_at: number };
}

/** A transactional notification as its status events carry it (campaigns.ts: Notification). */
interface NotificationView {
  id: string;
  contact_id: string;
  template_version_id: string;
  idempotency_key: string;
  status: 'queued' | 'sent' | 'delivered' | 'read' | 'failed';
  reason: string | null;
  message_id: string | null;
  created_at: number;
  updated_at: number;
}

// Every type in EVENT_TYPES has a payload, and every payload a type.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _payloadForEveryType: Exactly<EventType, keyof EventPayloads> = true;
void _payloadForEveryType;

export const SyncEvent = Type.Object({
  cursor: Type.Integer({ minimum: 1 }),
  type: Type.String({ description: `one of ${EVENT_TYPES.join(', ')}` }),
  conversation_id: Type.Union([Type.String(), Type.Null()]),
  at: Type.Integer({ minimum: 0 }),
  data: Type.Unknown(),
});
/** One event of type `K` as the client sees it. */
export interface SyncEventOf<K extends EventType> {
  cursor: number;
  type: K;
  conversation_id: string | null;
  at: number;
  data: EventPayloads[K];
}
/**
 * One event as the client sees it: a union over the event types, so checking `type` narrows
 * `data` (`if (e.type === 'message.created') e.data.text`).
 */
export type SyncEvent = { [K in EventType]: SyncEventOf<K> }[EventType];

export const UpdatesReply = Type.Object({
  events: Type.Array(SyncEvent),
  cursor: Type.Integer({ minimum: 0, description: 'pass this back as ?cursor= to continue' }),
  has_more: Type.Boolean(),
});
export type UpdatesReply = Omit<Static<typeof UpdatesReply>, 'events'> & { events: SyncEvent[] };

export const UpdatesState = Type.Object({
  cursor: Type.Integer({ minimum: 0, description: 'every later event comes after this cursor' }),
});
export type UpdatesState = Static<typeof UpdatesState>;

/**
 * Frames on the WebSocket (`GET /v1/stream`). Server → client: `{type:"ready", cursor}` once
 * caught up, then `{type:"event", event}` for each event, `{type:"typing", …}` (ephemeral: never
 * stored or replayed) and `{type:"error", code, detail}`. A cursor beyond the newest event (the
 * server's database was restored from a backup) gets `{type:"error", code:"cursor_expired"}` and
 * close code 4010: read `GET /v1/updates/state`, reload, and reconnect from that cursor (the SDK's
 * stream does this and calls `onReset`). Client → server: `{type:"ack", cursor}`
 * (marks messages delivered), `{type:"typing", conversation_id}` (direct chats and groups of up to
 * 100; send at most every few seconds while typing) and `{type:"ping"}`.
 */
export interface TypingFrame {
  type: 'typing';
  conversation_id: string;
  account_id: string;
  handle: string;
}
export type StreamServerFrame =
  | { type: 'ready'; cursor: number }
  | { type: 'event'; event: SyncEvent }
  | TypingFrame
  | { type: 'pong' }
  | { type: 'error'; code: string; detail: string };
export type StreamClientFrame = { type: 'ack'; cursor: number } | { type: 'typing'; conversation_id: string } | { type: 'ping' };
