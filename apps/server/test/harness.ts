/**
 * Test servers on real databases: SQLite in a temporary folder, and PostgreSQL (in a schema of
 * its own per server) when MMD_TEST_POSTGRES_URL is set. Each server listens on a free loopback
 * port, and tests talk to it through the SDK, as users do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { MmdClient, MmdError } from '@mmd/sdk';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { type Database, type DatabaseOptions, type Dialect, openDatabase } from '../src/platform/db/index.ts';
import { createLocalEventBus } from '../src/platform/pubsub/index.ts';
import type { BlobStore } from '../src/platform/blobs/index.ts';
import type { CampaignPorts } from '../src/campaigns/index.ts';

export const POSTGRES_URL = process.env.MMD_TEST_POSTGRES_URL;

export interface TestServer {
  url: string;
  dialect: Dialect;
  db: Database;
  /** How to open the same database from another process. */
  databaseOptions: DatabaseOptions;
  config: Config;
  app: Awaited<ReturnType<typeof buildApp>>['app'];
  services: Awaited<ReturnType<typeof buildApp>>['services'];
  /** An SDK client with no token. */
  anonymous: MmdClient;
  /** Creates an account and returns a client signed in as it. */
  signUp(handle?: string, options?: { kind?: 'person' | 'bot' | 'business'; password?: string }): Promise<User>;
  close(): Promise<void>;
}

export interface User {
  client: MmdClient;
  handle: string;
  accountId: string;
  token: string;
  password: string;
}

let counter = 0;
/** A handle unique within the test run. */
export function uniqueHandle(prefix = 'user') {
  counter += 1;
  return `${prefix}${process.pid}x${counter}`;
}

/**
 * What every test server is started with: loopback on a free port; cheap Argon2 keeps hundreds of
 * sign-ups fast (production uses OWASP's cost, see config.ts); sign-up and login limits out of the way.
 */
export const TEST_CONFIG = {
  port: 0,
  host: '127.0.0.1',
  argon2MemoryKib: 1024,
  argon2Iterations: 1,
  signupRateLimit: 100_000,
  loginRateLimit: 1000,
  loginAddressRateLimit: 100_000,
} as const;

export async function startTestServer(options: {
  dialect: Dialect;
  config?: Partial<Config>;
  blobs?: BlobStore;
  logger?: object;
  clock?: () => number;
  worker?: boolean;
  pgPoolSize?: number;
  campaignPorts?: Partial<CampaignPorts>;
}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-test-'));
  const config = loadConfig({}, { dataDir: dir, ...TEST_CONFIG, ...options.config });
  counter += 1;
  const pgSchema = options.dialect === 'postgres' ? `t_${process.pid}_${Date.now().toString(36)}_${counter}` : undefined;
  if (options.dialect === 'postgres' && !POSTGRES_URL) throw new Error('MMD_TEST_POSTGRES_URL is not set');
  const databaseOptions: DatabaseOptions = {
    databaseUrl: options.dialect === 'postgres' ? POSTGRES_URL : undefined,
    sqlitePath: path.join(dir, 'mmd.sqlite'),
    pgSchema,
  };
  const db = openDatabase({ ...databaseOptions, pgPoolSize: options.pgPoolSize });
  await db.migrate();
  const bus = createLocalEventBus();
  const { app, services } = await buildApp({ config, db, bus, logger: options.logger ?? false, blobs: options.blobs, clock: options.clock, worker: options.worker, campaignPorts: options.campaignPorts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const anonymous = new MmdClient({ baseUrl: url });
  return {
    url,
    dialect: options.dialect,
    db,
    databaseOptions,
    config,
    app,
    services,
    anonymous,
    async signUp(handle = uniqueHandle(), opts = {}) {
      const password = opts.password ?? 'correct horse battery';
      const created = await anonymous.createAccount({ handle, password, kind: opts.kind });
      return { client: anonymous.as(created.token), handle, accountId: created.account.id, token: created.token, password };
    },
    async close() {
      await app.close();
      if (pgSchema) await sql`drop schema if exists ${sql.id(pgSchema)} cascade`.execute(db.db).catch(() => {});
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs a suite once per database: always on SQLite, and on PostgreSQL when MMD_TEST_POSTGRES_URL
 * is set — otherwise the PostgreSQL suite is reported as skipped, with the reason, not hidden.
 */
export function onEachDatabase(name: string, suite: (dialect: Dialect) => void) {
  describe(`${name} [sqlite]`, () => suite('sqlite'));
  if (POSTGRES_URL) describe(`${name} [postgres]`, () => suite('postgres'));
  else describe(`${name} [postgres]`, { skip: 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' }, () => {});
}

export interface TestBot {
  token: string;
  handle: string;
  accountId: string;
}

/** A bot made as people make them: a person creates it and gets its token (shown once). */
export async function newBot(server: TestServer): Promise<TestBot> {
  const owner = await server.signUp();
  const { bot, token } = await owner.client.createBot({ handle: uniqueHandle('bot'), name: 'Test bot' });
  return { token, handle: bot.handle, accountId: bot.id };
}

/** Waits until `predicate` holds, polling; fails with `what` after `ms`. */
export async function eventually<T>(what: string, probe: () => T | Promise<T>, ms = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Asserts that a call fails with an MmdError carrying `code` (and `status`). */
export async function rejectsWith(promise: Promise<unknown>, code: string, status?: number) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof MmdError, `expected an MmdError, got ${err}`);
    assert.equal(err.code, code, `expected code ${code}, got ${err.code} (${err.message})`);
    if (status) assert.equal(err.status, status);
    return true;
  });
}

/** A team member of a business: the person, and their client acting for the business. */
export interface TeamMember extends User {
  /** The person's client with `x-mmd-business` set: what they use for /v1/business/* calls. */
  acting: MmdClient;
}

/**
 * A business account with a team as people make one: the business signs up, then adds an admin,
 * an agent and an analyst by handle. `business.client` is the business account itself (the owner).
 */
export async function newBusinessTeam(server: TestServer): Promise<{ business: User; admin: TeamMember; agent: TeamMember; analyst: TeamMember }> {
  const business = await server.signUp(uniqueHandle('biz'), { kind: 'business' });
  const member = async (role: 'admin' | 'agent' | 'analyst'): Promise<TeamMember> => {
    const person = await server.signUp(uniqueHandle(role));
    await business.client.putBusinessMember(person.handle, role);
    return { ...person, acting: person.client.forBusiness(business.accountId) };
  };
  return { business, admin: await member('admin'), agent: await member('agent'), analyst: await member('analyst') };
}

/** The same person signed in again, as on a second device (its own token and stream). */
export async function secondDevice(server: TestServer, user: User): Promise<MmdClient> {
  const session = await server.anonymous.login({ handle: user.handle, password: user.password, device_name: 'second device' });
  return server.anonymous.as(session.token);
}
