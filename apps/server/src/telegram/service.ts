/**
 * The Bot API methods, each translated to MMD's own capabilities through their public functions
 * and the bot's principal: what a bot may do here is exactly what it may do on the native API.
 */
import type { ButtonInput, Message, Poll, PollInput } from '@mmd/contracts';
import { MAX_MESSAGE_TEXT } from '@mmd/contracts';
import type { Accounts, Principal } from '../accounts/index.ts';
import { type Conversations, requireMember } from '../conversations/index.ts';
import { AppError } from '../errors.ts';
import type { Media } from '../media/index.ts';
import type { Messaging } from '../messaging/index.ts';
import type { Database } from '../platform/db/index.ts';
import { type SyncHub, type TypingRelay, visibleCursor } from '../sync/index.ts';
import { TelegramError, badRequest, chatNotFound, forbidden, fromAppError, messageNotFound } from './errors.ts';
import type { Files } from './files.ts';
import { type MessageEntity, format } from './formatting.ts';
import { type IdMap, chatNumFrom } from './ids.ts';
import { type Objects, type TgMessage, createObjects } from './objects.ts';
import { type Markup, markupFrom, pollFrom, pollOf } from './keyboards.ts';
import { type Params, bool, chatIdParam, has, int, optInt, optJson, optStr, str } from './params.ts';
import { UPDATE_TYPES, allowedSet, chatMember, readUpdates } from './updates.ts';

export interface TelegramDeps {
  db: Database;
  hub: SyncHub;
  clock: () => number;
  ids: IdMap;
  accounts: Accounts;
  conversations: Conversations;
  messaging: Messaging;
  media: Media;
  files: Files;
  typing: TypingRelay;
  /** Checks a webhook URL before it is accepted (the outbound policy: scheme, private addresses). */
  checkWebhookUrl: (url: string) => Promise<string | null>;
  /** Told when a bot's webhook is set or removed, so delivery starts or stops at once. */
  onWebhookChanged: (botId: string) => void;
  /** How long sendPhoto and friends wait for the upload to be processed before answering. */
  mediaWaitMs: number;
  /** The interactive capability: callback answers and closing polls (null until wired). */
  interactive: {
    answerCallback(principal: Principal, queryId: string, body: { text?: string; alert?: boolean; url?: string }): Promise<void>;
    close(principal: Principal, messageId: string): Promise<{ poll?: Poll }>;
  } | null;
  /** The bot's "/" commands, kept by the bots capability (null: kept here, for bot accounts made without it). */
  commands: {
    get(bot: Principal): Promise<{ command: string; description: string }[]>;
    set(bot: Principal, commands: { command: string; description: string }[]): Promise<unknown>;
  } | null;
  /** Replaces (null: removes) a message's buttons, by its sender; with `text`, the text too, in the same write. */
  editButtons: ((principal: Principal, messageId: string, buttons: ButtonInput[][] | null, options?: { text?: string }) => Promise<Message>) | null;
}

/** What a method gets: the bot, its parameters and the files uploaded with the request (attach name → media id). */
export interface Call {
  bot: Principal;
  params: Params;
  uploads: Map<string, string>;
  signal: AbortSignal;
}

const MAX_CAPTION = 1024;
const MEDIA_METHODS: Record<string, string> = {
  sendphoto: 'photo',
  sendvideo: 'video',
  sendaudio: 'audio',
  sendvoice: 'voice',
  senddocument: 'document',
  sendanimation: 'animation',
  sendvideonote: 'video_note',
  sendsticker: 'sticker',
};

export function createTelegramService(deps: TelegramDeps) {
  const { db, ids, messaging, conversations } = deps;

  /** MMD's refusal, as Telegram words it, for a chat or message subject. */
  async function translate<T>(work: Promise<T>, subject?: 'chat' | 'message'): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (err instanceof AppError) throw fromAppError(err, { subject });
      throw err;
    }
  }

  async function state(botId: string) {
    const row = await db.db.selectFrom('telegram_bots').selectAll().where('account_id', '=', botId).executeTakeFirst();
    if (row) return row;
    await db.db
      .insertInto('telegram_bots')
      .values({ account_id: botId, confirmed_cursor: 0, allowed_updates: null, webhook_url: null, webhook_secret: null, webhook_max_connections: 40, last_error_at: null, last_error_message: null, lease_owner: null, lease_until: null, commands: null, updated_at: deps.clock() })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return db.db.selectFrom('telegram_bots').selectAll().where('account_id', '=', botId).executeTakeFirstOrThrow();
  }

  /** The conversation a chat_id names, if the bot can see it: 400 chat not found otherwise, 403 once it was removed. */
  async function chatOf(bot: Principal, chatId: number | string): Promise<string> {
    let conversationId: string | undefined;
    if (typeof chatId === 'string') {
      const channel = await conversations.findChannel(chatId.slice(1)).catch(() => null);
      conversationId = channel?.id;
    } else if (chatId > 0) {
      const row = await db.db.selectFrom('telegram_chats').select('conversation_id').where('bot_id', '=', bot.accountId).where('chat_num', '=', chatId).executeTakeFirst();
      conversationId = row?.conversation_id;
    } else {
      const num = chatNumFrom(chatId);
      conversationId = num === undefined ? undefined : await ids.idOf('chat', num);
    }
    if (!conversationId) throw chatNotFound();
    try {
      await requireMember(db.db, conversationId, bot.accountId);
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_a_member') throw forbidden(typeof chatId === 'number' && chatId > 0 ? 'bot was blocked by the user' : 'bot is not a member of the chat');
      if (err instanceof AppError) throw chatNotFound();
      throw err;
    }
    return conversationId;
  }

  /** The MMD message behind (chat, message_id): Telegram's message ids are MMD's seqs. */
  async function messageAt(bot: Principal, conversationId: string, seq: number, what = 'message'): Promise<Message> {
    if (!Number.isSafeInteger(seq) || seq < 1) throw messageNotFound(what);
    // The bot's own pending messages sit among the sent ones in its history under a seq that is
    // not theirs: only a sent message answers to a Telegram message id.
    const page = await translate(messaging.history(bot, conversationId, { after: seq - 1, limit: 10 }), 'message');
    const found = page.messages.find((m) => m.seq === seq && m.status !== 'pending');
    if (!found || found.deleted) throw messageNotFound(what);
    return found;
  }

  /** Keeps what the MMD message cannot: its entities, and the kind of media the bot said it sent. */
  async function remember(messageId: string, entities: MessageEntity[], mediaKind: string | null, options: { replace?: boolean } = {}) {
    if (entities.length === 0 && !mediaKind && !options.replace) return;
    const json = entities.length ? JSON.stringify(entities) : null;
    await db.db
      .insertInto('telegram_messages')
      .values({ message_id: messageId, entities: json, media_kind: mediaKind })
      .onConflict((oc) => oc.column('message_id').doUpdateSet({ entities: json }))
      .execute();
  }

  /** reply_parameters (or the older reply_to_message_id) as the MMD message to reply to. */
  async function replyTarget(call: Call, conversationId: string): Promise<string | undefined> {
    const rp = optJson<{ message_id?: number; chat_id?: number | string; allow_sending_without_reply?: boolean }>(call.params, 'reply_parameters');
    const seq = rp?.message_id ?? optInt(call.params, 'reply_to_message_id');
    if (seq === undefined) return undefined;
    const lenient = rp?.allow_sending_without_reply ?? bool(call.params, 'allow_sending_without_reply');
    const where = rp?.chat_id !== undefined ? await chatOf(call.bot, rp.chat_id) : conversationId;
    if (where !== conversationId) throw badRequest('replies to other chats are not supported');
    try {
      return (await messageAt(call.bot, conversationId, Number(seq), 'message to be replied')).id;
    } catch (err) {
      if (lenient && err instanceof TelegramError) return undefined;
      throw err;
    }
  }

  function textOf(call: Call, field: 'text' | 'caption', entitiesField: string, limit: number) {
    const raw = field === 'text' ? str(call.params, 'text') : optStr(call.params, 'caption');
    if (raw === undefined || raw === '') return { text: undefined, entities: [] as MessageEntity[] };
    const formatted = format(raw, optStr(call.params, 'parse_mode'), optJson<MessageEntity[]>(call.params, entitiesField));
    if (formatted.text.trim() === '') {
      if (field === 'text') throw badRequest('message text is empty');
      return { text: undefined, entities: [] };
    }
    if (formatted.text.length > limit) throw badRequest(field === 'text' ? 'message is too long' : 'message caption is too long');
    return formatted;
  }

  /** Waits (bounded) for a sent message's media to be processed, so the answer carries sizes and file ids. */
  async function settled(bot: Principal, message: Message): Promise<Message> {
    const deadline = Date.now() + deps.mediaWaitMs;
    let current = message;
    while (current.status === 'pending' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      current = await translate(messaging.get(bot, message.id));
    }
    if (current.status === 'failed') throw badRequest('the file could not be processed (wrong type or refused)');
    return current;
  }

  /**
   * Waits (bounded) for fresh uploads to be processed before their message is sent: the share is
   * then checked at once, so a limit reaches the bot as Telegram's 429 with retry_after, not as a
   * message that fails later; a file refused by screening is a 400 here.
   */
  async function processed(bot: Principal, mediaIds: readonly string[]): Promise<void> {
    const deadline = Date.now() + deps.mediaWaitMs;
    for (const id of mediaIds) {
      let item = await translate(deps.media.view(bot, id));
      while (item.status === 'processing' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        item = await translate(deps.media.view(bot, id));
      }
      if (item.status === 'failed') throw badRequest('the file could not be processed (wrong type or refused)');
    }
  }

  async function send(call: Call, objects: Objects, input: { conversationId: string; text?: string; media?: string[]; entities: MessageEntity[]; mediaKind?: string | null; poll?: PollInput }): Promise<TgMessage> {
    // Telegram's switches for the link preview: the old disable_web_page_preview and link_preview_options.is_disabled.
    const noPreview = bool(call.params, 'disable_web_page_preview') || optJson<{ is_disabled?: boolean }>(call.params, 'link_preview_options')?.is_disabled === true;
    const replyTo = await replyTarget(call, input.conversationId);
    if (input.media) await processed(call.bot, input.media);
    const markup: Markup = markupFrom(call.params) ?? {};
    const interactive = { ...(markup.buttons?.length ? { buttons: markup.buttons } : {}), ...(markup.quick_replies ? { quick_replies: markup.quick_replies } : {}), ...(input.poll ? { poll: input.poll } : {}) };
    const { message } = await translate(
      messaging.send(call.bot, input.conversationId, {
        // The Bot API has no way to ask a bot to confirm sharing something spreading fast: its
        // share goes out as a confirmed one (counted, labelled, under the cooldown and the hold).
        confirmSpread: true,
        ...(noPreview ? { linkPreview: false } : {}),
        ...(input.text !== undefined ? { text: input.text } : {}),
        ...(input.media ? { media: input.media } : {}),
        ...(replyTo ? { replyTo } : {}),
        ...(Object.keys(interactive).length ? { interactive } : {}),
      }),
      'chat',
    );
    await remember(message.id, input.entities, input.mediaKind ?? null);
    const final = input.media ? await settled(call.bot, message) : message;
    return objects.message(final);
  }

  const methods: Record<string, (call: Call, objects: Objects) => Promise<unknown>> = {
    async getme(call, objects) {
      const me = await objects.user(call.bot.accountId, call.bot.handle);
      return { ...me, is_bot: true, can_join_groups: true, can_read_all_group_messages: true, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false };
    },
    async logout() {
      return true;
    },
    async close() {
      return true;
    },

    async getupdates(call, objects) {
      const s = await state(call.bot.accountId);
      if (s.webhook_url) throw new TelegramError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
      const allowed = optJson<string[]>(call.params, 'allowed_updates');
      let allowedStored = s.allowed_updates;
      if (allowed !== undefined) {
        if (!Array.isArray(allowed)) throw badRequest("can't parse allowed_updates JSON object");
        allowedStored = JSON.stringify(allowed.filter((t) => (UPDATE_TYPES as readonly string[]).includes(t)));
      }
      const offset = optInt(call.params, 'offset') ?? 0;
      const limit = Math.min(100, Math.max(1, optInt(call.params, 'limit') ?? 100));
      const timeout = Math.min(50, Math.max(0, optInt(call.params, 'timeout') ?? 0));
      let cursor = Number(s.confirmed_cursor);
      // An offset confirms every update before it; a negative one (from the end) keeps only the newest.
      if (offset > 0) cursor = Math.max(cursor, offset - 1);
      if (offset < 0) cursor = Math.max(cursor, (await visibleCursor(db)) + offset);
      if (cursor !== Number(s.confirmed_cursor) || allowedStored !== s.allowed_updates) {
        await db.db.updateTable('telegram_bots').set({ confirmed_cursor: cursor, allowed_updates: allowedStored, updated_at: deps.clock() }).where('account_id', '=', call.bot.accountId).execute();
        // What the bot confirmed was delivered to it: the senders see "delivered".
        if (cursor > Number(s.confirmed_cursor)) messaging.acknowledgeMany([{ accountId: call.bot.accountId, cursor }]).catch(() => {});
      }
      const { updates } = await readUpdates({ db, hub: deps.hub, bot: call.bot, objects, cursor, limit, timeoutMs: timeout * 1000, allowed: allowedSet(allowedStored), clock: deps.clock, signal: call.signal });
      return updates;
    },

    async setwebhook(call) {
      const url = optStr(call.params, 'url') ?? '';
      const s = await state(call.bot.accountId);
      const secret = optStr(call.params, 'secret_token');
      if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw badRequest('secret token contains unallowed characters');
      const allowed = optJson<string[]>(call.params, 'allowed_updates');
      const maxConnections = Math.min(100, Math.max(1, optInt(call.params, 'max_connections') ?? 40));
      if (url !== '') {
        const problem = await deps.checkWebhookUrl(url);
        if (problem) throw badRequest(`bad webhook: ${problem}`);
      }
      const set = {
        webhook_url: url === '' ? null : url,
        webhook_secret: url === '' ? null : (secret ?? null),
        webhook_max_connections: maxConnections,
        ...(allowed !== undefined ? { allowed_updates: JSON.stringify((Array.isArray(allowed) ? allowed : []).filter((t) => (UPDATE_TYPES as readonly string[]).includes(t))) } : {}),
        ...(bool(call.params, 'drop_pending_updates') ? { confirmed_cursor: Math.max(Number(s.confirmed_cursor), await visibleCursor(db)) } : {}),
        last_error_at: null,
        last_error_message: null,
        updated_at: deps.clock(),
      };
      await db.db.updateTable('telegram_bots').set(set).where('account_id', '=', call.bot.accountId).execute();
      deps.onWebhookChanged(call.bot.accountId);
      return true;
    },

    async deletewebhook(call) {
      const s = await state(call.bot.accountId);
      await db.db
        .updateTable('telegram_bots')
        .set({
          webhook_url: null,
          webhook_secret: null,
          ...(bool(call.params, 'drop_pending_updates') ? { confirmed_cursor: Math.max(Number(s.confirmed_cursor), await visibleCursor(db)) } : {}),
          updated_at: deps.clock(),
        })
        .where('account_id', '=', call.bot.accountId)
        .execute();
      deps.onWebhookChanged(call.bot.accountId);
      return true;
    },

    async getwebhookinfo(call, objects) {
      const s = await state(call.bot.accountId);
      const pending = await readUpdates({ db, hub: deps.hub, bot: call.bot, objects, cursor: Number(s.confirmed_cursor), limit: 100, timeoutMs: 0, allowed: allowedSet(s.allowed_updates), clock: deps.clock });
      return {
        url: s.webhook_url ?? '',
        has_custom_certificate: false,
        pending_update_count: pending.updates.length,
        ...(s.last_error_at ? { last_error_date: Math.floor(Number(s.last_error_at) / 1000), last_error_message: s.last_error_message ?? '' } : {}),
        ...(s.webhook_url ? { max_connections: Number(s.webhook_max_connections) } : {}),
        ...(s.allowed_updates ? { allowed_updates: JSON.parse(s.allowed_updates) as string[] } : {}),
      };
    },

    async sendmessage(call, objects) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const { text, entities } = textOf(call, 'text', 'entities', MAX_MESSAGE_TEXT);
      return send(call, objects, { conversationId, text, entities });
    },

    async editmessagetext(call, objects) {
      if (has(call.params, 'inline_message_id')) throw badRequest('inline messages are not supported');
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const target = await messageAt(call.bot, conversationId, int(call.params, 'message_id'), 'message to edit');
      const { text, entities } = textOf(call, 'text', 'entities', MAX_MESSAGE_TEXT);
      return edit(call, objects, target, text!, entities);
    },

    async editmessagecaption(call, objects) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const target = await messageAt(call.bot, conversationId, int(call.params, 'message_id'), 'message to edit');
      const { text, entities } = textOf(call, 'caption', 'caption_entities', MAX_CAPTION);
      if (text === undefined) throw badRequest('MMD cannot remove a caption; send a new caption');
      return edit(call, objects, target, text, entities);
    },

    async editmessagereplymarkup(call, objects) {
      if (has(call.params, 'inline_message_id')) throw badRequest('inline messages are not supported');
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const target = await messageAt(call.bot, conversationId, int(call.params, 'message_id'), 'message to edit');
      if (!ownedBy(target, call.bot.accountId)) throw badRequest("message can't be edited");
      const buttons = keyboardAfterEdit(call);
      if (sameButtons(target, buttons)) throw badRequest('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
      return objects.message(await setButtons(call.bot, target, buttons));
    },

    async answercallbackquery(call) {
      if (!deps.interactive) throw badRequest('callback queries are not available on this server');
      const id = str(call.params, 'callback_query_id');
      const text = optStr(call.params, 'text');
      if (text !== undefined && text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
      const url = optStr(call.params, 'url');
      try {
        await deps.interactive.answerCallback(call.bot, id, { ...(text ? { text } : {}), alert: bool(call.params, 'show_alert'), ...(url ? { url } : {}) });
      } catch (err) {
        if (err instanceof AppError && (err.code === 'not_found' || err.code === 'callback_expired' || err.code === 'callback_answered')) {
          throw badRequest('query is too old and response timeout expired or query ID is invalid');
        }
        if (err instanceof AppError) throw fromAppError(err);
        throw err;
      }
      return true;
    },

    async sendpoll(call, objects) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      return send(call, objects, { conversationId, poll: pollFrom(call.params), entities: [] });
    },

    async stoppoll(call) {
      if (!deps.interactive) throw badRequest('polls are not available on this server');
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const target = await messageAt(call.bot, conversationId, int(call.params, 'message_id'), 'message with poll to stop');
      if (!target.poll) throw badRequest('message with poll to stop not found');
      if (!ownedBy(target, call.bot.accountId)) throw badRequest("poll can't be stopped");
      if (target.poll.closed) throw badRequest('poll has already been closed');
      const reply = await translate(deps.interactive.close(call.bot, target.id), 'message');
      return pollOf(target.id, reply.poll ?? { ...target.poll, closed: true });
    },

    async deletemessage(call) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const target = await messageAt(call.bot, conversationId, int(call.params, 'message_id'), 'message to delete');
      await translate(messaging.remove(call.bot, target.id), 'message').catch((err) => {
        if (err instanceof TelegramError && err.errorCode === 403) throw badRequest("message can't be deleted");
        throw err;
      });
      return true;
    },

    async deletemessages(call) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const seqs = optJson<number[]>(call.params, 'message_ids') ?? [];
      if (!Array.isArray(seqs) || seqs.length === 0 || seqs.length > 100) throw badRequest('message_ids must list 1-100 message identifiers');
      for (const seq of seqs) {
        const target = await messageAt(call.bot, conversationId, Number(seq)).catch(() => null);
        if (target) await translate(messaging.remove(call.bot, target.id)).catch(() => {});
      }
      return true;
    },

    async forwardmessage(call, objects) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const from = await chatOf(call.bot, chatIdParam(call.params, 'from_chat_id'));
      const source = await messageAt(call.bot, from, int(call.params, 'message_id'), 'message to forward');
      const { message } = await translate(messaging.send(call.bot, conversationId, { forwardOf: source.id, confirmSpread: true }), 'chat');
      return objects.message(message);
    },

    async copymessage(call) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const from = await chatOf(call.bot, chatIdParam(call.params, 'from_chat_id'));
      const source = await messageAt(call.bot, from, int(call.params, 'message_id'), 'message to copy');
      const media: string[] = [];
      for (const item of source.media) media.push(await deps.files.resolveInput(call.bot, item.id, call.uploads, 'media'));
      const caption = has(call.params, 'caption') ? textOf(call, 'caption', 'caption_entities', MAX_CAPTION) : { text: source.text ?? undefined, entities: [] as MessageEntity[] };
      if (caption.text === undefined && media.length === 0) throw badRequest('the message to copy is empty');
      const replyTo = await replyTarget(call, conversationId);
      const { message } = await translate(
        messaging.send(call.bot, conversationId, { ...(caption.text !== undefined ? { text: caption.text } : {}), ...(media.length ? { media } : {}), ...(replyTo ? { replyTo } : {}) }),
        'chat',
      );
      await remember(message.id, caption.entities, null);
      return { message_id: message.seq };
    },

    async sendmediagroup(call, objects) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const items = optJson<{ type: string; media: string; caption?: string; parse_mode?: string; caption_entities?: MessageEntity[] }[]>(call.params, 'media');
      if (!Array.isArray(items) || items.length < 2 || items.length > 10) throw badRequest('media must include 2-10 items');
      const media: string[] = [];
      // An album holds an item once; the same file twice becomes two items, as Telegram shows it twice.
      for (const item of items) {
        const id = await deps.files.resolveInput(call.bot, item?.media, call.uploads, 'media');
        media.push(media.includes(id) ? await deps.files.resolveInput(call.bot, id, call.uploads, 'media', { copy: true }) : id);
      }
      // One MMD album carries one caption: the first item's (Telegram shows it so too).
      const first = items.find((i) => i.caption);
      const caption = first ? format(first.caption!, first.parse_mode, first.caption_entities) : { text: undefined, entities: [] as MessageEntity[] };
      return [await send(call, objects, { conversationId, text: caption.text || undefined, media, entities: caption.entities })];
    },

    async getfile(call) {
      return deps.files.describe(call.bot, str(call.params, 'file_id'));
    },

    async sendchataction(call) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      str(call.params, 'action');
      await deps.typing.typing(call.bot, conversationId);
      return true;
    },

    async getchat(call, objects) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const { chat } = await objects.chatInfo(conversationId);
      // ChatFullInfo: the Chat plus the fields the Bot API marks as always present.
      return { ...chat, accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false } };
    },

    async getchatmembercount(call) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const c = await translate(conversations.get(call.bot, conversationId), 'chat');
      return c.member_count;
    },

    async getchatmember(call, objects) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const accountId = await ids.idOf('user', int(call.params, 'user_id'));
      if (!accountId) throw badRequest('user not found');
      const user = await objects.user(accountId);
      const member = await requireMember(db.db, conversationId, accountId).catch(() => null);
      if (!member) return chatMember('left', user);
      const { kind } = await objects.chatInfo(conversationId);
      // Channel subscribers are not listed to each other; a bot admin may ask, others learn only about themselves.
      if (kind === 'channel' && accountId !== call.bot.accountId) {
        const me = await requireMember(db.db, conversationId, call.bot.accountId);
        if (me.member.role === 'member') throw badRequest('member list is inaccessible');
      }
      const role = member.member.role;
      return chatMember(role === 'owner' ? 'creator' : role === 'admin' ? 'administrator' : 'member', user);
    },

    async leavechat(call) {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      await translate(conversations.removeMember(call.bot, conversationId, call.bot.accountId), 'chat').catch((err) => {
        if (err instanceof TelegramError && err.errorCode === 403) throw badRequest('private chats cannot be left; the person may delete the chat');
        throw err;
      });
      return true;
    },

    async setmycommands(call) {
      const commands = optJson<{ command: string; description: string }[]>(call.params, 'commands');
      if (!Array.isArray(commands) || commands.length > 100) throw badRequest('commands must be an array of at most 100 BotCommand');
      for (const c of commands) {
        if (typeof c?.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw badRequest('command must be 1-32 characters: lowercase English letters, digits and underscores');
        if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) throw badRequest('command description must be 1-256 characters');
      }
      await storeCommands(call.bot, commands.map((c) => ({ command: c.command, description: c.description })));
      return true;
    },

    async getmycommands(call) {
      return loadCommands(call.bot);
    },

    async deletemycommands(call) {
      await storeCommands(call.bot, []);
      return true;
    },
  };

  /** Commands live with the bot (bots capability); a bot account made without it keeps them here. */
  async function storeCommands(bot: Principal, commands: { command: string; description: string }[]) {
    if (deps.commands) {
      try {
        await deps.commands.set(bot, commands);
        return;
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'not_found')) throw err instanceof AppError ? fromAppError(err) : err;
      }
    }
    await state(bot.accountId);
    await db.db.updateTable('telegram_bots').set({ commands: commands.length ? JSON.stringify(commands) : null, updated_at: deps.clock() }).where('account_id', '=', bot.accountId).execute();
  }

  async function loadCommands(bot: Principal): Promise<{ command: string; description: string }[]> {
    if (deps.commands) {
      try {
        return await deps.commands.get(bot);
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'not_found')) throw err instanceof AppError ? fromAppError(err) : err;
      }
    }
    const s = await state(bot.accountId);
    return s.commands ? JSON.parse(s.commands) : [];
  }

  /** The keyboard an edit leaves: the one given, or none (Telegram drops an inline keyboard an edit does not repeat). */
  function keyboardAfterEdit(call: Call): ButtonInput[][] | null {
    const markup = markupFrom(call.params);
    if (markup?.quick_replies) throw badRequest('only inline keyboards can be edited');
    return markup?.buttons?.length ? markup.buttons : null;
  }

  async function setButtons(bot: Principal, target: Message, buttons: ButtonInput[][] | null, text?: string): Promise<Message> {
    if (!deps.editButtons) throw badRequest('editing keyboards is not available on this server');
    return translate(deps.editButtons(bot, target.id, buttons, text === undefined ? {} : { text }), 'message');
  }

  const sameButtons = (m: Message, buttons: ButtonInput[][] | null) =>
    JSON.stringify((m.buttons ?? []).map((r) => r.map((b) => [b.type, b.text, b.data ?? b.url ?? b.copy_text ?? null]))) ===
    JSON.stringify((buttons ?? []).map((r) => r.map((b) => [b.type, b.text, b.data ?? b.url ?? b.copy_text ?? null])));

  async function edit(call: Call, objects: Objects, target: Message, text: string, entities: MessageEntity[]) {
    if (!ownedBy(target, call.bot.accountId)) throw badRequest("message can't be edited");
    const buttons = keyboardAfterEdit(call);
    const before = (await objects.stored([target.id])).get(target.id)?.entities ?? [];
    if (target.text === text && JSON.stringify(before) === JSON.stringify(entities) && sameButtons(target, buttons)) {
      throw badRequest('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
    }
    // New text and a new keyboard are one write: no reader sees the new text with the old keys.
    const newText = target.text !== text;
    const newKeys = !sameButtons(target, buttons);
    let edited = target;
    if (newKeys) edited = await setButtons(call.bot, target, buttons, newText ? text : undefined);
    else if (newText) edited = await translate(messaging.edit(call.bot, target.id, text), 'message');
    await remember(target.id, entities, null, { replace: true });
    return objects.message(edited);
  }

  // sendPhoto, sendVideo, …: one body, the field named after the kind.
  for (const [name, field] of Object.entries(MEDIA_METHODS)) {
    methods[name] = async (call, objects) => {
      const conversationId = await chatOf(call.bot, chatIdParam(call.params));
      const value = call.params[field] ?? (call.uploads.has(field) ? `attach://${field}` : undefined);
      const mediaId = await deps.files.resolveInput(call.bot, value, call.uploads, field);
      const { text, entities } = textOf(call, 'caption', 'caption_entities', MAX_CAPTION);
      return send(call, objects, { conversationId, text, media: [mediaId], entities, mediaKind: field });
    };
  }

  return {
    methods,
    state,
    chatOf,
    messageAt,
    send,
    translate,
    objectsFor: (bot: Principal) => createObjects({ db, ids, accounts: deps.accounts, conversations, messaging }, bot),
    /** Runs one method for a bot; unknown methods are 404, as on Telegram. */
    async call(name: string, call: Call): Promise<unknown> {
      const method = methods[name.toLowerCase()];
      if (!method) throw new TelegramError(404, 'Not Found');
      return method(call, createObjects({ db, ids, accounts: deps.accounts, conversations, messaging }, call.bot));
    },
    has: (name: string) => Object.hasOwn(methods, name.toLowerCase()),
  };
}

export type TelegramService = ReturnType<typeof createTelegramService>;

/**
 * Whether the bot may treat this message as its own: one it sent, or a channel post (written by
 * the channel, whose admins edit its posts; messaging checks the bot is one).
 */
function ownedBy(target: { sender_id: string; sender_kind?: string }, botId: string): boolean {
  return target.sender_id === botId || target.sender_kind === 'channel';
}
