/**
 * MMD's data directory holds the database, uploads and media of private conversations: other
 * users on the machine must not read it whatever the process umask is. Directories are created
 * 0700 and the SQLite file 0600 (SQLite gives its -wal and -shm files the database file's mode).
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/** Creates `dir` (and missing parents) readable by this user alone; an existing one is left as it is. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Creates an empty `file` readable by this user alone unless it exists. */
export function makePrivateFile(file: string): void {
  if (existsSync(file)) return;
  // 'a' creates without truncating, so a file made meanwhile by another process is kept.
  closeSync(openSync(file, 'a', 0o600));
}
