import { type H264Profile, h264Level } from './h264.ts';
import { type FrameSize, scaleFilter } from './video-geometry.ts';

/** Everything needed to encode one progressive H.264 + AAC file. */
export interface H264EncodeSettings {
  /** Output frame size (even sides). */
  size: FrameSize;
  /** H.264 profile. */
  profile: H264Profile;
  /** Source frame rate; used for the GOP length and the level. */
  fps: number;
  /** Cap the output frame rate (e.g. 15 for tiny MMS budgets); omit to keep the source rate. */
  maxFps?: number;
  /** Constant-quality mode: CRF value (lower is better). Used when `targetKbps` is absent. */
  crf?: number;
  /** Average-bit-rate mode: target video bit rate in kbit/s, for size budgets. */
  targetKbps?: number;
  /** Peak video bit rate in kbit/s (VBV), bounding what a handset must sustain. */
  maxKbps: number;
  /** AAC audio settings, or `null` to drop audio. */
  audio: { kbps: number; channels: 1 | 2 } | null;
  /** Output container: MP4 or 3GP (same ISO-BMFF layout, 3GP brand for old handsets). */
  container: 'mp4' | '3gp';
  /** Stop after this many seconds, a safety net for headers that understate the duration. */
  maxSeconds: number;
  /** x264 speed preset (default `veryfast`: good quality per CPU second for user uploads). */
  preset?: string;
}

/**
 * Builds ffmpeg arguments (after the input) for a single H.264/AAC file: metadata stripped (GPS
 * `location` tags in phone videos), square pixels, 4:2:0, explicit level, and `faststart` so playback
 * can begin before the whole file has downloaded.
 * @param settings encoding settings
 * @param outputPath where ffmpeg writes the file
 */
export function h264OutputArgs(settings: H264EncodeSettings, outputPath: string): string[] {
  const fps = settings.maxFps !== undefined ? Math.min(settings.fps, settings.maxFps) : settings.fps;
  const filters = [scaleFilter(settings.size)];
  if (fps < settings.fps) filters.unshift(`fps=${fps}`);
  const level = h264Level(settings.size.width, settings.size.height, fps, settings.maxKbps);
  const gop = Math.max(1, Math.round(fps * 4));
  const rate =
    settings.targetKbps !== undefined
      ? ['-b:v', `${Math.round(settings.targetKbps)}k`]
      : ['-crf', String(settings.crf ?? 23)];
  const args = [
    '-map',
    '0:v:0',
    ...(settings.audio ? ['-map', '0:a:0?'] : ['-an']),
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-vf',
    filters.join(','),
    '-c:v',
    'libx264',
    '-preset',
    settings.preset ?? 'veryfast',
    '-profile:v',
    settings.profile,
    '-level:v',
    level.toFixed(1),
    ...rate,
    '-maxrate',
    `${Math.round(settings.maxKbps)}k`,
    '-bufsize',
    `${Math.round(settings.maxKbps * 2)}k`,
    '-g',
    String(gop),
    '-keyint_min',
    String(Math.min(gop, Math.max(1, Math.round(fps)))),
  ];
  if (settings.audio) {
    args.push('-c:a', 'aac', '-b:a', `${settings.audio.kbps}k`, '-ac', String(settings.audio.channels));
  }
  args.push(
    '-t',
    settings.maxSeconds.toFixed(3),
    '-movflags',
    '+faststart',
    '-f',
    settings.container,
    outputPath,
  );
  return args;
}
