/*
 * One-dimensional box filters as in PDQ's Jarosz downsampler. The window is centred with
 * `half = floor((w + 2) / 2)` samples reaching forward, the edges average over a shrinking
 * window, and the running sum is a 32-bit float updated "add the new sample, then subtract the
 * old one". The rounding of that running sum drifts along a row, so to stay bit-identical with
 * the reference every update is rounded to float in exactly the reference's order — a
 * mathematically cleaner prefix-sum filter would flip hash bits.
 *
 * In the full-window stretch the division by the (constant) window size is done as a
 * multiplication by its double-precision reciprocal. That is still exact after rounding to
 * float: a float divided by an integer count ≤ 2^10 is never within 2^-35 (relative) of a
 * float rounding midpoint, while the reciprocal product errs by at most 2^-52.
 */
import type { PdqKernels } from './wasm/kernels.ts';

const f32 = Math.fround;

/** Rows handled together by {@link boxFilterRows4}. */
export const ROW_BATCH = 4;

/** Window size per pass for a dimension: ceil(dim / 128), i.e. half of a 1/64 block. */
export function jaroszWindowSize(dimension: number): number {
  return Math.floor((dimension + 127) / 128);
}

/** Box-filters `n` contiguous samples of `input` into `output` (both starting at index 0). */
export function boxFilterLine(input: Float32Array, output: Float32Array, n: number, w: number): void {
  const half = (w + 2) >> 1;
  let sum = 0;
  let count = 0;
  let ri = 0;
  let li = 0;
  let oi = 0;
  for (let i = 0; i < half - 1; i++) {
    sum = f32(sum + input[ri++]!);
    count++;
  }
  for (let i = 0; i < w - half + 1; i++) {
    sum = f32(sum + input[ri++]!);
    count++;
    output[oi++] = sum / count;
  }
  const inv = 1 / count;
  for (let i = 0; i < n - w; i++) {
    sum = f32(sum + input[ri++]!);
    sum = f32(sum - input[li++]!);
    output[oi++] = sum * inv;
  }
  for (let i = 0; i < half - 1; i++) {
    sum = f32(sum - input[li++]!);
    count--;
    output[oi++] = sum / count;
  }
}

/**
 * {@link boxFilterLine} on 4 consecutive rows of length `n` (stored back to back) at once.
 * Each running sum is a serial chain of rounded adds, so one row at a time is bound by
 * floating-point latency; four independent chains per loop iteration run about twice as fast.
 */
export function boxFilterRows4(input: Float32Array, output: Float32Array, n: number, w: number): void {
  boxFilterRows4At(input, output, n, w, 0, n, 2 * n, 3 * n);
}

/**
 * {@link boxFilterRows4} with the 4 input rows at any offsets of `input` (e.g. slots of a ring of
 * rows); the outputs go to `output`'s first 4 rows, back to back.
 */
export function boxFilterRows4At(
  input: Float32Array,
  output: Float32Array,
  n: number,
  w: number,
  r0: number,
  r1: number,
  r2: number,
  r3: number,
): void {
  const half = (w + 2) >> 1;
  const n2 = 2 * n;
  const n3 = 3 * n;
  // Input offsets relative to row 0.
  const d1 = r1 - r0;
  const d2 = r2 - r0;
  const d3 = r3 - r0;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let count = 0;
  let ri = r0;
  let li = r0;
  let oi = 0;
  for (let i = 0; i < half - 1; i++, ri++) {
    s0 = f32(s0 + input[ri]!);
    s1 = f32(s1 + input[ri + d1]!);
    s2 = f32(s2 + input[ri + d2]!);
    s3 = f32(s3 + input[ri + d3]!);
    count++;
  }
  for (let i = 0; i < w - half + 1; i++, ri++, oi++) {
    s0 = f32(s0 + input[ri]!);
    s1 = f32(s1 + input[ri + d1]!);
    s2 = f32(s2 + input[ri + d2]!);
    s3 = f32(s3 + input[ri + d3]!);
    count++;
    output[oi] = s0 / count;
    output[oi + n] = s1 / count;
    output[oi + n2] = s2 / count;
    output[oi + n3] = s3 / count;
  }
  const inv = 1 / count;
  for (let i = 0; i < n - w; i++, ri++, li++, oi++) {
    s0 = f32(f32(s0 + input[ri]!) - input[li]!);
    s1 = f32(f32(s1 + input[ri + d1]!) - input[li + d1]!);
    s2 = f32(f32(s2 + input[ri + d2]!) - input[li + d2]!);
    s3 = f32(f32(s3 + input[ri + d3]!) - input[li + d3]!);
    output[oi] = s0 * inv;
    output[oi + n] = s1 * inv;
    output[oi + n2] = s2 * inv;
    output[oi + n3] = s3 * inv;
  }
  for (let i = 0; i < half - 1; i++, li++, oi++) {
    s0 = f32(s0 - input[li]!);
    s1 = f32(s1 - input[li + d1]!);
    s2 = f32(s2 - input[li + d2]!);
    s3 = f32(s3 - input[li + d3]!);
    count--;
    output[oi] = s0 / count;
    output[oi + n] = s1 / count;
    output[oi + n2] = s2 / count;
    output[oi + n3] = s3 / count;
  }
}

/**
 * The same box filter applied down every column of a matrix, fed one row at a time. Processing
 * row-major keeps memory access sequential (a column-at-a-time pass strides through the whole
 * image) and only `w` rows need to be kept, so big photos do not need a second full-size buffer.
 * Each column performs the reference's exact sequence of float operations, so the result is
 * identical to filtering the columns one by one.
 */
export class ColumnBoxFilter {
  private readonly sums: Float32Array;
  private readonly ring: Float32Array;
  private readonly half: number;
  private rowsIn = 0;
  private count = 0;
  private nextOut = 0;

  /**
   * @param width columns in each row
   * @param n rows that will be pushed in total
   * @param w window size
   * @param kernels the WebAssembly kernels, when `storage` (zeroed, `width` + `width · w` floats)
   *   and every row passed to {@link push4} lie in their memory
   */
  constructor(
    private readonly width: number,
    private readonly n: number,
    private readonly w: number,
    private readonly kernels: PdqKernels | null = null,
    storage?: Float32Array,
  ) {
    this.sums = storage ? storage.subarray(0, width) : new Float32Array(width);
    this.ring = storage ? storage.subarray(width, width + width * w) : new Float32Array(width * w);
    this.half = (w + 2) >> 1;
  }

  /**
   * Adds the next input row (`width` values from `row[rowOffset]`). When that completes an
   * output row, writes it into `out` at `outOffset` and returns its row index; otherwise -1.
   */
  push(row: Float32Array, rowOffset: number, out: Float32Array, outOffset: number): number {
    const { sums, ring, width, w } = this;
    const r = this.rowsIn++;
    const base = (r % w) * width;
    if (r < w) {
      // Growing window: nothing to subtract yet.
      for (let c = 0; c < width; c++) {
        const x = row[rowOffset + c]!;
        sums[c] = sums[c]! + x;
        ring[base + c] = x;
      }
      const count = ++this.count;
      if (r < this.half - 1) return -1;
      for (let c = 0; c < width; c++) out[outOffset + c] = sums[c]! / count;
    } else {
      // Full window: the slot being overwritten holds row r - w, the one leaving the window.
      const inv = 1 / this.count;
      for (let c = 0; c < width; c++) {
        const x = row[rowOffset + c]!;
        const s = f32(f32(sums[c]! + x) - ring[base + c]!);
        sums[c] = s;
        ring[base + c] = x;
        out[outOffset + c] = s * inv;
      }
    }
    return this.nextOut++;
  }

  /**
   * {@link push} of 4 rows at once (`input`'s first 4 rows, `width` each, back to back), once
   * the window is full (at least `w` rows pushed before): each column's running sum stays in a
   * register for the 4 steps instead of going through memory, with the same float operations in
   * the same order. Output row k goes to `out` at `outOffsets[k]`; returns the first output's
   * row index (the others follow it).
   */
  push4(input: Float32Array, out: Float32Array, o0: number, o1: number, o2: number, o3: number): number {
    const { sums, ring, width, w } = this;
    const r = this.rowsIn;
    if (r < w) throw new Error('push4 needs a full window');
    this.rowsIn += 4;
    // Slot of each row's ring entry, which holds the row leaving the window (r + k - w).
    const b0 = (r % w) * width;
    const b1 = ((r + 1) % w) * width;
    const b2 = ((r + 2) % w) * width;
    const b3 = ((r + 3) % w) * width;
    if (this.kernels) {
      // Byte offsets in the kernels' memory, where input, out and the ring all live.
      const ring0 = ring.byteOffset;
      const out0 = out.byteOffset;
      this.kernels.exports.columns4(
        sums.byteOffset,
        input.byteOffset,
        width,
        ring0 + 4 * b0,
        ring0 + 4 * b1,
        ring0 + 4 * b2,
        ring0 + 4 * b3,
        out0 + 4 * o0,
        out0 + 4 * o1,
        out0 + 4 * o2,
        out0 + 4 * o3,
        this.count,
      );
      const first = this.nextOut;
      this.nextOut += 4;
      return first;
    }
    const i1 = width;
    const i2 = 2 * width;
    const i3 = 3 * width;
    const inv = 1 / this.count;
    for (let c = 0; c < width; c++) {
      let s = sums[c]!;
      const x0 = input[c]!;
      s = f32(f32(s + x0) - ring[b0 + c]!);
      ring[b0 + c] = x0;
      out[o0 + c] = s * inv;
      const x1 = input[i1 + c]!;
      s = f32(f32(s + x1) - ring[b1 + c]!);
      ring[b1 + c] = x1;
      out[o1 + c] = s * inv;
      const x2 = input[i2 + c]!;
      s = f32(f32(s + x2) - ring[b2 + c]!);
      ring[b2 + c] = x2;
      out[o2 + c] = s * inv;
      const x3 = input[i3 + c]!;
      s = f32(f32(s + x3) - ring[b3 + c]!);
      ring[b3 + c] = x3;
      out[o3 + c] = s * inv;
      sums[c] = s;
    }
    const first = this.nextOut;
    this.nextOut += 4;
    return first;
  }

  /** Rows pushed so far. */
  get pushed(): number {
    return this.rowsIn;
  }

  /** The window size along the columns. */
  get window(): number {
    return this.w;
  }

  /**
   * After all `n` rows were pushed, emits the trailing rows whose window shrinks at the bottom
   * edge: writes one into `out` at `outOffset` and returns its index per call, then -1.
   */
  drain(out: Float32Array, outOffset: number): number {
    if (this.rowsIn !== this.n) throw new Error(`pushed ${this.rowsIn} of ${this.n} rows`);
    if (this.nextOut >= this.n) return -1;
    const { sums, ring, width, w } = this;
    const leaving = this.nextOut - (w - this.half + 1);
    const base = (leaving % w) * width;
    const count = --this.count;
    for (let c = 0; c < width; c++) {
      const s = f32(sums[c]! - ring[base + c]!);
      sums[c] = s;
      out[outOffset + c] = s / count;
    }
    return this.nextOut++;
  }
}
