/**
 * Starting MMD: parse config → open the database and migrate → build the app → listen.
 * `serve` and `migrate` are reachable here and through the `mmd` CLI.
 */
import path from 'node:path';
import v8 from 'node:v8';
import { buildApp } from './app.ts';
import { ConfigError, type Config, loadConfig } from './config.ts';
import { openDatabase } from './platform/db/index.ts';
import { createLocalEventBus, createRedisEventBus } from './platform/pubsub/index.ts';
import { openRedis, redisPrefix } from './platform/redis/index.ts';

/** Where the config says the database is. */
export function databaseOptionsFor(config: Config) {
  return {
    databaseUrl: config.databaseUrl || undefined,
    sqlitePath: path.join(config.dataDir, 'mmd.sqlite'),
    sqliteSynchronous: config.sqliteSynchronous,
    pgSchema: config.databaseSchema === 'public' ? undefined : config.databaseSchema,
    pgConnectTimeoutMs: config.databaseConnectTimeoutMs,
    pgStatementTimeoutMs: config.databaseStatementTimeoutMs,
  };
}

export function openDatabaseFor(config: Config) {
  return openDatabase(databaseOptionsFor(config));
}

/**
 * The event bus the config names, and the Redis connection behind it (null: one process, the
 * in-process bus). The key prefix follows the database schema, so MMDs sharing a PostgreSQL
 * (one schema each) and a Redis never hear each other.
 */
export function clusterFor(config: Config) {
  if (!config.redisUrl) return { bus: createLocalEventBus(), redis: null };
  const client = openRedis(config.redisUrl);
  const prefix = redisPrefix(config.databaseSchema);
  return { bus: createRedisEventBus({ redis: client, prefix }), redis: { client, prefix } };
}

/**
 * How far V8 lets the old generation grow past what survived the last full collection before it
 * collects again. Its default lets a server whose live heap is ~60 MB grow to ~280 MB of
 * garbage between collections (a campaign allocates fast): peak RSS 500–600 MB for a working set
 * of 300. With 30 % the heap is collected sooner; a full collection of so small a live heap takes
 * milliseconds (bench:campaigns, docs/benchmarks.md). V8 reads this flag each time it sets the
 * next limit, so setting it at start takes effect; MMD_HEAP_GROWING_PERCENT=0 leaves V8's own.
 */
function boundHeapGrowth(percent: number) {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

export async function serve(config: Config) {
  boundHeapGrowth(config.heapGrowingPercent);
  const db = openDatabaseFor(config);
  await db.migrate();
  const { bus, redis } = clusterFor(config);
  const roles = new Set(config.roles.split(','));
  const { app } = await buildApp({ config, db, bus, redis, worker: roles.has('worker') });
  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await bus.close();
    await redis?.client.quit();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  if (!roles.has('api')) {
    // A worker-only process: jobs run once the app is ready; nothing listens.
    await app.ready();
    app.log.info(`MMD worker running (${db.dialect})`);
    return app;
  }
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`MMD is serving on http://localhost:${(app.server.address() as { port: number }).port} (${db.dialect}${db.dialect === 'sqlite' ? ` in ${config.dataDir}` : ''})`);
  return app;
}

export async function migrate(config: Config) {
  const db = openDatabaseFor(config);
  try {
    return await db.migrate();
  } finally {
    await db.close();
  }
}

const isEntry = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isEntry) {
  const command = process.argv[2] ?? 'serve';
  try {
    const config = loadConfig();
    if (command === 'migrate') {
      const applied = await migrate(config);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } else if (command === 'serve') {
      await serve(config);
    } else {
      console.error(`unknown command "${command}" (expected serve or migrate)`);
      process.exit(2);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}
