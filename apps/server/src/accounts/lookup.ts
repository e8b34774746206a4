/**
 * Reads other capabilities need about accounts (handles to show beside ids), so none of them
 * queries `accounts` itself.
 */
import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db/index.ts';

type Reader = Database['db'] | Tx;

/** Each account's handle, by id (ids of deleted accounts are missing). */
export async function handlesOf(db: Reader, accountIds: Iterable<string>): Promise<Map<string, string>> {
  const ids = [...new Set(accountIds)];
  const handles = new Map<string, string>();
  // Chunks keep each IN list within both databases' parameter limits.
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('accounts')
      .select(['id', 'handle'])
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) handles.set(r.id, r.handle);
  }
  return handles;
}

/** The id of the account with this handle (any letter case), or undefined. */
export async function accountIdByHandle(db: Reader, handle: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select('id')
    .where('handle_key', '=', handle.toLowerCase())
    .executeTakeFirst();
  return row?.id;
}

/** Each account's handle and kind, by id (ids of deleted accounts are missing). */
export async function accountsByIds(db: Reader, accountIds: Iterable<string>): Promise<Map<string, { handle: string; kind: 'person' | 'bot' | 'business' }>> {
  const ids = [...new Set(accountIds)];
  const out = new Map<string, { handle: string; kind: 'person' | 'bot' | 'business' }>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('accounts').select(['id', 'handle', 'kind']).where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.id, { handle: r.handle, kind: r.kind });
  }
  return out;
}

/**
 * Accounts by handle (any letter case), keyed by the lower-cased handle: one query for up to 1,000
 * handles (a contact import resolves each batch of rows this way, never a query per row).
 */
export async function accountsByHandles(db: Reader, handles: Iterable<string>): Promise<Map<string, { id: string; handle: string; kind: 'person' | 'bot' | 'business' }>> {
  const keys = [...new Set([...handles].map((h) => h.toLowerCase()))];
  const out = new Map<string, { id: string; handle: string; kind: 'person' | 'bot' | 'business' }>();
  for (let i = 0; i < keys.length; i += 1000) {
    const rows = await db.selectFrom('accounts').select(['id', 'handle', 'handle_key', 'kind']).where('handle_key', 'in', keys.slice(i, i + 1000)).execute();
    for (const r of rows) out.set(r.handle_key, { id: r.id, handle: r.handle, kind: r.kind });
  }
  return out;
}

/**
 * Up to `limit` accounts whose handle starts with `prefix` (any letter case), shortest handles
 * first (an exact handle comes before longer ones). Suspended accounts are left out.
 */
export async function accountsByHandlePrefix(db: Reader, prefix: string, limit: number): Promise<{ id: string; handle: string; kind: 'person' | 'bot' | 'business' }[]> {
  const key = prefix.toLowerCase();
  // `_` is a LIKE wildcard and may be part of a handle: escape it (and `%`, `\`).
  const pattern = `${key.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db
    .selectFrom('accounts')
    .select(['id', 'handle', 'kind', 'handle_key'])
    .where(sql<boolean>`handle_key like ${pattern} escape '\\'`)
    .where('suspended_at', 'is', null)
    .orderBy(sql`length(handle_key)`)
    .orderBy('handle_key')
    .limit(limit)
    .execute();
  // SQLite's LIKE ignores ASCII case; both keys are lower-case already, so this only re-checks.
  return rows.filter((r) => r.handle_key.startsWith(key)).map((r) => ({ id: r.id, handle: r.handle, kind: r.kind }));
}
