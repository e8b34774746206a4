/**
 * Test-only (Node): decodes a video's frames to RGB24 with the ffmpeg binary from
 * @ffmpeg-installer, the way the vPDQ reference feeds PDQ (no scaling, no rotation).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { DecodedFrame } from '../src/vpdq.ts';

const require = createRequire(import.meta.url);

function binary(pkg: string): string | undefined {
  try {
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

/** Path of the ffmpeg binary, or undefined when the installer package is missing. */
export const FFMPEG = binary('@ffmpeg-installer/ffmpeg');
/** Path of the ffprobe binary, or undefined when the installer package is missing. */
export const FFPROBE = binary('@ffprobe-installer/ffprobe');

/** Width, height and frame rate of a video's first video stream. */
export function probeVideo(file: string): { width: number; height: number; fps: number } {
  const r = spawnSync(
    FFPROBE!,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,r_frame_rate',
      '-of',
      'csv=p=0',
      file,
    ],
    { encoding: 'utf8' },
  );
  const [width, height, rate] = r.stdout.trim().split(',');
  const [num, den] = rate!.split('/').map(Number);
  return { width: Number(width), height: Number(height), fps: num! / (den ?? 1) };
}

/**
 * Frames of a video as RGB24, in decode order, streamed from ffmpeg's stdout: every frame, or
 * every `step`-th one (frames 0, step, 2·step, …) when given.
 */
export async function* decodeFrames(
  file: string,
  step = 1,
): AsyncGenerator<DecodedFrame & { frameNumber: number }> {
  const { width, height, fps } = probeVideo(file);
  const frameBytes = width * height * 3;
  const select = step > 1 ? ['-vf', `select=not(mod(n\\,${step}))`] : [];
  const child = spawn(
    FFMPEG!,
    [
      '-v',
      'error',
      '-noautorotate',
      '-i',
      file,
      '-an',
      ...select,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-vsync',
      'passthrough',
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  let index = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          const frameNumber = step * index++;
          yield {
            image: { data: frame, width, height, channels: 3 },
            timestampSeconds: frameNumber / fps,
            frameNumber,
          };
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
  } finally {
    child.kill();
  }
}
