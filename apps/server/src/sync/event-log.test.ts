/**
 * Catch-up reads each membership window through the conversation's own index, whatever else the
 * log holds: a reconnecting device must cost the same in a log of a few events and in one where a
 * campaign wrote a million. Checked on the query plan SQLite picks (a timing would belong in a
 * benchmark), with the log shaped as a campaign leaves it: most events untargeted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../platform/db/index.ts';
import { conversationSource } from './event-log.ts';

test('a membership window is read through events_by_conversation, never by scanning untargeted events', async () => {
  const db = openDatabase({ sqlitePath: ':memory:' });
  try {
    await db.migrate();
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      conversation_id: `cnv_${i % 1000}`,
      target_account_id: i % 10 === 0 ? `acc_${i % 1000}` : null,
      type: 'message.created',
      seq: i,
      payload: '{}',
      created_at: i,
    }));
    for (let i = 0; i < rows.length; i += 200) await db.db.insertInto('events').values(rows.slice(i, i + 200)).execute();
    const compiled = conversationSource({ conversationId: 'cnv_7', from: 0, to: Number.MAX_SAFE_INTEGER, joinedCursor: 0, limit: 500 }).compile(db.db);
    const details = await explain(db, compiled.sql, compiled.parameters);
    assert.ok(details.some((d) => d.includes('events_by_conversation')), `plan: ${details.join(' | ')}`);
    assert.ok(!details.some((d) => d.includes('events_by_target')), `plan: ${details.join(' | ')}`);
    // And it still answers right: the window's untargeted events only.
    const ids = await conversationSource({ conversationId: 'cnv_7', from: 0, to: Number.MAX_SAFE_INTEGER, joinedCursor: 0, limit: 500 }).execute(db.db);
    assert.deepEqual(
      (ids.rows as { id: number }[]).map((r) => Number(r.id)),
      rows.flatMap((r, i) => (r.conversation_id === 'cnv_7' && r.target_account_id === null ? [i + 1] : [])),
    );
  } finally {
    await db.close();
  }
});

async function explain(db: ReturnType<typeof openDatabase>, text: string, parameters: readonly unknown[]): Promise<string[]> {
  const result = await db.db.executeQuery<{ detail: string }>({ sql: `explain query plan ${text}`, parameters, query: { kind: 'RawNode' } as never, queryId: { queryId: 'plan' } as never });
  return result.rows.map((r) => r.detail);
}
