/**
 * Accounts, devices and API keys. Passwords are hashed with Argon2id; device tokens and API keys
 * are random and stored only as SHA-256 hashes.
 */
import { type ApiScope, API_SCOPES, type Account, type AccountKind, type AccountRole, type ApiKey, type Device } from '@mmd/contracts';
import { hash, verify } from '@node-rs/argon2';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { hashToken, newToken, tokenKind } from '../lib/tokens.ts';
import { type Database, prepared } from '../platform/db/index.ts';
import { insertAccountRow } from './bot-accounts.ts';
import { assertPasswordAllowed } from './password-policy.ts';
import { TOUCH_EVERY_MS, createSessionCache } from './session-cache.ts';
import type { AccountsTable, DevicesTable } from './schema.ts';

/** Who is calling, as established from the bearer token. */
export interface Principal {
  accountId: string;
  handle: string;
  kind: AccountKind;
  role: AccountRole;
  /** Set when the caller used a device token. */
  deviceId: string | null;
  /** Set when the caller used an API key. */
  apiKeyId: string | null;
  /** What the caller may do; device tokens may do everything. */
  scopes: ReadonlySet<ApiScope>;
  /** Set when the caller used a bot token (bots capability): the bot acting as itself. */
  botToken?: boolean;
}

export interface AccountsDeps {
  db: Database;
  clock: () => number;
  argon2: { memoryKib: number; iterations: number };
  /** A device token unused for this long stops working (`session_expired`); its owner signs in again. */
  deviceIdleMs: number;
  /** Called after a device is revoked, so live connections using it close at once. */
  onDeviceRevoked?: (accountId: string, deviceId: string) => void;
  /** Called after an API key is revoked, so its live connections and long-polls close at once. */
  onApiKeyRevoked?: (accountId: string, keyId: string) => void;
}

export const ALL_SCOPES: ReadonlySet<ApiScope> = new Set(API_SCOPES);

export function toAccount(row: AccountsTable): Account {
  return { id: row.id, handle: row.handle, kind: row.kind, role: row.role, created_at: Number(row.created_at) };
}

function toDevice(row: DevicesTable, currentDeviceId: string | null): Device {
  return {
    id: row.id,
    name: row.name,
    created_at: Number(row.created_at),
    last_seen_at: Number(row.last_seen_at),
    current: row.id === currentDeviceId,
  };
}

// Prepared once: every request with a device token not in the session cache (on PostgreSQL: every request) reads it.
const deviceByToken = prepared((db, p: { tokenHash: string }) =>
  db
    .selectFrom('devices')
    .innerJoin('accounts', 'accounts.id', 'devices.account_id')
    .select(['devices.id as device_id', 'devices.last_seen_at', 'accounts.id', 'accounts.handle', 'accounts.kind', 'accounts.role'])
    .where('devices.token_hash', '=', p.tokenHash)
    .where('devices.revoked_at', 'is', null)
    .where('accounts.suspended_at', 'is', null),
);

export function createAccounts(deps: AccountsDeps) {
  const { db, clock } = deps;
  const hashOptions = { memoryCost: deps.argon2.memoryKib, timeCost: deps.argon2.iterations, parallelism: 1 };
  // Verifying against this when the handle is unknown makes both failures cost the same time,
  // so response timing does not reveal which handles exist.
  const decoyHash = hash('not-a-real-password', hashOptions);
  const sessions = createSessionCache(db, clock);

  async function addDevice(accountId: string, name: string) {
    const token = newToken('device');
    const now = clock();
    const row: DevicesTable = {
      id: newId('dev'),
      account_id: accountId,
      name,
      token_hash: hashToken(token),
      created_at: now,
      last_seen_at: now,
      revoked_at: null,
      acked_cursor: 0,
    };
    await db.db.insertInto('devices').values(row).execute();
    return { token, device: toDevice(row, row.id) };
  }

  /**
   * Resolves a bearer token to its principal; `expired` for a device token unused for longer
   * than the idle limit (so the client can tell its user to sign in again), null when unknown
   * or revoked.
   */
  async function resolve(token: string): Promise<Principal | 'expired' | null> {
    const kind = tokenKind(token);
    // Bot tokens belong to the bots capability (http/auth.ts sends them there).
    if (!kind || kind === 'bot' || token.length > 200) return null;
    const tokenHash = hashToken(token);
    if (kind === 'device') {
      const cached = sessions.get(tokenHash);
      if (cached) return cached;
      const started = sessions.begin();
      const [row] = (await deviceByToken(db.db, { tokenHash })).rows;
      if (!row) return null;
      const now = clock();
      if (now - Number(row.last_seen_at) > deps.deviceIdleMs) return 'expired';
      // Touch last_seen at most once a minute: a write per request would be wasteful.
      let lastSeenAt = Number(row.last_seen_at);
      if (now - lastSeenAt > TOUCH_EVERY_MS) {
        await db.db.updateTable('devices').set({ last_seen_at: now }).where('id', '=', row.device_id).execute();
        lastSeenAt = now;
      }
      const principal: Principal = { accountId: row.id, handle: row.handle, kind: row.kind, role: row.role, deviceId: row.device_id, apiKeyId: null, scopes: ALL_SCOPES };
      sessions.set(tokenHash, started, principal, lastSeenAt);
      return principal;
    }
    const row = await db.db
      .selectFrom('api_keys')
      .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
      .select(['api_keys.id as key_id', 'api_keys.scopes', 'accounts.id', 'accounts.handle', 'accounts.kind', 'accounts.role'])
      .where('api_keys.key_hash', '=', tokenHash)
      .where('api_keys.revoked_at', 'is', null)
      .where('accounts.suspended_at', 'is', null)
      .executeTakeFirst();
    if (!row) return null;
    const scopes = new Set(JSON.parse(row.scopes) as ApiScope[]);
    return { accountId: row.id, handle: row.handle, kind: row.kind, role: row.role, deviceId: null, apiKeyId: row.key_id, scopes };
  }

  return {
    async createAccount(input: { handle: string; password: string; kind?: AccountKind; deviceName?: string }) {
      assertPasswordAllowed(input.password, input.handle);
      const row: AccountsTable = {
        id: newId('acc'),
        handle: input.handle,
        handle_key: input.handle.toLowerCase(),
        password_hash: await hash(input.password, hashOptions),
        kind: input.kind ?? 'person',
        role: 'user',
        created_at: clock(),
      };
      await db.writeTransaction((tx) => insertAccountRow(tx, row));
      const { token, device } = await addDevice(row.id, input.deviceName ?? 'first device');
      return { account: toAccount(row), token, device };
    },

    async login(input: { handle: string; password: string; deviceName?: string }) {
      const row = await db.db.selectFrom('accounts').selectAll().where('handle_key', '=', input.handle.toLowerCase()).executeTakeFirst();
      const ok = await verify(row?.password_hash ?? (await decoyHash), input.password).catch(() => false);
      if (!row || !ok) throw new AppError('invalid_credentials', 'wrong handle or password');
      if (row.suspended_at !== null && row.suspended_at !== undefined) throw new AppError('forbidden', 'this account is suspended');
      const { token, device } = await addDevice(row.id, input.deviceName ?? 'new device');
      return { token, device, account: toAccount(row) };
    },

    /** Resolves a bearer token to its principal, or null when unknown, revoked or idle too long. */
    async authenticate(token: string): Promise<Principal | null> {
      const resolved = await resolve(token);
      return resolved === 'expired' ? null : resolved;
    },

    resolve,

    async getAccount(accountId: string): Promise<Account> {
      const row = await db.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
      if (!row) throw notFound('account');
      return toAccount(row);
    },

    async findByHandle(handle: string) {
      return db.db.selectFrom('accounts').selectAll().where('handle_key', '=', handle.toLowerCase()).executeTakeFirst();
    },

    async listDevices(principal: Principal): Promise<Device[]> {
      const rows = await db.db
        .selectFrom('devices')
        .selectAll()
        .where('account_id', '=', principal.accountId)
        .where('revoked_at', 'is', null)
        // Idle-expired devices are signed out: they no longer count as signed-in devices.
        .where('last_seen_at', '>=', clock() - deps.deviceIdleMs)
        .orderBy('created_at')
        .execute();
      return rows.map((r) => toDevice(r, principal.deviceId));
    },

    /**
     * Which of these devices are still signed in: not revoked, not idle-expired, their account not
     * suspended. Work done for a device later (a push) asks here first: access ends with the grant.
     */
    async liveDevices(deviceIds: readonly string[]): Promise<Set<string>> {
      const live = new Set<string>();
      for (let i = 0; i < deviceIds.length; i += 500) {
        const rows = await db.db
          .selectFrom('devices')
          .innerJoin('accounts', 'accounts.id', 'devices.account_id')
          .select('devices.id')
          .where('devices.id', 'in', deviceIds.slice(i, i + 500))
          .where('devices.revoked_at', 'is', null)
          .where('devices.last_seen_at', '>=', clock() - deps.deviceIdleMs)
          .where('accounts.suspended_at', 'is', null)
          .execute();
        for (const r of rows) live.add(r.id);
      }
      return live;
    },

    async revokeDevice(principal: Principal, deviceId: string) {
      const result = await db.db
        .updateTable('devices')
        .set({ revoked_at: clock() })
        .where('id', '=', deviceId)
        .where('account_id', '=', principal.accountId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      // Another account's device and an unknown id look the same: no probing for ids.
      if (Number(result.numUpdatedRows) === 0) throw notFound('device');
      sessions.forgetAll();
      deps.onDeviceRevoked?.(principal.accountId, deviceId);
    },

    async createApiKey(principal: Principal, input: { name: string; scopes: ApiScope[] }) {
      if (principal.kind === 'person') {
        throw new AppError('forbidden', 'API keys are for bot and business accounts; create one with kind "bot" or "business"');
      }
      if (principal.apiKeyId) throw new AppError('forbidden', 'an API key cannot create API keys; use a device session');
      const key = newToken('api-key');
      const row = {
        id: newId('key'),
        account_id: principal.accountId,
        name: input.name,
        scopes: JSON.stringify(input.scopes),
        key_hash: hashToken(key),
        created_at: clock(),
        revoked_at: null,
      };
      await db.db.insertInto('api_keys').values(row).execute();
      const apiKey: ApiKey = { id: row.id, name: row.name, scopes: input.scopes, created_at: row.created_at };
      return { api_key: apiKey, key };
    },

    async listApiKeys(principal: Principal): Promise<ApiKey[]> {
      const rows = await db.db
        .selectFrom('api_keys')
        .selectAll()
        .where('account_id', '=', principal.accountId)
        .where('revoked_at', 'is', null)
        .orderBy('created_at')
        .execute();
      return rows.map((r) => ({ id: r.id, name: r.name, scopes: JSON.parse(r.scopes) as ApiScope[], created_at: Number(r.created_at) }));
    },

    async revokeApiKey(principal: Principal, keyId: string) {
      if (principal.apiKeyId) throw new AppError('forbidden', 'an API key cannot revoke API keys; use a device session');
      const result = await db.db
        .updateTable('api_keys')
        .set({ revoked_at: clock() })
        .where('id', '=', keyId)
        .where('account_id', '=', principal.accountId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound('api key');
      deps.onApiKeyRevoked?.(principal.accountId, keyId);
    },

    /**
     * Changes the password after checking the current one; every other device is signed out (its
     * live connections closed), so whoever else knew the old password loses their sessions too.
     */
    async changePassword(principal: Principal, input: { current: string; next: string }): Promise<{ signedOut: number }> {
      if (!principal.deviceId) throw new AppError('forbidden', 'change the password from a signed-in device');
      const row = await db.db.selectFrom('accounts').select(['password_hash', 'handle']).where('id', '=', principal.accountId).executeTakeFirst();
      if (!row) throw notFound('account');
      const ok = await verify(row.password_hash, input.current).catch(() => false);
      if (!ok) throw new AppError('forbidden', 'the current password is wrong', { errors: [{ path: '/current_password', message: 'wrong password' }] });
      assertPasswordAllowed(input.next, row.handle);
      const passwordHash = await hash(input.next, hashOptions);
      const others = await db.writeTransaction(async (tx) => {
        await tx.updateTable('accounts').set({ password_hash: passwordHash }).where('id', '=', principal.accountId).execute();
        const rows = await tx.selectFrom('devices').select('id').where('account_id', '=', principal.accountId).where('revoked_at', 'is', null).where('id', '!=', principal.deviceId!).execute();
        if (rows.length > 0) await tx.updateTable('devices').set({ revoked_at: clock() }).where('id', 'in', rows.map((r) => r.id)).execute();
        return rows.map((r) => r.id);
      });
      // The other devices' tokens stop working at once: none is answered from the session cache.
      if (others.length > 0) sessions.forgetAll();
      for (const id of others) deps.onDeviceRevoked?.(principal.accountId, id);
      return { signedOut: others.length };
    },

    /** Grants a role (used offline by `mmd account role`). */
    async setRole(handle: string, role: AccountRole) {
      const result = await db.db.updateTable('accounts').set({ role }).where('handle_key', '=', handle.toLowerCase()).executeTakeFirst();
      sessions.forgetAll();
      if (Number(result.numUpdatedRows) === 0) throw notFound('account');
    },

    /**
     * Drops every cached device session (session-cache.ts). For changes to accounts made outside
     * this service once they are committed (an account suspended by the safety console), so the
     * next request of any of its devices reads the account again.
     */
    forgetSessions() {
      sessions.forgetAll();
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
