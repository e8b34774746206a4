/**
 * Added CPU per 12-MP photo (generalise-eval's addedCpuMs: query and reference sets together,
 * beyond plain PDQ) for several parameter sets, interleaved round by round so they share the
 * machine's load; prints the least of ROUNDS × 3 warm runs each.
 *
 *   ROUNDS=4 CONFIGS='[{}, {"referenceScales": [1, 1.045]}]' node --import tsx packages/phash/scripts/cpu-probe.ts
 *
 * With KERNELS=both, every set is also run with PDQ's WebAssembly kernels turned off (the
 * JavaScript), interleaved the same way.
 */
import { ROBUST_PARAMS } from '../src/robust-hashes.ts';
import { usePdqKernels } from '../src/wasm/kernels.ts';
import { DATA_DIR } from '../test/data.ts';
import { addedCpuMs, twelveMegapixelPhoto } from './generalise-eval.ts';
const base = structuredClone(ROBUST_PARAMS);
const sets: Array<Record<string, unknown>> = JSON.parse(process.env.CONFIGS ?? '[{}]');
const configs = sets.flatMap((c) => (process.env.KERNELS === 'both' ? [{ ...c, wasm: true }, { ...c, wasm: false }] : [c]));
const photo = await twelveMegapixelPhoto(DATA_DIR);
const best = configs.map(() => Infinity);
for (let round = 0; round < Number(process.env.ROUNDS ?? 4); round++)
  for (const [i, c] of configs.entries()) {
    const { wasm, ...params } = c;
    Object.assign(ROBUST_PARAMS, structuredClone(base), params);
    usePdqKernels(wasm !== false);
    best[i] = Math.min(best[i]!, (await addedCpuMs(photo, 3)).queryAndReferenceMs);
  }
for (const [i, c] of configs.entries()) console.log(JSON.stringify({ config: c, ms: best[i] }));
