/**
 * How one person keeps a chat: mute, pin (at most MAX_PINNED_CHATS), archive, a hand-made unread
 * mark, and "clear chat". Each change is written with a `chat.settings_updated` event addressed to
 * that person alone, so every one of their devices follows and nobody else learns of it.
 */
import { type ChatSettings, MAX_PINNED_CHATS, MUTED_FOREVER, MUTE_DURATIONS_MS, type UpdateChatSettingsBody } from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import { type Database, type Tx, lockScope } from '../platform/db/index.ts';
import type { Emit, WriteWithEvents } from '../sync/index.ts';
import { requireMember } from './access.ts';
import type { ChatSettingsTable } from './schema.ts';

type Executor = Database['db'] | Tx;

export interface ChatSettingsDeps {
  db: Database;
  clock: () => number;
  write: WriteWithEvents;
}

/** A chat nobody changed anything about. */
export function defaultSettings(conversationId: string): ChatSettings {
  return { conversation_id: conversationId, muted_until: null, pinned_at: null, archived: false, marked_unread: false, cleared_seq: 0 };
}

function toSettings(row: ChatSettingsTable): ChatSettings {
  return {
    conversation_id: row.conversation_id,
    muted_until: row.muted_until === null ? null : Number(row.muted_until),
    pinned_at: row.pinned_at === null ? null : Number(row.pinned_at),
    archived: Number(row.archived) === 1,
    marked_unread: Number(row.marked_unread) === 1,
    cleared_seq: Number(row.cleared_seq),
  };
}

/** This person's settings for these chats (defaults where they changed nothing), 500 ids a query. */
export async function settingsOf(db: Executor, accountId: string, conversationIds: readonly string[]): Promise<Map<string, ChatSettings>> {
  const out = new Map<string, ChatSettings>();
  for (let i = 0; i < conversationIds.length; i += 500) {
    const rows = await db
      .selectFrom('chat_settings')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('conversation_id', 'in', conversationIds.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.conversation_id, toSettings(r));
  }
  for (const id of conversationIds) if (!out.has(id)) out.set(id, defaultSettings(id));
  return out;
}

/** Up to which seq this person cleared the chat (0: never). */
export async function clearedSeq(db: Executor, accountId: string, conversationId: string): Promise<number> {
  const row = await db.selectFrom('chat_settings').select('cleared_seq').where('account_id', '=', accountId).where('conversation_id', '=', conversationId).executeTakeFirst();
  return Number(row?.cleared_seq ?? 0);
}

/** Writes the new settings and tells the person's devices, in the caller's transaction. */
async function store(tx: Tx, emit: Emit, options: { accountId: string; settings: ChatSettings; now: number }) {
  const { accountId, settings, now } = options;
  const row: ChatSettingsTable = {
    conversation_id: settings.conversation_id,
    account_id: accountId,
    muted_until: settings.muted_until,
    pinned_at: settings.pinned_at,
    archived: settings.archived ? 1 : 0,
    marked_unread: settings.marked_unread ? 1 : 0,
    cleared_seq: settings.cleared_seq,
    updated_at: now,
  };
  const { conversation_id: _c, account_id: _a, ...changes } = row;
  await tx
    .insertInto('chat_settings')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'conversation_id']).doUpdateSet(changes))
    .execute();
  // To the person alone and to no conversation: the other members never learn of it.
  await emit({ type: 'chat.settings_updated', conversationId: null, targetAccountId: accountId, data: settings, at: now });
}

export function createChatSettings(deps: ChatSettingsDeps) {
  const { db, clock, write } = deps;

  async function current(tx: Tx, accountId: string, conversationId: string): Promise<ChatSettings> {
    return (await settingsOf(tx, accountId, [conversationId])).get(conversationId)!;
  }

  return {
    async get(principal: Principal, conversationId: string): Promise<ChatSettings> {
      await requireMember(db.db, conversationId, principal.accountId);
      return (await settingsOf(db.db, principal.accountId, [conversationId])).get(conversationId)!;
    },

    async update(principal: Principal, conversationId: string, input: UpdateChatSettingsBody): Promise<ChatSettings> {
      return write(async (tx, emit) => {
        await requireMember(tx, conversationId, principal.accountId);
        const now = clock();
        // Pins are counted before one is added: two devices pinning at once take turns (platform/db).
        if (input.pinned === true) await lockScope(tx, `chat-pins:${principal.accountId}`);
        const before = await current(tx, principal.accountId, conversationId);
        const next = { ...before };
        if (input.mute !== undefined) {
          next.muted_until = input.mute === 'off' ? null : input.mute === 'always' ? MUTED_FOREVER : now + MUTE_DURATIONS_MS[input.mute];
        }
        if (input.pinned === false) next.pinned_at = null;
        if (input.pinned === true && before.pinned_at === null) {
          // Counted under the pins lock taken above, so two devices pinning at once cannot both
          // make the sixth.
          const pinned = await tx
            .selectFrom('chat_settings')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('account_id', '=', principal.accountId)
            .where('pinned_at', 'is not', null)
            .executeTakeFirstOrThrow();
          if (Number(pinned.n) >= MAX_PINNED_CHATS) throw new AppError('pin_limit', `you can pin up to ${MAX_PINNED_CHATS} chats; unpin one first`, { errors: [{ path: '/pinned', message: `at most ${MAX_PINNED_CHATS} pinned chats` }] });
          next.pinned_at = now;
        }
        if (input.archived !== undefined) next.archived = input.archived;
        if (input.marked_unread !== undefined) next.marked_unread = input.marked_unread;
        await store(tx, emit, { accountId: principal.accountId, settings: next, now });
        return next;
      });
    },

    /** "Clear chat": everything up to the newest message is gone for this person alone. */
    async clear(principal: Principal, conversationId: string): Promise<ChatSettings> {
      return write(async (tx, emit) => {
        const { conversation } = await requireMember(tx, conversationId, principal.accountId);
        const before = await current(tx, principal.accountId, conversationId);
        const next = { ...before, cleared_seq: Math.max(before.cleared_seq, conversation.last_seq), marked_unread: false };
        await store(tx, emit, { accountId: principal.accountId, settings: next, now: clock() });
        return next;
      });
    },
  };
}

export type ChatSettingsService = ReturnType<typeof createChatSettings>;
