/**
 * MMD events as Telegram updates. An update's `update_id` is the cursor of the event it came
 * from, so updates are numbered in the order MMD committed them and "confirmed up to offset-1" is
 * "every event up to that cursor". Events a bot has no update for (receipts, reactions, its own
 * messages) are passed over; events older than 24 hours are too (Telegram keeps updates a day).
 */
import type { EventPayloads, Message } from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import { type StoredEvent, type SyncHub, eventsVisibleTo, visibleUpTo, waitForEvents } from '../sync/index.ts';
import type { Database } from '../platform/db/index.ts';
import { findMessage } from '../messaging/index.ts';
import { pollOf } from './keyboards.ts';
import type { Objects, TgUser } from './objects.ts';

export const UPDATE_TYPES = [
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'callback_query',
  'poll',
  'poll_answer',
  'my_chat_member',
  'chat_member',
] as const;
export type UpdateType = (typeof UPDATE_TYPES)[number];
/** Telegram's default when allowed_updates is empty or unset: everything but chat_member (and kinds MMD has none of). */
const DEFAULT_ALLOWED: ReadonlySet<string> = new Set(UPDATE_TYPES.filter((t) => t !== 'chat_member'));

export type Update = { update_id: number } & Partial<Record<UpdateType, unknown>>;

const DAY_MS = 24 * 60 * 60 * 1000;

export function allowedSet(stored: string | null): ReadonlySet<string> {
  const list = stored ? (JSON.parse(stored) as string[]) : [];
  return list.length > 0 ? new Set(list) : DEFAULT_ALLOWED;
}

type MemberStatus = 'creator' | 'administrator' | 'member' | 'left' | 'kicked';

function statusOf(role: 'owner' | 'admin' | 'member'): MemberStatus {
  return role === 'owner' ? 'creator' : role === 'admin' ? 'administrator' : 'member';
}

/** A ChatMember object of the given status. */
export function chatMember(status: MemberStatus, user: TgUser): Record<string, unknown> {
  switch (status) {
    case 'creator':
      return { status, user, is_anonymous: false };
    case 'administrator':
      return {
        status,
        user,
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: true,
        can_manage_video_chats: false,
        can_restrict_members: true,
        can_promote_members: false,
        can_change_info: true,
        can_invite_users: true,
        can_post_stories: false,
        can_edit_stories: false,
        can_delete_stories: false,
        can_post_messages: true,
        can_edit_messages: true,
      };
    case 'kicked':
      return { status, user, until_date: 0 };
    default:
      return { status, user };
  }
}

/** The update one event makes for this bot, or null. */
export async function updateFor(event: StoredEvent, bot: Principal, objects: Objects, options: { now: number; allowed: ReadonlySet<string>; db: Database }): Promise<Update | null> {
  if (event.created_at < options.now - DAY_MS) return null;
  const { allowed } = options;
  const make = async (type: UpdateType, build: () => Promise<unknown>): Promise<Update | null> => (allowed.has(type) ? { update_id: event.id, [type]: await build() } : null);
  switch (event.type) {
    case 'message.created':
    case 'message.edited': {
      const m = JSON.parse(event.payload) as Message;
      if (m.sender_id === bot.accountId || m.status !== 'sent' || m.deleted) return null;
      const { kind } = await objects.chatInfo(m.conversation_id);
      // A channel post names the channel, not who posted: a bot's own posts are told apart by the row.
      if (kind === 'channel' && (await findMessage(options.db.db, m.id))?.sender_id === bot.accountId) return null;
      const edited = event.type === 'message.edited';
      const type: UpdateType = kind === 'channel' ? (edited ? 'edited_channel_post' : 'channel_post') : edited ? 'edited_message' : 'message';
      return make(type, () => objects.message(m));
    }
    case 'member.joined':
    case 'member.removed':
    case 'member.role_changed': {
      if (!event.conversation_id) return null;
      const data = JSON.parse(event.payload) as EventPayloads['member.joined'] | EventPayloads['member.removed'] | EventPayloads['member.role_changed'];
      const mine = data.account_id === bot.accountId;
      const type: UpdateType = mine ? 'my_chat_member' : 'chat_member';
      if (!allowed.has(type)) return null;
      const { chat } = await objects.chatInfo(event.conversation_id);
      const subject = await objects.user(data.account_id, 'handle' in data ? data.handle : undefined);
      const by = data.by ? await objects.user(data.by) : subject;
      let old: MemberStatus;
      let now: MemberStatus;
      if (event.type === 'member.joined') {
        old = 'left';
        now = statusOf((data as EventPayloads['member.joined']).role);
      } else if (event.type === 'member.removed') {
        old = 'member';
        now = (data as EventPayloads['member.removed']).left ? 'left' : 'kicked';
      } else {
        const role = (data as EventPayloads['member.role_changed']).role;
        now = statusOf(role);
        old = now === 'member' ? 'administrator' : 'member';
      }
      return {
        update_id: event.id,
        [type]: { chat, from: by, date: Math.floor(event.created_at / 1000), old_chat_member: chatMember(old, subject), new_chat_member: chatMember(now, subject) },
      };
    }
    case 'conversation.created': {
      const data = JSON.parse(event.payload) as EventPayloads['conversation.created'];
      const { chat, kind } = await objects.chatInfo(data.conversation.id);
      // A private chat appears with its first message; a group or channel the bot was put in is a my_chat_member.
      if (kind === 'direct' || data.conversation.created_by === bot.accountId || !allowed.has('my_chat_member')) return null;
      const me = await objects.user(bot.accountId, bot.handle);
      return {
        update_id: event.id,
        my_chat_member: { chat, from: await objects.user(data.conversation.created_by), date: Math.floor(event.created_at / 1000), old_chat_member: chatMember('left', me), new_chat_member: chatMember('member', me) },
      };
    }
    case 'callback.query': {
      const data = JSON.parse(event.payload) as EventPayloads['callback.query'];
      if (!allowed.has('callback_query')) return null;
      const message = await objects.find(data.message_id);
      return {
        update_id: event.id,
        callback_query: {
          id: data.id,
          from: await objects.user(data.from.id, data.from.handle),
          ...(message ? { message: await objects.message(message) } : {}),
          chat_instance: data.conversation_id,
          data: data.data,
        },
      };
    }
    case 'poll.updated': {
      // Telegram tells a bot about the polls it sent, not about everyone's.
      if (!allowed.has('poll')) return null;
      const data = JSON.parse(event.payload) as EventPayloads['poll.updated'];
      const message = await objects.find(data.message_id);
      if (!message?.poll || message.sender_id !== bot.accountId) return null;
      return { update_id: event.id, poll: pollOf(message.id, message.poll, data) };
    }
    case 'poll.answer': {
      if (!allowed.has('poll_answer')) return null;
      const data = JSON.parse(event.payload) as EventPayloads['poll.answer'];
      return { update_id: event.id, poll_answer: { poll_id: data.message_id, user: await objects.user(data.from.id, data.from.handle), option_ids: data.options } };
    }
    default:
      return null;
  }
}

/**
 * Reads updates after `cursor`: events are read a page at a time and translated until `limit`
 * updates are found or the log is exhausted; with `timeoutMs`, waits for new events (the sync
 * hub wakes it) and returns as soon as one becomes an update.
 */
export async function readUpdates(options: {
  db: Database;
  hub: SyncHub;
  bot: Principal;
  objects: Objects;
  cursor: number;
  limit: number;
  timeoutMs: number;
  allowed: ReadonlySet<string>;
  clock: () => number;
  signal?: AbortSignal;
}): Promise<{ updates: Update[]; scanned: number }> {
  const { db, bot, objects, limit } = options;
  const deadline = Date.now() + options.timeoutMs;
  let cursor = options.cursor;
  const updates: Update[] = [];
  for (;;) {
    const events = await eventsVisibleTo(db.db, { accountId: bot.accountId, after: cursor, upTo: await visibleUpTo(db), limit: 100 });
    for (const event of events) {
      const update = await updateFor(event, bot, objects, { now: options.clock(), allowed: options.allowed, db });
      if (update) {
        updates.push(update);
        if (updates.length >= limit) return { updates, scanned: event.id };
      }
      cursor = event.id;
    }
    if (updates.length > 0) return { updates, scanned: cursor };
    if (events.length > 0) continue;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || options.signal?.aborted) return { updates, scanned: cursor };
    await waitForEvents({ hub: options.hub, accountId: bot.accountId, deviceId: bot.deviceId, apiKeyId: bot.apiKeyId, cursor, limit: 1, timeoutMs: remaining, signal: options.signal ?? new AbortController().signal });
    if (options.signal?.aborted) return { updates, scanned: cursor };
  }
}

