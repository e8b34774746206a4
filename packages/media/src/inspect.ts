import { MediaError } from './errors.ts';
import { inputPath, inputSize, type MediaInput, readHead, readTail } from './input.ts';
import {
  assertDuration,
  assertPixels,
  DEFAULT_MAX_AUDIO_SECONDS,
  DEFAULT_MAX_IMAGE_PIXELS,
  DEFAULT_MAX_VIDEO_SECONDS,
  DEFAULT_MAX_VIDEO_SIDE,
} from './limits.ts';
import { measureDuration } from './measure-duration.ts';
import { type AvProbe, probeAv } from './probe-av.ts';
import { type ImageProbe, probeImage } from './probe-image.ts';
import { type MediaKind, SNIFF_BYTES, type SniffResult, sniffBytes } from './sniff.ts';
import { withTempDir } from './temp-dir.ts';

/** Limits and plumbing for {@link inspectMedia}. */
export interface InspectOptions {
  /** Refuse files larger than this many bytes (`too_large`); unlimited by default. */
  maxBytes?: number;
  /** Image pixel budget (default 100 MP). */
  maxPixels?: number;
  /** Longest accepted video side in pixels (default 8192). */
  maxVideoSide?: number;
  /** Longest accepted video in seconds (default 15 min). */
  maxVideoSeconds?: number;
  /** Longest accepted audio in seconds (default 1 h). */
  maxAudioSeconds?: number;
  /** Parent of scratch directories (default OS temp dir). */
  tmpRoot?: string;
  /** Abort signal. */
  signal?: AbortSignal;
}

/** A verified description of a file: the sniffed type, confirmed by a real parser. */
export interface MediaInfo {
  /** Final MIME type (refined by the probe, e.g. an MP4 without video becomes `audio/mp4`). */
  mime: string;
  /** Final family. */
  kind: MediaKind;
  /** Short format id from sniffing, e.g. `jpeg`, `mp4`. */
  format: string;
  /** Canonical extension without the dot. */
  extension: string;
  /** Size of the input in bytes. */
  sizeBytes: number;
  /** Display width (after orientation/rotation) for images and videos. */
  width?: number;
  /** Display height (after orientation/rotation) for images and videos. */
  height?: number;
  /** Duration in seconds for audio and video. */
  durationSeconds?: number;
  /** Image header facts, for images. */
  image?: ImageProbe;
  /** ffprobe facts, for audio and video. */
  av?: AvProbe;
}

/** libvips loader name expected for each sniffed image format. */
const SHARP_FORMATS: Record<string, string[]> = {
  jpeg: ['jpeg'],
  png: ['png'],
  webp: ['webp'],
  gif: ['gif'],
  tiff: ['tiff'],
  avif: ['heif', 'avif'],
  heic: ['heif'],
  heif: ['heif'],
};

/** When a "video" container turns out to hold only audio, serve it under the audio MIME type. */
const AUDIO_ONLY_MIME: Record<string, string> = {
  'video/mp4': 'audio/mp4',
  'video/webm': 'audio/webm',
  'video/x-matroska': 'audio/x-matroska',
  'video/3gpp': 'audio/3gpp',
  'video/quicktime': 'audio/mp4',
  'video/mpeg': 'audio/mpeg',
  'video/ogg': 'audio/ogg',
};

/**
 * Identifies a file from its content and confirms it with a decoder's header parse (sharp for images,
 * ffprobe for audio/video), enforcing size, pixel and duration limits on the way. Never trusts the
 * file name. Throws `empty_file`, `unsupported_type`, `corrupt_file`, `too_large`, `too_many_pixels`
 * or `too_long`.
 * @param input path or bytes
 * @param options limits
 */
export async function inspectMedia(input: MediaInput, options: InspectOptions = {}): Promise<MediaInfo> {
  const sizeBytes = await inputSize(input);
  if (sizeBytes === 0) throw new MediaError('empty_file', 'the file is empty');
  if (options.maxBytes !== undefined && sizeBytes > options.maxBytes) {
    throw new MediaError('too_large', `file is ${sizeBytes} bytes, limit ${options.maxBytes}`, {
      details: { sizeBytes, maxBytes: options.maxBytes },
    });
  }
  const head = await readHead(input, SNIFF_BYTES);
  const sniffed = sniffBytes(head);
  if (!sniffed) throw new MediaError('unsupported_type', 'unrecognised file content');
  const base = {
    mime: sniffed.mime,
    kind: sniffed.kind,
    format: sniffed.format,
    extension: sniffed.extension,
    sizeBytes,
  };
  switch (sniffed.kind) {
    case 'image':
      return inspectImage(input, sniffed, base, options);
    case 'video':
    case 'audio':
      return inspectAv(input, sniffed, base, options);
    default:
      await verifyDocument(input, sniffed, sizeBytes);
      return base;
  }
}

async function inspectImage(
  input: MediaInput,
  sniffed: SniffResult,
  base: MediaInfo,
  options: InspectOptions,
): Promise<MediaInfo> {
  const image = await probeImage(input, { maxPixels: options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS });
  if (!(SHARP_FORMATS[sniffed.format] ?? []).includes(image.format)) {
    throw new MediaError(
      'corrupt_file',
      `content looks like ${sniffed.format} but decodes as ${image.format}`,
    );
  }
  return { ...base, width: image.width, height: image.height, image };
}

async function inspectAv(
  input: MediaInput,
  sniffed: SniffResult,
  base: MediaInfo,
  options: InspectOptions,
): Promise<MediaInfo> {
  const av = await withTempDir(options.tmpRoot, async (dir) => {
    const path = await inputPath(input, dir);
    const probe = await probeAv(path, { signal: options.signal });
    if (probe.durationSeconds === undefined) {
      // No stated duration (browser recordings): count the packets instead, up to the kind's limit.
      const maxSeconds = probe.video
        ? (options.maxVideoSeconds ?? DEFAULT_MAX_VIDEO_SECONDS)
        : (options.maxAudioSeconds ?? DEFAULT_MAX_AUDIO_SECONDS);
      const measured = await measureDuration(path, { maxSeconds, signal: options.signal });
      if (measured !== undefined) probe.durationSeconds = measured;
    }
    return probe;
  });
  const info: MediaInfo = { ...base, av };
  if (av.durationSeconds !== undefined) info.durationSeconds = av.durationSeconds;
  if (av.video) {
    // The probe decides: an "audio" container (e.g. M4A brand) that carries real video is a video.
    info.kind = 'video';
    info.width = av.video.displayWidth;
    info.height = av.video.displayHeight;
    const maxSide = options.maxVideoSide ?? DEFAULT_MAX_VIDEO_SIDE;
    assertPixels(av.video.width, av.video.height, maxSide * maxSide, maxSide);
    assertDuration(av.durationSeconds, options.maxVideoSeconds ?? DEFAULT_MAX_VIDEO_SECONDS);
    return info;
  }
  info.kind = 'audio';
  if (sniffed.kind === 'video') info.mime = AUDIO_ONLY_MIME[sniffed.mime] ?? sniffed.mime;
  assertDuration(av.durationSeconds, options.maxAudioSeconds ?? DEFAULT_MAX_AUDIO_SECONDS);
  return info;
}

/**
 * Documents are stored, not decoded, so the check is structural only: a PDF must end with its
 * `%%EOF` trailer and a ZIP (Office files included) with its end-of-central-directory record.
 */
async function verifyDocument(input: MediaInput, sniffed: SniffResult, sizeBytes: number): Promise<void> {
  const needsTail =
    sniffed.format === 'pdf' ||
    sniffed.mime.includes('zip') ||
    sniffed.mime.includes('officedocument') ||
    sniffed.mime.includes('opendocument');
  if (!needsTail) return;
  const tailLength = Math.min(sizeBytes, 66 * 1024);
  const tail = Buffer.from(await readTail(input, sizeBytes, tailLength));
  const marker = sniffed.format === 'pdf' ? Buffer.from('%%EOF') : Buffer.from([0x50, 0x4b, 0x05, 0x06]);
  if (!tail.includes(marker)) {
    throw new MediaError('corrupt_file', `${sniffed.format} file is truncated (no end marker)`);
  }
}
