import { join } from 'node:path';
import { runFfmpeg } from '../src/run-ffmpeg.ts';

/** Options for {@link makeClip}. */
export interface ClipOptions {
  /** Length in seconds. */
  seconds: number;
  /** Frame width. */
  width: number;
  /** Frame height. */
  height: number;
  /** Add a 440 Hz tone (default true). */
  audio?: boolean;
  /** Frames per second (default 25). */
  fps?: number;
  /** Rotation tag to store (display matrix), e.g. 90. */
  rotate?: number;
  /** Container extension (default mp4). */
  extension?: string;
}

/**
 * Synthesises a small test clip (moving test pattern + tone) with ffmpeg's lavfi sources.
 * @param dir folder to write into
 * @param name file name without extension
 * @param options clip properties
 */
export async function makeClip(dir: string, name: string, options: ClipOptions): Promise<string> {
  const path = join(dir, `${name}.${options.extension ?? 'mp4'}`);
  const fps = options.fps ?? 25;
  const args = [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${options.width}x${options.height}:rate=${fps}:duration=${options.seconds}`,
  ];
  if (options.audio !== false)
    args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${options.seconds}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (options.audio !== false) args.push('-c:a', 'aac', '-b:a', '64k');
  if (options.rotate === undefined) {
    await runFfmpeg({ args: [...args, path] });
    return path;
  }
  // ffmpeg drops a rotate tag set while encoding (it assumes it just applied it), so tag in a copy pass.
  const unrotated = join(dir, `${name}-unrotated.mp4`);
  await runFfmpeg({ args: [...args, unrotated] });
  await runFfmpeg({
    args: ['-i', unrotated, '-c', 'copy', '-metadata:s:v:0', `rotate=${options.rotate}`, path],
  });
  return path;
}
