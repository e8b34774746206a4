/**
 * Fast probe for tuning robust matching on the DEVELOPMENT split (never the test split): recall
 * of chosen edits under several parameter sets, one after the other in one process, sharing
 * generalise-eval's cache of edited images. Not a reported figure: NEGATIVES=0 skips the overlay
 * and collage negatives, so only generalise-eval's full run says whether false matches stay 0.
 *
 *   EDITS=crop10,crops-plain,sticker NEGATIVES=0 MISSED=1 \
 *   CONFIGS='[{}, {"anchorMinQuality": 30}]' node --import tsx packages/phash/scripts/recall-probe.ts
 */
import { ROBUST_PARAMS } from '../src/robust-hashes.ts';
import { hashSplit, scoreSplit } from './generalise-eval.ts';
import type { Split } from './photo-set.ts';
const base = structuredClone(ROBUST_PARAMS);
const configs: Array<Record<string, unknown>> = JSON.parse(process.env.CONFIGS ?? '[{}]');
const edits = (process.env.EDITS ?? '').split(',').filter(Boolean);
const split = (process.env.SPLIT ?? 'development') as Split;
for (const c of configs) {
  Object.assign(ROBUST_PARAMS, structuredClone(base), c);
  const t = Date.now();
  const h = await hashSplit(split, { cacheDir: process.env.CACHE ?? '/tmp/mmd-generalise', ...(edits.length ? { edits } : {}), negatives: process.env.NEGATIVES !== '0' });
  const s = scoreSplit(h);
  const per = Object.fromEntries(Object.entries(s.perEdit).map(([e, r]) => [e, r.mmd]));
  console.log(JSON.stringify({ config: c, secs: (Date.now() - t) / 1000, overall: s.overallRecallPercent.mmd, per, falseMatches: s.falseMatches, falseList: s.falseMatchList }));
  if (process.env.MISSED) for (const [e, r] of Object.entries(s.perEdit)) if (r.missed.length) console.log(`  ${e}: ${r.missed.join('; ')}`);
}
