/**
 * The SQLite checkpointer thread (see openSqlite's `checkpoint: 'background'`): its own
 * connection to the database folds the write-ahead log back into the database file whenever
 * the log has grown past `pages` pages, so the writer's commits never pay for it.
 *
 * Plain JavaScript with no imports of the app: it runs in a worker thread without the TypeScript
 * loader (a worker under tsx would load the compiler again, for a dozen lines).
 *
 * A PASSIVE checkpoint takes no lock a writer or reader waits on: it copies the log's committed
 * pages into the database file and syncs it, while the writer goes on appending. Once a
 * checkpoint has copied everything, the writer starts the log again from its beginning.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

const { file, synchronous, pages, intervalMs, journalSizeLimit } = workerData;
const db = new BetterSqlite3(file);
db.pragma('busy_timeout = 5000');
db.pragma(`synchronous = ${synchronous}`);
db.pragma(`journal_size_limit = ${journalSizeLimit}`);
// This connection never checkpoints by itself on commit (it commits nothing), but say so.
db.pragma('wal_autocheckpoint = 0');

/**
 * How far the log is ahead of the database file, from the shared-memory wal-index
 * (https://www.sqlite.org/walformat.html): mxFrame, the frames in the log, at byte 16 of its
 * header; nBackfill, the frames already copied, at byte 96. Native byte order. Read without a
 * lock, so only a hint of when to checkpoint: the checkpoint itself is SQLite's, under its locks.
 */
const header = Buffer.alloc(100);
const readU32 = endianness() === 'LE' ? (o) => header.readUInt32LE(o) : (o) => header.readUInt32BE(o);
function logState() {
  let fd;
  try {
    fd = openSync(`${file}-shm`, 'r');
    if (readSync(fd, header, 0, 100, 0) < 100) return { frames: 0, backlog: 0 };
    const frames = readU32(16);
    return { frames, backlog: Math.max(0, frames - readU32(96)) };
  } catch {
    return { frames: 0, backlog: 0 };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const timer = setInterval(() => {
  const { frames, backlog } = logState();
  // Copy once a good many pages wait (a page rewritten by many commits is copied once), or, when
  // the log has grown long, whatever little is left: a log copied to its end starts again from
  // its beginning at the next commit, so it does not grow without end while writes go on.
  if (backlog === 0 || (backlog < pages && frames < 2 * pages)) return;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ type: 'checkpoint', busy: row.busy, log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String(err?.message ?? err) });
  }
}, intervalMs);

parentPort.on('message', (message) => {
  if (message?.type !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage({ type: 'stopped' });
  parentPort.close();
});
