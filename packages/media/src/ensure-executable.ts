import { constants } from 'node:fs';
import { access, copyFile, chmod as fsChmod, mkdir, rename, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Options for {@link ensureExecutable}. */
export interface EnsureExecutableOptions {
  /** Where to put an executable copy when the original cannot be chmod-ed (default: a per-user temp dir). */
  fallbackDir?: string;
  /** chmod used on the original file; injectable so tests can simulate a read-only node_modules. */
  chmod?: (path: string, mode: number) => Promise<void>;
}

/**
 * Returns a path to an executable version of `path`. npm installs run with `--ignore-scripts` (or an
 * allowlist that skips a package) leave `@ffprobe-installer`'s binary without its execute bit, because
 * the bit is set by a postinstall script. We first try to chmod in place; if the folder is read-only
 * (container image, shared volume) we copy the binary to a private temp dir and chmod the copy.
 * @param path binary that should be executable
 * @param options fallback location and chmod override
 */
export async function ensureExecutable(path: string, options: EnsureExecutableOptions = {}): Promise<string> {
  if (await isExecutable(path)) return path;
  const info = await stat(path);
  try {
    await (options.chmod ?? fsChmod)(path, info.mode | 0o111);
    if (await isExecutable(path)) return path;
  } catch {
    // Read-only file system or not our file: fall through to the private copy.
  }
  const dir = options.fallbackDir ?? join(tmpdir(), `mmd-media-bin-${process.getuid?.() ?? 'user'}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, basename(path));
  const existing = await stat(target).catch(() => undefined);
  if (existing && existing.size === info.size && (await isExecutable(target))) return target;
  // Copy under a unique name and rename, so concurrent workers never execute a half-written file.
  const partial = `${target}.${process.pid}.${Date.now()}.partial`;
  await copyFile(path, partial);
  await fsChmod(partial, 0o755);
  await rename(partial, target);
  return target;
}

/**
 * Whether the current user may execute `path` (and it is a regular file).
 * @param path file to check
 */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    // root passes X_OK when any execute bit is set, but exec still needs one; check the bits explicitly.
    return (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
