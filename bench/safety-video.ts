/**
 * bench:safety, video part (imported by bench/safety.ts; runnable alone):
 *
 *   node --import tsx bench/safety-video.ts [--matching-only | --cost-only [--cadences] [--rounds=N]]
 *
 *  1. Video matching under edits: per edit, recall of plain vPDQ (reference rule, 1 frame/s) and
 *     of MMD's robust video signature, and false matches between different videos, per
 *     development/test split (packages/phash/scripts/video-eval.ts; videos built with ffmpeg
 *     into a temp cache on first use).
 *  2. Screening cost of a 1-minute 720p upload in CPU-seconds (this process plus ffmpeg, from
 *     /proc): the server's hasher as screening runs it (one decode feeding plain vPDQ and the
 *     robust query signature, hashed inline here instead of on the pool), and matching the
 *     signature against reference signatures; beside it, plain vPDQ alone and the signature
 *     alone (each with its own decode), and the full transcode the server does after screening
 *     (MP4 + HLS ladder), all measured in the same run. Matching is measured two ways: against
 *     every reference in full, and as screening does it (the bank index proposes candidates,
 *     the robust rule checks the nearest). The hasher's parts (decode, vPDQ hashing, signature
 *     hashing) are measured one by one too, the hashing also with PDQ's WebAssembly kernels
 *     turned off (the JavaScript they replace; the hashes must come out the same). With
 *     --cadences, the hasher and matching with the
 *     other anchor cadences as well (queryAnchorEvery 1–4; 1, anchors on every query frame, is
 *     the baseline from before the cadence existed). With --rounds=N, N further pairs of the
 *     server's hasher plus matching via the index and a full transcode, one after the other, and
 *     the median of their shares (a figure less at the mercy of the machine's drift).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeVideoFramesForHashing, decodeVideoOutputs, type HashFrame, transcodeHls, transcodeMp4 } from '@mmd/media';
import { encodeVideoSignature, isVpdqMatch, matchVideo, matchVpdq, VIDEO_SIGNATURE_PARAMS, type VideoSignature, type VpdqFeature, videoFrameHasAnchors, videoSampledFrameCount, videoSampleRate, vpdqHashFrame } from '@mmd/phash';
import { GroupIndex } from '../apps/server/src/safety/group-index.ts';
import { usePdqKernels } from '../packages/phash/src/wasm/kernels.ts';
import { median } from './lib/harness.ts';
import { formatVpdqCompact, parseVpdqAny, usableFrames, videoSearchKeys } from '../apps/server/src/safety/hash-codec.ts';
import { hashFrames, hashSignatureFrames } from '../apps/server/src/safety/hash-tasks.ts';
import { createHasher } from '../apps/server/src/safety/hasher.ts';
import { signalIndexHashes } from '../apps/server/src/safety/indexes.ts';
import { VIDEO_CANDIDATES_VERIFIED } from '../apps/server/src/safety/matcher.ts';
import { videoRuleOfText } from '../apps/server/src/safety/video-rule.ts';
import { FFMPEG, VIDEO_CACHE, videoSources } from '../packages/phash/scripts/video-edits.ts';
import { evaluateSplit, sameSceneTakes, signatureOf } from '../packages/phash/scripts/video-eval.ts';

const round = (n: number, d = 1) => Number(n.toFixed(d));

/** CPU seconds of this process (all threads) plus its waited-for children (ffmpeg), from /proc. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // cutime and cstime (fields 16 and 17 of stat) sit at 13 and 14 after the command name.
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return (u.user + u.system) / 1e6 + (Number(fields[13]) + Number(fields[14])) / ticks;
}

async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; cpuSeconds: number; wallSeconds: number }> {
  const cpu = cpuSeconds();
  const wall = performance.now();
  const value = await fn();
  return {
    value,
    cpuSeconds: round(cpuSeconds() - cpu, 2),
    wallSeconds: round((performance.now() - wall) / 1000, 2),
  };
}

/** A 60-second 1280×720 H.264 upload: the ten development pan-and-zoom clips back to back. */
function oneMinuteUpload(): string {
  const out = path.join(VIDEO_CACHE, 'one-minute-720p.mp4');
  if (existsSync(out)) return out;
  const clips = videoSources('development').filter((s) => s.name.startsWith('pz-'));
  const list = path.join(VIDEO_CACHE, 'one-minute.txt');
  const files = [...clips, ...clips].slice(0, 10).map((c) => `file '${c.file}'`);
  writeFileSync(list, `${files.join('\n')}\n`);
  execFileSync(FFMPEG, ['-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', out]);
  return out;
}

/**
 * Where the hasher's CPU goes, each part on its own: the decode alone (ffmpeg plus reading its
 * pipes, the frames kept in memory), then vPDQ's and the signature's hashing of those frames,
 * with the same task functions the pool runs (hash-tasks.ts), the same anchor cadence.
 */
async function hasherBreakdown(file: string) {
  const vpdqFrames: HashFrame[] = [];
  const greyFrames: HashFrame[] = [];
  // The query's frame count for the anchor rule, from the probed duration as the hasher takes it.
  let frameCount = 0;
  const decode = await measured(() =>
    decodeVideoOutputs(
      file,
      [
        { fps: 1 },
        {
          fpsForDuration: (d) => {
            frameCount = videoSampledFrameCount('query', d);
            return videoSampleRate('query', d);
          },
          divisor: VIDEO_SIGNATURE_PARAMS.frameScale,
          grey: true,
        },
      ],
      (output, frame) => {
        (output === 0 ? vpdqFrames : greyFrames).push(frame);
      },
      { maxSeconds: 900 },
    ),
  );
  const hashing = async () => {
    const vpdq = await measured(async () =>
      hashFrames(vpdqFrames.map((f) => ({ pixels: own(f.data), width: f.width, height: f.height, seconds: f.seconds, frameNumber: f.frameNumber }))),
    );
    const signature = await measured(async () =>
      hashSignatureFrames(
        greyFrames.map((f, i) => ({ pixels: own(f.data), width: f.width, height: f.height, channels: f.channels, seconds: f.seconds, anchors: videoFrameHasAnchors('query', i, frameCount) })),
        'query',
        true,
      ),
    );
    return { vpdq, signature };
  };
  // The same hashing with PDQ's WebAssembly kernels turned off (the JavaScript they replace, and
  // what runs where WebAssembly SIMD is missing), in the same run, and the same hashes.
  usePdqKernels(false);
  const withoutKernels = await hashing();
  usePdqKernels(true);
  const { vpdq, signature } = await hashing();
  const same = JSON.stringify([vpdq.value, signature.value]) === JSON.stringify([withoutKernels.vpdq.value, withoutKernels.signature.value]);
  if (!same) throw new Error('hashes differ with and without the WebAssembly kernels');
  return {
    decodeCpuSeconds: decode.cpuSeconds,
    vpdqHashingCpuSeconds: vpdq.cpuSeconds,
    signatureHashingCpuSeconds: signature.cpuSeconds,
    withoutWasmKernels: {
      vpdqHashingCpuSeconds: withoutKernels.vpdq.cpuSeconds,
      signatureHashingCpuSeconds: withoutKernels.signature.cpuSeconds,
      hashingRatio: round((vpdq.cpuSeconds + signature.cpuSeconds) / (withoutKernels.vpdq.cpuSeconds + withoutKernels.signature.cpuSeconds), 2),
      sameHashes: same,
    },
    frames: { vpdq: vpdqFrames.length, signature: greyFrames.length },
  };
}

function own(b: Buffer): ArrayBuffer {
  return new Uint8Array(b).buffer as ArrayBuffer;
}

/**
 * What screening's matching really does with a video upload (matcher.ts matchBanks, without the
 * database reads): the bank index, loaded with these references as vPDQ signals carrying their
 * robust reference signatures (signalIndexHashes, as the server indexes them), is searched with
 * the upload's vPDQ frames and signature keys; every candidate is checked by vPDQ, and the
 * nearest VIDEO_CANDIDATES_VERIFIED that vPDQ does not match by the robust rule on the written
 * signatures (videoRuleOfText, what the pool runs). Returns the ids matched and how.
 */
function serverMatching(
  bank: ReadonlyArray<{ id: number; value: string; robust: string }>,
  index: GroupIndex,
  upload: { frames: VpdqFeature[]; signature: VideoSignature },
) {
  const frames = usableFrames(upload.frames);
  const queryText = encodeVideoSignature(upload.signature);
  const candidates = index.search([...frames.map((f) => f.hash), ...videoSearchKeys(upload.signature)], 31);
  const nearest = new Set(
    [...candidates]
      .sort((a, b) => a[1] - b[1] || a[0] - b[0])
      .slice(0, VIDEO_CANDIDATES_VERIFIED)
      .map(([id]) => id),
  );
  const matched: Array<{ id: number; rule: string }> = [];
  let verified = 0;
  for (const r of bank) {
    if (!candidates.has(r.id)) continue;
    if (isVpdqMatch(matchVpdq(frames, parseVpdqAny(r.value)))) {
      matched.push({ id: r.id, rule: 'vpdq' });
      continue;
    }
    if (!nearest.has(r.id)) continue;
    verified++;
    const rule = videoRuleOfText(queryText, r.robust, { maxDistance: 31, thin: false });
    if (rule) matched.push({ id: r.id, rule });
  }
  return { candidates: candidates.size, verified, matched };
}

/**
 * The share of screening in a transcode, as pairs: each round hashes and matches the upload as
 * screening does (via the index), then transcodes it (MP4 + HLS), so a machine whose speed
 * drifts (shared hosts do, by a quarter between minutes) moves both halves of a pair together.
 */
async function pairedRounds(
  file: string,
  hasher: ReturnType<typeof createHasher>,
  bank: ReadonlyArray<{ id: number; value: string; robust: string }>,
  index: GroupIndex,
  rounds: number,
) {
  const out = [];
  for (let r = 0; r < rounds; r++) {
    const server = await measured(() => hasher.hashFile(file, { kind: 'video' }));
    const viaIndex = await measured(async () => serverMatching(bank, index, server.value.video!));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-video-'));
    try {
      const mp4 = await measured(() => transcodeMp4({ input: file, outputPath: path.join(dir, 'video.mp4'), tmpRoot: dir }));
      const hls = await measured(() => transcodeHls({ input: file, outputDir: path.join(dir, 'hls'), tmpRoot: dir }));
      const screening = round(server.cpuSeconds + viaIndex.cpuSeconds, 2);
      const transcode = round(mp4.cpuSeconds + hls.cpuSeconds, 2);
      out.push({ screeningViaIndexCpuSeconds: screening, transcodeCpuSeconds: transcode, share: round(screening / transcode, 3) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    rounds: out,
    medianShare: round(median(out.map((o) => o.share)), 3),
    medianScreeningViaIndexCpuSeconds: round(median(out.map((o) => o.screeningViaIndexCpuSeconds)), 2),
    medianTranscodeCpuSeconds: round(median(out.map((o) => o.transcodeCpuSeconds)), 2),
  };
}

async function screeningCost(options: { cadences: boolean; rounds?: number }) {
  const file = oneMinuteUpload();
  const vpdq = await measured(async () => {
    let n = 0;
    for await (const f of decodeVideoFramesForHashing(file, { fps: 1 }))
      vpdqHashFrame({ image: f, timestampSeconds: f.seconds }, n++);
    return n;
  });
  const signature = await measured(() => signatureOf(file, 'query'));
  const hasher = createHasher({ maxPixels: 100_000_000, maxVideoSeconds: 900 });
  const sources = [...videoSources('development'), ...videoSources('test')];
  // Matching: against every source video of the benchmark as reference signatures.
  const refs: VideoSignature[] = [];
  for (const s of sources) refs.push(await signatureOf(s.file, 'reference'));
  // The same sources as bank signals, hashed as the server hashes a bank entry, and indexed.
  const bank: Array<{ id: number; value: string; robust: string }> = [];
  for (const [i, s] of sources.entries()) {
    const h = await hasher.hashFile(s.file, { kind: 'video', role: 'reference' });
    bank.push({ id: i + 1, value: formatVpdqCompact(h.video!.frames), robust: encodeVideoSignature(h.video!.signature) });
  }
  const index = new GroupIndex();
  index.addMany(bank.map((r) => [r.id, signalIndexHashes({ type: 'vpdq', value: r.value, robust: r.robust })] as const));
  // Other anchor cadences in the same run (--cadences), first of all the baseline with anchored
  // regions on every query frame (the setting before queryAnchorEvery); then the current setting.
  const every = VIDEO_SIGNATURE_PARAMS.queryAnchorEvery;
  const cadences = options.cadences ? [1, 2, 3, 4].filter((n) => n !== every) : [];
  const others = [];
  for (const n of cadences) {
    VIDEO_SIGNATURE_PARAMS.queryAnchorEvery = n;
    const hashed = await measured(() => hasher.hashFile(file, { kind: 'video' }));
    const matched = await measured(async () =>
      refs.map((r) => matchVideo(hashed.value.video!.signature, r).matched),
    );
    others.push({ n, hashed, matched });
  }
  VIDEO_SIGNATURE_PARAMS.queryAnchorEvery = every;
  const server = await measured(() => hasher.hashFile(file, { kind: 'video' }));
  const matching = await measured(async () =>
    refs.map((r) => matchVideo(server.value.video!.signature, r).matched),
  );
  const viaIndex = await measured(async () => serverMatching(bank, index, server.value.video!));
  const breakdown = await hasherBreakdown(file);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-video-'));
  try {
    const mp4 = await measured(() =>
      transcodeMp4({ input: file, outputPath: path.join(dir, 'video.mp4'), tmpRoot: dir }),
    );
    const hls = await measured(() =>
      transcodeHls({ input: file, outputDir: path.join(dir, 'hls'), tmpRoot: dir }),
    );
    const transcode = round(mp4.cpuSeconds + hls.cpuSeconds, 2);
    const screening = round(server.cpuSeconds + matching.cpuSeconds, 2);
    const paired = options.rounds ? await pairedRounds(file, hasher, bank, index, options.rounds) : undefined;
    const screeningViaIndex = round(server.cpuSeconds + viaIndex.cpuSeconds, 2);
    return {
      upload: '60 s, 1280x720, 25 fps H.264 (ten pan-and-zoom clips)',
      serverHasher: {
        cpuSeconds: server.cpuSeconds,
        wallSeconds: server.wallSeconds,
        vpdqFrames: server.value.video!.frames.length,
        signatureFrames: server.value.video!.signature.frames.length,
      },
      // The hasher's parts measured one by one in the same run (their sum is near, not equal to,
      // the hasher's figure: the hasher overlaps reading and hashing, and copies less).
      hasherBreakdown: breakdown,
      twoDecodesBefore: round(vpdq.cpuSeconds + signature.cpuSeconds, 2),
      vpdqOneFps: { cpuSeconds: vpdq.cpuSeconds, wallSeconds: vpdq.wallSeconds, frames: vpdq.value },
      robustSignature: {
        cpuSeconds: signature.cpuSeconds,
        wallSeconds: signature.wallSeconds,
        frames: signature.value.frames.length,
        fps: videoSampleRate('query', 60),
      },
      // Every reference compared in full (the figure measured since the first run).
      matchingAgainstReferences: { references: refs.length, cpuSeconds: matching.cpuSeconds },
      // What screening's matching does: index look-up, vPDQ on candidates, the robust rule on the
      // nearest VIDEO_CANDIDATES_VERIFIED.
      matchingViaIndex: {
        bankSignals: bank.length,
        candidates: viaIndex.value.candidates,
        robustComparisons: viaIndex.value.verified,
        matched: viaIndex.value.matched,
        cpuSeconds: viaIndex.cpuSeconds,
      },
      screeningCpuSeconds: screening,
      screeningViaIndexCpuSeconds: screeningViaIndex,
      fullTranscode: { mp4CpuSeconds: mp4.cpuSeconds, hlsCpuSeconds: hls.cpuSeconds, cpuSeconds: transcode },
      screeningShareOfTranscode: round(screening / transcode, 3),
      screeningViaIndexShareOfTranscode: round(screeningViaIndex / transcode, 3),
      // --rounds=N: N more pairs of (screening via the index, transcode), and their median share.
      ...(paired ? { paired } : {}),
      queryAnchorEvery: every,
      // The same hasher and matching with other anchor cadences (1 = the setting before).
      otherCadences: others.map(({ n, hashed, matched }) => ({
        queryAnchorEvery: n,
        serverHasherCpuSeconds: hashed.cpuSeconds,
        matchingCpuSeconds: matched.cpuSeconds,
        screeningCpuSeconds: round(hashed.cpuSeconds + matched.cpuSeconds, 2),
        screeningShareOfTranscode: round((hashed.cpuSeconds + matched.cpuSeconds) / transcode, 3),
        // The same decisions against the 20 references as the current setting.
        sameDecisions: matched.value.every((m, i) => m === matching.value[i]),
      })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The video section of bench:safety. */
export async function benchVideo(options: { matchingOnly: boolean; log: (m: string) => void }) {
  const matching = {
    development: await evaluateSplit('development', {}, options.log),
    test: await evaluateSplit('test', {}, options.log),
    sameSceneTakes: await sameSceneTakes(),
  };
  options.log('video: screening cost of a 1-minute upload');
  return { matching, screening: options.matchingOnly ? null : await screeningCost({ cadences: false, rounds: 3 }) };
}

if (process.argv[1]?.endsWith('safety-video.ts')) {
  const load = os.loadavg()[0]!;
  const log = (m: string) => process.stderr.write(`[bench:safety-video] ${m}\n`);
  const onlyCost = process.argv.includes('--cost-only');
  const result = onlyCost
    ? {
        screening: await screeningCost({
          cadences: process.argv.includes('--cadences'),
          rounds: Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 0) || undefined,
        }),
      }
    : await benchVideo({ matchingOnly: process.argv.includes('--matching-only'), log });
  console.log(
    JSON.stringify(
      {
        bench: 'safety-video',
        load: { oneMinuteAtStart: round(load, 2), oneMinuteAtEnd: round(os.loadavg()[0]!, 2) },
        ...result,
      },
      null,
      2,
    ),
  );
}
