import { type AcceptedType, type BudgetTarget, type ImageTarget, resolveTargets } from './accept.ts';
import { fitAudioToBudget } from './budget-audio.ts';
import { fitImageToBudget, imageBudgetError } from './budget-image.ts';
import { fitVideoToBudget } from './budget-video.ts';
import { MediaError } from './errors.ts';
import { inputPath, type MediaInput } from './input.ts';
import { inspectMedia } from './inspect.ts';
import { DEFAULT_MAX_IMAGE_PIXELS } from './limits.ts';
import { decodeImage, resizeRaw } from './raw-image.ts';
import { imageSsim } from './ssim.ts';
import { withTempDir } from './temp-dir.ts';
import { fitInside } from './video-geometry.ts';
import type { VideoSource } from './video-source.ts';

/** Options for {@link adaptToBudget}. */
export interface AdaptToBudgetOptions {
  /** Path or bytes of the media to send. */
  input: MediaInput;
  /** Hard size limit of the output in bytes (e.g. 300 * 1024 for an MMS class). */
  maxBytes: number;
  /** Types the recipient accepts, most preferred first. */
  accept: readonly AcceptedType[];
  /** Images: cap the long side before searching (default 2560; handsets gain nothing from more). */
  maxImageSide?: number;
  /** Images: quality below which the search shrinks the picture instead (see {@link fitImageToBudget}). */
  imageQualityFloor?: number;
  /** Images: compute SSIM against the source (default true; ~50 ms via ffmpeg). */
  measureSsim?: boolean;
  /** Image pixel limit (default 100 MP). */
  maxPixels?: number;
  /** Video/audio duration limit in seconds (defaults as for ingest). */
  maxSeconds?: number;
  /** Progress callback (0..1), for video. */
  onProgress?: (fraction: number) => void;
  /** Abort signal. */
  signal?: AbortSignal;
  /** Parent of scratch directories. */
  tmpRoot?: string;
}

/** The adapted file. */
export interface BudgetResult {
  /** Encoded output, `bytes.length <= maxBytes`. */
  bytes: Buffer;
  /** Output MIME type (one of the accepted ones). */
  mime: string;
  /** Output family. */
  kind: 'image' | 'video' | 'audio';
  /** Output width (images, video). */
  width?: number;
  /** Output height (images, video). */
  height?: number;
  /** Output duration (audio, video). */
  durationSeconds?: number;
  /** Quality facts: encoder quality and SSIM for images, bit rates for audio/video. */
  quality: {
    /** Encoder quality setting (images). */
    encoderQuality?: number;
    /** Luma SSIM vs the source at the source's size (images), 0..1. */
    ssim?: number;
    /** Video bit rate in kbit/s. */
    videoKbps?: number;
    /** Audio bit rate in kbit/s, null when the sound was dropped. */
    audioKbps?: number | null;
    /** Video bits per pixel per frame. */
    bitsPerPixel?: number;
  };
  /** Total encodes performed (search cost). */
  encodes: number;
}

/**
 * Produces the best-quality version of a media file that fits a byte budget in one of the accepted
 * types, as an MMS centre adapts content for a handset (300 KB, 600 KB, 1 MB classes). Images search
 * quality then dimensions; video picks a bit rate from budget ÷ duration, scaling the picture and
 * dropping audio as needed, and verifies the size; audio picks a bit rate. Throws `budget_unreachable`
 * when nothing fits, `unsupported_type` when no accepted type can carry this kind of media.
 * @param options input, budget and accepted types
 */
export async function adaptToBudget(options: AdaptToBudgetOptions): Promise<BudgetResult> {
  if (!(options.maxBytes > 0)) throw new MediaError('invalid_options', 'maxBytes must be positive');
  const targets = resolveTargets(options.accept);
  return withTempDir(options.tmpRoot, async (dir) => {
    const path = await inputPath(options.input, dir);
    const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
    const info = await inspectMedia(path, {
      maxPixels,
      signal: options.signal,
      tmpRoot: options.tmpRoot,
      ...(options.maxSeconds
        ? { maxVideoSeconds: options.maxSeconds, maxAudioSeconds: options.maxSeconds }
        : {}),
    });
    if (info.kind === 'document') throw new MediaError('unsupported_type', `cannot adapt ${info.mime}`);
    // A video with an audio-only accept list becomes its sound track (MMS centres do the same).
    const usable = targets.filter(
      (t) => t.kind === info.kind || (info.kind === 'video' && t.kind === 'audio' && info.av?.audio),
    );
    if (usable.length === 0) {
      throw new MediaError('unsupported_type', `none of the accepted types can carry ${info.kind}`, {
        details: { kind: info.kind, accepted: targets.map((t) => t.mime) },
      });
    }
    if (info.kind === 'image') return adaptImage(path, usable as ImageTarget[], maxPixels, options);
    return adaptAv(path, info, usable, dir, options);
  });
}

async function adaptImage(
  path: string,
  targets: ImageTarget[],
  maxPixels: number,
  options: AdaptToBudgetOptions,
): Promise<BudgetResult> {
  const source = await decodeImage(path, { maxPixels, maxSide: options.maxImageSide ?? 2560 });
  let encodes = 0;
  for (const target of targets) {
    const box = fitInside(source, target.maxWidth, target.maxHeight);
    const boxed = await resizeRaw(source, Math.max(box.width, box.height));
    const fit = await fitImageToBudget(boxed, target, {
      maxBytes: options.maxBytes,
      signal: options.signal,
      qualityFloor: options.imageQualityFloor,
    });
    if (!fit) {
      encodes += 1;
      continue;
    }
    encodes += fit.encodes;
    const quality: BudgetResult['quality'] = { encoderQuality: fit.quality };
    if (options.measureSsim !== false)
      quality.ssim = await imageSsim(source, fit.bytes, { tmpRoot: options.tmpRoot });
    return {
      bytes: fit.bytes,
      mime: target.mime,
      kind: 'image',
      width: fit.width,
      height: fit.height,
      quality,
      encodes,
    };
  }
  throw imageBudgetError(
    options.maxBytes,
    targets.map((t) => t.mime),
  );
}

async function adaptAv(
  path: string,
  info: Awaited<ReturnType<typeof inspectMedia>>,
  targets: BudgetTarget[],
  dir: string,
  options: AdaptToBudgetOptions,
): Promise<BudgetResult> {
  const duration = info.durationSeconds ?? 0;
  let encodes = 0;
  for (const target of targets) {
    if (target.kind === 'video' && info.av?.video) {
      const source: VideoSource = { info, av: info.av, video: info.av.video, durationSeconds: duration };
      const fit = await fitVideoToBudget(path, source, target, {
        maxBytes: options.maxBytes,
        dir,
        signal: options.signal,
        onProgress: options.onProgress,
      });
      if (!fit) continue;
      encodes += fit.encodes;
      return {
        bytes: fit.bytes,
        mime: target.mime,
        kind: 'video',
        width: fit.width,
        height: fit.height,
        durationSeconds: fit.durationSeconds,
        quality: {
          videoKbps: Math.round(fit.videoKbps),
          audioKbps: fit.audioKbps,
          bitsPerPixel: Math.round(fit.bitsPerPixel * 1000) / 1000,
        },
        encodes,
      };
    }
    if (target.kind === 'audio') {
      const fit = await fitAudioToBudget(path, target, {
        maxBytes: options.maxBytes,
        durationSeconds: duration,
        tmpRoot: options.tmpRoot,
        signal: options.signal,
      });
      if (!fit) continue;
      encodes += fit.encodes;
      return {
        bytes: fit.bytes,
        mime: fit.mime,
        kind: 'audio',
        durationSeconds: fit.durationSeconds,
        quality: { audioKbps: fit.bitrateKbps },
        encodes,
      };
    }
  }
  throw new MediaError(
    'budget_unreachable',
    `${info.kind} of ${duration.toFixed(1)} s cannot fit in ${options.maxBytes} bytes`,
    {
      details: {
        maxBytes: options.maxBytes,
        durationSeconds: duration,
        accepted: targets.map((t) => t.mime),
      },
    },
  );
}
