import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileUrl } from './ffmpeg-args.ts';
import { type H264Profile, h264CodecString, h264Level } from './h264.ts';
import { buildMasterPlaylist, type HlsVariant, measurePlaylist } from './hls-master.ts';
import { inputPath, type MediaInput } from './input.ts';
import { type LadderRung, type PlannedRung, planLadder, STANDARD_LADDER } from './ladder.ts';
import { moveDirectory } from './output-files.ts';
import { runEncode } from './run-encode.ts';
import { withTempDir } from './temp-dir.ts';
import { scaleFilter } from './video-geometry.ts';
import { openVideo, transcodeTimeoutMs, type VideoLimits } from './video-source.ts';

/** Options for {@link transcodeHls}. */
export interface TranscodeHlsOptions extends VideoLimits {
  /** Path or bytes of the source video. */
  input: MediaInput;
  /** Folder to hold `master.m3u8` and one sub-folder per variant (replaced if present). */
  outputDir: string;
  /** Rungs to choose from (default 240p…1080p). */
  ladder?: readonly LadderRung[];
  /** Skip rungs above this height (e.g. 720 to save CPU). */
  maxRungHeight?: number;
  /** Target segment length in seconds (default 4); keyframes are forced on this grid in every variant. */
  segmentSeconds?: number;
  /** x264 CRF (default 23), capped per rung by the ladder's peak bit rate. */
  crf?: number;
  /** H.264 profile (default `main`). */
  profile?: H264Profile;
  /** AAC bit rate per variant in kbit/s (default 96). */
  audioKbps?: number;
  /** Progress callback (0..1). */
  onProgress?: (fraction: number) => void;
  /** Wall-clock limit (default scales with duration). */
  timeoutMs?: number;
  /** Parent of scratch directories. */
  tmpRoot?: string;
}

/** Result of {@link transcodeHls}. */
export interface HlsPackage {
  /** Absolute path of the master playlist. */
  masterPlaylist: string;
  /** Variants, lowest first. */
  variants: HlsVariant[];
  /** Source duration in seconds. */
  durationSeconds: number;
  /** Segment length used. */
  segmentSeconds: number;
}

const AAC_LC = 'mp4a.40.2';

/**
 * Builds an HLS ladder with fMP4 segments in ONE ffmpeg run: the source is decoded once and `split`
 * into every rung, all encoded in parallel and muxed by `var_stream_map`. Keyframes are forced on the
 * same time grid in all variants so segments align and players can switch at any boundary. fMP4 rather
 * than MPEG-TS because modern players prefer it and (practically) because the static npm ffprobe
 * crashes on MPEG-TS. The master playlist is written by us, from measured segment sizes.
 * @param options input, output folder and ladder settings
 */
export async function transcodeHls(options: TranscodeHlsOptions): Promise<HlsPackage> {
  return withTempDir(options.tmpRoot, async (dir) => {
    const path = await inputPath(options.input, dir);
    const source = await openVideo(path, options);
    const display = { width: source.video.displayWidth, height: source.video.displayHeight };
    const rungs = planLadder(display, options.ladder ?? STANDARD_LADDER, options.maxRungHeight);
    const segmentSeconds = options.segmentSeconds ?? 4;
    const sourceFps = source.video.fps ?? 30;
    const fps = Math.min(sourceFps, 60);
    const profile = options.profile ?? 'main';
    const hasAudio = source.av.audio !== undefined;
    const levels = rungs.map((rung) => h264Level(rung.width, rung.height, fps, rung.maxKbps));
    const work = join(dir, 'hls');
    await mkdir(work);

    const args = [
      '-i',
      fileUrl(path),
      ...ladderArgs(rungs, levels, {
        ...options,
        fps,
        sourceFps,
        profile,
        hasAudio,
        segmentSeconds,
        maxSeconds: source.durationSeconds + 1,
      }),
    ];
    await runEncode(args, source.durationSeconds, {
      ...options,
      cwd: work, // variant folders and segment names are relative, so playlists use relative URIs
      timeoutMs: options.timeoutMs ?? transcodeTimeoutMs(source.durationSeconds) * rungs.length,
    });

    const variants: HlsVariant[] = [];
    for (const [index, rung] of rungs.entries()) {
      // ffmpeg can only name folders by index (`v%v`); rename to the rung name for readable URLs.
      await rename(join(work, `v${index}`), join(work, rung.name));
      const rates = await measurePlaylist(join(work, rung.name, 'index.m3u8'));
      const codecs = [h264CodecString(profile, levels[index] ?? 3), ...(hasAudio ? [AAC_LC] : [])].join(',');
      variants.push({
        name: rung.name,
        playlist: `${rung.name}/index.m3u8`,
        width: rung.width,
        height: rung.height,
        bandwidth: rates.peak,
        averageBandwidth: rates.average,
        codecs,
        frameRate: fps,
      });
    }
    await writeFile(join(work, 'master.m3u8'), buildMasterPlaylist(variants));
    await moveDirectory(work, options.outputDir);
    return {
      masterPlaylist: join(options.outputDir, 'master.m3u8'),
      variants: [...variants].sort((a, b) => a.bandwidth - b.bandwidth),
      durationSeconds: source.durationSeconds,
      segmentSeconds,
    };
  });
}

interface LadderSettings {
  fps: number;
  sourceFps: number;
  profile: H264Profile;
  hasAudio: boolean;
  segmentSeconds: number;
  /** Safety cap on output duration (headers can understate it). */
  maxSeconds: number;
  crf?: number;
  audioKbps?: number;
}

/**
 * ffmpeg arguments after the input for the whole ladder.
 * @param rungs planned rungs
 * @param levels H.264 level per rung
 * @param settings shared settings
 */
export function ladderArgs(
  rungs: readonly PlannedRung[],
  levels: readonly number[],
  settings: LadderSettings,
): string[] {
  const labels = rungs.map((_, i) => `[s${i}]`).join('');
  const chains = rungs.map((rung, i) => `[s${i}]${scaleFilter(rung)}[v${i}]`);
  // Slow-motion phone clips (120/240 fps) are capped: no player benefits and x264 time doubles.
  const fpsFilter = settings.sourceFps > settings.fps ? `fps=${settings.fps},` : '';
  const graph = `[0:v:0]${fpsFilter}split=${rungs.length}${labels};${chains.join(';')}`;
  const gop = Math.max(1, Math.round(settings.fps * settings.segmentSeconds));
  const args = ['-filter_complex', graph];
  for (let i = 0; i < rungs.length; i++) args.push('-map', `[v${i}]`);
  if (settings.hasAudio) for (let i = 0; i < rungs.length; i++) args.push('-map', '0:a:0');
  args.push('-map_metadata', '-1', '-map_chapters', '-1');
  args.push('-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(settings.crf ?? 23));
  for (const [i, rung] of rungs.entries()) {
    args.push(
      `-profile:v:${i}`,
      settings.profile,
      `-level:v:${i}`,
      (levels[i] ?? 3).toFixed(1),
      `-maxrate:v:${i}`,
      `${rung.maxKbps}k`,
      `-bufsize:v:${i}`,
      `${rung.maxKbps * 2}k`,
    );
  }
  // Same forced keyframe grid in every variant + no scene-cut keyframes = aligned segment boundaries.
  args.push(
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-force_key_frames',
    `expr:gte(t,n_forced*${settings.segmentSeconds})`,
  );
  if (settings.hasAudio) args.push('-c:a', 'aac', '-b:a', `${settings.audioKbps ?? 96}k`, '-ac', '2');
  // Output options must precede the output name: ffmpeg ignores (newer versions reject) trailing ones.
  args.push('-t', settings.maxSeconds.toFixed(3));
  const streamMap = rungs.map((_, i) => (settings.hasAudio ? `v:${i},a:${i}` : `v:${i}`)).join(' ');
  args.push(
    '-f',
    'hls',
    '-hls_time',
    String(settings.segmentSeconds),
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    'fmp4',
    '-hls_flags',
    'independent_segments',
    '-hls_segment_filename',
    'v%v/seg_%03d.m4s',
    '-var_stream_map',
    streamMap,
    'v%v/index.m3u8',
  );
  return args;
}
