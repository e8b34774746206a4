/**
 * Video matching under edits: per edit, the share of edited copies that plain vPDQ and MMD's
 * robust video signature match to their source, and the false matches between different
 * videos. Sources and edits come from video-edits.ts (built with ffmpeg into a temp cache).
 *
 *   node --import tsx packages/phash/scripts/video-eval.ts [--split=development|test|both]
 *     [--param=NAME=VALUE …] [--robust-only] [--edits=crop10,crop20,…]
 *
 * Prints JSON. Parameters were chosen on the development split only. `--param` overrides a
 * number in VIDEO_SIGNATURE_PARAMS for this run (e.g. `--param=queryAnchorEvery=2`), to try a
 * setting on the development split before changing the default; `--robust-only` skips plain vPDQ
 * (its columns then read 0) to iterate on the signature in about half the time; `--edits` queries
 * only those edits (recall and false matches over them alone, not comparable with a full run).
 *
 * The three chair takes film one scene three times (same chair, same room, same camera
 * moves). They are counted as the *same* video, neither as recall nor as false matches: a
 * re-filmed copy of banned footage is what a platform wants to catch, and the vPDQ reference
 * says they match. Their figures are reported apart ("sameSceneTakes").
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { VideoMatchOptions } from '../src/video-match.ts';
import { matchVideo } from '../src/video-match.ts';
import type { VideoFrameHashes, VideoSignature, VideoSignatureRole } from '../src/video-signature.ts';
import {
  mergeFrames,
  VIDEO_SIGNATURE_PARAMS,
  videoFrameHasAnchors,
  videoFrameHashes,
  videoSampledFrameCount,
  videoSampleRate,
} from '../src/video-signature.ts';
import type { VpdqFeature } from '../src/vpdq.ts';
import { vpdqHashFrame } from '../src/vpdq.ts';
import { isVpdqMatch, matchVpdq } from '../src/vpdq-match.ts';
import type { VideoEdit, VideoSource, VideoSplit } from './video-edits.ts';
import { editedVideo, FFMPEG, OTHER_TAKES, probe, VIDEO_EDITS, videoSources } from './video-edits.ts';

/** Raw frames from ffmpeg: `fps` per second (or every n-th), shrunk by `divisor`, grey or RGB. */
export async function* rawFrames(options: {
  file: string;
  fps?: number;
  every?: number;
  divisor?: number;
  grey: boolean;
  skipSeconds?: number;
  /** An edit applied first (ffmpeg filter), and the frame size it leaves. */
  edit?: { vf: string; width: number; height: number };
}): AsyncGenerator<{ data: Buffer; width: number; height: number; channels: 1 | 3; seconds: number }> {
  const { width: w, height: h } = options.edit ?? probe(options.file);
  const divisor = options.divisor ?? 1;
  const width = Math.max(1, Math.floor(w / divisor));
  const height = Math.max(1, Math.floor(h / divisor));
  const channels = options.grey ? 1 : 3;
  const filters = [
    ...(options.edit ? [options.edit.vf] : []),
    options.every ? `select=not(mod(n\\,${options.every}))` : `fps=${options.fps}`,
    ...(divisor > 1 ? [`scale=${width}:${height}:flags=area`] : []),
  ];
  const skip = options.skipSeconds ?? 0;
  const child = spawn(
    FFMPEG,
    [
      '-v',
      'error',
      '-noautorotate',
      ...(skip > 0 ? ['-ss', String(skip)] : []),
      '-i',
      options.file,
      '-an',
      '-vf',
      filters.join(','),
      ...(options.every ? ['-vsync', 'passthrough'] : []),
      '-f',
      'rawvideo',
      '-pix_fmt',
      options.grey ? 'gray' : 'rgb24',
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const bytes = width * height * channels;
  let frame = Buffer.allocUnsafe(bytes);
  let filled = 0;
  let index = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(bytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === bytes) {
          const seconds = skip + (options.every ? index : index / options.fps!);
          index++;
          yield { data: frame, width, height, channels, seconds };
          frame = Buffer.allocUnsafe(bytes);
          filled = 0;
        }
      }
    }
  } finally {
    // Waited for, so its CPU time is counted in this process's children (bench:safety's cost).
    if (child.exitCode === null && child.signalCode === null) {
      const closed = new Promise((resolve) => child.once('close', resolve));
      child.kill();
      await closed;
    }
  }
}

/**
 * The robust signature of a video file, decoded small and grey. References are sampled with a
 * phase offset of 0.13 s so that no edit lines up frame-for-frame with its source by accident.
 */
export async function signatureOf(
  file: string,
  role: VideoSignatureRole,
  edit?: { vf: string; width: number; height: number },
): Promise<VideoSignature> {
  const { duration } = probe(file);
  const fps = videoSampleRate(role, duration);
  const neighbours = role === 'reference' ? VIDEO_SIGNATURE_PARAMS.referenceNeighbours : 1;
  // References: decode at 12 fps and merge each sample with its neighbours 1/12 s either side.
  const decodeFps = neighbours > 1 ? VIDEO_SIGNATURE_PARAMS.neighbourFps : fps;
  const half = neighbours >> 1;
  const frames: VideoFrameHashes[] = [];
  const step = Math.max(1, Math.round(decodeFps / fps));
  // Whether query frames carry anchors depends on the count the server derives from the same
  // probed (container) duration.
  const frameCount = videoSampledFrameCount(role, duration);
  // Only the frames a merged sample uses are hashed (the same signature; long references decode
  // 12 frames a second and use 3 of them).
  const used = (i: number) => {
    if (neighbours === 1) return true;
    const r = (((i - half) % step) + step) % step;
    return Math.min(r, step - r) <= half;
  };
  for await (const f of rawFrames({
    file,
    fps: decodeFps,
    divisor: VIDEO_SIGNATURE_PARAMS.frameScale,
    grey: true,
    skipSeconds: role === 'reference' ? Math.max(0, 0.13 - half / decodeFps) : 0,
    ...(edit ? { edit } : {}),
  })) {
    const anchors = videoFrameHasAnchors(role, frames.length, frameCount);
    frames.push(
      used(frames.length)
        ? { seconds: f.seconds, ...videoFrameHashes(f, role, undefined, { anchors }) }
        : { seconds: f.seconds, hashes: [], anchors: [] },
    );
  }
  if (neighbours === 1) return { role, frames };
  const merged: VideoFrameHashes[] = [];
  for (let c = half; c < frames.length; c += step)
    merged.push(mergeFrames(frames.slice(c - half, c + half + 1)));
  return { role, frames: merged };
}

/** Plain vPDQ as the reference tool: every ⌊fps⌋-th frame, full resolution, RGB. */
export async function vpdqOf(file: string, edit?: { vf: string; width: number; height: number }): Promise<VpdqFeature[]> {
  const { execFileSync } = await import('node:child_process');
  const rate = execFileSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=r_frame_rate', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  ).trim();
  const [num, den] = rate.split('/').map(Number);
  const every = Math.max(1, Math.floor(num! / (den || 1)));
  const out: VpdqFeature[] = [];
  for await (const f of rawFrames({ file, every, grey: false, ...(edit ? { edit } : {}) })) {
    out.push(vpdqHashFrame({ image: f, timestampSeconds: f.seconds }, out.length));
  }
  return out;
}

interface Hashed {
  readonly name: string;
  readonly scene: string;
  readonly vpdq: VpdqFeature[];
  readonly signature: VideoSignature;
}

/** Set by `--robust-only`: plain vPDQ is not computed (its figures read 0). */
let skipVpdq = false;
/** Set by `--edits`: the edits queried (default all). */
let edits: readonly VideoEdit[] = VIDEO_EDITS;

async function hashed(name: string, scene: string, file: string, role: VideoSignatureRole): Promise<Hashed> {
  return { name, scene, vpdq: skipVpdq ? [] : await vpdqOf(file), signature: await signatureOf(file, role) };
}

/** Per-edit recall and false matches for one split. */
export async function evaluateSplit(
  split: VideoSplit,
  options: VideoMatchOptions = {},
  log: (m: string) => void = () => {},
) {
  const sources = videoSources(split);
  const refs: Hashed[] = [];
  for (const s of sources) refs.push(await hashed(s.name, s.scene, s.file, 'reference'));
  const perEdit: Record<string, { vpdq: number; robust: number; n: number; missed: string[] }> = {};
  let falseVpdq = 0;
  let falseRobust = 0;
  let pairs = 0;
  let queryCount = 0;
  let matchMs = 0;
  const falseList: string[] = [];
  // Each query is matched as soon as it is hashed and its verdicts logged, so a run stopped
  // part-way (hours on a loaded machine) still shows what it measured.
  for (const s of sources) {
    for (const edit of edits) {
      const file = editedVideo(s, edit);
      const q = { ...(await hashed(s.name, s.scene, file, 'query')), edit };
      queryCount++;
      perEdit[q.edit] ??= { vpdq: 0, robust: 0, n: 0, missed: [] };
      const row = perEdit[q.edit]!;
      const started = performance.now();
      const notes: string[] = [];
      for (const r of refs) {
        const v = isVpdqMatch(matchVpdq(q.vpdq, r.vpdq));
        const m = matchVideo(q.signature, r.signature, options);
        if (r.scene === q.scene) {
          row.n++;
          if (v) row.vpdq++;
          if (m.matched) row.robust++;
          else row.missed.push(`${q.name} (${m.frames}/${m.comparable})`);
          notes.unshift(
            `MMD ${m.matched ? 'match' : 'MISS'} ${m.frames}/${m.comparable} (whole-picture ${m.wholeFrames}), vPDQ ${v ? 'match' : 'miss'}`,
          );
        } else {
          pairs++;
          if (v) falseVpdq++;
          if (m.matched) {
            falseRobust++;
            falseList.push(
              `${q.name}--${q.edit} ~ ${r.name} (${m.frames}/${m.comparable} d${m.meanDistance.toFixed(1)})`,
            );
            notes.push(`FALSE MATCH with ${r.name} ${m.frames}/${m.comparable}`);
          }
          if (v) notes.push(`vPDQ false match with ${r.name}`);
        }
      }
      matchMs += performance.now() - started;
      // The query's frames, the count the anchor rule used (from the probed duration), and the
      // frames that kept at least one anchored region.
      const counted = videoSampledFrameCount('query', probe(file).duration);
      const anchored = q.signature.frames.filter((f) => f.anchors.length > 0).length;
      notes.unshift(`query ${q.signature.frames.length} frames (counted ${counted}), ${anchored} with anchors`);
      log(`${split}: ${q.name}--${q.edit}: ${notes.join('; ')}`);
    }
    log(`${split}: ${s.name} done`);
  }
  const total = Object.values(perEdit).reduce(
    (t, e) => ({ vpdq: t.vpdq + e.vpdq, robust: t.robust + e.robust, n: t.n + e.n }),
    { vpdq: 0, robust: 0, n: 0 },
  );
  const pct = (x: number, n: number) => Math.round((1000 * x) / Math.max(1, n)) / 10;
  return {
    split,
    sources: sources.map((s: VideoSource) => s.name),
    perEdit: Object.fromEntries(
      Object.entries(perEdit).map(([k, e]) => [
        k,
        { vpdq: pct(e.vpdq, e.n), robust: pct(e.robust, e.n), n: e.n, missed: e.missed },
      ]),
    ),
    overall: { vpdq: pct(total.vpdq, total.n), robust: pct(total.robust, total.n), n: total.n },
    falseMatches: { vpdq: falseVpdq, robust: falseRobust, pairs, list: falseList },
    matchMsPerPair: Math.round((100 * matchMs) / (queryCount * refs.length)) / 100,
  };
}

/** The other chair takes against chair-19 (same scene, different takes; reported apart). */
export async function sameSceneTakes(options: VideoMatchOptions = {}) {
  const chair = videoSources('development').find((s) => s.name === 'chair-19')!;
  const ref = await hashed(chair.name, chair.scene, chair.file, 'reference');
  const out: Record<string, { vpdq: boolean; robust: boolean; frames: string }> = {};
  for (const t of OTHER_TAKES) {
    const q = await hashed(t.name, t.scene, t.file, 'query');
    const m = matchVideo(q.signature, ref.signature, options);
    out[`${t.name} vs chair-19`] = {
      vpdq: isVpdqMatch(matchVpdq(q.vpdq, ref.vpdq)),
      robust: m.matched,
      frames: `${m.frames}/${m.comparable}`,
    };
  }
  return out;
}

if (process.argv[1]?.endsWith('video-eval.ts')) {
  const arg = process.argv.find((a) => a.startsWith('--split='))?.slice(8) ?? 'both';
  const splits: VideoSplit[] = arg === 'both' ? ['development', 'test'] : [arg as VideoSplit];
  const params = VIDEO_SIGNATURE_PARAMS as unknown as Record<string, unknown>;
  for (const a of process.argv.filter((x) => x.startsWith('--param='))) {
    const [name, value] = a.slice(8).split('=');
    if (!name || typeof params[name] !== 'number' || !Number.isFinite(Number(value)))
      throw new Error(`--param: ${a} is not NAME=NUMBER for a numeric VIDEO_SIGNATURE_PARAMS entry`);
    params[name] = Number(value);
  }
  skipVpdq = process.argv.includes('--robust-only');
  const only = process.argv.find((a) => a.startsWith('--edits='))?.slice(8).split(',');
  if (only) {
    const unknown = only.filter((e) => !VIDEO_EDITS.includes(e as VideoEdit));
    if (unknown.length > 0) throw new Error(`--edits: unknown ${unknown.join(', ')}`);
    edits = only as VideoEdit[];
  }
  const log = (m: string) => process.stderr.write(`[video-eval] ${m}\n`);
  const results = [];
  for (const s of splits) results.push(await evaluateSplit(s, {}, log));
  console.log(
    JSON.stringify({ params: VIDEO_SIGNATURE_PARAMS, results, sameSceneTakes: await sameSceneTakes() }, null, 2),
  );
}
