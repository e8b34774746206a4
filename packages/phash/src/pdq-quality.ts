/*
 * PDQ's quality is a count of significant gradients in the 64×64 downsample: each neighbour
 * difference is scaled to percent of full range and truncated to an integer (so faint noise
 * counts for nothing), the absolute values are summed, divided by 90 and capped at 100.
 * Featureless images (flat colour, heavy blur) score low and hash unreliably; matchers ignore
 * hashes under 50. Float arithmetic mirrors the reference so the integer truncation agrees.
 */
const f32 = Math.fround;

/** Quality 0..100 of a 64×64 row-major downsample. */
export function pdqQuality(a: Float32Array): number {
  let gradientSum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) {
      gradientSum += Math.abs(Math.trunc(f32(f32(f32(a[i * 64 + j]! - a[(i + 1) * 64 + j]!) * 100) / 255)));
    }
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) {
      gradientSum += Math.abs(Math.trunc(f32(f32(f32(a[i * 64 + j]! - a[i * 64 + j + 1]!) * 100) / 255)));
    }
  }
  return Math.min(100, Math.floor(gradientSum / 90));
}
