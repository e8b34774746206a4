/**
 * The offline side: commands that work on the server's data directory or database directly
 * (`serve`, `migrate`, `account role`), configured by the same MMD_* environment as the server.
 * The server code is imported lazily so the online commands start without loading Fastify,
 * sharp and the database drivers.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CliError, UsageError } from './errors.ts';

/** The CLI's own variables, which the server's strict config loader would reject as unknown. */
const CLI_ONLY_ENV = ['MMD_SERVER', 'MMD_TOKEN', 'MMD_CONFIG_DIR'];

export async function serverConfig() {
  // Not exported by @mmd/server's package.json yet, hence the path into its sources.
  const { loadConfig, ConfigError } = await import('../../server/src/config.ts');
  const env = { ...process.env };
  for (const name of CLI_ONLY_ENV) delete env[name];
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export type ServerConfig = Awaited<ReturnType<typeof serverConfig>>;

export async function serverMain() {
  return import('@mmd/server/main');
}

/** Where the database is, for messages: the SQLite file, or the PostgreSQL host. */
export function describeDatabase(config: ServerConfig): string {
  if (config.databaseUrl) return `PostgreSQL at ${new URL(config.databaseUrl).host}`;
  return path.join(config.dataDir, 'mmd.sqlite');
}

/** Opens the existing database; refuses to create an empty SQLite file in the wrong directory. */
export async function openExistingDatabase(config: ServerConfig) {
  if (!config.databaseUrl && !existsSync(path.join(config.dataDir, 'mmd.sqlite'))) {
    throw new CliError(
      `no MMD database in ${config.dataDir} (set MMD_DATA_DIR, or MMD_DATABASE_URL for PostgreSQL)`,
      'not_found',
    );
  }
  const { openDatabaseFor } = await serverMain();
  return openDatabaseFor(config);
}

/** The accounts service over an open database, for role changes. */
export async function accountsService(
  config: ServerConfig,
  db: Awaited<ReturnType<typeof openExistingDatabase>>,
) {
  const { createAccounts } = await import('../../server/src/accounts/service.ts');
  return createAccounts({
    db,
    clock: Date.now,
    argon2: { memoryKib: config.argon2MemoryKib, iterations: config.argon2Iterations },
    deviceIdleMs: config.deviceIdleDays * 24 * 60 * 60 * 1000,
  });
}
