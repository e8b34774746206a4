/**
 * The offline commands on a SQLite data directory: `mmd serve` on it, then (server stopped)
 * `mmd account role` and `mmd migrate` straight on the database.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabaseFor } from '@mmd/server/main';
import { loadConfig } from '../../server/src/config.ts';
import { uniqueHandle } from '../../server/test/harness.ts';
import { exited, run, start, tempDir, waitFor } from './run-cli.ts';

test('mmd serve on a data dir, then account role and migrate offline', async () => {
  const dataDir = tempDir();
  const configDir = tempDir();
  // The CLI's own MMD_* variables are set too: the offline commands must keep them away from the
  // server's strict config loader, which rejects unknown MMD_* settings.
  const env = {
    MMD_DATA_DIR: dataDir,
    MMD_CONFIG_DIR: configDir,
    MMD_SERVER: 'http://127.0.0.1:9',
    MMD_PORT: '0',
    MMD_HOST: '127.0.0.1',
    MMD_ARGON2_MEMORY_KIB: '1024',
    MMD_ARGON2_ITERATIONS: '1',
  };
  const server = start(['serve'], env);
  try {
    const [, port] = await waitFor(server.stdout, /MMD is serving on http:\/\/localhost:(\d+)/, 60_000);
    const url = `http://127.0.0.1:${port}`;
    const handle = uniqueHandle('carol');
    const created = await run(
      ['account', 'create', handle, '--password', 'correct horse battery', '--server', url],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    server.kill('SIGTERM');
    assert.equal(await exited(server), 0, 'serve shuts down cleanly on SIGTERM');

    const granted = await run(['account', 'role', handle, 'moderator'], env);
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.stdout, `@${handle} is now moderator\n`);

    const db = openDatabaseFor(loadConfig({}, { dataDir }));
    try {
      const row = await db.db
        .selectFrom('accounts')
        .select('role')
        .where('handle', '=', handle)
        .executeTakeFirstOrThrow();
      assert.equal(row.role, 'moderator');
    } finally {
      await db.close();
    }

    const migrated = await run(['migrate', '--json'], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.deepEqual(JSON.parse(migrated.stdout).applied, []);
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
});
