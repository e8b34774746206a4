/**
 * After a restore from a backup: cursors the replaced server handed out past the backup are
 * refused as cursor_expired for good (the gap markRestored leaves), on both databases; and the
 * PostgreSQL backup (pg_dump of the schema plus the blob files) restores, tested once against
 * MMD_TEST_POSTGRES_URL.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { backup, restore } from '../src/backup/index.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/platform/db/index.ts';
import { markRestored, RESTORE_GAP } from '../src/sync/index.ts';
import { POSTGRES_URL, type TestServer, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

onEachDatabase('a restored event log', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  test('refuses cursors issued past the backup, even once new events outnumber them; earlier cursors go on', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'in the backup' });
    const restoredEnd = await bob.client.updatesState();
    const gap = await markRestored(server.db, Date.now());
    assert.equal(gap.afterCursor, restoredEnd);
    assert.equal(gap.resumesAt, restoredEnd + RESTORE_GAP);
    // What bob's device held from the server that was lost: events past the backup.
    const lostCursor = restoredEnd + 3;

    await rejectsWith(bob.client.updates({ cursor: lostCursor }), 'cursor_expired', 410);
    const sent = await alice.client.send(chat.id, { text: 'after the restore' });
    assert.ok(sent.seq > 0);
    const page = await bob.client.updates({ cursor: restoredEnd });
    assert.deepEqual(page.events.map((e) => (e.data as { text?: string }).text), ['after the restore']);
    assert.ok(page.cursor >= gap.resumesAt, 'new events are numbered past the gap');
    // The log has now grown past the lost cursor; it is still refused, not followed.
    await rejectsWith(bob.client.updates({ cursor: lostCursor }), 'cursor_expired', 410);
    await rejectsWith(bob.client.updates({ cursor: gap.resumesAt - 1, timeout: 5 }), 'cursor_expired', 410);
    const ack = await fetch(`${server.url}/v1/updates/ack`, { method: 'POST', headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cursor: lostCursor }) });
    assert.equal(ack.status, 410);

    const resets: number[] = [];
    const texts: string[] = [];
    const stream = bob.client.stream({ cursor: lostCursor, onEvent: (e) => void (e.type === 'message.created' && texts.push((e.data as { text: string }).text)), onReset: (c) => void resets.push(c) });
    t.after(() => stream.close());
    await stream.ready;
    assert.equal(resets.length, 1);
    assert.ok(resets[0]! >= page.cursor, 'reloaded from the newest cursor');
    await alice.client.send(chat.id, { text: 'live again' });
    await eventually('live delivery after the reset', () => texts.includes('live again'));
    assert.deepEqual(texts, ['live again']);

    // Restored again with nothing written between: the new gap does not reopen the old one.
    const second = await markRestored(server.db, Date.now());
    assert.ok(second.afterCursor >= page.cursor);
    await rejectsWith(bob.client.updates({ cursor: lostCursor }), 'cursor_expired', 410);
  });
});

describe('PostgreSQL backup and restore (pg_dump + blob files)', { skip: POSTGRES_URL ? false : 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' }, () => {
  test('a backup taken while sending restores every message acknowledged before it, and the blobs', async () => {
    const server = await startTestServer({ dialect: 'postgres' });
    const schema = server.databaseOptions.pgSchema!;
    const config = loadConfig({}, { dataDir: server.config.dataDir, databaseUrl: POSTGRES_URL, databaseSchema: schema });
    const backupDir = path.join(mkdtempSync(path.join(tmpdir(), 'mmd-pg-backup-')), 'backup');
    try {
      const alice = await server.signUp();
      const bob = await server.signUp();
      const chat = await alice.client.openDirect(bob.handle);
      const blob = Buffer.from('a blob that must come back byte for byte');
      await server.services.blobs.put('media/med_backup/original.bin', blob, { contentType: 'application/octet-stream' });
      const acked: { id: string; at: number }[] = [];
      let sending = true;
      const sender = (async () => {
        for (let i = 0; sending; i++) acked.push({ id: (await alice.client.send(chat.id, { text: `m${i}` })).id, at: Date.now() });
      })();
      await eventually('sends before the backup', () => acked.length >= 10, 20_000);
      const began = Date.now();
      const manifest = await backup({ config, dir: backupDir });
      const atEnd = acked.length;
      await eventually('sends after the backup', () => acked.length >= atEnd + 5, 20_000);
      sending = false;
      await sender;
      assert.equal(manifest.database.dialect, 'postgres');
      assert.equal(manifest.database.path, 'mmd.pgdump');
      assert.ok(manifest.blobs.files.some((f) => f.path === 'media/med_backup/original.bin'));

      // Lost: the schema dropped, the data dir gone (close does both).
      await server.close();
      const restored = await restore({ config, dir: backupDir });
      const db = openDatabase({ databaseUrl: POSTGRES_URL, pgSchema: schema });
      try {
        const ids = new Set((await db.db.selectFrom('messages').select('id').execute()).map((r) => r.id));
        assert.deepEqual(acked.filter((m) => m.at < began && !ids.has(m.id)), [], 'every message acknowledged before the backup');
        const next = await sql<{ n: number }>`select nextval(pg_get_serial_sequence('events', 'id')) as n`.execute(db.db);
        assert.ok(Number(next.rows[0]!.n) >= restored.resumesAt, 'new events are numbered past the gap');
      } finally {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db.db);
        await db.close();
      }
      const back = readFileSync(path.join(config.dataDir, 'blobs', 'media', 'med_backup', 'original.bin'));
      assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(blob).digest('hex'));
    } finally {
      rmSync(path.dirname(backupDir), { recursive: true, force: true });
      rmSync(config.dataDir, { recursive: true, force: true });
    }
  });
});
