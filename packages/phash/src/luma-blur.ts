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
  let y = 0;
  // Each row's running sum is a serial chain of adds; four rows side by side let the CPU
  // overlap them. Every row sees the same sums in the same order as alone.
  const left = Math.min(width, radius);
  const right = Math.max(left, width - radius - 1);
  if (right - left >= 16) {
    for (; y + 4 <= height; y += 4) {
      const b0 = y * width;
      const b1 = b0 + width;
      const b2 = b1 + width;
      const b3 = b2 + width;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = -radius; i <= radius; i++) {
        const c = Math.min(last, Math.max(0, i));
        s0 += src[b0 + c]!;
        s1 += src[b1 + c]!;
        s2 += src[b2 + c]!;
        s3 += src[b3 + c]!;
      }
      let x = 0;
      for (; x < left; x++) {
        dst[b0 + x] = s0 * norm;
        dst[b1 + x] = s1 * norm;
        dst[b2 + x] = s2 * norm;
        dst[b3 + x] = s3 * norm;
        const add = Math.min(x + radius + 1, last);
        const drop = Math.max(x - radius, 0);
        s0 += src[b0 + add]! - src[b0 + drop]!;
        s1 += src[b1 + add]! - src[b1 + drop]!;
        s2 += src[b2 + add]! - src[b2 + drop]!;
        s3 += src[b3 + add]! - src[b3 + drop]!;
      }
      for (; x < right; x++) {
        dst[b0 + x] = s0 * norm;
        dst[b1 + x] = s1 * norm;
        dst[b2 + x] = s2 * norm;
        dst[b3 + x] = s3 * norm;
        const add = x + radius + 1;
        const drop = x - radius;
        s0 += src[b0 + add]! - src[b0 + drop]!;
        s1 += src[b1 + add]! - src[b1 + drop]!;
        s2 += src[b2 + add]! - src[b2 + drop]!;
        s3 += src[b3 + add]! - src[b3 + drop]!;
      }
      for (; x < width; x++) {
        dst[b0 + x] = s0 * norm;
        dst[b1 + x] = s1 * norm;
        dst[b2 + x] = s2 * norm;
        dst[b3 + x] = s3 * norm;
        const add = Math.min(x + radius + 1, last);
        const drop = Math.max(x - radius, 0);
        s0 += src[b0 + add]! - src[b0 + drop]!;
        s1 += src[b1 + add]! - src[b1 + drop]!;
        s2 += src[b2 + add]! - src[b2 + drop]!;
        s3 += src[b3 + add]! - src[b3 + drop]!;
      }
    }
  }
  for (; y < height; y++) {
    const base = y * width;
    let sum = 0;
    for (let i = -radius; i <= radius; i++) sum += src[base + Math.min(last, Math.max(0, i))]!;
    // The same sums in the same order as clamping both indexes at every x: the clamps only bite
    // near the ends, so the middle stretch runs without them.
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
  let y = 0;
  // Four rows per sweep: each column's sum stays in a register between them (same order of
  // operations per column, so the same values).
  for (; y + 4 <= height; y += 4) {
    const o0 = y * width;
    const o1 = o0 + width;
    const o2 = o1 + width;
    const o3 = o2 + width;
    const a0 = Math.min(last, y + radius + 1) * width;
    const a1 = Math.min(last, y + radius + 2) * width;
    const a2 = Math.min(last, y + radius + 3) * width;
    const a3 = Math.min(last, y + radius + 4) * width;
    const d0 = Math.max(0, y - radius) * width;
    const d1 = Math.max(0, y + 1 - radius) * width;
    const d2 = Math.max(0, y + 2 - radius) * width;
    const d3 = Math.max(0, y + 3 - radius) * width;
    for (let x = 0; x < width; x++) {
      let s = sums[x]!;
      dst[o0 + x] = s * norm;
      s = s + src[a0 + x]! - src[d0 + x]!;
      dst[o1 + x] = s * norm;
      s = s + src[a1 + x]! - src[d1 + x]!;
      dst[o2 + x] = s * norm;
      s = s + src[a2 + x]! - src[d2 + x]!;
      dst[o3 + x] = s * norm;
      sums[x] = s + src[a3 + x]! - src[d3 + x]!;
    }
  }
  for (; y < height; y++) {
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
