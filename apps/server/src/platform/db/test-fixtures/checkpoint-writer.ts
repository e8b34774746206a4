/**
 * A writer in its own process, for the checkpointer's kill -9 test: it commits numbered batches of
 * rows through openDatabase with the background checkpointer, and prints each batch's number on
 * stdout once its commit has returned (acknowledged), until the test kills it.
 */
import { sql } from 'kysely';
import { openDatabase } from '../index.ts';

const db = openDatabase({ sqlitePath: process.env.CHECKPOINT_SQLITE_PATH!, sqliteCheckpoint: 'background' });
await sql`create table if not exists t (id integer primary key, k text not null, v blob not null)`.execute(db.db);
await sql`create index if not exists t_by_k on t (k)`.execute(db.db);
for (let batch = 0; ; batch += 1) {
  await db.writeTransaction(async (tx) => {
    for (let i = 0; i < 200; i += 1) {
      // Random keys: every commit dirties pages all over the index, as campaign sends do.
      await sql`insert into t (id, k, v) values (${batch * 200 + i}, ${Math.random().toString(36)}, randomblob(200))`.execute(tx);
    }
  });
  process.stdout.write(`${batch}\n`);
}
