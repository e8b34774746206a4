import { locateBinaries } from './binaries.ts';
import { isMediaError, MediaError } from './errors.ts';
import { fileUrl } from './ffmpeg-args.ts';
import { runProcess } from './run-process.ts';

/** Video stream facts from ffprobe. */
export interface VideoStreamInfo {
  /** ffmpeg codec name, e.g. `h264`, `mpeg2video`, `vp9`. */
  codec: string;
  /** Codec profile as ffprobe names it, e.g. `Main`, `Constrained Baseline`. */
  profile?: string;
  /** H.264 level × 10 (e.g. 31), when known. */
  level?: number;
  /** Coded width in pixels. */
  width: number;
  /** Coded height in pixels. */
  height: number;
  /** Clockwise rotation a player applies for display. */
  rotation: 0 | 90 | 180 | 270;
  /** Width after rotation, as shown to viewers. */
  displayWidth: number;
  /** Height after rotation, as shown to viewers. */
  displayHeight: number;
  /** Average frames per second, when known. */
  fps?: number;
  /** Pixel format, e.g. `yuv420p`. */
  pixelFormat?: string;
  /** Stream bit rate in bits/s, when known. */
  bitRate?: number;
}

/** Audio stream facts from ffprobe. */
export interface AudioStreamInfo {
  /** ffmpeg codec name, e.g. `aac`, `opus`, `vorbis`, `pcm_s16le`. */
  codec: string;
  /** Codec profile, e.g. `LC`. */
  profile?: string;
  /** Samples per second. */
  sampleRate?: number;
  /** Channel count. */
  channels?: number;
  /** Stream bit rate in bits/s, when known. */
  bitRate?: number;
}

/** What ffprobe found in an audio/video file. */
export interface AvProbe {
  /** ffprobe's demuxer names, e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `ogg`. */
  formatName: string;
  /** Duration in seconds, when the container states one. */
  durationSeconds?: number;
  /** Overall bit rate in bits/s, when known. */
  bitRate?: number;
  /** First real video stream (cover art excluded). */
  video?: VideoStreamInfo;
  /** First audio stream. */
  audio?: AudioStreamInfo;
}

/** Options for {@link probeAv}. */
export interface ProbeAvOptions {
  /** Kill ffprobe after this many milliseconds (default 30 s; hostile files can make it crawl). */
  timeoutMs?: number;
  /** Abort signal. */
  signal?: AbortSignal;
}

interface RawStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  pix_fmt?: string;
  sample_aspect_ratio?: string;
  bit_rate?: string;
  sample_rate?: string;
  channels?: number;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
  disposition?: { attached_pic?: number };
}

interface RawProbe {
  format?: { format_name?: string; duration?: string; bit_rate?: string };
  streams?: RawStream[];
}

/**
 * Runs ffprobe on a local file and summarises it. Unreadable input becomes `corrupt_file`.
 * @param path local file
 * @param options timeout and abort signal
 */
export async function probeAv(path: string, options: ProbeAvOptions = {}): Promise<AvProbe> {
  const { ffprobe } = await locateBinaries();
  let stdout: Buffer;
  try {
    ({ stdout } = await runProcess({
      command: ffprobe,
      args: ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', fileUrl(path)],
      timeoutMs: options.timeoutMs ?? 30_000,
      signal: options.signal,
      maxStdoutBytes: 8 * 1024 * 1024,
    }));
  } catch (error) {
    if (isMediaError(error, 'process_failed')) {
      throw new MediaError('corrupt_file', 'ffprobe could not read the file', {
        details: error.details,
        cause: error,
      });
    }
    throw error;
  }
  let raw: RawProbe;
  try {
    raw = JSON.parse(stdout.toString('utf8')) as RawProbe;
  } catch (error) {
    throw new MediaError('corrupt_file', 'ffprobe returned unreadable output', { cause: error });
  }
  return summarise(raw);
}

/**
 * Converts ffprobe's JSON into {@link AvProbe}. Exported for tests of odd metadata.
 * @param raw parsed `ffprobe -print_format json -show_format -show_streams` output
 */
export function summarise(raw: RawProbe): AvProbe {
  const streams = raw.streams ?? [];
  if (streams.length === 0) throw new MediaError('corrupt_file', 'no audio or video streams found');
  const videoRaw = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const audioRaw = streams.find((s) => s.codec_type === 'audio');
  const probe: AvProbe = { formatName: raw.format?.format_name ?? 'unknown' };
  const duration = positive(raw.format?.duration);
  if (duration !== undefined) probe.durationSeconds = duration;
  const bitRate = positive(raw.format?.bit_rate);
  if (bitRate !== undefined) probe.bitRate = bitRate;
  if (videoRaw?.width && videoRaw.height) probe.video = videoInfo(videoRaw, videoRaw.width, videoRaw.height);
  if (audioRaw?.codec_name) probe.audio = audioInfo(audioRaw, audioRaw.codec_name);
  if (!probe.video && !probe.audio)
    throw new MediaError('corrupt_file', 'no decodable audio or video stream');
  return probe;
}

function videoInfo(s: RawStream, width: number, height: number): VideoStreamInfo {
  const rotation = rotationOf(s);
  const sideways = rotation === 90 || rotation === 270;
  // Anamorphic sources (DVD, some broadcast captures) store non-square pixels: show them stretched.
  const sar = ratio(s.sample_aspect_ratio);
  const squareWidth =
    sar !== undefined && Math.abs(sar - 1) > 0.01 ? Math.max(2, Math.round(width * sar)) : width;
  const info: VideoStreamInfo = {
    codec: s.codec_name ?? 'unknown',
    width,
    height,
    rotation,
    displayWidth: sideways ? height : squareWidth,
    displayHeight: sideways ? squareWidth : height,
  };
  if (s.profile) info.profile = s.profile;
  if (typeof s.level === 'number' && s.level > 0) info.level = s.level;
  const fps = ratio(s.avg_frame_rate) ?? ratio(s.r_frame_rate);
  if (fps !== undefined) info.fps = fps;
  if (s.pix_fmt) info.pixelFormat = s.pix_fmt;
  const bitRate = positive(s.bit_rate);
  if (bitRate !== undefined) info.bitRate = bitRate;
  return info;
}

function audioInfo(s: RawStream, codec: string): AudioStreamInfo {
  const info: AudioStreamInfo = { codec };
  if (s.profile) info.profile = s.profile;
  const sampleRate = positive(s.sample_rate);
  if (sampleRate !== undefined) info.sampleRate = sampleRate;
  if (s.channels) info.channels = s.channels;
  const bitRate = positive(s.bit_rate);
  if (bitRate !== undefined) info.bitRate = bitRate;
  return info;
}

/**
 * Old ffmpeg reports rotation as a `rotate` tag (clockwise degrees); newer ones as display-matrix side
 * data (counter-clockwise, so the sign flips). Both are normalised to clockwise 0/90/180/270.
 */
function rotationOf(s: RawStream): 0 | 90 | 180 | 270 {
  const tag = s.tags?.rotate;
  const matrix = s.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const degrees = tag !== undefined ? Number(tag) : matrix !== undefined ? -matrix : 0;
  const normalised = (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
  return normalised as 0 | 90 | 180 | 270;
}

/** Parses ffprobe's `num/den` (frame rates) or `num:den` (aspect ratios); undefined for 0 or N/A. */
function ratio(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const [num, den] = value.split(/[/:]/).map(Number);
  if (!num || !den || !Number.isFinite(num / den)) return undefined;
  return num / den;
}

function positive(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
