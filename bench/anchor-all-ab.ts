/**
 * What anchored regions on every frame of a 1-minute query would cost: the server's hasher on the
 * cost bench's 1-minute 720p upload, alternating `queryAnchorAllUpTo` 120 (today: every 2nd frame
 * past 120 frames) and 240 (every frame), CPU-s of this process plus ffmpeg per run, and the
 * medians. Run `bench/safety-video.ts --cost-only` once first (it builds the upload).
 *
 *   node --import tsx bench/anchor-all-ab.ts [--rounds=6]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VIDEO_SIGNATURE_PARAMS } from '@mmd/phash';
import { createHasher } from '../apps/server/src/safety/hasher.ts';
import { VIDEO_CACHE } from '../packages/phash/scripts/video-edits.ts';
import { median } from './lib/harness.ts';

const file = path.join(VIDEO_CACHE, 'one-minute-720p.mp4');
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 6);
const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
function cpuSeconds(): number {
  const u = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (u.user + u.system) / 1e6 + (Number(fields[13]) + Number(fields[14])) / ticks;
}
const hasher = createHasher({ maxPixels: 100_000_000, maxVideoSeconds: 900 });
await hasher.hashFile(file, { kind: 'video' }); // warm-up
const runs: Record<'120' | '240', number[]> = { '120': [], '240': [] };
for (let r = 0; r < rounds; r++) {
  for (const upTo of [120, 240] as const) {
    VIDEO_SIGNATURE_PARAMS.queryAnchorAllUpTo = upTo;
    const start = cpuSeconds();
    await hasher.hashFile(file, { kind: 'video' });
    runs[upTo].push(Number((cpuSeconds() - start).toFixed(2)));
  }
}
console.log(JSON.stringify({ bench: 'anchor-all-ab', rounds, cpuSeconds: runs, median: { '120': median(runs['120']), '240': median(runs['240']) } }, null, 2));
