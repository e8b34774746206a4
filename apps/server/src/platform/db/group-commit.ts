/**
 * Group commit for SQLite: write transactions that arrive together share one transaction and so
 * one COMMIT — one fsync of the WAL at synchronous=FULL — instead of one each.
 *
 * SQLite has one writer, so write transactions ran one after another anyway; what a group saves
 * is the fsync (on the event loop: better-sqlite3 is synchronous) and the BEGIN/COMMIT pair per
 * write. Each write after the first runs under a SAVEPOINT: if it throws, its changes are rolled
 * back to that savepoint and its caller gets its own error, while the others go on. The first
 * write of a group runs without one (nothing else is in the transaction yet): if it throws, the
 * transaction is rolled back and whatever queued behind it starts a new group. Every caller is
 * answered only once the shared COMMIT has returned, so nothing is acknowledged before it is
 * durable; if the COMMIT itself fails (or a savepoint cannot be rolled back because SQLite
 * abandoned the whole transaction), every write of the group fails with that error — none of
 * them was written.
 *
 * A group starts on the event loop's check phase (setImmediate) after the first write is queued,
 * so the requests read in the same I/O turn join it; writes queued while a group runs (their
 * requests could not be read meanwhile: the group holds the loop until COMMIT) form the next one.
 */
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';

export interface GroupCommitOptions {
  /** At most this many writes share one transaction (a bound on the first caller's wait). */
  maxWrites: number;
  /** Told after each group's COMMIT: how long the COMMIT took, and how many writes it carried. */
  onCommit?: (seconds: number, writes: number) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Queued {
  // biome-ignore lint/suspicious/noExplicitAny: one queue holds writes of every result type
  fn: (tx: Transaction<any>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Thrown out of the shared transaction to roll it back when its first write failed. */
class FirstWriteFailed {
  constructor(readonly error: unknown) {}
}

/** Returns `writeTransaction` for `db`: each call's `fn` runs inside a shared, group-committed transaction. */
export function createGroupCommit<DB>(db: Kysely<DB>, options: GroupCommitOptions) {
  const queue: Queued[] = [];
  let scheduled = false;

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void runGroup());
  }

  async function runGroup() {
    const group: Queued[] = [];
    const outcomes: Outcome[] = [];
    let bodyDone = 0;
    try {
      await db.transaction().execute(async (tx) => {
        // Writes queued while this group runs (by its own writes' follow-ups) join it too.
        while (queue.length > 0 && group.length < options.maxWrites) {
          const item = queue.shift()!;
          group.push(item);
          if (group.length === 1) {
            try {
              outcomes.push({ ok: true, value: await item.fn(tx) });
            } catch (error) {
              throw new FirstWriteFailed(error);
            }
          } else {
            outcomes.push(await inSavepoint(tx, item.fn));
          }
        }
        bodyDone = performance.now();
      });
    } catch (err) {
      // Nothing of this group is in the database: each caller learns its write failed (the first
      // write's own error when it was the one that failed, alone).
      for (const item of group) item.reject(err instanceof FirstWriteFailed ? err.error : err);
      // The transaction could not even begin (the database is closed): the queue would only spin.
      if (group.length === 0) for (const item of queue.splice(0)) item.reject(err);
      finishGroup();
      return;
    }
    options.onCommit?.((performance.now() - bodyDone) / 1000, group.length);
    for (let i = 0; i < group.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) group[i]!.resolve(outcome.value);
      else group[i]!.reject(outcome.error);
    }
    finishGroup();
  }

  function finishGroup() {
    scheduled = false;
    if (queue.length > 0) schedule();
  }

  return function writeTransaction<T>(fn: (tx: Transaction<DB>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ fn: fn as Queued['fn'], resolve: resolve as Queued['resolve'], reject });
      schedule();
    });
  };
}

/**
 * One write of a group under a savepoint. Its name is the group's own: writes nest savepoints of
 * their own (sync's writer names them mmd_sp_N), and ROLLBACK TO finds the innermost by name.
 */
// biome-ignore lint/suspicious/noExplicitAny: see Queued
async function inSavepoint(tx: Transaction<any>, fn: Queued['fn']): Promise<Outcome> {
  await sql`savepoint mmd_group`.execute(tx);
  try {
    const value = await fn(tx);
    await sql`release savepoint mmd_group`.execute(tx);
    return { ok: true, value };
  } catch (error) {
    // If SQLite already abandoned the whole transaction (a disk error, ON CONFLICT ROLLBACK),
    // this throws too, and the whole group fails: none of it was written.
    await sql`rollback to savepoint mmd_group`.execute(tx);
    await sql`release savepoint mmd_group`.execute(tx);
    return { ok: false, error };
  }
}
