/**
 * After a restore from a backup, the event log ends where the backup was taken, but the server it
 * replaces may have handed out cursors far past that. A client holding such a cursor has seen
 * events the restored log no longer has; if new events simply took those numbers, it would skip
 * them and keep showing what was lost, with nothing to tell it. So a restore leaves a gap: the
 * next event is numbered RESTORE_GAP past the restored log's end, and a cursor inside the gap is
 * refused as `cursor_expired` (HTTP 410, WebSocket close 4010) for good; the client reloads from
 * `GET /v1/updates/state` (the SDK's stream does so itself, calling `onReset`).
 */
import type { Database, Tx } from '../platform/db/index.ts';
import { AppError } from '../errors.ts';
import { latestCursor } from './event-log.ts';

/**
 * How many cursors a restore skips: more than the replaced server can have written after the
 * backup (ten billion: 115 days at 1,000 events a second), and small enough for ~900,000
 * restores before cursors reach 2^53, JSON's largest exact integer.
 */
export const RESTORE_GAP = 10_000_000_000;

/** Records that the log was just restored; run by `mmd restore` before any server starts on it. */
export async function markRestored(db: Database, now: number): Promise<{ afterCursor: number; resumesAt: number }> {
  return db.writeTransaction(async (tx) => {
    const newest = await latestCursor(tx);
    const last = await tx.selectFrom('sync_log_gaps').select((eb) => eb.fn.max('resumes_at').as('resumes_at')).executeTakeFirst();
    // Restored twice with no event between: the new gap starts where the last one ends.
    const afterCursor = Math.max(newest, Number(last?.resumes_at ?? 0) - 1);
    const resumesAt = afterCursor + RESTORE_GAP;
    await tx.insertInto('sync_log_gaps').values({ after_cursor: afterCursor, resumes_at: resumesAt, created_at: now }).execute();
    await db.skipIdsTo(tx, 'events', resumesAt);
    return { afterCursor, resumesAt };
  });
}

/** True when a restore left `cursor` unissued (see above). One indexed read of a table of a few rows. */
export async function inRestoreGap(db: Database['db'] | Tx, cursor: number): Promise<boolean> {
  if (cursor <= 0) return false;
  const row = await db.selectFrom('sync_log_gaps').select('after_cursor').where('after_cursor', '<', cursor).where('resumes_at', '>', cursor).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** The answer to a cursor the restored log never issued. */
export function cursorBeforeRestore(cursor: number): AppError {
  return new AppError('cursor_expired', `cursor ${cursor} was issued before this server's database was restored from a backup: reload from GET /v1/updates/state`);
}
