/**
 * Blocks and the "who may add me" setting. The rules that read them (no direct messages from a
 * blocked account, adds turned into invitations) live where the acts happen, in conversations;
 * the helpers they use are here.
 */
import type { AddMePolicy, Block, Privacy, UpdatePrivacyBody } from '@mmd/contracts';
import { AppError, notFound } from '../errors.ts';
import { type Database, type Tx, prepared } from '../platform/db/index.ts';
import type { Principal } from './service.ts';

export interface PrivacyDeps {
  db: Database;
  clock: () => number;
}

type Executor = Database['db'] | Tx;

/** Has `blocker` blocked `blocked`? */
export async function hasBlocked(db: Executor, blocker: string, blocked: string): Promise<boolean> {
  const row = await db
    .selectFrom('blocks')
    .select('blocker_id')
    .where('blocker_id', '=', blocker)
    .where('blocked_id', '=', blocked)
    .executeTakeFirst();
  return row !== undefined;
}

// Prepared once: every direct message checks it.
const blocksEitherWay = prepared((db, p: { a: string; b: string }) =>
  db
    .selectFrom('blocks')
    .select('blocker_id')
    .where((eb) => eb.or([eb.and([eb('blocker_id', '=', p.a), eb('blocked_id', '=', p.b)]), eb.and([eb('blocker_id', '=', p.b), eb('blocked_id', '=', p.a)])])),
);

/** Who of two accounts has blocked the other, in one read (a direct chat's send checks both ways). */
export async function blocksBetween(db: Executor, a: string, b: string): Promise<{ aBlockedB: boolean; bBlockedA: boolean }> {
  const { rows } = await blocksEitherWay(db, { a, b });
  return { aBlockedB: rows.some((r) => r.blocker_id === a), bBlockedA: rows.some((r) => r.blocker_id === b) };
}

/** Of `accountIds`, those on one side of a block whose other side is `fixed` (500 per query). */
async function blockSide(db: Executor, side: 'blocker_id' | 'blocked_id', fixed: string, accountIds: readonly string[]): Promise<Set<string>> {
  const other = side === 'blocker_id' ? 'blocked_id' : 'blocker_id';
  const found = new Set<string>();
  for (let i = 0; i < accountIds.length; i += 500) {
    const rows = await db.selectFrom('blocks').select(side).where(other, '=', fixed).where(side, 'in', accountIds.slice(i, i + 500)).execute();
    for (const r of rows) found.add((r as Record<typeof side, string>)[side]);
  }
  return found;
}

/** Of these accounts, those who blocked `actor`. */
export function blockersOf(db: Executor, accountIds: readonly string[], actor: string): Promise<Set<string>> {
  return blockSide(db, 'blocker_id', actor, accountIds);
}

/** Which of `accountIds` the blocker has blocked. */
export function blockedBy(db: Executor, blocker: string, accountIds: readonly string[]): Promise<Set<string>> {
  return blockSide(db, 'blocked_id', blocker, accountIds);
}

/** Each account's "who may add me" setting (everyone unless they chose otherwise). */
export async function addPolicies(db: Executor, accountIds: string[]): Promise<Map<string, AddMePolicy>> {
  const policies = new Map<string, AddMePolicy>(accountIds.map((id) => [id, 'everyone']));
  for (let i = 0; i < accountIds.length; i += 500) {
    const rows = await db
      .selectFrom('privacy_settings')
      .select(['account_id', 'add_me'])
      .where('account_id', 'in', accountIds.slice(i, i + 500))
      .execute();
    for (const r of rows) policies.set(r.account_id, r.add_me);
  }
  return policies;
}

const DEFAULT_PRIVACY: Privacy = { add_me: 'everyone', last_seen: 'everyone', photo: 'everyone', find_me: 'everyone', read_receipts: true };

/** Each account's privacy settings (the defaults for those who never chose), 500 per query. */
export async function privacySettingsOf(db: Executor, accountIds: readonly string[]): Promise<Map<string, Privacy>> {
  const out = new Map<string, Privacy>(accountIds.map((id) => [id, DEFAULT_PRIVACY]));
  for (let i = 0; i < accountIds.length; i += 500) {
    const rows = await db
      .selectFrom('privacy_settings')
      .select(['account_id', 'add_me', 'last_seen', 'photo', 'find_me', 'read_receipts'])
      .where('account_id', 'in', accountIds.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      out.set(r.account_id, {
        add_me: r.add_me,
        last_seen: r.last_seen ?? DEFAULT_PRIVACY.last_seen,
        photo: r.photo ?? DEFAULT_PRIVACY.photo,
        find_me: r.find_me ?? DEFAULT_PRIVACY.find_me,
        read_receipts: r.read_receipts === null || r.read_receipts === undefined ? true : Number(r.read_receipts) !== 0,
      });
    }
  }
  return out;
}

/**
 * Whether reads in a direct chat between these two accounts are shown to the other: only while
 * both keep read receipts on (WhatsApp's rule: whoever turns theirs off neither sends nor sees
 * them). Groups ignore the setting; callers ask only for direct chats.
 */
export async function readsShownBetween(db: Executor, a: string, b: string): Promise<boolean> {
  const settings = await privacySettingsOf(db, [a, b]);
  return settings.get(a)!.read_receipts && settings.get(b)!.read_receipts;
}

export function createPrivacy(deps: PrivacyDeps) {
  const { db, clock } = deps;

  async function accountByHandle(handle: string) {
    const row = await db.db
      .selectFrom('accounts')
      .select(['id', 'handle'])
      .where('handle_key', '=', handle.replace(/^@/, '').toLowerCase())
      .executeTakeFirst();
    if (!row) throw notFound('account');
    return row;
  }

  return {
    async get(principal: Principal): Promise<Privacy> {
      return (await privacySettingsOf(db.db, [principal.accountId])).get(principal.accountId)!;
    },

    /** Changes only the settings named; the others keep their values. */
    async set(principal: Principal, input: UpdatePrivacyBody): Promise<Privacy> {
      return db.writeTransaction(async (tx) => {
        const current = (await privacySettingsOf(tx, [principal.accountId])).get(principal.accountId)!;
        const next: Privacy = { ...current, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
        const row = { add_me: next.add_me, last_seen: next.last_seen, photo: next.photo, find_me: next.find_me, read_receipts: next.read_receipts ? 1 : 0, updated_at: clock() };
        await tx
          .insertInto('privacy_settings')
          .values({ account_id: principal.accountId, ...row })
          .onConflict((oc) => oc.column('account_id').doUpdateSet(row))
          .execute();
        return next;
      });
    },

    async block(principal: Principal, handle: string): Promise<Block> {
      const target = await accountByHandle(handle);
      if (target.id === principal.accountId)
        throw new AppError('validation_failed', 'you cannot block yourself', {
          errors: [{ path: '/handle', message: 'your own handle' }],
        });
      const now = clock();
      await db.db
        .insertInto('blocks')
        .values({ blocker_id: principal.accountId, blocked_id: target.id, created_at: now })
        .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
        .execute();
      const row = await db.db
        .selectFrom('blocks')
        .select('created_at')
        .where('blocker_id', '=', principal.accountId)
        .where('blocked_id', '=', target.id)
        .executeTakeFirstOrThrow();
      return { account_id: target.id, handle: target.handle, created_at: Number(row.created_at) };
    },

    async unblock(principal: Principal, handle: string): Promise<void> {
      const target = await accountByHandle(handle);
      const result = await db.db
        .deleteFrom('blocks')
        .where('blocker_id', '=', principal.accountId)
        .where('blocked_id', '=', target.id)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound('block');
    },

    async list(principal: Principal): Promise<Block[]> {
      const rows = await db.db
        .selectFrom('blocks')
        .innerJoin('accounts', 'accounts.id', 'blocks.blocked_id')
        .select(['accounts.id', 'accounts.handle', 'blocks.created_at'])
        .where('blocks.blocker_id', '=', principal.accountId)
        .orderBy('blocks.created_at', 'desc')
        .limit(10_000)
        .execute();
      return rows.map((r) => ({ account_id: r.id, handle: r.handle, created_at: Number(r.created_at) }));
    },
  };
}

export type PrivacyService = ReturnType<typeof createPrivacy>;
