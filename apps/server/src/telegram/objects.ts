/**
 * MMD's accounts, conversations and messages as the Bot API's User, Chat and Message objects, seen
 * by one bot. Message ids are the message's seq in its conversation (Telegram numbers messages per
 * chat too); a private chat's id is the other person's user id, a group's is negative and a
 * channel's is -100…, as Telegram writes them.
 */
import type { Conversation, MediaSummary, Message } from '@mmd/contracts';
import type { Accounts, Principal } from '../accounts/index.ts';
import { type Conversations, kindsOf } from '../conversations/index.ts';
import type { Messaging } from '../messaging/index.ts';
import type { Database } from '../platform/db/index.ts';
import { type MessageEntity, detectEntities } from './formatting.ts';
import { type IdMap, chatIdFor } from './ids.ts';
import { inlineKeyboardOf, pollOf } from './keyboards.ts';

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
  language_code?: string;
}

export interface TgChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  username?: string;
  first_name?: string;
}

export type TgMessage = Record<string, unknown> & { message_id: number; chat: TgChat; date: number };

export interface ObjectDeps {
  db: Database;
  ids: IdMap;
  accounts: Accounts;
  conversations: Conversations;
  messaging: Messaging;
}

/** What is known about a conversation to show it as a Chat (kept once seen: a bot removed from a group still hears about it). */
interface ChatInfo {
  chat: TgChat;
  kind: 'direct' | 'group' | 'channel';
}

const chatCache = new Map<string, ChatInfo>();

/** File ids: the MMD media id, and `.t` for an image's thumbnail. Opaque to bots, as Telegram's are. */
export function fileIdFor(mediaId: string, size: 'full' | 'thumbnail' = 'full'): string {
  return size === 'thumbnail' ? `${mediaId}.t` : mediaId;
}

export function parseFileId(fileId: string): { mediaId: string; size: 'full' | 'thumbnail' } | null {
  const m = /^(med_[A-Za-z0-9_-]{4,40})(\.t)?$/.exec(fileId);
  if (!m) return null;
  return { mediaId: m[1]!, size: m[2] ? 'thumbnail' : 'full' };
}

export function createObjects(deps: ObjectDeps, bot: Principal) {
  const { ids, accounts, conversations, messaging } = deps;
  const users = new Map<string, Promise<TgUser>>();

  async function user(accountId: string, handle?: string): Promise<TgUser> {
    let found = users.get(accountId);
    if (!found) {
      found = (async () => {
        const num = await ids.numberOf('user', accountId);
        const account = await accounts.getAccount(accountId).catch(() => null);
        const name = account?.handle ?? handle ?? 'deleted';
        return { id: num, is_bot: account?.kind === 'bot', first_name: name, username: name };
      })();
      users.set(accountId, found);
    }
    return found;
  }

  async function rememberDirect(conversationId: string, peerNum: number) {
    await deps.db.db
      .insertInto('telegram_chats')
      .values({ bot_id: bot.accountId, chat_num: peerNum, conversation_id: conversationId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async function chatFromView(c: Conversation): Promise<ChatInfo> {
    if (c.kind === 'direct') {
      const peer = c.peer;
      const peerUser = peer ? await user(peer.account_id, peer.handle) : { id: 0, first_name: 'deleted', username: undefined };
      if (peer) await rememberDirect(c.id, peerUser.id);
      return { kind: 'direct', chat: { id: peerUser.id, type: 'private', first_name: peerUser.first_name, ...(peerUser.username ? { username: peerUser.username } : {}) } };
    }
    const num = await ids.numberOf('chat', c.id);
    const chat: TgChat = { id: chatIdFor(c.kind, num), type: c.kind, title: c.title ?? (c.handle ? `@${c.handle}` : 'Group') };
    if (c.handle) chat.username = c.handle;
    return { kind: c.kind, chat };
  }

  /** The Chat for a conversation; one the bot has left keeps the look it had when last seen. */
  async function chatInfo(conversationId: string): Promise<ChatInfo> {
    const key = `${bot.accountId}:${conversationId}`;
    try {
      const info = await chatFromView(await conversations.get(bot, conversationId));
      if (chatCache.size > 50_000) chatCache.clear();
      chatCache.set(key, info);
      return info;
    } catch {
      const cached = chatCache.get(key);
      if (cached) return cached;
      const kind = (await kindsOf(deps.db.db, [conversationId])).get(conversationId) ?? 'group';
      if (kind === 'direct') return { kind, chat: { id: 0, type: 'private', first_name: 'unknown' } };
      return { kind, chat: { id: chatIdFor(kind, await ids.numberOf('chat', conversationId)), type: kind, title: 'Group' } };
    }
  }

  async function stored(messageIds: string[]) {
    if (messageIds.length === 0) return new Map<string, { entities: MessageEntity[] | null; media_kind: string | null }>();
    const rows = await deps.db.db.selectFrom('telegram_messages').selectAll().where('message_id', 'in', messageIds).execute();
    return new Map(rows.map((r) => [r.message_id, { entities: r.entities ? (JSON.parse(r.entities) as MessageEntity[]) : null, media_kind: r.media_kind }]));
  }

  function mediaFields(item: MediaSummary, hint: string | null): Record<string, unknown> {
    const fileId = fileIdFor(item.id);
    const common = { file_id: fileId, file_unique_id: fileId };
    const name = item.filename ? { file_name: item.filename } : {};
    const mime = item.mime ? { mime_type: item.mime } : {};
    const duration = Math.round(item.duration ?? 0);
    switch (item.kind) {
      case 'image': {
        const w = item.width ?? 0;
        const h = item.height ?? 0;
        const scale = Math.min(1, 320 / Math.max(w, h, 1));
        return {
          photo: [
            { file_id: fileIdFor(item.id, 'thumbnail'), file_unique_id: fileIdFor(item.id, 'thumbnail'), width: Math.round(w * scale), height: Math.round(h * scale) },
            { ...common, width: w, height: h },
          ],
        };
      }
      case 'video': {
        const video = { ...common, width: item.width ?? 0, height: item.height ?? 0, duration, ...name, ...mime };
        return hint === 'animation' ? { animation: video, document: { ...common, ...name, ...mime } } : hint === 'video_note' ? { video_note: { ...common, length: video.width, duration } } : { video };
      }
      case 'audio':
        // A voice note is what a person records; a file they pick (it has a name) is music.
        if (hint === 'voice' || (hint !== 'audio' && !item.filename)) return { voice: { ...common, duration, ...mime } };
        return { audio: { ...common, duration, ...name, ...mime } };
      default:
        return { document: { ...common, ...name, ...mime } };
    }
  }

  /** Builds a Message; `depth` stops reply chains at one level, as Telegram does. */
  async function message(m: Message, options: { depth?: number; meta?: Map<string, { entities: MessageEntity[] | null; media_kind: string | null }> } = {}): Promise<TgMessage> {
    const depth = options.depth ?? 0;
    const meta = options.meta ?? (await stored([m.id]));
    const info = await chatInfo(m.conversation_id);
    // A message still pending (media processing, or held for review) has no seq of its own yet:
    // the seq its sender sees is the next free one, which a later message takes. Answering with it
    // would let the bot edit or delete that later message, so a pending message has id 0.
    const out: TgMessage = { message_id: m.status === 'pending' ? 0 : m.seq, date: Math.floor(m.created_at / 1000), chat: info.chat };
    if (info.kind === 'channel') out.sender_chat = info.chat;
    else out.from = await user(m.sender_id, m.sender_handle);
    if (m.edited_at) out.edit_date = Math.floor(m.edited_at / 1000);
    const own = meta.get(m.id);
    const first = m.media[0];
    if (m.text !== null) {
      const entities = own?.entities ?? detectEntities(m.text);
      if (first) {
        out.caption = m.text;
        if (entities.length) out.caption_entities = entities;
      } else {
        out.text = m.text;
        if (entities.length) out.entities = entities;
      }
    }
    if (first) {
      Object.assign(out, mediaFields(first, own?.media_kind ?? null));
      // An MMD album is one message; a bot sees its first item, and the album's id as media_group_id.
      if (m.media.length > 1) out.media_group_id = m.id;
    }
    if (m.forward) {
      // A channel's post names the channel (messaging keeps the channel as its origin sender): a
      // bot may not be in that channel, so it gets Telegram's hidden origin with the channel's name.
      if (m.forward.origin_sender_id === m.forward.origin_conversation_id) {
        out.forward_origin = { type: 'hidden_user', date: out.date, sender_user_name: 'channel' };
      } else {
        const origin = await user(m.forward.origin_sender_id);
        out.forward_origin = { type: 'user', date: out.date, sender_user: origin };
      }
    }
    if (m.poll) out.poll = pollOf(m.id, m.poll);
    const keyboard = inlineKeyboardOf(m);
    if (keyboard) out.reply_markup = keyboard;
    if (m.reply_to && depth === 0) {
      const parent = await messaging.get(bot, m.reply_to).catch(() => null);
      if (parent) out.reply_to_message = await message(parent, { depth: 1 });
    }
    return out;
  }

  /** A message the bot can read, or null. */
  async function find(messageId: string): Promise<Message | null> {
    return messaging.get(bot, messageId).catch(() => null);
  }

  return { user, chatInfo, message, stored, find };
}

export type Objects = ReturnType<typeof createObjects>;

