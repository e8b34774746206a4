/**
 * Accounts of kind `bot`, made by the bots capability inside its own transaction (the bot's row
 * and its account commit together). A bot has no password: it signs in with its token only.
 */
import { AppError } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { type Tx, isUniqueViolation } from '../platform/db/index.ts';
import { claimHandle } from './handles.ts';
import type { AccountsTable } from './schema.ts';

// Not an Argon2 hash: verify() rejects it, so no password ever signs in as a bot.
const NO_PASSWORD = '!bot';

/** Inserts a bot's account (kind `bot`) and claims its handle; `handle_taken` when it is not free. */
export async function insertBotAccount(tx: Tx, input: { handle: string; at: number }): Promise<{ id: string; handle: string; created_at: number }> {
  const row: AccountsTable = {
    id: newId('acc'),
    handle: input.handle,
    handle_key: input.handle.toLowerCase(),
    password_hash: NO_PASSWORD,
    kind: 'bot',
    role: 'user',
    created_at: input.at,
  };
  await insertAccountRow(tx, row);
  return { id: row.id, handle: row.handle, created_at: row.created_at };
}

/** Inserts an account row and claims its handle (people's and bots' alike); `handle_taken` when it is not free. */
export async function insertAccountRow(tx: Tx, row: AccountsTable): Promise<void> {
  try {
    await tx.insertInto('accounts').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('handle_taken', `the handle "${row.handle}" is taken`);
    throw err;
  }
  await claimHandle(tx, row.handle, { kind: 'account', id: row.id }, row.created_at);
}

/** An account's handle and kind, or undefined. */
export async function accountBasics(db: Pick<Tx, 'selectFrom'>, accountId: string) {
  return db.selectFrom('accounts').select(['id', 'handle', 'kind', 'role', 'suspended_at']).where('id', '=', accountId).executeTakeFirst();
}

/** Suspends an account (or lifts it): while suspended none of its tokens authenticates and it cannot sign in. False if unknown. */
export async function setSuspended(db: Pick<Tx, 'updateTable'>, accountId: string, at: number | null): Promise<boolean> {
  const r = await db.updateTable('accounts').set({ suspended_at: at }).where('id', '=', accountId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Which of these accounts are suspended now, and when each was created. */
export async function accountStates(db: Pick<Tx, 'selectFrom'>, accountIds: readonly string[]): Promise<Map<string, { createdAt: number; suspended: boolean }>> {
  const out = new Map<string, { createdAt: number; suspended: boolean }>();
  for (let i = 0; i < accountIds.length; i += 500) {
    const rows = await db.selectFrom('accounts').select(['id', 'created_at', 'suspended_at']).where('id', 'in', accountIds.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.id, { createdAt: Number(r.created_at), suspended: r.suspended_at !== null && r.suspended_at !== undefined });
  }
  return out;
}

/** The account with this handle (any letter case): id and kind, or undefined. */
export async function accountByHandle(db: Pick<Tx, 'selectFrom'>, handle: string) {
  return db.selectFrom('accounts').select(['id', 'handle', 'kind']).where('handle_key', '=', handle.toLowerCase()).executeTakeFirst();
}
