/**
 * Added CPU per 12-MP photo (generalise-eval's addedCpuMs: query and reference sets together,
 * beyond plain PDQ) for several parameter sets, interleaved round by round so they share the
 * machine's load; prints the least of ROUNDS × 3 warm runs each.
 *
 *   ROUNDS=4 CONFIGS='[{}, {"referenceScales": [1, 1.045]}]' node --import tsx packages/phash/scripts/cpu-probe.ts
 */
import { ROBUST_PARAMS } from '../src/robust-hashes.ts';
import { DATA_DIR } from '../test/data.ts';
import { addedCpuMs, twelveMegapixelPhoto } from './generalise-eval.ts';
const base = structuredClone(ROBUST_PARAMS);
const configs: Array<Record<string, unknown>> = JSON.parse(process.env.CONFIGS ?? '[{}]');
const photo = await twelveMegapixelPhoto(DATA_DIR);
const best = configs.map(() => Infinity);
for (let round = 0; round < Number(process.env.ROUNDS ?? 4); round++)
  for (const [i, c] of configs.entries()) {
    Object.assign(ROBUST_PARAMS, structuredClone(base), c);
    best[i] = Math.min(best[i]!, (await addedCpuMs(photo, 3)).queryAndReferenceMs);
  }
for (const [i, c] of configs.entries()) console.log(JSON.stringify({ config: c, ms: best[i] }));
