/**
 * Saved sessions, one per server URL, in `$MMD_CONFIG_DIR/credentials.json` (default
 * ~/.config/mmd). The file holds bearer tokens, so it is written owner-only (0600) and replaced
 * atomically: a crash mid-write never leaves a truncated file that loses every session.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError } from './errors.ts';

export interface SavedSession {
  token: string;
  handle: string;
  account_id: string;
  device_id: string;
  saved_at: number;
}

interface CredentialsFile {
  version: 1;
  servers: Record<string, SavedSession>;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MMD_CONFIG_DIR) return path.resolve(env.MMD_CONFIG_DIR);
  return path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'mmd');
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'credentials.json');
}

function read(): CredentialsFile {
  const file = credentialsPath();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<CredentialsFile>;
    return { version: 1, servers: parsed.servers ?? {} };
  } catch {
    throw new CliError(`${file} is not valid JSON; fix or delete it`, 'bad_credentials_file');
  }
}

function write(data: CredentialsFile): void {
  const file = credentialsPath();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  // writeFileSync's mode is filtered by the umask and ignored if the file existed: set it outright.
  chmodSync(temp, 0o600);
  try {
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

export function loadSession(server: string): SavedSession | undefined {
  return read().servers[server];
}

export function saveSession(server: string, session: Omit<SavedSession, 'saved_at'>): void {
  const data = read();
  data.servers[server] = { ...session, saved_at: Date.now() };
  write(data);
}

/** Forgets the session for `server`; false when there was none. */
export function removeSession(server: string): boolean {
  const data = read();
  if (!data.servers[server]) return false;
  delete data.servers[server];
  write(data);
  return true;
}
