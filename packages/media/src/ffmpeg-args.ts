import { resolve } from 'node:path';

/**
 * Turns a local path into an ffmpeg/ffprobe URL with an explicit `file:` protocol. Without it a name such
 * as `concat:a|b`, `http://…` or `subfile,,start,…` would be interpreted as a protocol, letting a crafted
 * file name read other files or the network.
 * @param path local file path (relative paths are resolved against the working directory)
 */
export function fileUrl(path: string): string {
  return `file:${resolve(path)}`;
}

/** Flags every ffmpeg run gets: no banner, never read the terminal, overwrite outputs in our scratch dir. */
export const FFMPEG_BASE_ARGS: readonly string[] = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'];
