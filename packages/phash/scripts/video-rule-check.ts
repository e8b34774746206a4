/**
 * The clip benchmark's pairs under matchVideo's rule with and without the timeline check
 * (checkAlongTimeline), side by side: every pair whose verdict differs, and both rules' recall
 * and false matches. Reads edits already in the cache and never builds one (`--only-built`, the
 * default), so it can run beside another process building the cache.
 *
 *   node --import tsx packages/phash/scripts/video-rule-check.ts [--split=development|test]
 *
 * Prints JSON.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { matchVideo } from '../src/video-match.ts';
import type { VideoSignature } from '../src/video-signature.ts';
import type { VideoSplit } from './video-edits.ts';
import { VIDEO_CACHE, VIDEO_EDITS, videoSources } from './video-edits.ts';
import { signatureOf } from './video-eval.ts';

const split = (process.argv.find((a) => a.startsWith('--split='))?.slice(8) ?? 'development') as VideoSplit;
const log = (m: string) => process.stderr.write(`[video-rule-check] ${m}\n`);
const sources = videoSources(split);
const refs: Array<{ name: string; scene: string; signature: VideoSignature }> = [];
for (const s of sources) refs.push({ name: s.name, scene: s.scene, signature: await signatureOf(s.file, 'reference') });
log(`${split}: ${refs.length} references hashed`);
const tally = { queries: 0, recallBefore: 0, recallAfter: 0, pairs: 0, falseBefore: 0, falseAfter: 0 };
const differ: string[] = [];
for (const s of sources) {
  for (const edit of VIDEO_EDITS) {
    const file = join(VIDEO_CACHE, 'edits', `${s.name}--${edit}.mp4`);
    if (!existsSync(file)) continue;
    const q = await signatureOf(file, 'query');
    tally.queries++;
    for (const r of refs) {
      const before = matchVideo(q, r.signature, { checkAlongTimeline: false });
      const after = matchVideo(q, r.signature);
      const same = r.scene === s.scene;
      if (same) {
        if (before.matched) tally.recallBefore++;
        if (after.matched) tally.recallAfter++;
      } else {
        tally.pairs++;
        if (before.matched) tally.falseBefore++;
        if (after.matched) tally.falseAfter++;
      }
      if (before.matched !== after.matched)
        differ.push(
          `${s.name}--${edit} vs ${r.name} (${same ? 'same' : 'different'}): ${before.frames}/${before.comparable} -> ${after.frames}/${after.comparable}`,
        );
    }
  }
  log(`${s.name} done`);
}
console.log(JSON.stringify({ split, tally, differ }, null, 2));
