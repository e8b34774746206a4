import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { runFfmpeg } from '../src/run-ffmpeg.ts';

/** Options for {@link makeStreamedWebm}. */
export interface StreamedWebmOptions {
  /** Length in seconds. */
  seconds: number;
  /** Add a VP8 test pattern (default: audio only, like a voice note). */
  video?: boolean;
  /** Container: `webm` (default) or `matroska`. */
  container?: 'webm' | 'matroska';
}

/**
 * Writes a WebM (or Matroska) the way a browser's MediaRecorder does: muxed to a pipe, so the muxer
 * cannot seek back and the file states no duration and has no cues. Opus tone at 440 Hz, plus VP8
 * when `video`. The static ffmpeg MMD uses has libopus and libvpx.
 * @param dir folder to write into
 * @param name file name without extension
 * @param options length, video, container
 */
export async function makeStreamedWebm(dir: string, name: string, options: StreamedWebmOptions): Promise<string> {
  const container = options.container ?? 'webm';
  const args = ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${options.seconds}`];
  if (options.video) {
    args.push('-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${options.seconds}`);
    args.push('-map', '1:v', '-c:v', 'libvpx', '-b:v', '300k', '-deadline', 'realtime');
  }
  args.push('-map', '0:a', '-c:a', 'libopus', '-b:a', '32k', '-f', container, 'pipe:1');
  const { stdout } = await runFfmpeg({ args });
  const path = join(dir, `${name}.${container === 'webm' ? 'webm' : 'mkv'}`);
  await writeFile(path, stdout);
  return path;
}
