/**
 * Device sessions are cached in the process (accounts/session-cache.ts) so a request does not read
 * its token's row each time; signing a device out, suspending an account or granting a role must
 * still take effect on the very next request — also when another process (the CLI) made the
 * change in the database.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setSuspended } from '../src/accounts/index.ts';
import { createAccounts } from '../src/accounts/service.ts';
import { type Database, openDatabase } from '../src/platform/db/index.ts';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

onEachDatabase('device sessions cached in the process', (dialect) => {
  let server: TestServer;
  // A second connection to the same database: what `mmd` offline commands use, from another process.
  let elsewhere: Database;
  before(async () => {
    server = await startTestServer({ dialect });
    elsewhere = openDatabase(server.databaseOptions);
  });
  after(async () => {
    await elsewhere.close();
    await server.close();
  });

  test('a signed-out device is refused on its next request, right after requests that were answered from the cache', async () => {
    const user = await server.signUp();
    const phone = server.anonymous.as((await server.anonymous.login({ handle: user.handle, password: user.password })).token);
    for (let i = 0; i < 3; i++) assert.equal((await phone.me()).handle, user.handle);
    const phoneId = (await phone.devices()).find((d) => d.current)!.id;
    await user.client.revokeDevice(phoneId);
    await rejectsWith(phone.me(), 'unauthenticated', 401);
    assert.equal((await user.client.me()).handle, user.handle, 'the other device still works');
  });

  test("an account suspended by another connection (another process) is refused on its next request", async () => {
    const user = await server.signUp();
    for (let i = 0; i < 3; i++) await user.client.me();
    assert.ok(await setSuspended(elsewhere.db, user.accountId, Date.now()));
    await rejectsWith(user.client.me(), 'unauthenticated', 401);
    await setSuspended(elsewhere.db, user.accountId, null);
    assert.equal((await user.client.me()).handle, user.handle, 'lifting the suspension lets it back in');
  });

  test('a role granted by another process (mmd account role) shows on the next request', async () => {
    const user = await server.signUp();
    assert.equal((await user.client.me()).role, 'user');
    const offline = createAccounts({ db: elsewhere, clock: Date.now, argon2: { memoryKib: 1024, iterations: 1 }, deviceIdleMs: 86_400_000 });
    await offline.setRole(user.handle, 'moderator');
    assert.equal((await user.client.me()).role, 'moderator');
    // The console checks the caller's role from its principal: the new role is honoured at once.
    await user.client.request('GET', '/v1/safety/audit');
  });
});

test('PostgreSQL cannot see other nodes\' writes cheaply, so nothing is cached there; SQLite caches', async () => {
  const sqlite = openDatabase({ sqlitePath: ':memory:' });
  try {
    assert.equal(typeof sqlite.othersWroteMark(), 'number');
  } finally {
    await sqlite.close();
  }
  const postgres = openDatabase({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none' });
  try {
    assert.equal(postgres.othersWroteMark(), null);
  } finally {
    await postgres.close();
  }
});
