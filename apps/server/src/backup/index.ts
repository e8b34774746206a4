/**
 * `mmd backup <dir>` and `mmd restore <dir>`: a whole MMD — its database and, on local disk, its
 * blobs — copied while it keeps serving, and put back with every byte checked.
 *
 * Order makes it consistent: the database is copied first, as one moment (SQLite's online backup
 * in one step, or pg_dump's snapshot), then the blobs. A blob the copied database names was
 * written before its row committed, so it is already there when the blobs are walked; blobs added
 * after the moment are copied too and are harmless (nothing names them). The one window: a blob
 * deleted between the two (a takedown removing a file) is missing from the backup, and the
 * restored database still names it (that file then answers 404, as a removed one should).
 *
 * The manifest (manifest.json, written last: a backup without one is incomplete) lists the
 * database file and every blob file with its size and SHA-256. A restore checks them all before
 * it touches anything, then again as it copies, and finally records that the event log was
 * restored (sync's markRestored): clients whose cursors are past the backup are told to reload.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config.ts';
import { databaseOptionsFor, openDatabaseFor } from '../main.ts';
import { localBlobFiles } from '../platform/blobs/index.ts';
import { restoreSnapshot } from '../platform/db/index.ts';
import { makePrivateDir } from '../platform/private-files.ts';
import { latestCursor, markRestored } from '../sync/index.ts';

export const MANIFEST = 'manifest.json';
const FORMAT = 'mmd-backup/1';

export interface FileEntry {
  /** Relative to the backup's blobs/ folder (blobs) or the backup folder (database), `/`-separated. */
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: typeof FORMAT;
  created_at: string;
  database: FileEntry & { dialect: 'sqlite' | 'postgres'; newest_cursor_before: number };
  blobs: { store: 'local' | 's3'; copied: boolean; files: FileEntry[]; bytes: number };
}

export class BackupError extends Error {}

/** Copies `from` to `to` (when given), returning its size and SHA-256 as read. */
async function copyHashing(from: string, to: string | null): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  if (to) {
    await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
    await pipeline(createReadStream(from), tap, createWriteStream(to, { mode: 0o600 }));
    return { size, sha256: hash.digest('hex') };
  }
  for await (const chunk of createReadStream(from)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

async function syncFile(file: string) {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A relative path from a manifest, refused if it could point outside its folder. */
function safeRelative(file: string): string[] {
  const parts = file.split('/');
  if (file.length === 0 || file.length > 1024 || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0')))
    throw new BackupError(`manifest names an unsafe path ${JSON.stringify(file)}`);
  return parts;
}

export async function backup(options: { config: Config; dir: string; clock?: () => number }) {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const dir = path.resolve(options.dir);
  // Opening a missing SQLite file would create an empty database and back that up.
  if (!config.databaseUrl && !existsSync(path.join(config.dataDir, 'mmd.sqlite'))) throw new BackupError(`no MMD database in ${config.dataDir} (set MMD_DATA_DIR, or MMD_DATABASE_URL for PostgreSQL)`);
  const created = !existsSync(dir);
  if (!created && (await readdir(dir)).length > 0) throw new BackupError(`${dir} is not empty: back up into a new folder`);
  makePrivateDir(dir);
  try {
    return await writeBackup(config, dir, clock);
  } catch (err) {
    // Half a backup is worse than none: it could be taken for one. (Its manifest is never written.)
    if (created) await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function writeBackup(config: Config, dir: string, clock: () => number): Promise<Manifest> {
  const db = openDatabaseFor(config);
  const databaseFile = db.dialect === 'sqlite' ? 'mmd.sqlite' : 'mmd.pgdump';
  let newest: number;
  try {
    newest = await latestCursor(db.db);
    await db.snapshot(path.join(dir, databaseFile));
  } finally {
    await db.close();
  }
  const database = { path: databaseFile, ...(await copyHashing(path.join(dir, databaseFile), null)) };

  const files: FileEntry[] = [];
  if (config.blobStore === 'local') {
    const root = path.join(config.dataDir, 'blobs');
    for (const file of await localBlobFiles(root)) {
      try {
        files.push({ path: file, ...(await copyHashing(path.join(root, ...file.split('/')), path.join(dir, 'blobs', ...file.split('/')))) });
      } catch (err) {
        // Deleted since it was listed (a takedown, a replaced rendition): not part of this backup.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await rm(path.join(dir, 'blobs', ...file.split('/')), { force: true });
      }
    }
  }
  const manifest: Manifest = {
    format: FORMAT,
    created_at: new Date(clock()).toISOString(),
    database: { ...database, dialect: db.dialect, newest_cursor_before: newest },
    blobs: { store: config.blobStore, copied: config.blobStore === 'local', files, bytes: files.reduce((n, f) => n + f.size, 0) },
  };
  // The database copy on disk before the manifest that vouches for it, and the manifest before
  // the command says it is done (blob files are checked against it at restore instead).
  await syncFile(path.join(dir, databaseFile));
  await writeFile(path.join(dir, `${MANIFEST}.tmp`), `${JSON.stringify(manifest, null, 1)}\n`, { mode: 0o600 });
  await syncFile(path.join(dir, `${MANIFEST}.tmp`));
  await rename(path.join(dir, `${MANIFEST}.tmp`), path.join(dir, MANIFEST));
  await syncFile(dir);
  return manifest;
}

async function readManifest(dir: string): Promise<Manifest> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch (err) {
    throw new BackupError(`${dir} holds no readable ${MANIFEST} (an unfinished or foreign backup?): ${(err as Error).message}`);
  }
  if (manifest?.format !== FORMAT || !manifest.database || !Array.isArray(manifest.blobs?.files)) throw new BackupError(`${MANIFEST} is not an MMD backup manifest (${FORMAT})`);
  return manifest;
}

/** Checks every file of a backup against its manifest; throws naming the first that differs. */
export async function verify(dir: string): Promise<Manifest> {
  const manifest = await readManifest(dir);
  const check = async (entry: FileEntry, file: string) => {
    let actual: { size: number; sha256: string };
    try {
      actual = await copyHashing(file, null);
    } catch (err) {
      throw new BackupError(`${entry.path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message}`);
    }
    if (actual.size !== entry.size || actual.sha256 !== entry.sha256) throw new BackupError(`${entry.path}: does not match the manifest (size ${actual.size}, expected ${entry.size})`);
  };
  await check(manifest.database, path.join(dir, ...safeRelative(manifest.database.path)));
  for (const entry of manifest.blobs.files) await check(entry, path.join(dir, 'blobs', ...safeRelative(entry.path)));
  return manifest;
}

export async function restore(options: { config: Config; dir: string; force?: boolean; clock?: () => number }) {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const dir = path.resolve(options.dir);
  const manifest = await verify(dir);
  const dialect = config.databaseUrl ? 'postgres' : 'sqlite';
  if (manifest.database.dialect !== dialect) throw new BackupError(`this backup is of a ${manifest.database.dialect} database; the configuration names ${dialect}`);
  if (manifest.blobs.copied && config.blobStore !== 'local') throw new BackupError('this backup holds local blobs; the configuration names S3 (copy blobs/ into the bucket yourself, then restore with MMD_BLOB_STORE=local unset)');

  // Never over a live MMD by accident: an existing database or blob folder needs --force, and is
  // then moved aside (…before-restore-<time>), not deleted.
  const stamp = new Date(clock()).toISOString().replace(/[:.]/g, '-');
  const existing = openDatabaseFor(config);
  let hasData = false;
  try {
    hasData = (await latestCursor(existing.db).then(() => true, () => false)) && (dialect === 'postgres' || existsSync(path.join(config.dataDir, 'mmd.sqlite')));
  } finally {
    await existing.close();
  }
  const blobRoot = path.join(config.dataDir, 'blobs');
  const hasBlobs = manifest.blobs.copied && (await localBlobFiles(blobRoot)).some((f) => !f.startsWith('.'));
  if ((hasData || hasBlobs) && !options.force) throw new BackupError(`${dialect === 'sqlite' ? config.dataDir : 'the configured PostgreSQL schema'} already holds an MMD: stop its server and pass --force to replace it (the old data is kept aside)`);
  makePrivateDir(config.dataDir);

  if (manifest.blobs.copied) {
    const staging = `${blobRoot}.restoring`;
    await rm(staging, { recursive: true, force: true });
    for (const entry of manifest.blobs.files) {
      const parts = safeRelative(entry.path);
      const copied = await copyHashing(path.join(dir, 'blobs', ...parts), path.join(staging, ...parts));
      if (copied.sha256 !== entry.sha256) throw new BackupError(`${entry.path}: changed while being restored`);
    }
    makePrivateDir(staging);
    if (existsSync(blobRoot)) await rename(blobRoot, `${blobRoot}.before-restore-${stamp}`);
    await rename(staging, blobRoot);
  }
  const databaseOptions = databaseOptionsFor(config);
  if (dialect === 'sqlite' && hasData) {
    // With its WAL: after a crash that file holds committed writes the main file lacks yet.
    for (const suffix of ['', '-wal', '-shm']) {
      const file = `${databaseOptions.sqlitePath}${suffix}`;
      if (existsSync(file)) await rename(file, `${databaseOptions.sqlitePath}.before-restore-${stamp}${suffix}`);
    }
  }
  await restoreSnapshot({ ...databaseOptions, file: path.join(dir, ...safeRelative(manifest.database.path)) });

  const db = openDatabaseFor(config);
  try {
    // A backup from an older MMD is brought up to date here, not by the first server.
    const migrated = await db.migrate();
    const gap = await markRestored(db, clock());
    return { manifest, migrated, ...gap, replaced: hasData || hasBlobs };
  } finally {
    await db.close();
  }
}

/**
 * Records a restore made by other means (pg_restore by hand, files copied back): the cursor gap
 * `restore` leaves, so clients past the backup reload. Run once, before any server starts.
 */
export async function markDatabaseRestored(options: { config: Config; clock?: () => number }) {
  const db = openDatabaseFor(options.config);
  try {
    const migrated = await db.migrate();
    return { migrated, ...(await markRestored(db, (options.clock ?? Date.now)())) };
  } finally {
    await db.close();
  }
}
