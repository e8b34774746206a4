/**
 * Smooth blur of a luma plane: `passes` running-mean box filters of radius r along rows, then
 * down columns (two passes make a tent kernel, three come within a few percent of a Gaussian).
 * Edges are clamped. Used to find blob anchors, where speed matters and bit-exactness does not.
 */
export function boxBlur(
  luma: Float32Array,
  width: number,
  height: number,
  radius: number,
  passes = 2,
): Float32Array {
  if (passes < 1) return luma.slice();
  return boxBlurInto(luma, width, height, radius, {
    passes,
    scratch: [new Float32Array(luma.length), new Float32Array(luma.length)],
  });
}

/**
 * {@link boxBlur} into caller-owned buffers (each at least `width × height` long, neither being
 * `luma`): returns the one holding the result. Every pass overwrites its whole output, so stale
 * contents do not matter; callers that blur one frame after another reuse the buffers instead
 * of allocating (and the collector freeing) megabytes per frame.
 */
export function boxBlurInto(
  luma: Float32Array,
  width: number,
  height: number,
  radius: number,
  options: { passes: number; scratch: readonly [Float32Array, Float32Array] },
): Float32Array {
  let [a, b] = options.scratch;
  // The first pass reads the input itself, then the two buffers take turns.
  let src: Float32Array = luma;
  for (let pass = 0; pass < options.passes; pass++) {
    boxRows(src, b, width, height, radius);
    [a, b] = [b, a];
    src = a;
  }
  for (let pass = 0; pass < options.passes; pass++) {
    boxColumns(src, b, width, height, radius);
    [a, b] = [b, a];
    src = a;
  }
  return src;
}

/** Running mean along each row, edges clamped. */
function boxRows(src: Float32Array, dst: Float32Array, width: number, height: number, radius: number): void {
  const norm = 1 / (2 * radius + 1);
  const last = width - 1;
  for (let y = 0; y < height; y++) {
    const base = y * width;
    let sum = 0;
    for (let i = -radius; i <= radius; i++) sum += src[base + Math.min(last, Math.max(0, i))]!;
    // The same sums in the same order as clamping both indexes at every x: the clamps only bite
    // near the ends, so the middle stretch runs without them.
    const left = Math.min(width, radius);
    const right = Math.max(left, width - radius - 1);
    let x = 0;
    for (; x < left; x++) {
      dst[base + x] = sum * norm;
      sum += src[base + Math.min(x + radius + 1, last)]! - src[base + Math.max(x - radius, 0)]!;
    }
    for (; x < right; x++) {
      dst[base + x] = sum * norm;
      sum += src[base + x + radius + 1]! - src[base + x - radius]!;
    }
    for (; x < width; x++) {
      dst[base + x] = sum * norm;
      sum += src[base + Math.min(x + radius + 1, last)]! - src[base + Math.max(x - radius, 0)]!;
    }
  }
}

/**
 * Running mean down each column, edges clamped, computed row by row with one running sum per
 * column so memory is read sequentially rather than with a stride of a whole row.
 */
function boxColumns(
  src: Float32Array,
  dst: Float32Array,
  width: number,
  height: number,
  radius: number,
): void {
  const norm = 1 / (2 * radius + 1);
  const last = height - 1;
  const sums = new Float64Array(width);
  for (let i = -radius; i <= radius; i++) {
    const row = Math.min(last, Math.max(0, i)) * width;
    for (let x = 0; x < width; x++) sums[x]! += src[row + x]!;
  }
  for (let y = 0; y < height; y++) {
    const out = y * width;
    const add = Math.min(last, y + radius + 1) * width;
    const drop = Math.max(0, y - radius) * width;
    for (let x = 0; x < width; x++) {
      const s = sums[x]!;
      dst[out + x] = s * norm;
      sums[x] = s + src[add + x]! - src[drop + x]!;
    }
  }
}
