/**
 * Bots: a person creates and owns them. A bot is an account of kind `bot` (accounts owns that
 * row) plus its row here: display name, owner, the hash of its one token, and its "/" commands.
 * The token is random (256 bits), shown once, stored as SHA-256; rotating it kills the old one at
 * once and closes every live connection that used it.
 */
import type { Bot, BotCommand } from '@mmd/contracts';
import { ALL_SCOPES, type Principal, accountBasics, accountByHandle, handlesOf, insertBotAccount } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import { hashToken, newToken } from '../lib/tokens.ts';
import type { Database } from '../platform/db/index.ts';
import type { BotsTable } from './schema.ts';

export interface BotsDeps {
  db: Database;
  clock: () => number;
  /** Bots one person may own. */
  maxPerOwner: number;
  /** Called after a bot's token is rotated or the bot deleted: its live connections close. */
  onTokenRevoked?: (botId: string) => void;
  /** Called after a bot is deleted: its webhooks stop. */
  onDeleted?: (botId: string) => Promise<void>;
}

function toBot(row: BotsTable, handle: string): Bot {
  return {
    id: row.account_id,
    handle,
    name: row.name,
    owner_id: row.owner_id,
    created_at: Number(row.created_at),
    token_created_at: Number(row.token_created_at),
  };
}

/** Only people create and manage bots: a bot (by token or by session) gets `person_only`. */
export function requirePerson(principal: Principal) {
  if (principal.botToken || principal.kind === 'bot') throw new AppError('person_only', 'only people create and manage bots');
}

/** For routes only a bot may call (with its token): anything else gets `bot_only`. */
export function requireBot(principal: Principal) {
  if (!principal.botToken) throw new AppError('bot_only', 'this endpoint is for bots: use the bot token');
}

/**
 * The bot a token belongs to, or null (unknown, rotated away, or the bot deleted). For other
 * capabilities (the Telegram path takes the token from its URL).
 */
export async function authenticateBotToken(db: Database, token: string): Promise<{ botId: string; handle: string } | null> {
  if (!token.startsWith('mmd_b_') || token.length > 200) return null;
  const row = await db.db.selectFrom('bots').select('account_id').where('token_hash', '=', hashToken(token)).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) return null;
  const account = await accountBasics(db.db, row.account_id);
  return account ? { botId: account.id, handle: account.handle } : null;
}

export function createBots(deps: BotsDeps) {
  const { db, clock } = deps;

  async function handleOf(accountId: string): Promise<string> {
    return (await accountBasics(db.db, accountId))?.handle ?? '';
  }

  /** The bot row if `principal` owns it (or is it); otherwise not_found, never a hint it exists. */
  async function ownedOrSelf(principal: Principal, botId: string, allowSelf: boolean): Promise<BotsTable> {
    const row = await db.db.selectFrom('bots').selectAll().where('account_id', '=', botId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!row) throw notFound('bot');
    const self = principal.accountId === row.account_id;
    if (row.owner_id !== principal.accountId && !(allowSelf && self)) throw notFound('bot');
    // A bot token manages its own bot only where allowed (commands); the owner's tools need a person.
    if (!self) requirePerson(principal);
    return row;
  }

  return {
    requirePerson,
    requireBot,

    async create(principal: Principal, input: { handle: string; name: string }): Promise<{ bot: Bot; token: string }> {
      requirePerson(principal);
      if (principal.apiKeyId) throw new AppError('forbidden', 'an API key cannot create bots; use a device session');
      const token = newToken('bot');
      const now = clock();
      const row = await db.writeTransaction(async (tx) => {
        const owned = await tx.selectFrom('bots').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_id', '=', principal.accountId).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
        if (Number(owned.n) >= deps.maxPerOwner) throw new AppError('limit_reached', `you may own at most ${deps.maxPerOwner} bots`);
        const account = await insertBotAccount(tx, { handle: input.handle, at: now });
        const bot: BotsTable = { account_id: account.id, owner_id: principal.accountId, name: input.name, token_hash: hashToken(token), token_created_at: now, commands: '[]', created_at: now, deleted_at: null };
        await tx.insertInto('bots').values(bot).execute();
        return bot;
      });
      return { bot: toBot(row, input.handle), token };
    },

    async list(principal: Principal): Promise<Bot[]> {
      const rows = await db.db.selectFrom('bots').selectAll().where('owner_id', '=', principal.accountId).where('deleted_at', 'is', null).orderBy('created_at').execute();
      const handles = await handlesOf(db.db, rows.map((r) => r.account_id));
      return rows.map((r) => toBot(r, handles.get(r.account_id) ?? ''));
    },

    async get(principal: Principal, botId: string): Promise<Bot> {
      const row = await ownedOrSelf(principal, botId, true);
      return toBot(row, await handleOf(row.account_id));
    },

    async update(principal: Principal, botId: string, input: { name?: string }): Promise<Bot> {
      const row = await ownedOrSelf(principal, botId, false);
      if (input.name !== undefined) {
        await db.db.updateTable('bots').set({ name: input.name }).where('account_id', '=', botId).execute();
        row.name = input.name;
      }
      return toBot(row, await handleOf(row.account_id));
    },

    /** A new token; the old one stops working now and its connections close. */
    async rotateToken(principal: Principal, botId: string): Promise<{ bot: Bot; token: string }> {
      const row = await ownedOrSelf(principal, botId, false);
      const token = newToken('bot');
      const now = clock();
      await db.db.updateTable('bots').set({ token_hash: hashToken(token), token_created_at: now }).where('account_id', '=', botId).where('deleted_at', 'is', null).execute();
      deps.onTokenRevoked?.(botId);
      return { bot: toBot({ ...row, token_created_at: now }, await handleOf(botId)), token };
    },

    /**
     * Deletes a bot: its token dies, its connections close, its webhooks stop. The account stays
     * (messages it sent keep a sender), and so does its handle: nobody can take over a bot's name.
     */
    async remove(principal: Principal, botId: string): Promise<void> {
      await ownedOrSelf(principal, botId, false);
      await db.db.updateTable('bots').set({ deleted_at: clock(), token_hash: null, commands: '[]' }).where('account_id', '=', botId).execute();
      deps.onTokenRevoked?.(botId);
      await deps.onDeleted?.(botId);
    },

    async commands(principal: Principal, botId: string): Promise<BotCommand[]> {
      const row = await ownedOrSelf(principal, botId, true);
      return JSON.parse(row.commands) as BotCommand[];
    },

    async setCommands(principal: Principal, botId: string, commands: BotCommand[]): Promise<BotCommand[]> {
      await ownedOrSelf(principal, botId, true);
      const seen = new Set<string>();
      for (const c of commands) {
        if (seen.has(c.command)) throw new AppError('validation_failed', `the command "/${c.command}" is listed twice`, { errors: [{ path: '/commands', message: `duplicate command ${c.command}` }] });
        seen.add(c.command);
      }
      await db.db.updateTable('bots').set({ commands: JSON.stringify(commands) }).where('account_id', '=', botId).execute();
      return commands;
    },

    /** A bot's commands by its handle, for the composer's "/" menu (anyone signed in; [] for non-bots). */
    async commandsByHandle(handle: string): Promise<BotCommand[]> {
      const account = await accountByHandle(db.db, handle);
      if (!account) throw notFound('account');
      if (account.kind !== 'bot') return [];
      const row = await db.db.selectFrom('bots').select('commands').where('account_id', '=', account.id).where('deleted_at', 'is', null).executeTakeFirst();
      return row ? (JSON.parse(row.commands) as BotCommand[]) : [];
    },

    /** The bot a token belongs to, or null (unknown, rotated away, or the bot deleted). */
    authenticateBotToken: (token: string) => authenticateBotToken(db, token),

    /** The principal a bot token stands for (http/auth.ts). */
    async resolveToken(token: string): Promise<Principal | null> {
      const bot = await authenticateBotToken(db, token);
      const account = bot ? await accountBasics(db.db, bot.botId) : undefined;
      if (!account || (account.suspended_at !== null && account.suspended_at !== undefined)) return null;
      return { accountId: account.id, handle: account.handle, kind: account.kind, role: account.role, deviceId: null, apiKeyId: null, scopes: ALL_SCOPES, botToken: true };
    },

    /** The owner of a bot (null if the account is not a live bot). */
    async ownerOf(botId: string): Promise<string | null> {
      const row = await db.db.selectFrom('bots').select('owner_id').where('account_id', '=', botId).where('deleted_at', 'is', null).executeTakeFirst();
      return row?.owner_id ?? null;
    },
  };
}

export type Bots = ReturnType<typeof createBots>;
