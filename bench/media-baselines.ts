/**
 * Baselines for bench/media.ts, written without @mmd/media so they show what the underlying tools
 * achieve on their own:
 *  - photo ingest with libvips' own CLI (`vips`), producing the renditions processImage produces;
 *  - the HLS ladder as ONE hand-written ffmpeg command (split + scale + libx264 per rung).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { run } from './media-proc.ts';

// ---------------------------------------------------------------------------------------------
// vips

/** Finds an executable on PATH. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Environment for the vips CLI. sharp's bundled libvips sets VIPSHOME (to its build prefix) in this
 * process when it loads; inherited, it makes the system vips look for its modules (heifsave lives in
 * vips-heif.so) in the wrong place: "unknown action heifsave".
 */
export function vipsEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.VIPSHOME;
  return env;
}

/** Same sizes, formats and encoder settings as processImage's defaults (image-encode.ts). */
const SAVES = [
  {
    format: 'avif',
    ext: 'avif',
    // sharp's AVIF defaults: 8-bit, 4:4:4 (vips would pick 12-bit and 4:2:0 on its own).
    args: [
      'heifsave',
      '--compression',
      'av1',
      '--Q',
      '50',
      '--effort',
      '2',
      '--bitdepth',
      '8',
      '--subsample-mode',
      'off',
      '--strip',
    ],
  },
  { format: 'webp', ext: 'webp', args: ['webpsave', '--Q', '78', '--effort', '4', '--strip'] },
  // mozjpeg (trellis, quant table 3) is sharp-only; Debian's libvips uses libjpeg-turbo.
  {
    format: 'jpeg',
    ext: 'jpg',
    args: ['jpegsave', '--Q', '80', '--optimize-coding', '--interlace', '--strip'],
  },
] as const;

/** Processes started per photo by {@link vipsIngest}. */
export const VIPS_PROCESSES_PER_PHOTO = 2 + SAVES.length * 2 + 1;

/** Output files of one vips ingest, by rendition/format. */
export type VipsOutputs = Record<string, string>;

/**
 * The processImage work with the vips CLI, one process per step, intermediates in binary PPM (which
 * carries no metadata: vips 8.14.1's webpsave ignores `strip` and would copy the camera EXIF from a
 * .v intermediate, inflating a 5 KB thumbnail to 40 KB): decode once (shrink-on-load, EXIF auto-rotate, sRGB), preview 1280 → AVIF/WebP/JPEG,
 * thumbnail 320 from the preview pixels → AVIF/WebP/JPEG, 16 px WebP placeholder from the thumbnail.
 * @param vips path of the vips executable
 * @param source photo path
 * @param dir empty scratch folder
 */
export async function vipsIngest(vips: string, source: string, dir: string): Promise<VipsOutputs> {
  mkdirSync(dir, { recursive: true });
  const out: VipsOutputs = {};
  const env = vipsEnv();
  const preview = join(dir, 'preview.ppm');
  await run(
    vips,
    ['thumbnail', source, preview, '1280', '--height', '1280', '--size', 'down', '--export-profile', 'srgb'],
    { env },
  );
  for (const save of SAVES) {
    const file = join(dir, `preview.${save.ext}`);
    const [op, ...opts] = save.args;
    await run(vips, [op, preview, file, ...opts], { env });
    out[`preview/${save.format}`] = file;
  }
  const thumb = join(dir, 'thumbnail.ppm');
  await run(vips, ['thumbnail', preview, thumb, '320', '--height', '320', '--size', 'down'], { env });
  for (const save of SAVES) {
    const file = join(dir, `thumbnail.${save.ext}`);
    const [op, ...opts] = save.args;
    await run(vips, [op, thumb, file, ...opts], { env });
    out[`thumbnail/${save.format}`] = file;
  }
  const placeholder = join(dir, 'placeholder.webp');
  await run(vips, ['thumbnail', thumb, `${placeholder}[Q=40,effort=6,strip]`, '16', '--height', '16'], {
    env,
  });
  out.placeholder = placeholder;
  return out;
}

/** Differences between the vips baseline and processImage that cannot be removed. */
export const VIPS_DIFFERENCES = [
  'vips CLI is the distribution build (Debian) with older codec libraries than sharp bundles (see machine.vips / machine.sharp); encoders of different versions give different bytes at the same settings',
  'JPEG: sharp uses mozjpeg (trellis quantisation, optimised scans, quant table 3); the vips build uses libjpeg-turbo with optimize-coding + progressive only, which is cheaper per image',
  'one vips process per step (9 per photo) with PPM intermediates on a RAM disk; processImage keeps pixels in memory in one process',
  'vips 8.14.1 webpsave ignores strip: its WebP files carry a ~190-byte EXIF block (orientation/resolution only; the camera EXIF is gone with the PPM intermediate)',
  'processImage also sniffs the type, reads the header (limits) and computes the placeholder average colour; vips does none of that',
];

// ---------------------------------------------------------------------------------------------
// ffmpeg HLS ladder

/** The library's standard ladder (packages/media/src/ladder.ts): rung height and peak kbit/s. */
const LADDER = [
  [240, 500],
  [360, 900],
  [480, 1400],
  [720, 2800],
  [1080, 5000],
] as const;

const even = (v: number) => Math.max(2, Math.round(v / 2) * 2);

/** A rung of the hand-written ladder. */
export interface BaselineRung {
  name: string;
  width: number;
  height: number;
  maxKbps: number;
}

/**
 * Rungs for a source: every standard height up to the source's short side, scaled with its aspect.
 * @param width display width
 * @param height display height
 */
export function baselineRungs(width: number, height: number): BaselineRung[] {
  const portrait = height > width;
  const short = Math.min(width, height);
  const picked = LADDER.filter(([h]) => h <= short);
  const rungs = picked.length > 0 ? picked : [[short, LADDER[0][1]] as const];
  return rungs.map(([h, maxKbps]) => {
    const long = even((h * Math.max(width, height)) / short);
    return portrait
      ? { name: `${h}p`, width: even(h), height: long, maxKbps }
      : { name: `${h}p`, width: long, height: even(h), maxKbps };
  });
}

/**
 * One ffmpeg command for the whole ladder: decode once, split, scale + libx264 veryfast CRF 23 capped
 * per rung, keyframes forced every 4 s in all rungs, AAC 96k per variant, fMP4 HLS segments.
 * @param input source path
 * @param source probed facts
 * @param levels H.264 level per rung (same table as the library)
 */
export function baselineHlsArgs(
  input: string,
  source: { width: number; height: number; fps: number; audio: boolean },
  levels: (rung: BaselineRung, fps: number) => number,
): { args: string[]; rungs: BaselineRung[] } {
  const rungs = baselineRungs(source.width, source.height);
  const fps = Math.min(source.fps, 60);
  const gop = String(Math.max(1, Math.round(fps * 4)));
  const fpsFilter = source.fps > fps ? `fps=${fps},` : '';
  const labels = rungs.map((_, i) => `[s${i}]`).join('');
  const chains = rungs.map(
    (r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1,format=yuv420p[v${i}]`,
  );
  const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', input];
  args.push('-filter_complex', `[0:v:0]${fpsFilter}split=${rungs.length}${labels};${chains.join(';')}`);
  for (let i = 0; i < rungs.length; i++) args.push('-map', `[v${i}]`);
  if (source.audio) for (let i = 0; i < rungs.length; i++) args.push('-map', '0:a:0');
  args.push('-map_metadata', '-1', '-map_chapters', '-1');
  args.push('-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23');
  rungs.forEach((r, i) => {
    args.push(`-profile:v:${i}`, 'main', `-level:v:${i}`, levels(r, fps).toFixed(1));
    args.push(`-maxrate:v:${i}`, `${r.maxKbps}k`, `-bufsize:v:${i}`, `${r.maxKbps * 2}k`);
  });
  args.push(
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-force_key_frames',
    'expr:gte(t,n_forced*4)',
  );
  if (source.audio) args.push('-c:a', 'aac', '-b:a', '96k', '-ac', '2');
  const map = rungs.map((_, i) => (source.audio ? `v:${i},a:${i}` : `v:${i}`)).join(' ');
  args.push('-f', 'hls', '-hls_time', '4', '-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4');
  args.push('-hls_flags', 'independent_segments', '-hls_segment_filename', 'v%v/seg_%03d.m4s');
  args.push('-var_stream_map', map, 'v%v/index.m3u8');
  return { args, rungs };
}
