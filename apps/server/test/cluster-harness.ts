/**
 * Several MMD nodes in this test process on one PostgreSQL schema and one Redis, as a cluster runs
 * them on several machines: each node its own database pool, event bus, hub and HTTP port.
 * Suites need MMD_TEST_POSTGRES_URL and MMD_TEST_REDIS_URL; without them they report themselves
 * skipped, saying which is missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MmdClient } from '@mmd/sdk';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { type Database, openDatabase } from '../src/platform/db/index.ts';
import { createRedisEventBus } from '../src/platform/pubsub/index.ts';
import { openRedis, redisPrefix } from '../src/platform/redis/index.ts';
import { POSTGRES_URL, TEST_CONFIG } from './harness.ts';

export const REDIS_URL = process.env.MMD_TEST_REDIS_URL;

/** Why a cluster suite cannot run here, or false when it can. */
export function clusterSkipReason(): string | false {
  if (!POSTGRES_URL) return 'cluster suite not run: MMD_TEST_POSTGRES_URL is not set';
  if (!REDIS_URL) return 'cluster suite not run: MMD_TEST_REDIS_URL is not set';
  return false;
}

export interface ClusterNode {
  url: string;
  anonymous: MmdClient;
  app: Awaited<ReturnType<typeof buildApp>>['app'];
  services: Awaited<ReturnType<typeof buildApp>>['services'];
  /** This node's own database pool. */
  db: Database;
  close(): Promise<void>;
}

export interface TestCluster {
  schema: string;
  /** A temporary directory removed with the cluster (data dirs of nodes started elsewhere). */
  dir: string;
  /** Starts one more node; `redisUrl` lets a test put a node behind a proxy it can cut. */
  node(options?: { redisUrl?: string; databaseUrl?: string; config?: Partial<Config>; worker?: boolean }): Promise<ClusterNode>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * A cluster on a fresh schema and Redis key prefix. Nodes poll the database only every minute, so
 * whatever arrives sooner came through Redis (or a resync after a reconnect).
 */
export async function startTestCluster(): Promise<TestCluster> {
  counter += 1;
  const schema = `cl_${process.pid}_${Date.now().toString(36)}_${counter}`;
  // The prefix `mmd serve` on this schema uses (the schema is this run's own), so a node in a
  // child process (spawnServer) joins the same cluster.
  const prefix = redisPrefix(schema);
  const nodes: ClusterNode[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-cluster-'));
  let admin: Database | null = null;
  return {
    schema,
    dir,
    async node(options = {}) {
      const config = loadConfig({}, {
        dataDir: path.join(dir, `node${nodes.length}`),
        ...TEST_CONFIG,
        databaseUrl: POSTGRES_URL,
        databaseSchema: schema,
        ...options.config,
      });
      const db = openDatabase({ databaseUrl: options.databaseUrl ?? POSTGRES_URL, pgSchema: schema, pgConnectTimeoutMs: config.databaseConnectTimeoutMs, pgStatementTimeoutMs: config.databaseStatementTimeoutMs });
      await db.migrate();
      admin ??= db;
      const client = openRedis(options.redisUrl ?? REDIS_URL!);
      client.on('error', () => {});
      const bus = createRedisEventBus({ redis: client, prefix, pollMs: 60_000 });
      const { app, services } = await buildApp({ config, db, bus, redis: { client, prefix }, logger: false, worker: options.worker });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const node: ClusterNode = {
        url,
        anonymous: new MmdClient({ baseUrl: url }),
        app,
        services,
        db,
        async close() {
          await app.close();
          await bus.close();
          client.disconnect();
          if (db !== admin) await db.close();
        },
      };
      nodes.push(node);
      return node;
    },
    async close() {
      for (const node of nodes) await node.close();
      if (admin) {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db).catch(() => {});
        await admin.close();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy in front of Redis or PostgreSQL that a test can cut (every connection dropped, new
 * ones refused) or stall (every connection dropped, new ones accepted and never answered, as from
 * a host that vanished) and restore: to the nodes behind it, the service went away and came back.
 * `url` is the target's URL with the proxy's address.
 */
export async function cuttableProxy(target: string): Promise<{ url: string; cut(): void; stall(): void; restore(): Promise<void>; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let listenPort = 0;
  let stalled = false;
  const listen = () =>
    new Promise<void>((resolve) => {
      stalled = false;
      server = createServer((inbound) => {
        if (stalled) {
          sockets.add(inbound);
          inbound.on('error', () => {});
          inbound.on('close', () => sockets.delete(inbound));
          return;
        }
        const outbound = connect(Number(port || 6379), hostname);
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => {
            sockets.delete(s);
            inbound.destroy();
            outbound.destroy();
          });
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      server.listen(listenPort, '127.0.0.1', () => {
        listenPort = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (server) server.close(() => resolve());
      else resolve();
      server = null;
    });
  await listen();
  const url = new URL(target);
  url.host = `127.0.0.1:${listenPort}`;
  return {
    url: url.toString(),
    cut: () => void stop(),
    stall() {
      stalled = true;
      for (const s of sockets) s.destroy();
    },
    async restore() {
      if (server) {
        stalled = false;
        return;
      }
      await listen();
    },
    close: stop,
  };
}
