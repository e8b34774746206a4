/**
 * A campaign batch reads its recipients' consent through the primary key, whatever the size of
 * the business's contact book: checked on the plan SQLite picks (a timing belongs in a benchmark).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../platform/db/index.ts';
import { statesOf, statesQuery } from './consent.ts';

test('consent states of a batch are read by primary key, never by walking the business purpose index', async () => {
  const db = openDatabase({ sqlitePath: ':memory:' });
  try {
    await db.migrate();
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      business_id: 'acc_biz',
      account_id: `acc_${String(i).padStart(5, '0')}`,
      purpose: i % 3 === 0 ? 'surveys' : 'marketing',
      state: i % 7 === 0 ? 'opted_out' : 'opted_in',
      since: i,
      source: 'import',
      event_id: `cev_${i}`,
    }));
    // A second purpose for some accounts: the answer must list purposes in order.
    rows.push({ ...rows[3]!, purpose: 'alerts' }, { ...rows[3]!, purpose: 'marketing' });
    for (let i = 0; i < rows.length; i += 200) await db.db.insertInto('consent_state').values(rows.slice(i, i + 200)).execute();
    const ids = ['acc_00003', 'acc_00007', 'acc_02997', 'acc_missing'];
    const compiled = statesQuery(db.db, 'acc_biz', ids).compile();
    const result = await db.db.executeQuery<{ detail: string }>({ sql: `explain query plan ${compiled.sql}`, parameters: compiled.parameters, query: { kind: 'RawNode' } as never, queryId: { queryId: 'plan' } as never });
    const details = result.rows.map((r) => r.detail);
    assert.ok(details.some((d) => d.includes('sqlite_autoindex_consent_state') && d.includes('account_id=?')), `plan: ${details.join(' | ')}`);
    assert.ok(!details.some((d) => d.includes('consent_state_by_purpose')), `plan: ${details.join(' | ')}`);
    const states = await statesOf(db.db, 'acc_biz', ids);
    assert.deepEqual(Object.keys(states.get('acc_00003')!), ['alerts', 'marketing', 'surveys'], 'purposes in order');
    assert.equal(states.get('acc_00007')!.marketing!.state, 'opted_out');
    assert.equal(states.get('acc_02997')!.surveys!.state, 'opted_in');
    assert.equal(states.has('acc_missing'), false);
  } finally {
    await db.close();
  }
});
