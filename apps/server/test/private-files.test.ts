import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/platform/db/index.ts';
import { createLocalEventBus } from '../src/platform/pubsub/index.ts';

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

test('the data directory is created 0700 and the SQLite database 0600, whatever the umask', async (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), 'mmd-modes-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  // A common umask that would leave new files world-readable.
  const previous = process.umask(0o022);
  t.after(() => process.umask(previous));
  const dataDir = path.join(parent, 'data');
  const config = loadConfig({}, { dataDir, argon2MemoryKib: 1024, argon2Iterations: 1 });
  const db = openDatabase({ sqlitePath: path.join(dataDir, 'mmd.sqlite') });
  await db.migrate();
  const { app } = await buildApp({ config, db, bus: createLocalEventBus(), logger: false });
  await app.ready();
  // A write, so the WAL file exists.
  const reply = await app.inject({ method: 'POST', url: '/v1/accounts', payload: { handle: 'modes_user', password: 'violet tractor mercury' } });
  assert.equal(reply.statusCode, 201);
  await app.close();
  assert.equal(mode(dataDir), '700');
  assert.equal(mode(path.join(dataDir, 'mmd.sqlite')), '600');
  for (const dir of ['tmp', 'blobs']) assert.equal(mode(path.join(dataDir, dir)), '700', dir);
  assert.equal(mode(path.join(dataDir, 'mmd.sqlite-wal')), '600');
  await db.close();
});
