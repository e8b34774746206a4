/**
 * Blobs as files under one root folder, for embedded MMD. Writes land in `.tmp/` and are renamed
 * into place, so a reader (or a crash) never sees half a blob. Each blob's content type lives in a
 * small JSON file under `.meta/`; key rules (keys.ts) keep both trees apart from the blobs.
 */
import { randomUUID } from 'node:crypto';
import { type Dirent, mkdirSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveRange } from './byte-range.ts';
import { BlobError } from './errors.ts';
import { validateKey, validatePrefix } from './keys.ts';
import { spoolToFile } from './spool.ts';
import type { BlobInfo, BlobStore } from './types.ts';

export interface LocalDiskStoreOptions {
  /** Folder holding the blobs; created if missing. */
  root: string;
}

const DEFAULT_TYPE = 'application/octet-stream';

/**
 * Every file a local store keeps under `root`, as paths relative to it (`/`-separated): blobs and
 * their `.meta/` content types, not the `.tmp/` of writes in progress. For backups, which copy
 * the files as they are: a blob is replaced by a rename, never rewritten in place, so a file
 * opened for copying stays whole.
 */
export async function localBlobFiles(root: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((file) => !file.startsWith('.tmp/'))
    .sort();
}

export function createLocalDiskStore(options: LocalDiskStoreOptions): BlobStore {
  const root = path.resolve(options.root);
  const tmpDir = path.join(root, '.tmp');
  const metaDir = path.join(root, '.meta');
  // Private media: readable by the server's user alone (see platform/private-files.ts).
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  void sweepTemp(tmpDir);

  /** The file for a key, checked to lie inside `base` even though validation already ensures it. */
  const fileFor = (base: string, key: string, suffix = '') => {
    const file = path.join(base, ...validateKey(key).split('/')) + suffix;
    if (!file.startsWith(base + path.sep))
      throw new BlobError('invalid_key', `invalid blob key ${JSON.stringify(key)}`);
    return file;
  };
  const blobFile = (key: string) => fileFor(root, key);
  const metaFile = (key: string) => fileFor(metaDir, key, '.json');
  const tmpFile = () => path.join(tmpDir, randomUUID());

  const readType = async (key: string) => {
    try {
      return (
        (JSON.parse(await readFile(metaFile(key), 'utf8')) as { contentType?: string }).contentType ??
        DEFAULT_TYPE
      );
    } catch {
      return DEFAULT_TYPE;
    }
  };

  /** Renames `tmp` to `target`, creating folders; a key that is also a folder (or vice versa) conflicts. */
  const install = async (tmp: string, target: string, key: string) => {
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
        throw new BlobError('key_conflict', `blob key ${key} clashes with another key's folder`);
      }
      throw err;
    }
  };

  const stat_ = async (key: string): Promise<BlobInfo | undefined> => {
    try {
      const s = await stat(blobFile(key));
      if (!s.isFile()) return undefined;
      return { size: s.size, contentType: await readType(key) };
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      )
        return undefined;
      throw err;
    }
  };

  return {
    kind: 'local',

    async put(key, body, { contentType }) {
      const target = blobFile(key);
      const tmp = tmpFile();
      const size = await spoolToFile(body, tmp, { durable: true });
      // Metadata first: a crash between the two renames leaves an unused type, never a blob
      // without one.
      const metaTmp = tmpFile();
      await writeFile(metaTmp, JSON.stringify({ contentType }));
      await install(metaTmp, metaFile(key), key).catch(async (err) => {
        await rm(tmp, { force: true });
        throw err;
      });
      await install(tmp, target, key);
      await syncDir(path.dirname(target));
      return { size, contentType };
    },

    async get(key, range) {
      const file = blobFile(key);
      // Open first and measure the open file, so a concurrent replace cannot skew the range.
      const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR') {
          throw new BlobError('not_found', `blob ${key} not found`);
        }
        throw err;
      });
      try {
        const { size } = await handle.stat();
        const { start, end } = resolveRange(size, range);
        const contentType = await readType(key);
        const body = size === 0 ? handle.createReadStream() : handle.createReadStream({ start, end });
        return { body, size, contentType, start, end };
      } catch (err) {
        await handle.close();
        throw err;
      }
    },

    stat: stat_,

    async exists(key) {
      return (await stat_(key)) !== undefined;
    },

    async delete(key) {
      await rm(blobFile(key), { force: true });
      await rm(metaFile(key), { force: true });
    },

    async deletePrefix(prefix) {
      validatePrefix(prefix);
      // String-prefix semantics, as in S3: the last segment may be partial (`media/ab` matches
      // `media/abc/…` and `media/ab.webp`).
      const slash = prefix.lastIndexOf('/');
      const folder = prefix.slice(0, slash + 1);
      const start = prefix.slice(slash + 1);
      let deleted = 0;
      for (const [base, isMeta] of [
        [root, false],
        [metaDir, true],
      ] as const) {
        const dir = path.join(base, ...folder.split('/').filter(Boolean));
        let entries: Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch {
          continue;
        }
        for (const entry of entries) {
          // A metadata file is named after its key plus `.json`; match on the key.
          const name = isMeta && entry.isFile() ? entry.name.replace(/\.json$/, '') : entry.name;
          if (!name.startsWith(start) || name.startsWith('.')) continue;
          const target = path.join(dir, entry.name);
          if (!isMeta) deleted += await countFiles(target);
          await rm(target, { recursive: true, force: true });
        }
      }
      return deleted;
    },
  };
}

/**
 * Removes temp files a crashed process left behind. Only old ones: another process sharing the
 * root may be writing the recent ones.
 */
async function sweepTemp(dir: string, olderThanMs = 24 * 3600_000) {
  try {
    for (const name of await readdir(dir)) {
      const file = path.join(dir, name);
      const s = await stat(file).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > olderThanMs) await rm(file, { force: true });
    }
  } catch {
    // Best effort: a failed sweep only leaves garbage.
  }
}

async function countFiles(target: string): Promise<number> {
  const s = await stat(target).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return 1;
  const entries = await readdir(target, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).length;
}

/** Makes a rename durable: the folder's entry is data too. */
async function syncDir(dir: string) {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
