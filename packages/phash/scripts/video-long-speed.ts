/**
 * CPU cost of one long robust comparison (issue 12): 15-minute queries of the long evaluation
 * against its 15-minute montage reference, with the anchored check bounded (matchVideo's default
 * `anchorPairBudget`) and unbounded (every frame pair, the earlier rule), and the verdicts of both.
 * Reads the signatures the long evaluation cached (run video-long-eval.ts, or its --hash-only,
 * first); pairs whose signatures are not cached yet are skipped.
 *
 *   node --import tsx packages/phash/scripts/video-long-speed.ts [--split=development] [--bounded-only]
 *
 * The unrelated pair compares a query of one split with the other split's montage (different
 * photos), so it needs both splits hashed. Prints JSON; CPU-seconds of this process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeVideoSignature } from '../src/video-signature-format.ts';
import { matchVideo } from '../src/video-match.ts';
import type { VideoSignature } from '../src/video-signature.ts';
import type { VideoSplit } from './video-edits.ts';
import { VIDEO_CACHE } from './video-edits.ts';

const HASHES = join(VIDEO_CACHE, 'long', 'hashes');
const split = (process.argv.find((a) => a.startsWith('--split='))?.slice(8) ?? 'development') as VideoSplit;
const other: VideoSplit = split === 'development' ? 'test' : 'development';
const boundedOnly = process.argv.includes('--bounded-only');

function cached(s: VideoSplit, file: string, role: 'query' | 'reference'): VideoSignature | null {
  const path = join(HASHES, `${s}-${file}.${role}.json`);
  if (!existsSync(path)) return null;
  return decodeVideoSignature((JSON.parse(readFileSync(path, 'utf8')) as { signature: string }).signature);
}

function cpu<T>(fn: () => T): { value: T; cpuSeconds: number } {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return { value, cpuSeconds: Math.round((used.user + used.system) / 1e4) / 100 };
}

const reference = cached(split, 'montage-15m', 'reference');
const otherReference = cached(other, 'montage-15m', 'reference');
const pairs: Array<{ name: string; query: VideoSignature | null; reference: VideoSignature | null }> = [
  ...['crop20', 'mirror', 'caption'].map((edit) => ({
    name: `montage-15m--${edit} → montage-15m`,
    // The whole-length edits are applied while decoding the montage (video-long-edits.ts).
    query: cached(split, `montage-15m--${edit}`, 'query'),
    reference,
  })),
  { name: `montage-15m--crop20 → ${other} montage-15m (unrelated)`, query: cached(split, 'montage-15m--crop20', 'query'), reference: otherReference },
  { name: `montage-15m--mirror → ${other} montage-15m (unrelated)`, query: cached(split, 'montage-15m--mirror', 'query'), reference: otherReference },
];
const rows = [];
for (const p of pairs) {
  if (!p.query || !p.reference) continue;
  const q = p.query;
  const r = p.reference;
  const bounded = cpu(() => matchVideo(q, r));
  const row: Record<string, unknown> = {
    pair: p.name,
    frames: `${q.frames.length} × ${r.frames.length}`,
    bounded: {
      matched: bounded.value.matched,
      agreeing: `${bounded.value.frames}/${bounded.value.comparable}`,
      anchorChecks: bounded.value.anchorChecks,
      cpuSeconds: bounded.cpuSeconds,
    },
  };
  if (!boundedOnly) {
    const all = cpu(() => matchVideo(q, r, { anchorPairBudget: Number.POSITIVE_INFINITY }));
    row.unbounded = {
      matched: all.value.matched,
      agreeing: `${all.value.frames}/${all.value.comparable}`,
      anchorChecks: all.value.anchorChecks,
      cpuSeconds: all.cpuSeconds,
    };
  }
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}
console.log(JSON.stringify({ split, rows }, null, 2));
