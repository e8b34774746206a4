/**
 * bench:media — what @mmd/media costs on this machine, next to the bare tools, in one run.
 *
 *   node --import tsx bench/media.ts [--passes=2] [--reps=2] [--deadline-seconds=420] [--quick]
 *                                    [--data=../shared/data]
 *
 * Measures, on the shared real media (../shared/data from the repo root):
 *  1. photo ingest (processImage: sniff, header, decode once, 1280 + 320 px in AVIF/WebP/JPEG, 16 px
 *     placeholder, metadata stripped) in photos/s over the 14 photos, several passes, against libvips'
 *     own CLI doing the same renditions (bench/media-baselines.ts); both wall-clock and CPU; then one
 *     pass each with as many photos in flight as there are cores;
 *  2. HLS ladder (transcodeHls) in seconds of video per CPU-second (bench + ffmpeg/ffprobe children),
 *     for city-night.mpg and an HD vpdq clip, against ONE hand-written ffmpeg command with the same
 *     split/scale/x264/segment settings, with the same ffmpeg binary;
 *  3. adaptToBudget: images at 300 KB and 1 MB (JPEG-only and WebP+JPEG accept lists: bytes, size,
 *     SSIM), and a video fitted to 1 MB as baseline-profile H.264 MP4;
 *  4. peak RSS of the bench process (VmHWM, per section) and of the largest child process;
 *  5. the machine, tool versions, the date, and how busy other processes kept the CPUs.
 * Prints ONE JSON object on stdout; progress goes to stderr. Sections stop starting new work when
 * the deadline approaches; a hard stop 90 s after it prints what was measured and exits.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  adaptToBudget,
  type BudgetResult,
  h264Level,
  locateBinaries,
  type ProcessedImage,
  processImage,
  transcodeHls,
} from '@mmd/media';
import sharp from 'sharp';
import {
  baselineHlsArgs,
  onPath,
  VIPS_DIFFERENCES,
  VIPS_PROCESSES_PER_PHOTO,
  vipsEnv,
  vipsIngest,
} from './media-baselines.ts';
import {
  cpuMark,
  cpuSince,
  installChildTracker,
  killLiveChildren,
  resetPeakRss,
  run,
  sampling,
  setSection,
  statusKib,
  trackedChildren,
} from './media-proc.ts';

// ---------------------------------------------------------------------------------------------
// Options

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
function num(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}
const quick = flag('quick');
const opts = {
  passes: num('passes', quick ? 1 : 2),
  reps: num('reps', quick ? 1 : 2),
  deadlineMs: num('deadline-seconds', 420) * 1000,
  data: path.resolve(root, option('data') ?? path.join('..', 'shared', 'data')),
  budgetPhotos: quick
    ? ['Elephants-large.jpg', 'Wood.jpg']
    : ['Elephants-large.jpg', 'Wood.jpg', 'TwoWings.jpg', 'RainDrops.jpg', 'Aqua.jpg'],
  budgets: [300_000, 1_000_000],
  imageAccepts: [['image/jpeg'], ['image/webp', 'image/jpeg']],
  videoAccept: 'video/mp4; codecs="avc1.42E01E"',
  videoBudgetFiles: quick
    ? ['vpdq/videos/pattern-hd-no-bar.mp4']
    : ['vpdq/videos/pattern-hd-no-bar.mp4', 'video/city-night.mpg'],
  hlsFiles: ['video/city-night.mpg', 'vpdq/videos/pattern-hd-no-bar.mp4'],
};
/** Seconds each later section is guaranteed: a section stops starting work when only this is left. */
const RESERVE = { photos: 230, hls: 130, budgetImages: 45, budgetVideo: 0 };

// ---------------------------------------------------------------------------------------------
// Helpers

const startedAt = performance.now();
const elapsedS = () => (performance.now() - startedAt) / 1000;
const leftS = () => opts.deadlineMs / 1000 - elapsedS();
const log = (...parts: unknown[]) =>
  process.stderr.write(`[media ${elapsedS().toFixed(1)}s] ${parts.join(' ')}\n`);
const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
const sig = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : null);
const mib = (kib: number) => round(kib / 1024, 1);
const rel = (p: string) => path.relative(root, p) || '.';
const skipped: string[] = [];
const notes: string[] = [];

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function firstLine(command: string, args: string[]): string | null {
  try {
    const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    return text.split('\n', 1)[0] || null;
  } catch {
    return null;
  }
}

/** Runs fn over items with at most `n` in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? treeBytes(p) : statSync(p).size;
  }
  return total;
}

/** Peak RSS per section: VmHWM is reset when a section starts and read when it ends. */
const sectionPeaks: Record<string, number | null> = {};
let peakResettable = true;
function beginSection(name: string) {
  setSection(name);
  peakResettable = resetPeakRss() && peakResettable;
}
function endSection(name: string) {
  sectionPeaks[name] = mib(statusKib('self', 'VmHWM'));
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  bit_rate?: string;
  tags?: { rotate?: string };
}

function ffprobe(ffprobePath: string, file: string) {
  const r = spawnSync(
    ffprobePath,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
    { encoding: 'utf8', timeout: 30_000 },
  );
  const json = JSON.parse(r.stdout || '{}') as {
    streams?: FfprobeStream[];
    format?: { duration?: string; bit_rate?: string };
  };
  const video = json.streams?.find((s) => s.codec_type === 'video');
  const audio = json.streams?.find((s) => s.codec_type === 'audio');
  const ratio = (s?: string) => {
    const [a, b] = (s ?? '').split('/').map(Number);
    return a && b ? a / b : undefined;
  };
  const rotate = Math.abs(Number(video?.tags?.rotate ?? 0)) % 180 === 90;
  return {
    width: (rotate ? video?.height : video?.width) ?? 0,
    height: (rotate ? video?.width : video?.height) ?? 0,
    fps: ratio(video?.avg_frame_rate) ?? ratio(video?.r_frame_rate) ?? 30,
    durationS: Number(json.format?.duration ?? 0),
    audio: audio !== undefined,
    videoCodec: video?.codec_name ?? null,
    profile: video?.profile ?? null,
    audioCodec: audio?.codec_name ?? null,
    bitRate: Number(json.format?.bit_rate ?? 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Result and hard stop

const result: Record<string, unknown> = {
  bench: 'media',
  date: new Date().toISOString(),
  command: `node --import tsx bench/media.ts${argv.length ? ` ${argv.join(' ')}` : ''}`,
  data: rel(opts.data),
};
const abort = new AbortController();
let printed = false;

function finish(exitCode: number) {
  if (printed) return;
  printed = true;
  const children = trackedChildren();
  const largest = children.reduce((a, b) => (b.peakKib > a.peakKib ? b : a), {
    pid: 0,
    command: 'none',
    args: [],
    section: '',
    peakKib: 0,
  });
  const byCommand: Record<string, number | null> = {};
  for (const c of children) byCommand[c.command] = Math.max(byCommand[c.command] ?? 0, mib(c.peakKib) ?? 0);
  const peaks = Object.values(sectionPeaks).filter((x): x is number => x !== null);
  result.memory = {
    bench_peak_rss_mib: peakResettable ? Math.max(...peaks, 0) : mib(statusKib('self', 'VmHWM')),
    bench_peak_rss_mib_by_section: sectionPeaks,
    largest_child: { command: largest.command, section: largest.section, peak_rss_mib: mib(largest.peakKib) },
    child_peak_rss_mib_by_command: byCommand,
    children_seen: children.length,
    method:
      'bench: VmHWM of /proc/self/status, reset per section via /proc/self/clear_refs; children: VmHWM sampled every 20 ms until exit',
  };
  result.machine_after = { loadavg: os.loadavg().map((x) => round(x)) };
  result.duration_s = round(elapsedS(), 1);
  result.skipped = skipped;
  result.notes = notes;
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = exitCode;
}

const hardStop = setTimeout(() => {
  log('hard deadline reached: stopping');
  skipped.push('hard deadline reached: the run was cut short, figures above are partial');
  abort.abort();
  killLiveChildren();
  finish(2);
  setTimeout(() => process.exit(2), 2000).unref();
}, opts.deadlineMs + 90_000);
hardStop.unref();

// ---------------------------------------------------------------------------------------------
// Setup

installChildTracker();
const scratchParent = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const scratch = mkdtempSync(path.join(scratchParent, 'mmd-bench-media-'));
const cleanup = () => rmSync(scratch, { recursive: true, force: true });
process.on('exit', cleanup);

async function main() {
  if (!existsSync(path.join(opts.data, 'photos'))) {
    skipped.push(`test data not found at ${rel(opts.data)}: nothing measured`);
    return;
  }
  const binaries = await locateBinaries();
  const vips = onPath('vips');
  const cpus = os.cpus();
  const dpkg = (pkgs: string[]) => {
    const r = spawnSync('dpkg-query', ['-W', '-f', '$' + '{Package} $' + '{Version}\\n', ...pkgs], {
      encoding: 'utf8',
    });
    return r.status === 0 || r.stdout ? r.stdout.trim().split('\n').filter(Boolean) : null;
  };
  result.machine = {
    cpu_model: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memory_gib: round(os.totalmem() / 2 ** 30, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadavg_before: os.loadavg().map((x) => round(x)),
    ffmpeg: {
      path: rel(binaries.ffmpeg),
      source: binaries.sources.ffmpeg,
      version: firstLine(binaries.ffmpeg, ['-version']),
    },
    ffprobe: { path: rel(binaries.ffprobe), version: firstLine(binaries.ffprobe, ['-version']) },
    vips: vips
      ? {
          path: vips,
          version: firstLine(vips, ['--version']),
          libraries: dpkg(['libvips42', 'libaom3', 'libheif1', 'libwebp7', 'libjpeg62-turbo']),
        }
      : null,
    sharp: {
      sharp: sharp.versions.sharp,
      libvips: sharp.versions.vips,
      aom: sharp.versions.aom ?? null,
      heif: sharp.versions.heif ?? null,
      webp: sharp.versions.webp ?? null,
      mozjpeg: sharp.versions.mozjpeg ?? null,
      concurrency: sharp.concurrency(),
    },
    scratch: scratchParent,
  };
  log(`data ${rel(opts.data)}, ffmpeg ${binaries.ffmpeg}, vips ${vips ?? 'missing'}, scratch ${scratch}`);

  await photos(vips);
  await hls(binaries.ffmpeg, binaries.ffprobe);
  await budgetImages();
  await budgetVideo(binaries.ffprobe);
}

// ---------------------------------------------------------------------------------------------
// 1. Photo ingest vs vips CLI

type Bytes = Record<string, number[]>;
const pushTo = (into: Bytes, key: string, n: number) => {
  into[key] ??= [];
  into[key].push(n);
};
const addBytes = pushTo;
const summariseBytes = (b: Bytes) =>
  Object.fromEntries(
    Object.entries(b).map(([k, v]) => [k, { total_kb: round(v.reduce((a, x) => a + x, 0) / 1000, 1) }]),
  );

async function photos(vips: string | undefined) {
  beginSection('photos');
  const dir = path.join(opts.data, 'photos');
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.jpg'))
    .sort();
  const sizes: Record<string, string> = {};
  for (const f of files) {
    const m = await sharp(path.join(dir, f)).metadata();
    sizes[f] = `${m.width}x${m.height}`;
  }

  // vips usable? It must be able to write AVIF (heifsave with an AV1 encoder).
  let vipsReason: string | null = null;
  if (!vips) vipsReason = 'vips not found on PATH (apt-get install libvips-tools)';
  else {
    try {
      const probe = path.join(scratch, 'probe');
      mkdirSync(probe);
      const env = vipsEnv();
      await run(vips, ['black', path.join(probe, 'b.v'), '64', '64', '--bands', '3'], { env });
      await run(
        vips,
        ['heifsave', path.join(probe, 'b.v'), path.join(probe, 'b.avif'), '--compression', 'av1'],
        { env },
      );
    } catch (error) {
      vipsReason = `vips cannot write AVIF: ${(error as Error).message.slice(0, 300)}`;
    }
  }

  // Warm-up (library load, file cache, sharp thread pool), not measured.
  const warm = path.join(dir, files.includes('GreenMeadow.jpg') ? 'GreenMeadow.jpg' : files[0]!);
  await processImage({ input: warm });
  if (!vipsReason) await vipsIngest(vips!, warm, path.join(scratch, 'vips-warm'));

  const mmd = {
    passes: [] as ReturnType<typeof cpuSince>[],
    perPhoto: {} as Record<string, number[]>,
    bytes: {} as Bytes,
  };
  const base = {
    passes: [] as ReturnType<typeof cpuSince>[],
    perPhoto: {} as Record<string, number[]>,
    bytes: {} as Bytes,
  };
  let placeholderBytes: number[] = [];

  const mmdPass = async (pass: number) => {
    sampling(false); // nothing to sample: sharp runs in-process
    setSection('photos_mmd');
    const mark = cpuMark();
    for (const f of files) {
      const t = performance.now();
      const r: ProcessedImage = await processImage({ input: path.join(dir, f), signal: abort.signal });
      pushTo(mmd.perPhoto, f, (performance.now() - t) / 1000);
      if (pass === 0) {
        for (const rendition of r.renditions)
          addBytes(mmd.bytes, `${rendition.name}/${rendition.format}`, rendition.bytes.length);
        if (r.placeholder)
          placeholderBytes.push(Buffer.from(r.placeholder.dataUrl.split(',')[1] ?? '', 'base64').length);
      }
    }
    const m = cpuSince(mark);
    sampling(true);
    mmd.passes.push(m);
    log(
      `photos mmd pass ${pass + 1}: ${files.length} in ${m.wallS.toFixed(1)} s (cpu ${m.cpuS.toFixed(1)} s, other load ${m.otherCores.toFixed(2)} cores)`,
    );
  };
  const vipsPass = async (pass: number) => {
    setSection('photos_vips');
    const passDir = path.join(scratch, `vips-${pass}`);
    const outputs: Record<string, Record<string, string>> = {};
    const mark = cpuMark();
    for (const f of files) {
      const t = performance.now();
      outputs[f] = await vipsIngest(vips!, path.join(dir, f), path.join(passDir, f));
      pushTo(base.perPhoto, f, (performance.now() - t) / 1000);
    }
    const m = cpuSince(mark);
    base.passes.push(m);
    if (pass === 0) {
      for (const out of Object.values(outputs)) {
        for (const [key, file] of Object.entries(out)) {
          if (key !== 'placeholder') addBytes(base.bytes, key, statSync(file).size);
        }
      }
    }
    rmSync(passDir, { recursive: true, force: true });
    log(
      `photos vips pass ${pass + 1}: ${files.length} in ${m.wallS.toFixed(1)} s (cpu ${m.cpuS.toFixed(1)} s, other load ${m.otherCores.toFixed(2)} cores)`,
    );
  };

  for (let pass = 0; pass < opts.passes; pass++) {
    const lastPass = mmd.passes.at(-1)?.wallS ?? 0;
    const lastVips = base.passes.at(-1)?.wallS ?? 0;
    if (pass > 0 && leftS() - RESERVE.photos < lastPass + lastVips) {
      skipped.push(`photos: passes ${pass + 1}..${opts.passes} skipped to stay within the deadline`);
      break;
    }
    // Alternate the order so neither side always runs first after the other warmed the caches.
    const order = pass % 2 === 0 ? [mmdPass, vipsPass] : [vipsPass, mmdPass];
    for (const step of order) {
      if (step === vipsPass && vipsReason) continue;
      await step(pass);
    }
  }

  // Throughput with as many photos in flight as there are cores, as the server's job queue runs them
  // (sharp's own thread pool is 1 on glibc without jemalloc, so one photo at a time leaves cores idle).
  const inFlight = os.availableParallelism();
  const parallel: Record<string, ReturnType<typeof cpuSince>> = {};
  const parallelPass = async (side: 'mmd' | 'vips') => {
    setSection(`photos_${side}_parallel`);
    sampling(side === 'vips');
    const passDir = path.join(scratch, 'vips-parallel');
    const mark = cpuMark();
    await pool(files, inFlight, (f) =>
      side === 'mmd'
        ? processImage({ input: path.join(dir, f), signal: abort.signal })
        : vipsIngest(vips!, path.join(dir, f), path.join(passDir, f)),
    );
    parallel[side] = cpuSince(mark);
    sampling(true);
    rmSync(passDir, { recursive: true, force: true });
    log(`photos ${side} ${inFlight} in flight: ${files.length} in ${parallel[side].wallS.toFixed(1)} s`);
  };
  if (inFlight > 1) {
    const estimate = ((mmd.passes.at(-1)?.wallS ?? 0) + (base.passes.at(-1)?.wallS ?? 0)) * 0.8;
    if (leftS() - RESERVE.photos < estimate)
      skipped.push('photos: parallel passes skipped to stay within the deadline');
    else {
      await parallelPass('mmd');
      if (!vipsReason) await parallelPass('vips');
    }
  }

  // Process start-up cost of the vips CLI (part of its figure, not of the libvips work).
  let startupMs: number | null = null;
  if (!vipsReason) {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await run(vips!, ['--version'], { env: vipsEnv() });
      times.push(performance.now() - t);
    }
    startupMs = median(times);
  }
  endSection('photos');

  const summary = (side: typeof mmd) => {
    const wall = side.passes.reduce((a, p) => a + p.wallS, 0);
    const cpu = side.passes.reduce((a, p) => a + p.cpuS, 0);
    const n = files.length * side.passes.length;
    return {
      photos: n,
      photos_per_s: sig(n / wall),
      wall_s: round(wall),
      cpu_s_per_photo: sig(cpu / n),
      photos_per_cpu_s: sig(n / cpu),
      passes: side.passes.map((p) => ({
        wall_s: round(p.wallS),
        cpu_s: round(p.cpuS),
        other_processes_cores: round(p.otherCores),
      })),
      bytes: summariseBytes(side.bytes),
    };
  };
  const m = summary(mmd);
  const perPhoto = files.map((f) => ({
    photo: f,
    size: sizes[f],
    mmd_best_s: round(Math.min(...(mmd.perPhoto[f] ?? [Number.NaN]))),
    vips_best_s: vipsReason ? null : round(Math.min(...(base.perPhoto[f] ?? [Number.NaN]))),
  }));
  const out: Record<string, unknown> = {
    photos: files.length,
    passes: mmd.passes.length,
    work: 'sniff + header + decode once (auto-orient, sRGB) → 1280 and 320 px long side × AVIF q50 effort 2 / WebP q78 effort 4 / JPEG q80 progressive, metadata stripped, + 16 px WebP q40 placeholder; photos one after another',
    mmd: {
      ...m,
      placeholder_avg_bytes: round(
        placeholderBytes.reduce((a, x) => a + x, 0) / Math.max(1, placeholderBytes.length),
        0,
      ),
    },
    per_photo: perPhoto,
  };
  placeholderBytes = [];
  if (vipsReason) {
    out.baseline = null;
    out.baseline_reason = vipsReason;
  } else {
    const b = summary(base);
    const perPhotoStartup = ((startupMs ?? 0) * VIPS_PROCESSES_PER_PHOTO) / 1000;
    const vipsWallPerPhoto = (b.wall_s ?? 0) / b.photos;
    out.baseline = {
      tool: 'vips CLI (libvips), one process per step',
      ...b,
      processes_per_photo: VIPS_PROCESSES_PER_PHOTO,
      process_startup_ms_each: round(startupMs ?? Number.NaN, 1),
      photos_per_s_without_startup: sig(1 / (vipsWallPerPhoto - perPhotoStartup)),
      differences: VIPS_DIFFERENCES,
    };
    out.ratio_mmd_over_vips = {
      photos_per_s: round((m.photos_per_s ?? 0) / (b.photos_per_s ?? 1)),
      photos_per_cpu_s: round((m.photos_per_cpu_s ?? 0) / (b.photos_per_cpu_s ?? 1)),
      photos_per_s_vs_vips_without_startup: round(
        (m.photos_per_s ?? 0) / (1 / (vipsWallPerPhoto - perPhotoStartup)),
      ),
    };
  }
  const par = (m?: ReturnType<typeof cpuSince>) =>
    m
      ? {
          photos_per_s: sig(files.length / m.wallS),
          wall_s: round(m.wallS),
          cpu_s_per_photo: sig(m.cpuS / files.length),
          other_processes_cores: round(m.otherCores),
        }
      : null;
  if (parallel.mmd) {
    out.parallel = {
      in_flight: inFlight,
      mmd: par(parallel.mmd),
      vips: par(parallel.vips),
      ratio_mmd_over_vips_photos_per_s: parallel.vips
        ? round(parallel.vips.wallS / parallel.mmd.wallS)
        : null,
    };
  }
  result.photos = out;
}

// ---------------------------------------------------------------------------------------------
// 2. HLS ladder vs one bare ffmpeg command

function argDiff(a: readonly string[], b: readonly string[]) {
  const count = (xs: readonly string[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const ca = count(a);
  const cb = count(b);
  const only = (x: Map<string, number>, y: Map<string, number>) =>
    [...x].flatMap(([k, n]) => Array<string>(Math.max(0, n - (y.get(k) ?? 0))).fill(k));
  return { only_library: only(ca, cb), only_baseline: only(cb, ca) };
}

async function hls(ffmpeg: string, ffprobePath: string) {
  beginSection('hls');
  const sources: unknown[] = [];
  for (const file of opts.hlsFiles) {
    const input = path.join(opts.data, file);
    if (!existsSync(input)) {
      skipped.push(`hls: ${file} not found`);
      continue;
    }
    const probe = ffprobe(ffprobePath, input);
    const { args, rungs } = baselineHlsArgs(input, probe, (r, fps) =>
      h264Level(r.width, r.height, fps, r.maxKbps),
    );
    const lib: ReturnType<typeof cpuSince>[] = [];
    const bare: ReturnType<typeof cpuSince>[] = [];
    let libBytes = 0;
    let bareBytes = 0;
    let variants: unknown = null;
    let libArgs: string[] | null = null;
    for (let rep = 0; rep < opts.reps; rep++) {
      const lastCost = (lib.at(-1)?.wallS ?? 0) + (bare.at(-1)?.wallS ?? 0);
      if (rep > 0 && leftS() - RESERVE.hls < lastCost) {
        skipped.push(`hls ${file}: repetitions ${rep + 1}..${opts.reps} skipped to stay within the deadline`);
        break;
      }
      if (rep === 0 && leftS() - RESERVE.hls < 0) {
        skipped.push(`hls ${file}: skipped to stay within the deadline`);
        break;
      }
      const runLib = async () => {
        setSection('hls_mmd');
        const outDir = path.join(scratch, `hls-mmd-${rep}`);
        const before = trackedChildren().length;
        const mark = cpuMark();
        const pkg = await transcodeHls({ input, outputDir: outDir, tmpRoot: scratch, signal: abort.signal });
        lib.push(cpuSince(mark));
        libBytes = treeBytes(outDir);
        variants = pkg.variants.map(
          (v) => `${v.name} ${v.width}x${v.height} ${Math.round(v.averageBandwidth / 1000)}k avg`,
        );
        const spawned = trackedChildren().slice(before);
        if (spawned.length === 0)
          notes.push('child tracker saw no library children: child RSS figures miss them');
        rmSync(outDir, { recursive: true, force: true });
      };
      const runBare = async () => {
        setSection('hls_baseline');
        const outDir = path.join(scratch, `hls-bare-${rep}`);
        mkdirSync(outDir);
        const mark = cpuMark();
        await run(ffmpeg, args, { cwd: outDir, timeoutMs: 300_000 });
        bare.push(cpuSince(mark));
        bareBytes = treeBytes(outDir);
        rmSync(outDir, { recursive: true, force: true });
      };
      for (const step of rep % 2 === 0 ? [runLib, runBare] : [runBare, runLib]) await step();
      log(
        `hls ${file} rep ${rep + 1}: mmd ${lib.at(-1)?.wallS.toFixed(1)} s / ${lib.at(-1)?.cpuS.toFixed(1)} cpu-s, bare ${bare.at(-1)?.wallS.toFixed(1)} s / ${bare.at(-1)?.cpuS.toFixed(1)} cpu-s`,
      );
    }
    if (lib.length === 0) continue;
    // What the library actually ran, captured from its ffmpeg command line for the argument diff.
    libArgs = capturedLibraryArgs(input);
    const side = (runs: ReturnType<typeof cpuSince>[], bytes: number) => {
      const cpu = runs.reduce((a, r) => a + r.cpuS, 0);
      const wall = runs.reduce((a, r) => a + r.wallS, 0);
      return {
        runs: runs.map((r) => ({
          wall_s: round(r.wallS),
          child_cpu_s: round(r.childCpuS),
          bench_cpu_s: round(r.selfCpuS),
          other_processes_cores: round(r.otherCores),
        })),
        video_s_per_cpu_s: sig((probe.durationS * runs.length) / cpu),
        video_s_per_wall_s: sig((probe.durationS * runs.length) / wall),
        output_bytes: bytes,
      };
    };
    const l = side(lib, libBytes);
    const b = side(bare, bareBytes);
    sources.push({
      file,
      source: `${probe.videoCodec} ${probe.width}x${probe.height} ${round(probe.fps)} fps ${round(probe.durationS)} s${probe.audio ? ` + ${probe.audioCodec}` : ', no audio'}`,
      rungs: rungs.map((r) => `${r.name} ${r.width}x${r.height} ≤${r.maxKbps}k`),
      mmd: { ...l, variants },
      baseline: {
        ...b,
        command: `ffmpeg ${args
          .map((a) => (a === input ? rel(input) : a))
          .map((a) => (/[\s;[\]()$,]/.test(a) ? `'${a}'` : a))
          .join(' ')}`,
        command_note: 'run inside an empty output folder; the input is shown relative to the repo root',
      },
      ratio_mmd_over_baseline_video_s_per_cpu_s: round(
        (l.video_s_per_cpu_s ?? 0) / (b.video_s_per_cpu_s ?? 1),
      ),
      args_diff: libArgs
        ? argDiff(
            libArgs,
            args.map((a) => (a === input ? `file:${input}` : a)),
          )
        : null,
    });
  }
  endSection('hls');
  result.hls = {
    cpu: 'CPU = ffmpeg/ffprobe children (cutime+cstime of /proc/self/stat) + the bench process itself',
    sources,
  };
}

/** The library's ffmpeg command line for this input, as recorded by the child tracker. */
function capturedLibraryArgs(input: string): string[] | null {
  const child = trackedChildren().find(
    (c) =>
      c.section === 'hls_mmd' &&
      c.command === 'ffmpeg' &&
      c.args.includes(`file:${input}`) &&
      c.args.includes('hls'),
  );
  return child ? child.args : null;
}

// ---------------------------------------------------------------------------------------------
// 3. Budgets

async function budgetImages() {
  beginSection('budget_images');
  setSection('budget_images');
  const rows: unknown[] = [];
  outer: for (const photo of opts.budgetPhotos) {
    const input = path.join(opts.data, 'photos', photo);
    const meta = await sharp(input).metadata();
    for (const accept of opts.imageAccepts) {
      for (const maxBytes of opts.budgets) {
        if (leftS() - RESERVE.budgetImages < 0) {
          skipped.push(
            `budget images: stopped before ${photo} ${accept.join('+')} ${maxBytes} to stay within the deadline`,
          );
          break outer;
        }
        const mark = cpuMark();
        const r: BudgetResult = await adaptToBudget({
          input,
          maxBytes,
          accept,
          tmpRoot: scratch,
          signal: abort.signal,
        });
        const m = cpuSince(mark);
        rows.push({
          photo,
          source: `${meta.width}x${meta.height} ${round(statSync(input).size / 1e6, 2)} MB`,
          budget_bytes: maxBytes,
          accept: accept.join(', '),
          mime: r.mime,
          bytes: r.bytes.length,
          size: `${r.width}x${r.height}`,
          encoder_quality: r.quality.encoderQuality ?? null,
          ssim: r.quality.ssim ?? null,
          encodes: r.encodes,
          wall_s: round(m.wallS),
          cpu_s: round(m.cpuS),
        });
        log(
          `budget ${photo} ${accept.join('+')} ${maxBytes}: ${r.mime} ${r.bytes.length} B ${r.width}x${r.height} q${r.quality.encoderQuality} ssim ${r.quality.ssim} (${r.encodes} encodes, ${m.wallS.toFixed(1)} s)`,
        );
      }
    }
  }
  // The search prefers shrinking below quality 55; on very detailed photos a lower floor keeps
  // resolution and scores much higher SSIM. One probe to show the trade-off.
  let floorProbe: unknown = null;
  const elephants = path.join(opts.data, 'photos', 'Elephants-large.jpg');
  if (existsSync(elephants) && leftS() - RESERVE.budgetImages > 10) {
    const mark = cpuMark();
    const r = await adaptToBudget({
      input: elephants,
      maxBytes: 300_000,
      accept: ['image/jpeg'],
      imageQualityFloor: 30,
      tmpRoot: scratch,
      signal: abort.signal,
    });
    const m = cpuSince(mark);
    floorProbe = {
      photo: 'Elephants-large.jpg',
      budget_bytes: 300_000,
      accept: 'image/jpeg',
      image_quality_floor: 30,
      bytes: r.bytes.length,
      size: `${r.width}x${r.height}`,
      encoder_quality: r.quality.encoderQuality ?? null,
      ssim: r.quality.ssim ?? null,
      encodes: r.encodes,
      wall_s: round(m.wallS),
    };
  }
  endSection('budget_images');
  result.budget_images = {
    ssim: 'luma SSIM vs the decoded source at its size capped to 2048 px (imageSsim, ffmpeg ssim filter)',
    budgets: 'bytes, SI: 300 KB = 300000, 1 MB = 1000000',
    rows,
    quality_floor_probe: floorProbe,
  };
}

async function budgetVideo(ffprobePath: string) {
  beginSection('budget_video');
  setSection('budget_video');
  const rows: unknown[] = [];
  for (const file of opts.videoBudgetFiles) {
    const input = path.join(opts.data, file);
    if (!existsSync(input)) {
      skipped.push(`budget video: ${file} not found`);
      continue;
    }
    if (leftS() < 20) {
      skipped.push(`budget video: ${file} skipped to stay within the deadline`);
      continue;
    }
    const source = ffprobe(ffprobePath, input);
    const mark = cpuMark();
    const r = await adaptToBudget({
      input,
      maxBytes: 1_000_000,
      accept: [opts.videoAccept],
      tmpRoot: scratch,
      signal: abort.signal,
    });
    const m = cpuSince(mark);
    const out = path.join(scratch, 'budget-out.mp4');
    writeFileSync(out, r.bytes);
    const p = ffprobe(ffprobePath, out);
    rmSync(out, { force: true });
    rows.push({
      file,
      source: `${source.videoCodec} ${source.width}x${source.height} ${round(source.durationS)} s ${round(source.bitRate / 1000, 0)} kbit/s${source.audio ? ` + ${source.audioCodec}` : ''}`,
      budget_bytes: 1_000_000,
      accept: opts.videoAccept,
      mime: r.mime,
      bytes: r.bytes.length,
      size: `${p.width}x${p.height}`,
      fps: round(p.fps),
      duration_s: round(p.durationS),
      video: `${p.videoCodec} ${p.profile}`,
      audio: p.audioCodec,
      total_kbps: round((r.bytes.length * 8) / p.durationS / 1000, 0),
      planned_video_kbps: r.quality.videoKbps ?? null,
      planned_audio_kbps: r.quality.audioKbps ?? null,
      bits_per_pixel: r.quality.bitsPerPixel ?? null,
      encodes: r.encodes,
      wall_s: round(m.wallS),
      cpu_s: round(m.cpuS),
    });
    log(
      `budget video ${file}: ${r.bytes.length} B ${p.width}x${p.height} ${p.videoCodec} ${p.profile} (${r.encodes} encodes, ${m.wallS.toFixed(1)} s)`,
    );
  }
  endSection('budget_video');
  result.budget_video = rows;
}

try {
  await main();
  clearTimeout(hardStop);
  finish(0);
} catch (error) {
  log(`failed: ${(error as Error).stack ?? error}`);
  result.error = String((error as Error).message ?? error);
  clearTimeout(hardStop);
  finish(1);
} finally {
  cleanup();
}
