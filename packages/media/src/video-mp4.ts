import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaError } from './errors.ts';
import { fileUrl } from './ffmpeg-args.ts';
import type { H264Profile } from './h264.ts';
import { h264OutputArgs } from './h264-args.ts';
import { inputPath, type MediaInput } from './input.ts';
import { maxKbpsForShortSide } from './ladder.ts';
import { moveFile } from './output-files.ts';
import { type AvProbe, probeAv } from './probe-av.ts';
import { runEncode } from './run-encode.ts';
import { withTempDir } from './temp-dir.ts';
import { fitInside } from './video-geometry.ts';
import { openVideo, type VideoLimits } from './video-source.ts';

/** Options for {@link transcodeMp4}. */
export interface TranscodeMp4Options extends VideoLimits {
  /** Path or bytes of the source video. */
  input: MediaInput;
  /** Where to write the MP4 (written atomically: scratch file, then move). */
  outputPath: string;
  /** Longest side of the output box's height, e.g. 720 (default); never upscaled. */
  maxHeight?: number;
  /** Profile (default `main`; `baseline` for the oldest handsets). */
  profile?: H264Profile;
  /** CRF quality (default 23). */
  crf?: number;
  /** AAC bit rate in kbit/s (default 128). */
  audioKbps?: number;
  /** Progress callback (0..1). */
  onProgress?: (fraction: number) => void;
  /** Wall-clock limit (default scales with duration). */
  timeoutMs?: number;
  /** Parent of scratch directories. */
  tmpRoot?: string;
}

/** Result of {@link transcodeMp4}. */
export interface TranscodedVideo {
  /** Final location. */
  outputPath: string;
  /** MIME type. */
  mime: string;
  /** Output width. */
  width: number;
  /** Output height. */
  height: number;
  /** Output duration in seconds. */
  durationSeconds: number;
  /** Output size in bytes. */
  sizeBytes: number;
  /** Whether an audio track was kept. */
  hasAudio: boolean;
  /** ffprobe of the output, for callers that store codec details. */
  probe: AvProbe;
}

/**
 * Produces the universally playable copy: H.264 (main or baseline) + AAC in MP4 with the index at the
 * front, scaled to fit `maxHeight` (by the short side for portrait), metadata stripped.
 * @param options input, output path and encoding choices
 */
export async function transcodeMp4(options: TranscodeMp4Options): Promise<TranscodedVideo> {
  return withTempDir(options.tmpRoot, async (dir) => {
    const path = await inputPath(options.input, dir);
    const source = await openVideo(path, options);
    const display = { width: source.video.displayWidth, height: source.video.displayHeight };
    const box = options.maxHeight ?? 720;
    const portrait = display.height > display.width;
    const size = portrait ? fitInside(display, box, undefined) : fitInside(display, undefined, box);
    const channels = source.av.audio?.channels === 1 ? 1 : 2;
    const scratch = join(dir, 'out.mp4');
    const args = h264OutputArgs(
      {
        size,
        profile: options.profile ?? 'main',
        fps: source.video.fps ?? 30,
        maxFps: 60,
        crf: options.crf ?? 23,
        maxKbps: maxKbpsForShortSide(Math.min(size.width, size.height)) * 1.5,
        audio: source.av.audio ? { kbps: options.audioKbps ?? 128, channels } : null,
        container: 'mp4',
        maxSeconds: source.durationSeconds + 1,
      },
      scratch,
    );
    await runEncode(['-i', fileUrl(path), ...args], source.durationSeconds, options);
    const probe = await probeAv(scratch);
    await moveFile(scratch, options.outputPath);
    return describe(options.outputPath, 'video/mp4', probe, (await stat(options.outputPath)).size);
  });
}

/**
 * Builds the result object from the probed output.
 * @param outputPath final path
 * @param mime MIME type
 * @param probe ffprobe of the output
 * @param sizeBytes output size
 */
function describe(outputPath: string, mime: string, probe: AvProbe, sizeBytes: number): TranscodedVideo {
  if (!probe.video) throw new MediaError('process_failed', 'output has no video stream');
  return {
    outputPath,
    mime,
    width: probe.video.displayWidth,
    height: probe.video.displayHeight,
    durationSeconds: probe.durationSeconds ?? 0,
    sizeBytes,
    hasAudio: probe.audio !== undefined,
    probe,
  };
}
