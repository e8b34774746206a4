/**
 * The clip benchmark's pairs under this tree's matchVideo and under another version of it (the
 * rule before a change), side by side: every pair whose verdict, agreeing frames or timeline
 * differs. Reads edits already in the cache and never builds one (as video-rule-check.ts).
 *
 *   node --import tsx packages/phash/scripts/video-match-diff.ts --old=/path/to/packages/phash/src/video-match.ts [--split=development]
 *
 * `--old` is a video-match.ts inside another checkout of the repository (a git worktree of the
 * earlier commit), so its own imports resolve. Prints JSON.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { matchVideo } from '../src/video-match.ts';
import type { VideoSignature } from '../src/video-signature.ts';
import type { VideoSplit } from './video-edits.ts';
import { VIDEO_CACHE, VIDEO_EDITS, videoSources } from './video-edits.ts';
import { signatureOf } from './video-eval.ts';

const split = (process.argv.find((a) => a.startsWith('--split='))?.slice(8) ?? 'development') as VideoSplit;
const oldPath = process.argv.find((a) => a.startsWith('--old='))?.slice(6);
if (!oldPath) throw new Error('--old=PATH of the earlier video-match.ts is required');
const old = (await import(resolve(oldPath))) as { matchVideo: typeof matchVideo };
const log = (m: string) => process.stderr.write(`[video-match-diff] ${m}\n`);
const sources = videoSources(split);
const refs: Array<{ name: string; scene: string; signature: VideoSignature }> = [];
for (const s of sources) refs.push({ name: s.name, scene: s.scene, signature: await signatureOf(s.file, 'reference') });
log(`${split}: ${refs.length} references hashed`);
const tally = { queries: 0, pairs: 0, matchedOld: 0, matchedNew: 0, differ: 0 };
const differ: unknown[] = [];
for (const s of sources) {
  for (const edit of VIDEO_EDITS) {
    const file = join(VIDEO_CACHE, 'edits', `${s.name}--${edit}.mp4`);
    if (!existsSync(file)) continue;
    const query = await signatureOf(file, 'query');
    tally.queries++;
    for (const r of refs) {
      const a = old.matchVideo(query, r.signature);
      const b = matchVideo(query, r.signature);
      tally.pairs++;
      if (a.matched) tally.matchedOld++;
      if (b.matched) tally.matchedNew++;
      const same =
        a.matched === b.matched && a.frames === b.frames && a.comparable === b.comparable && a.rate === b.rate && a.offsetSeconds === b.offsetSeconds && a.wholeFrames === b.wholeFrames;
      if (!same) {
        tally.differ++;
        const d = { query: `${s.name}--${edit}`, reference: r.name, old: `${a.matched} ${a.frames}/${a.comparable}`, now: `${b.matched} ${b.frames}/${b.comparable}` };
        differ.push(d);
        log(`differs: ${JSON.stringify(d)}`);
      }
    }
    log(`${s.name}--${edit} done (${JSON.stringify(tally)})`);
  }
}
console.log(JSON.stringify({ split, tally, differ }, null, 2));
