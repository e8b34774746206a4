/**
 * Does robust image matching generalise? Recall per edit and false matches, plain PDQ vs MMD's
 * scheme, on the development and the test split side by side (photo-set.ts).
 *
 *   node --import tsx packages/phash/scripts/generalise-eval.ts [--split development|test|held-out|held-out-2|held-out-3]
 *     [--cache /tmp/mmd-generalise] [--edits a,b,c] [--variants N (never on test)] [--threads N (default: one per core)]
 *
 * Per split, each photo's reference hash set is matched against:
 * - every edit of it: today's transformations (transforms.ts), plain crops and crops also resized
 *   (overlays.ts), and the edits apps and evaders make (edits.ts) — recall per edit;
 * - every edit of every other photo of the split — false matches (a collage also shows three
 *   other photos; matching those is not false);
 * - every other photo untransformed — false matches;
 * - every other photo under the same shared overlay (app chrome, caption, watermark), the
 *   reference carrying the overlay too — false matches;
 * - a collage of four other photos — a false match if it matches.
 * Plain PDQ = one full-resolution hash each side, distance ≤ 31, quality ≥ 50, no variants.
 * "Overall" recall is the mean of the per-edit recalls (each edit weighs the same).
 * Edited images are cached in --cache (generating them is slower than hashing), keyed by the
 * files they are made from, so one folder can serve every split; hashing is redone every run.
 * Parameters are chosen on the development split, and on the held-out sets once they had been
 * looked at (docs/benchmarks.md says which); never on the test split. Prints JSON.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { hammingDistance } from '../src/hamming.ts';
import { pdqIntermediate } from '../src/pdq.ts';
import { coefficientsToHash } from '../src/pdq-bits.ts';
import type { PixelImage } from '../src/pixel-image.ts';
import type { RobustHashes } from '../src/robust-hashes.ts';
import { ROBUST_PARAMS, robustHashes, robustQueryHashes } from '../src/robust-hashes.ts';
import type { RobustMatch } from '../src/robust-match.ts';
import { matchRobust } from '../src/robust-match.ts';
import { applyEdit, collage, EDITS } from './edits.ts';
import { applyCrop, applyOverlay, CROP_RESIZES, CROPS, OVERLAYS } from './overlays.ts';
import { type Split, splitPhotos } from './photo-set.ts';
import { applyTransform, TRANSFORMS } from './transforms.ts';

/** Every edit measured, in report order; the crop families group several crops each. */
export const ALL_EDITS: readonly string[] = [...TRANSFORMS, 'crops-plain', 'crops-resized', ...EDITS];

export async function decode(input: string | Buffer): Promise<PixelImage> {
  const { data, info } = await sharp(input)
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 };
}

/** The hashes of one image: plain PDQ and MMD's query and reference sets. */
interface Hashed {
  readonly plain: Uint8Array | null;
  readonly query: RobustHashes;
  readonly reference: RobustHashes;
}

const NO_HASHES: RobustHashes = { global: [], centre: [], anchors: [] };

/** Plain PDQ and the query set; the reference set only for images a bank would hold. */
async function hash(input: string | Buffer, asReference = false): Promise<Hashed> {
  const image = await decode(input);
  const pdq = pdqIntermediate(image);
  const plain = pdq.quality >= 50 ? coefficientsToHash(pdq.coefficients) : null;
  if (!asReference) return { plain, query: robustQueryHashes(image, pdq), reference: NO_HASHES };
  return { plain, ...robustHashes(image, pdq) };
}

/** One edited query: which photos it shows (a collage shows several). */
interface Query {
  readonly edit: string;
  readonly label: string;
  readonly shows: ReadonlySet<string>;
  readonly hashed: Hashed;
}

/** Every hash set one split's evaluation needs. */
export interface HashedSplit {
  readonly split: Split;
  readonly photos: Array<{ readonly name: string; readonly original: Hashed }>;
  readonly queries: Query[];
  readonly overlays: Array<{ readonly photo: string; readonly overlay: string; readonly hashed: Hashed }>;
  readonly collageNegatives: Query[];
}

/** An edited image kept in `dir` as `key.ext` (made once; no dir: made every time). */
export async function cached(
  dir: string | undefined,
  key: string,
  make: () => Promise<Buffer>,
  ext = 'jpg',
  sources: readonly string[] = [],
): Promise<Buffer> {
  if (!dir) return make();
  const file = cacheFile(dir, key, ext, sources);
  if (existsSync(file)) return readFileSync(file);
  const bytes = await make();
  // Written aside and renamed: two runs sharing a cache never read a half-written image.
  const part = `${file}.${process.pid}.part`;
  writeFileSync(part, bytes);
  renameSync(part, file);
  return bytes;
}

/**
 * Where {@link cached} keeps an image: named by `key` and a digest of the files it is made from
 * (their paths), so two sets that both hold a `butterfly` (OpenCV's and LXQt's) never read each
 * other's edits from one cache folder.
 */
export function cacheFile(dir: string, key: string, ext: string, sources: readonly string[] = []): string {
  const tag = sources.length === 0 ? '' : `--${createHash('sha256').update(sources.join('\n')).digest('hex').slice(0, 10)}`;
  return join(dir, `${key}${tag}.${ext}`);
}

/** What {@link hashSplit} takes besides the split. */
export interface HashSplitOptions {
  cacheDir?: string;
  edits?: readonly string[];
  negatives?: boolean;
  /** Seeded variants per new edit (edits.ts `variant`), development probes only (never the test split); default 1. */
  variants?: number;
  /**
   * Worker threads hashing photos side by side (default: one per core). Each photo's edits and
   * hashes are its own, and the results are put together in photo order, so the report is the
   * same for any number; 1 hashes on this thread.
   */
  threads?: number;
  log?: (m: string) => void;
}

/** Everything {@link hashSplit} makes of one photo. */
interface HashedPhoto {
  readonly photo: HashedSplit['photos'][number];
  readonly queries: Query[];
  readonly overlays: HashedSplit['overlays'];
  readonly collageNegatives: Query[];
}

/** Hashes the `i`-th of a split's `files`: the photo, every edit of it, its overlays and its collage negative. */
export async function hashPhoto(files: readonly string[], i: number, options: Omit<HashSplitOptions, 'threads' | 'log'>): Promise<HashedPhoto> {
  const { cacheDir } = options;
  const edits = options.edits ?? ALL_EDITS;
  const name = (f: string) => basename(f, extname(f));
  const file = files[i]!;
  const n = name(file);
  const photo = { name: n, original: await hash(file, true) };
  const queries: Query[] = [];
  const overlays: HashedSplit['overlays'] = [];
  const collageNegatives: Query[] = [];
  const others = [1, 2, 3, 4].map((k) => files[(i + k) % files.length]!);
  const add = async (edit: string, label: string, shows: string[], make: () => Promise<Buffer>, sources: readonly string[] = [file]) => {
    queries.push({ edit, label, shows: new Set(shows), hashed: await hash(await cached(cacheDir, `${n}--${label}`, make, 'jpg', sources)) });
  };
  for (const edit of edits) {
    if (edit === 'crops-plain') {
      for (const c of CROPS) await add(edit, `crop-${c.name}`, [n], () => applyCrop(file, c));
    } else if (edit === 'crops-resized') {
      for (const c of CROPS)
        for (const s of CROP_RESIZES) await add(edit, `crop-${c.name}@${s}`, [n], () => applyCrop(file, c, s));
    } else if ((TRANSFORMS as readonly string[]).includes(edit)) {
      await add(edit, edit, [n], () => applyTransform(file, edit as (typeof TRANSFORMS)[number]));
    } else {
      for (let v = 0; v < (options.variants ?? 1); v++) {
        const label = v === 0 ? edit : `${edit}#${v}`;
        if (edit === 'collage') {
          // Another variant puts other photos beside it, too.
          const beside = [1, 2, 3].map((k) => files[(i + k + 3 * v) % files.length]!);
          await add(edit, label, [n, ...beside.map(name)], () => applyEdit(file, 'collage', beside, v), [file, ...beside]);
        } else {
          await add(edit, label, [n], () => applyEdit(file, edit as (typeof EDITS)[number], [], v));
        }
      }
    }
  }
  // Probes of recall alone may skip the overlay and collage negatives (never a reported run).
  if (options.negatives === false) return { photo, queries, overlays, collageNegatives };
  for (const o of OVERLAYS)
    overlays.push({ photo: n, overlay: o, hashed: await hash(await cached(cacheDir, `${n}--overlay-${o}`, () => applyOverlay(file, o), 'jpg', [file]), true) });
  // Four other photos in a collage, none of them this one.
  const bytes = await cached(cacheDir, `${n}--collage-of-others`, () => collage(others[0]!, others.slice(1), `${n}:others`), 'jpg', [file, ...others]);
  collageNegatives.push({ edit: 'collage-of-others', label: `collage of others (${n})`, shows: new Set(others.map(name)), hashed: await hash(bytes) });
  return { photo, queries, overlays, collageNegatives };
}

// Worker threads do not inherit tsx's hooks (nor does `--import tsx` in their execArgv cover the
// entry on Node 20): each registers tsx first, as the server's thread pool does.
const TSX_API = (() => {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined;
  }
})();
const WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(workerData.tsxApi ? import(workerData.tsxApi).then((api) => api.register()) : Promise.resolve())
  .then(() => import(workerData.entry));
`;

/** Hashes every photo of `files` on `threads` worker threads (generalise-worker.ts), in photo order. */
async function hashOnWorkers(files: readonly string[], threads: number, options: Omit<HashSplitOptions, 'threads' | 'log'>, log: (m: string) => void, split: Split): Promise<HashedPhoto[]> {
  const results: HashedPhoto[] = new Array(files.length);
  let next = 0;
  const workers = Array.from(
    { length: threads },
    // The scheme's parameters go along: a probe that changed them (MMD_ROBUST_PARAMS) hashes with the same ones.
    () =>
      new Worker(WORKER_BOOTSTRAP, {
        eval: true,
        workerData: { entry: new URL('./generalise-worker.ts', import.meta.url).href, tsxApi: TSX_API, files, options, params: structuredClone(ROBUST_PARAMS) },
        execArgv: [],
      }),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const give = () => {
              if (next >= files.length) return resolve();
              const i = next++;
              log(`${split}: ${basename(files[i]!, extname(files[i]!))}`);
              worker.postMessage(i);
            };
            worker.on('message', (m: { i: number; result?: HashedPhoto; error?: string }) => {
              if (m.error !== undefined) return reject(new Error(`hashing ${files[m.i]}: ${m.error}`));
              results[m.i] = m.result!;
              give();
            });
            worker.on('error', reject);
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

/** Hashes the photos of a split, every edit of each, the overlays and the collage negatives. */
export async function hashSplit(split: Split, options: HashSplitOptions = {}): Promise<HashedSplit> {
  const { log = () => {}, threads: _threads, ...rest } = options;
  const { cacheDir } = rest;
  if (cacheDir) mkdirSync(cacheDir, { recursive: true });
  const files = splitPhotos(split, log);
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), files.length));
  let hashed: HashedPhoto[];
  if (threads === 1) {
    hashed = [];
    for (const [i, file] of files.entries()) {
      log(`${split}: ${basename(file, extname(file))}`);
      hashed.push(await hashPhoto(files, i, rest));
    }
  } else hashed = await hashOnWorkers(files, threads, rest, log, split);
  return {
    split,
    photos: hashed.map((h) => h.photo),
    queries: hashed.flatMap((h) => h.queries),
    overlays: hashed.flatMap((h) => h.overlays),
    collageNegatives: hashed.flatMap((h) => h.collageNegatives),
  };
}

type Matcher = (query: RobustHashes, reference: RobustHashes) => RobustMatch;

const pct = (n: number, d: number) => (d === 0 ? null : Number(((100 * n) / d).toFixed(1)));
const plainMatch = (q: Hashed, r: Hashed) => q.plain !== null && r.plain !== null && hammingDistance(q.plain, r.plain) <= 31;

/** Recall per edit and false matches, plain PDQ and `match` (default {@link matchRobust}). */
export function scoreSplit(hashed: HashedSplit, match: Matcher = (q, r) => matchRobust(q, r)) {
  const per: Record<string, { queries: number; plain: number; mmd: number; via: Record<string, number>; missed: string[] }> = {};
  const falseList: string[] = [];
  const negatives = {
    editedOtherPhotos: { pairs: 0, plainPdq: 0, mmd: 0 },
    untransformedOtherPhotos: { pairs: 0, plainPdq: 0, mmd: 0 },
    sharedOverlays: { pairs: 0, plainPdq: 0, mmd: 0 },
    collagesOfOthers: { pairs: 0, plainPdq: 0, mmd: 0 },
  };
  const count = (
    kind: keyof typeof negatives,
    q: Hashed,
    r: Hashed,
    what: string,
  ) => {
    const row = negatives[kind];
    row.pairs++;
    if (plainMatch(q, r)) row.plainPdq++;
    const m = match(q.query, r.reference);
    if (m.matched) {
      row.mmd++;
      falseList.push(`${what} via ${m.via} (${m.score})`);
    }
  };
  for (const q of hashed.queries) {
    per[q.edit] ??= { queries: 0, plain: 0, mmd: 0, via: {}, missed: [] };
    const row = per[q.edit]!;
    const own = [...q.shows][0]!;
    for (const p of hashed.photos) {
      if (p.name === own) {
        row.queries++;
        if (plainMatch(q.hashed, p.original)) row.plain++;
        const m = match(q.hashed.query, p.original.reference);
        if (m.matched) {
          row.mmd++;
          row.via[m.via!] = (row.via[m.via!] ?? 0) + 1;
        } else row.missed.push(`${own} ${q.label}`);
      } else if (!q.shows.has(p.name)) {
        count('editedOtherPhotos', q.hashed, p.original, `${own} ${q.label} ~ ${p.name}`);
      }
    }
  }
  for (const q of hashed.photos)
    for (const r of hashed.photos)
      if (q !== r) count('untransformedOtherPhotos', q.original, r.original, `${q.name} ~ ${r.name}`);
  for (const q of hashed.overlays)
    for (const r of hashed.overlays)
      if (q.overlay === r.overlay && q.photo !== r.photo)
        count('sharedOverlays', q.hashed, r.hashed, `${q.photo} ~ ${r.photo} under ${q.overlay}`);
  for (const q of hashed.collageNegatives)
    for (const p of hashed.photos)
      if (!q.shows.has(p.name)) count('collagesOfOthers', q.hashed, p.original, `${q.label} ~ ${p.name}`);
  const rows = Object.entries(per);
  const mean = (f: (r: (typeof rows)[number][1]) => number) =>
    Number((rows.reduce((s, [, r]) => s + (100 * f(r)) / r.queries, 0) / rows.length).toFixed(1));
  const falseMatches = Object.values(negatives).reduce((s, n) => s + n.mmd, 0);
  return {
    split: hashed.split,
    photos: hashed.photos.length,
    queries: hashed.queries.length,
    overallRecallPercent: { plainPdq: mean((r) => r.plain), mmd: mean((r) => r.mmd) },
    perEdit: Object.fromEntries(
      rows.map(([edit, r]) => [
        edit,
        { queries: r.queries, plainPdq: pct(r.plain, r.queries), mmd: pct(r.mmd, r.queries), via: r.via, missed: r.missed },
      ]),
    ),
    negatives,
    falseMatches,
    falseMatchList: falseList,
  };
}

/**
 * Added CPU (ms) of MMD's query and reference sets on one image (computed together, as the
 * server does), beyond the plain PDQ hash it computes anyway: the least of `rounds` warm runs.
 */
export async function addedCpuMs(input: string | Buffer, rounds = 3) {
  const image = await decode(input);
  const pdq = pdqIntermediate(image);
  const cpu = (run: () => unknown) => {
    const start = process.cpuUsage();
    run();
    const u = process.cpuUsage(start);
    return (u.user + u.system) / 1000;
  };
  let both = Infinity;
  robustHashes(image, pdq); // JIT warm-up
  for (let k = 0; k < rounds; k++) both = Math.min(both, cpu(() => robustHashes(image, pdq)));
  return {
    megapixels: Number(((image.width * image.height) / 1e6).toFixed(1)),
    queryAndReferenceMs: Math.round(both),
  };
}

/**
 * The CPU the scheme adds to a 12-megapixel photo, measured in a process of its own
 * (cpu-probe.ts: the least of 12 warm runs, four rounds of three) with `params` over the
 * defaults. The least of 3 or 6 runs at the end of a long evaluation varied from 197 to 294 ms in
 * back-to-back runs on one machine (2026-12-07) while the probe read 175–188.
 */
export function addedCpuInFreshProcess(params: Record<string, unknown> = {}) {
  const probe = fileURLToPath(new URL('./cpu-probe.ts', import.meta.url));
  const printed = execFileSync(process.execPath, ['--import', 'tsx', probe], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)), // the repo root, where tsx resolves
    env: { ...process.env, ROUNDS: '4', CONFIGS: JSON.stringify([params]) },
  }).toString();
  const { ms } = JSON.parse(printed.trim().split('\n').pop()!) as { ms: number };
  return { megapixels: 12, queryAndReferenceMs: ms, measuredIn: 'a fresh process (cpu-probe.ts), least of 12 warm runs' };
}

/** A 12-megapixel photo (4000×3000) made from the shared 5640×3172 Elephants-large.jpg. */
export async function twelveMegapixelPhoto(dataDir: string): Promise<Buffer> {
  return sharp(join(dataDir, 'photos', 'Elephants-large.jpg'))
    .resize({ width: 4000, height: 3000, fit: 'cover' })
    .jpeg({ quality: 92 })
    .toBuffer();
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) {
  // Development only: try other parameters without editing the library.
  if (process.env.MMD_ROBUST_PARAMS) Object.assign(ROBUST_PARAMS, JSON.parse(process.env.MMD_ROBUST_PARAMS));
  const arg = (k: string) => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const splits: Split[] = arg('--split') ? [arg('--split') as Split] : ['development', 'test'];
  const edits = arg('--edits')?.split(',');
  const variants = arg('--variants') ? Number(arg('--variants')) : undefined;
  if (variants !== undefined && !(Number.isInteger(variants) && variants >= 1)) throw new Error('--variants takes a whole number ≥ 1');
  // The held-out sets have all been looked at, so they serve as development data now; the test
  // split stays one variant per photo, as reported.
  if (variants !== undefined && splits.some((s) => s === 'test')) throw new Error('--variants is for development probes only, never the test split');
  const out = [];
  for (const split of splits) {
    const hashed = await hashSplit(split, {
      cacheDir: arg('--cache'),
      ...(edits ? { edits } : {}),
      ...(variants ? { variants } : {}),
      ...(arg('--threads') ? { threads: Number(arg('--threads')) } : {}),
      log: (m) => process.stderr.write(`${m}\n`),
    });
    out.push(scoreSplit(hashed));
  }
  const cpu = addedCpuInFreshProcess(process.env.MMD_ROBUST_PARAMS ? JSON.parse(process.env.MMD_ROBUST_PARAMS) : {});
  console.log(JSON.stringify({ splits: out, addedCpuPer12MegapixelPhoto: cpu }, null, 2));
}
