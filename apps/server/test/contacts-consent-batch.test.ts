/**
 * appendConsentBatch (an import's batch of ledger events) must leave exactly what appending the
 * same events one by one leaves: the same per-account order (seq) and the same derived state per
 * purpose, whatever was in the ledger before — checked with fast-check on both databases.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type ConsentEventInput, appendConsent, appendConsentBatch } from '../src/contacts/consent.ts';
import { type TestDatabase, onEachDatabase, openTestDatabase } from '../src/platform/queue/test-fixtures/test-database.ts';

const ACCOUNTS = ['acc_1', 'acc_2', 'acc_3'];
const PURPOSES = ['marketing', 'surveys'];

const eventArb = fc.record({
  accountId: fc.constantFrom(...ACCOUNTS),
  purpose: fc.constantFrom(...PURPOSES),
  action: fc.constantFrom('opt_in' as const, 'opt_out' as const),
  // Few distinct times, so ties (broken by seq) are common.
  at: fc.integer({ min: 1, max: 5 }).map((d) => d * 1000),
});

onEachDatabase('consent batch append', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await openTestDatabase(dialect);
  });
  after(async () => {
    await t.close();
  });

  test('a batch leaves the same ledger order and states as appending one by one', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 6 }), fc.array(eventArb, { minLength: 1, maxLength: 12 }), async (earlier, batch) => {
        run += 1;
        const one = `biz_one_${run}`;
        const many = `biz_many_${run}`;
        const input = (businessId: string, e: (typeof batch)[number]): ConsentEventInput => ({ businessId, ...e, source: e.action === 'opt_in' ? 'import' : 'keyword', recordedAt: 9999, evidence: 'x' });
        await t.db.writeTransaction(async (tx) => {
          for (const e of earlier) {
            await appendConsent(tx, input(one, e));
            await appendConsent(tx, input(many, e));
          }
          for (const e of batch) await appendConsent(tx, input(one, e));
          await appendConsentBatch(
            tx,
            batch.map((e) => input(many, e)),
          );
        });
        const ledger = async (businessId: string) =>
          (await t.db.db.selectFrom('consent_events').select(['account_id', 'seq', 'purpose', 'action', 'at']).where('business_id', '=', businessId).orderBy('account_id').orderBy('seq').execute()).map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) }));
        const states = async (businessId: string) =>
          (await t.db.db.selectFrom('consent_state').select(['account_id', 'purpose', 'state', 'since', 'source']).where('business_id', '=', businessId).orderBy('account_id').orderBy('purpose').execute()).map((r) => ({ ...r, since: Number(r.since) }));
        assert.deepEqual(await ledger(many), await ledger(one));
        assert.deepEqual(await states(many), await states(one));
      }),
      { numRuns: dialect === 'sqlite' ? 100 : 40 },
    );
  });
});
