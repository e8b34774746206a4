import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VideoTarget } from './accept.ts';
import { throwIfAborted } from './errors.ts';
import { fileUrl } from './ffmpeg-args.ts';
import { h264OutputArgs } from './h264-args.ts';
import { type AvProbe, probeAv } from './probe-av.ts';
import { runEncode } from './run-encode.ts';
import { type FrameSize, fitInside, fitPixels } from './video-geometry.ts';
import type { VideoSource } from './video-source.ts';

/** Options for {@link fitVideoToBudget}. */
export interface VideoBudgetSearchOptions {
  /** Byte budget. */
  maxBytes: number;
  /** Scratch directory (owned by the caller). */
  dir: string;
  /** Encode attempts before giving up (default 4). */
  maxAttempts?: number;
  /** Progress callback (0..1) across attempts. */
  onProgress?: (fraction: number) => void;
  /** Abort signal. */
  signal?: AbortSignal;
}

/** Outcome of a successful search. */
export interface VideoBudgetFit {
  /** Encoded file. */
  bytes: Buffer;
  /** Output width. */
  width: number;
  /** Output height. */
  height: number;
  /** Output duration in seconds. */
  durationSeconds: number;
  /** Video bit rate asked of the encoder (kbit/s). */
  videoKbps: number;
  /** Audio bit rate (kbit/s), or null when the sound track was dropped. */
  audioKbps: number | null;
  /** Output frame rate. */
  fps: number;
  /** Encoded bits per pixel per frame, a cheap quality indicator (≥ 0.1 looks good at these sizes). */
  bitsPerPixel: number;
  /** Encodes needed. */
  encodes: number;
  /** ffprobe of the output. */
  probe: AvProbe;
}

/** Below this the picture is mush at any size we would send; not worth encoding. */
const MIN_VIDEO_KBPS = 12;
/** Target bits per pixel per frame used to choose a frame size from a bit rate. */
const TARGET_BPP = 0.1;
/** Frame sizes never go below this short side. */
const MIN_SHORT_SIDE = 96;

/** A plan for one encode attempt. */
interface Plan {
  size: FrameSize;
  fps: number;
  videoKbps: number;
  audioKbps: number | null;
}

/**
 * Plans an encode from a total bit budget: audio gets a fixed slice (or is dropped when the budget is
 * tight and the target allows it), the frame rate drops to 15 fps at low rates, and the frame size is
 * chosen so the video gets about {@link TARGET_BPP} bits per pixel per frame.
 * @param totalKbps total bit rate available, kbit/s
 * @param source verified source
 * @param target accepted container/profile/box
 */
export function planVideoBudget(
  totalKbps: number,
  source: VideoSource,
  target: VideoTarget,
): Plan | undefined {
  const hasAudio = source.av.audio !== undefined && target.audio;
  let audioKbps: number | null = null;
  if (hasAudio) {
    // AAC-LC (the only AAC encoder in every ffmpeg) sounds acceptable for speech from ~24 kbit/s mono.
    if (totalKbps >= 300) audioKbps = 64;
    else if (totalKbps >= 120) audioKbps = 32;
    else if (totalKbps >= 60) audioKbps = 24;
  }
  const videoKbps = totalKbps - (audioKbps ?? 0);
  if (videoKbps < MIN_VIDEO_KBPS) return undefined;
  const sourceFps = source.video.fps ?? 30;
  const fps = Math.min(sourceFps, videoKbps < 200 ? 15 : 30);
  const display = { width: source.video.displayWidth, height: source.video.displayHeight };
  const boxed = fitInside(display, target.maxWidth, target.maxHeight);
  let size = fitPixels(boxed, (videoKbps * 1000) / (fps * TARGET_BPP));
  if (Math.min(size.width, size.height) < MIN_SHORT_SIDE) {
    const scale = MIN_SHORT_SIDE / Math.min(boxed.width, boxed.height);
    size = fitInside(boxed, boxed.width * scale, boxed.height * scale);
  }
  return { size, fps, videoKbps, audioKbps };
}

/**
 * Encodes H.264/AAC to fit `maxBytes`: derive the bit rate from budget ÷ duration (minus container
 * overhead), encode with a tight VBV (average = target, peak 1.5×), and measure. Too big: retry with the
 * rate scaled by the overshoot, shrinking the picture as the rate falls. Fits but leaves more than 10 %
 * unused: one more try with the rate scaled up, kept only if it still fits. Single-pass ABR plus this
 * verification is as accurate as two-pass for these short clips at about half the CPU.
 * Returns `undefined` when the rate falls below what any picture needs.
 * @param path local source file
 * @param source verified source
 * @param target container, profile and box
 * @param options budget and plumbing
 */
export async function fitVideoToBudget(
  path: string,
  source: VideoSource,
  target: VideoTarget,
  options: VideoBudgetSearchOptions,
): Promise<VideoBudgetFit | undefined> {
  const duration = source.durationSeconds;
  // MP4 overhead: moov tables grow ~12 bytes per frame and sample; plus a few KB of headers.
  const overheadBytes = 4096 + duration * ((source.video.fps ?? 30) + 50) * 12;
  let totalKbps = ((options.maxBytes - overheadBytes) * 8 * 0.97) / duration / 1000;
  const attempts = options.maxAttempts ?? 4;
  let best: { out: string; plan: Plan; encodes: number } | undefined;
  let grew = false;
  for (let attempt = 0; attempt < attempts; attempt++) {
    throwIfAborted(options.signal);
    const plan = planVideoBudget(totalKbps, source, target);
    if (!plan) break;
    const out = join(options.dir, `budget-${attempt}.${target.container}`);
    await encodePlan(path, out, plan, source, target, {
      signal: options.signal,
      onProgress: options.onProgress && ((f) => options.onProgress?.((attempt + f) / attempts)),
    });
    const size = (await stat(out)).size;
    if (size > options.maxBytes) {
      if (best) break; // the upward refinement overshot: keep the previous fit
      // Overshoot: scale the whole rate by the miss plus a margin that grows with each failure.
      totalKbps *= (options.maxBytes / size) * (0.95 - attempt * 0.05);
      continue;
    }
    best = { out, plan, encodes: attempt + 1 };
    if (grew || size >= options.maxBytes * 0.9) break;
    grew = true;
    totalKbps *= (options.maxBytes / size) * 0.97;
  }
  if (!best) return undefined;
  const { out, plan } = best;
  const probe = await probeAv(out);
  options.onProgress?.(1);
  return {
    bytes: await readFile(out),
    width: plan.size.width,
    height: plan.size.height,
    durationSeconds: probe.durationSeconds ?? duration,
    videoKbps: plan.videoKbps,
    audioKbps: plan.audioKbps,
    fps: plan.fps,
    bitsPerPixel: (plan.videoKbps * 1000) / (plan.size.width * plan.size.height * plan.fps),
    encodes: best.encodes,
    probe,
  };
}

async function encodePlan(
  path: string,
  out: string,
  plan: Plan,
  source: VideoSource,
  target: VideoTarget,
  options: { signal?: AbortSignal; onProgress?: (f: number) => void },
): Promise<void> {
  const args = h264OutputArgs(
    {
      size: plan.size,
      profile: target.profile,
      fps: source.video.fps ?? 30,
      maxFps: plan.fps,
      targetKbps: plan.videoKbps,
      maxKbps: plan.videoKbps * 1.5,
      audio: plan.audioKbps ? { kbps: plan.audioKbps, channels: 1 } : null,
      container: target.container,
      maxSeconds: source.durationSeconds + 0.5,
      preset: 'faster',
    },
    out,
  );
  await runEncode(['-i', fileUrl(path), ...args], source.durationSeconds, options);
}
