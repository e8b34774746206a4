/**
 * Long videos: does a copy of a 15-minute video match it, does a long upload with a short banned
 * clip inside match the clip, does a short excerpt of a long banned video match it — for plain
 * vPDQ (reference rule) and MMD's robust signature — and how long matching takes. Videos come
 * from video-long-edits.ts (built with ffmpeg into the benchmark's cache).
 *
 *   node --import tsx packages/phash/scripts/video-long-eval.ts [--split=development|test|both]
 *
 * Prints JSON: per query and reference, both verdicts (robust: agreeing frames / comparable
 * frames) and the matching time; then recall and false matches per split.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeVideoSignature, encodeVideoSignature } from '../src/video-signature-format.ts';
import { formatVpdq, parseVpdq } from '../src/vpdq-format.ts';
import { matchVideo } from '../src/video-match.ts';
import type { VideoSignature } from '../src/video-signature.ts';
import type { VpdqFeature } from '../src/vpdq.ts';
import { isVpdqMatch, matchVpdq } from '../src/vpdq-match.ts';
import type { VideoSplit } from './video-edits.ts';
import { probe, VIDEO_CACHE } from './video-edits.ts';
import { signatureOf, vpdqOf } from './video-eval.ts';
import { type LongQuery, type LongVideo, longQueries, longReferences } from './video-long-edits.ts';

interface Hashed extends LongVideo {
  readonly seconds: number;
  readonly vpdq: VpdqFeature[];
  readonly signature: VideoSignature;
  readonly hashCpuSeconds: number;
}

const HASHES = join(VIDEO_CACHE, 'long', 'hashes');

/**
 * The video's vPDQ and signature, kept on disk (hashing is what takes minutes, and it does not
 * depend on the matching rule): `--hash-only=NAME` hashes one video in its own process, so
 * several can run side by side before the comparison.
 */
async function hashed(v: LongVideo | LongQuery, role: 'query' | 'reference'): Promise<Hashed> {
  const cached = join(HASHES, `${basename(v.file, '.mp4')}${'filter' in v && v.filter ? `--${(v as LongQuery).edit}` : ''}.${role}.json`);
  if (existsSync(cached)) {
    const c = JSON.parse(readFileSync(cached, 'utf8')) as { vpdq: string; signature: string; seconds: number; hashCpuSeconds: number };
    return { ...v, seconds: c.seconds, vpdq: parseVpdq(c.vpdq), signature: decodeVideoSignature(c.signature), hashCpuSeconds: c.hashCpuSeconds };
  }
  const edit = 'filter' in v ? v.filter : undefined;
  const cpu = process.cpuUsage();
  const vpdq = await vpdqOf(v.file, edit);
  const signature = await signatureOf(v.file, role, edit);
  const used = process.cpuUsage(cpu);
  const out = { ...v, seconds: probe(v.file).duration, vpdq, signature, hashCpuSeconds: Math.round((used.user + used.system) / 1e5) / 10 };
  mkdirSync(HASHES, { recursive: true });
  writeFileSync(`${cached}.part`, JSON.stringify({ vpdq: formatVpdq(vpdq), signature: encodeVideoSignature(signature), seconds: out.seconds, hashCpuSeconds: out.hashCpuSeconds }));
  renameSync(`${cached}.part`, cached);
  return out;
}

/** The robust signature of one of a split's references (from the cache when hashed before). */
export async function longReferenceSignature(split: VideoSplit, name: string): Promise<VideoSignature> {
  const ref = longReferences(split).find((r) => r.name === name);
  if (!ref) throw new Error(`no reference ${name} in ${split}`);
  return (await hashed(ref, 'reference')).signature;
}

/** Every query of a split against every reference of it. */
export async function evaluateLong(split: VideoSplit, log: (m: string) => void = () => {}, only?: string) {
  const refs: Hashed[] = [];
  for (const r of longReferences(split)) {
    refs.push(await hashed(r, 'reference'));
    log(`${split}: reference ${r.name} hashed`);
  }
  const rows: Array<Record<string, unknown>> = [];
  const tally = { same: 0, vpdq: 0, robust: 0, voteOnly: 0, different: 0, falseVpdq: 0, falseRobust: 0, falseVoteOnly: 0 };
  let slowest = 0;
  for (const qv of longQueries(split).filter((q) => only === undefined || q.name === only)) {
    const q = await hashed(qv, 'query');
    log(`${split}: query ${q.name} hashed (${q.signature.frames.length} frames)`);
    for (const r of refs) {
      const same = r.contents.some((c) => q.contents.includes(c));
      const v = isVpdqMatch(matchVpdq(q.vpdq, r.vpdq));
      const started = performance.now();
      const m = matchVideo(q.signature, r.signature);
      const ms = performance.now() - started;
      // The rule before the timeline check (the vote's frames only), for comparison. It matches
      // a subset of what the current rule matches, so it is only computed where that can differ.
      const voteOnly =
        same || m.matched ? matchVideo(q.signature, r.signature, { checkAlongTimeline: false }) : m;
      slowest = Math.max(slowest, ms);
      if (same) {
        tally.same++;
        if (v) tally.vpdq++;
        if (m.matched) tally.robust++;
        if (voteOnly.matched) tally.voteOnly++;
      } else {
        tally.different++;
        if (v) tally.falseVpdq++;
        if (m.matched) tally.falseRobust++;
        if (voteOnly.matched) tally.falseVoteOnly++;
      }
      rows.push({
        query: q.name,
        querySeconds: Math.round(q.seconds),
        queryFrames: q.signature.frames.length,
        reference: r.name,
        referenceSeconds: Math.round(r.seconds),
        referenceFrames: r.signature.frames.length,
        same,
        vpdq: v,
        robust: m.matched,
        frames: `${m.frames}/${m.comparable}`,
        voteOnly: voteOnly.matched,
        voteOnlyFrames: `${voteOnly.frames}/${voteOnly.comparable}`,
        queryHashCpuSeconds: q.hashCpuSeconds,
        rate: m.rate,
        offset: Math.round(m.offsetSeconds * 10) / 10,
        matchMs: Math.round(ms),
      });
    }
  }
  return { split, rows, tally, slowestMatchMs: Math.round(slowest) };
}

if (process.argv[1]?.endsWith('video-long-eval.ts') && process.argv.some((a) => a.startsWith('--hash-only='))) {
  // `--hash-only=SPLIT:NAME`: hash one reference or query into the cache.
  const [split, name] = process.argv.find((a) => a.startsWith('--hash-only='))!.slice(12).split(':') as [VideoSplit, string];
  const ref = longReferences(split).find((r) => r.name === name);
  const query = longQueries(split).find((q) => q.name === name);
  if (ref) await hashed(ref, 'reference');
  if (query) await hashed(query, 'query');
  if (!ref && !query) throw new Error(`no video ${name} in ${split}`);
} else if (process.argv[1]?.endsWith('video-long-eval.ts')) {
  const arg = process.argv.find((a) => a.startsWith('--split='))?.slice(8) ?? 'both';
  const splits: VideoSplit[] = arg === 'both' ? ['development', 'test'] : [arg as VideoSplit];
  const log = (m: string) => process.stderr.write(`[video-long] ${m}\n`);
  const results = [];
  // `--query=NAME`: that query alone (one process per query can run side by side).
  const only = process.argv.find((a) => a.startsWith('--query='))?.slice(8);
  for (const s of splits) results.push(await evaluateLong(s, log, only));
  console.log(JSON.stringify(results, null, 2));
}
