/**
 * The server's video hasher of another checkout (the "base", e.g. `git archive <commit> | tar -x
 * -C dir` plus a hard-linked node_modules) against this one, in one process:
 *
 *   node --import tsx bench/hasher-ab.ts --base=DIR [--rounds=N] [--pool | --decode | --hashing | --verify]
 *
 * Timing (default): `hashFile` of the 1-minute 720p bench upload (bench/safety-video.ts builds
 * it), base and this checkout alternating for N rounds (default 4; the order flips every round),
 * each as CPU-seconds of the process (all threads) and of its waited-for children (ffmpeg,
 * ffprobe) from /proc; the outputs must be identical. With --pool the hashing runs on a thread
 * pool of 2, as in the server; otherwise inline.
 *
 * --decode: only the decode (`decodeVideoOutputs` with the hasher's two outputs), frames
 * dropped at once (this checkout hands each buffer back for reuse, as its hasher does).
 *
 * --hashing: only the hashing, on frames decoded once beforehand: vPDQ's 60 full-size frames
 * (`pdqHash`) and the signature's 240 grey frames (`videoFrameHashes`, query, variants, anchors
 * on every 2nd frame), CPU-seconds of this thread, outputs compared.
 *
 * --verify: instead, every video of ../shared/data/vpdq/videos and of the evaluation's source
 * cache, plus the 1-minute upload, hashed as query and as reference by the base (inline) and by
 * this checkout (inline and on a pool); prints per file whether the vPDQ frames and the written
 * signatures are identical. Prints JSON on the last line.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeVideoSignature, hash256ToHex } from '@mmd/phash';
import { createThreadPool } from '../apps/server/src/platform/queue/thread-pool.ts';
import { createHasher, type FileHashes } from '../apps/server/src/safety/hasher.ts';
import { VIDEO_CACHE } from '../packages/phash/scripts/video-edits.ts';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const baseDir = arg('base');
if (!baseDir || !existsSync(path.join(baseDir, 'apps/server/src/safety/hasher.ts'))) {
  console.error('usage: node --import tsx bench/hasher-ab.ts --base=DIR [--rounds=N] [--pool] [--verify]');
  process.exit(2);
}
const rounds = Number(arg('rounds') ?? 4);
const upload = path.join(VIDEO_CACHE, 'one-minute-720p.mp4');
if (!existsSync(upload)) throw new Error(`${upload} is missing: run bench/safety-video.ts --cost-only once`);

const round = (n: number) => Number(n.toFixed(2));
function cpu(): { self: number; children: number } {
  const u = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return { self: (u.user + u.system) / 1e6, children: (Number(fields[13]) + Number(fields[14])) / 100 };
}

type Hasher = ReturnType<typeof createHasher>;
const base = (await import(pathToFileURL(path.join(baseDir, 'apps/server/src/safety/hasher.ts')).href)) as {
  createHasher: typeof createHasher;
};
const basePool = (await import(
  pathToFileURL(path.join(baseDir, 'apps/server/src/platform/queue/thread-pool.ts')).href
)) as { createThreadPool: typeof createThreadPool };
const limits = { maxPixels: 100_000_000, maxVideoSeconds: 900 };
const tasksOf = (root: string) => path.join(root, 'apps/server/src/safety/hash-tasks.ts');
const here = path.resolve(import.meta.dirname, '..');
const pooled = (make: typeof createHasher, pools: typeof createThreadPool, root: string): Hasher =>
  make({ ...limits, pool: pools({ file: tasksOf(root), size: 2 }) as never });

/** Everything the hasher returns for a video, as one string. */
function text(h: FileHashes): string {
  const v = h.video!;
  const frames = v.frames.map((f) => [f.frameNumber, f.quality, hash256ToHex(f.hash), f.timestampSeconds]);
  return JSON.stringify(frames) + encodeVideoSignature(v.signature);
}

/** Runs `fn` for base and this checkout alternately, `rounds` times each; CPU per run. */
async function alternate<T>(fn: (side: 'base' | 'this') => Promise<T>, measure: () => number) {
  const runs: Record<'base' | 'this', number[]> = { base: [], this: [] };
  const outputs: Partial<Record<'base' | 'this', T>> = {};
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 ? (['this', 'base'] as const) : (['base', 'this'] as const)) {
      const before = measure();
      outputs[side] = await fn(side);
      runs[side].push(round(measure() - before));
    }
  }
  return { runs, outputs };
}
const thread = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const loadAtStart = os.loadavg()[0]!;
const load = () => ({ oneMinuteAtStart: round(loadAtStart), oneMinuteAtEnd: round(os.loadavg()[0]!) });

if (process.argv.includes('--decode')) {
  type Decode = typeof import('@mmd/media').decodeVideoOutputs;
  const mediaOf = async (root: string) =>
    (await import(pathToFileURL(path.join(root, 'packages/media/src/hash-input.ts')).href)) as { decodeVideoOutputs: Decode };
  const sides = { base: (await mediaOf(baseDir)).decodeVideoOutputs, this: (await mediaOf(here)).decodeVideoOutputs };
  const outputs = [{ fps: 1 }, { fps: 4, divisor: 3, grey: true }];
  const both = () => {
    const c = cpu();
    return c.self + c.children;
  };
  const { runs: self } = await alternate(async (side) => {
    let frames = 0;
    await sides[side](upload, outputs, (_o, f, recycle) => {
      frames++;
      if (side === 'this') recycle(f.data.buffer as ArrayBuffer);
    });
    return frames;
  }, () => cpu().self);
  const { runs: total } = await alternate(async (side) => sides[side](upload, outputs, (_o, f, recycle) => {
    if (side === 'this') recycle(f.data.buffer as ArrayBuffer);
  }), both);
  console.log(JSON.stringify({ bench: 'hasher-ab --decode', load: load(), processCpuSeconds: self, withFfmpegCpuSeconds: total }));
} else if (process.argv.includes('--hashing')) {
  type Phash = typeof import('@mmd/phash');
  const phashOf = async (root: string) =>
    (await import(pathToFileURL(path.join(root, 'packages/phash/src/index.ts')).href)) as Phash;
  const sides = { base: await phashOf(baseDir), this: await phashOf(here) };
  const { decodeVideoOutputs } = await import('@mmd/media');
  const rgb: Array<{ data: Buffer; width: number; height: number; channels: 1 | 3 }> = [];
  const grey: typeof rgb = [];
  await decodeVideoOutputs(upload, [{ fps: 1 }, { fps: 4, divisor: 3, grey: true }], (o, f) => {
    (o === 0 ? rgb : grey).push(f);
  });
  // Only the hashing is timed; the outputs are written out for the comparison afterwards.
  const vpdq = await alternate(async (side) => rgb.map((f) => sides[side].pdqHash(f)), thread);
  const signature = await alternate(
    async (side) => grey.map((f, i) => sides[side].videoFrameHashes(f, 'query', 3, { dihedral: true, anchors: i % 2 === 0 })),
    thread,
  );
  const written = (value: unknown) =>
    JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  const same = (o: { base?: unknown; this?: unknown }) => o.base !== undefined && written(o.base) === written(o.this);
  console.log(
    JSON.stringify({
      bench: 'hasher-ab --hashing',
      load: load(),
      frames: { vpdq: rgb.length, signature: grey.length },
      vpdq: { identical: same(vpdq.outputs), cpuSeconds: vpdq.runs },
      signature: { identical: same(signature.outputs), cpuSeconds: signature.runs },
    }),
  );
} else if (process.argv.includes('--verify')) {
  const dirs = [path.resolve(here, '../shared/data/vpdq/videos'), path.join(VIDEO_CACHE, 'sources')];
  const files = [...dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => path.join(d, f)) : [])), upload];
  const hashers = {
    base: base.createHasher(limits),
    inline: createHasher(limits),
    pool: pooled(createHasher, createThreadPool, here),
  };
  let different = 0;
  let vpdqFrames = 0;
  let signatureFrames = 0;
  for (const file of files) {
    for (const role of ['query', 'reference'] as const) {
      const b = await hashers.base.hashFile(file, { kind: 'video', role });
      const expected = text(b);
      const same =
        text(await hashers.inline.hashFile(file, { kind: 'video', role })) === expected &&
        text(await hashers.pool.hashFile(file, { kind: 'video', role })) === expected;
      if (!same) different++;
      vpdqFrames += b.video!.frames.length;
      signatureFrames += b.video!.signature.frames.length;
      console.log(`${same ? 'same' : 'DIFFERENT'} ${role} ${path.basename(file)}`);
    }
  }
  console.log(JSON.stringify({ files: files.length, hashings: files.length * 2, vpdqFrames, signatureFrames, different }));
} else {
  const usePool = process.argv.includes('--pool');
  const hashers: Record<'base' | 'this', Hasher> = usePool
    ? { base: pooled(base.createHasher, basePool.createThreadPool, baseDir), this: pooled(createHasher, createThreadPool, here) }
    : { base: base.createHasher(limits), this: createHasher(limits) };
  const runs: Record<'base' | 'this', Array<{ self: number; children: number; total: number }>> = { base: [], this: [] };
  const outputs: Record<string, string> = {};
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 ? (['this', 'base'] as const) : (['base', 'this'] as const)) {
      const before = cpu();
      const h = await hashers[side].hashFile(upload, { kind: 'video' });
      const after = cpu();
      const self = after.self - before.self;
      const children = after.children - before.children;
      runs[side].push({ self: round(self), children: round(children), total: round(self + children) });
      outputs[side] = text(h);
    }
  }
  console.log(
    JSON.stringify({
      bench: 'hasher-ab',
      upload: path.basename(upload),
      pool: usePool,
      load: load(),
      identical: outputs.base === outputs.this,
      runs,
    }),
  );
}
process.exit(0);
