/**
 * Screening cost of a 15-minute 720p upload (issue 12, long videos), in CPU-seconds of this
 * process plus ffmpeg (from /proc, as bench/safety-video.ts measures the 1-minute upload):
 *
 *   node --import tsx bench/safety-video-long.ts
 *
 *  1. the server's hasher as screening runs it (one decode: vPDQ at 1 fps full size, the robust
 *     query signature at its rate for 15 minutes), inline here instead of on the pool;
 *  2. one robust comparison of that signature at its full length: against an unrelated 15-minute
 *     reference (the long evaluation's development montage: nothing agrees, every frame pair goes
 *     through the anchored-region check) and against its own stored form thinned to a reference
 *     (a stored copy, as clusters and takedowns compare). Screening makes at most 32 such
 *     comparisons with bank entries and 16 with stored uploads, and usually none (only candidates
 *     the index proposes).
 *
 * The upload is the 1-minute bench file (ten 720p pan-and-zoom clips) fifteen times over, joined
 * without re-encoding. Prints JSON.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { matchVideo, referenceFromQuery, withoutVariants } from '@mmd/phash';
import { createHasher } from '../apps/server/src/safety/hasher.ts';
import { FFMPEG, VIDEO_CACHE, videoSources } from '../packages/phash/scripts/video-edits.ts';
import { longReferenceSignature } from '../packages/phash/scripts/video-long-eval.ts';

const round = (n: number, d = 2) => Number(n.toFixed(d));

function cpuSeconds(): number {
  const u = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return (u.user + u.system) / 1e6 + (Number(fields[13]) + Number(fields[14])) / ticks;
}

async function measured<T>(fn: () => Promise<T> | T): Promise<{ value: T; cpuSeconds: number; wallSeconds: number }> {
  const cpu = cpuSeconds();
  const wall = performance.now();
  const value = await fn();
  return { value, cpuSeconds: round(cpuSeconds() - cpu), wallSeconds: round((performance.now() - wall) / 1000) };
}

/** The bench's 1-minute 720p file (built as bench/safety-video.ts builds it) fifteen times. */
function fifteenMinuteUpload(): string {
  const out = path.join(VIDEO_CACHE, 'fifteen-minute-720p.mp4');
  if (existsSync(out)) return out;
  const minute = path.join(VIDEO_CACHE, 'one-minute-720p.mp4');
  if (!existsSync(minute)) {
    const clips = videoSources('development').filter((s) => s.name.startsWith('pz-'));
    const list = path.join(VIDEO_CACHE, 'one-minute.txt');
    writeFileSync(list, `${[...clips, ...clips].slice(0, 10).map((c) => `file '${c.file}'`).join('\n')}\n`);
    execFileSync(FFMPEG, ['-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', minute]);
  }
  const list = path.join(VIDEO_CACHE, 'fifteen-minutes.txt');
  writeFileSync(list, `${Array.from({ length: 15 }, () => `file '${minute}'`).join('\n')}\n`);
  execFileSync(FFMPEG, ['-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', out]);
  return out;
}

const file = fifteenMinuteUpload();
const unrelated = await longReferenceSignature('development', 'montage-15m');
const hasher = createHasher({ maxPixels: 100_000_000, maxVideoSeconds: 3 * 60 * 60 });
const hashed = await measured(() => hasher.hashFile(file, { kind: 'video' }));
const signature = hashed.value.video!.signature;
const stored = referenceFromQuery(withoutVariants(signature));
const againstUnrelated = await measured(() => matchVideo(signature, unrelated));
const againstStored = await measured(() => matchVideo(signature, stored));
console.log(
  JSON.stringify(
    {
      upload: '15 min, 1280x720, 25 fps H.264 (the 1-minute bench file 15 times)',
      serverHasher: {
        cpuSeconds: hashed.cpuSeconds,
        wallSeconds: hashed.wallSeconds,
        vpdqFrames: hashed.value.video!.frames.length,
        signatureFrames: signature.frames.length,
      },
      oneComparison: {
        unrelated15MinuteReference: {
          referenceFrames: unrelated.frames.length,
          matched: againstUnrelated.value.matched,
          cpuSeconds: againstUnrelated.cpuSeconds,
        },
        itsOwnStoredCopy: {
          referenceFrames: stored.frames.length,
          matched: againstStored.value.matched,
          frames: `${againstStored.value.frames}/${againstStored.value.comparable}`,
          cpuSeconds: againstStored.cpuSeconds,
        },
      },
    },
    null,
    2,
  ),
);
