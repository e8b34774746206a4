/**
 * A process for watermark.test.ts to kill with SIGKILL: it opens the database, appends one event
 * in a write transaction, prints the event's cursor and then waits forever with the transaction
 * open (a concurrent write, as a send is). argv: database URL, schema.
 */
import { concurrentWrite, openDatabase } from '../platform/db/index.ts';
import { appendEvent } from './event-log.ts';
import type { NewEvent } from './event-log.ts';

const [url, schema] = process.argv.slice(2);
const db = openDatabase({ databaseUrl: url!, pgSchema: schema! });
void concurrentWrite(() => db.writeTransaction(async (tx) => {
  const stored = await appendEvent(tx, { type: 'profile.updated', conversationId: null, targetAccountId: 'acc_watermark', data: { n: 'child' }, at: Date.now() } as unknown as NewEvent);
  process.stdout.write(`${stored.id}\n`);
  await new Promise(() => {});
}));
