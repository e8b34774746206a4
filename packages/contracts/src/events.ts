/**
 * Events a client receives, over the WebSocket stream or from `GET /v1/updates`. Every event has a
 * `cursor`: strictly increasing across everything one account can see, so a client that keeps the
 * last cursor it processed can resume from it and get every later event once, in order.
 */
import { type Static, Type } from 'typebox';

export const EVENT_TYPES = [
  'conversation.created',
  'message.created',
  'message.edited',
  'message.deleted',
  'reaction.changed',
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
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const SyncEvent = Type.Object({
  cursor: Type.Integer({ minimum: 1 }),
  type: Type.String({ description: `one of ${EVENT_TYPES.join(', ')}` }),
  conversation_id: Type.Union([Type.String(), Type.Null()]),
  at: Type.Integer({ minimum: 0 }),
  data: Type.Unknown(),
});
/** One event as the client sees it. `data` depends on `type` (a Message for message.*). */
export type SyncEvent = Static<typeof SyncEvent>;

export const UpdatesReply = Type.Object({
  events: Type.Array(SyncEvent),
  cursor: Type.Integer({ minimum: 0, description: 'pass this back as ?cursor= to continue' }),
  has_more: Type.Boolean(),
});
export type UpdatesReply = Static<typeof UpdatesReply>;

export const UpdatesState = Type.Object({
  cursor: Type.Integer({ minimum: 0, description: 'every later event comes after this cursor' }),
});
export type UpdatesState = Static<typeof UpdatesState>;

/**
 * Frames on the WebSocket (`GET /v1/stream`). Server → client: `{type:"ready", cursor}` once
 * caught up, then `{type:"event", event}` for each event, `{type:"typing", …}` (ephemeral: never
 * stored or replayed) and `{type:"error", code, detail}`. Client → server: `{type:"ack", cursor}`
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
