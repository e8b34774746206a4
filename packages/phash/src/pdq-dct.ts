/*
 * The part of the 64×64 2-D DCT-II that PDQ keeps: frequencies 1..16 in each direction (the DC
 * row/column is skipped because it only encodes overall brightness). Computed as B = D·A·Dᵀ with
 * a precomputed 16×64 matrix D; with only 16 of 64 outputs per axis this plain product beats a
 * fast DCT. Float32 with each product and sum rounded, matching the reference bit for bit.
 */
import { DCT_MATRIX } from './pdq-dct-matrix.ts';
import { pdqKernels } from './wasm/kernels.ts';

const f32 = Math.fround;
const N = 64;
const K = 16;

const dctScratch = new Float32Array(K * N);

/**
 * 16×16 low-frequency DCT coefficients (row-major, row = vertical frequency) of a 64×64
 * row-major image.
 */
export function dct64To16(a: Float32Array): Float32Array {
  const kernels = pdqKernels();
  if (kernels) return kernels.dct64To16(a);
  return dct64To16Js(a);
}

/** {@link dct64To16} in JavaScript (where WebAssembly SIMD is not available, and for tests). */
export function dct64To16Js(a: Float32Array): Float32Array {
  const d = DCT_MATRIX;
  // Reused between calls (per thread; nothing here awaits): the sums start from zero.
  const t = dctScratch.fill(0);
  // T = D·A, each output accumulated over k in order, like the reference. The loops run k
  // outside j so the 64 sums of a row are independent chains (the CPU overlaps them) and A is
  // read row by row; four k steps at a time keep each sum in a register between them. Each sum
  // sees the same roundings in the same order as k-innermost.
  for (let i = 0; i < K; i++) {
    const row = i * N;
    for (let k = 0; k < N; k += 4) {
      const d0 = d[row + k]!;
      const d1 = d[row + k + 1]!;
      const d2 = d[row + k + 2]!;
      const d3 = d[row + k + 3]!;
      const a0 = k * N;
      const a1 = a0 + N;
      const a2 = a1 + N;
      const a3 = a2 + N;
      for (let j = 0; j < N; j++) {
        let s = f32(t[row + j]! + f32(d0 * a[a0 + j]!));
        s = f32(s + f32(d1 * a[a1 + j]!));
        s = f32(s + f32(d2 * a[a2 + j]!));
        t[row + j] = f32(s + f32(d3 * a[a3 + j]!));
      }
    }
  }
  // B = T·Dᵀ: each output a serial chain over k, so four outputs run side by side.
  const b = new Float32Array(K * K);
  for (let i = 0; i < K; i++) {
    const ti = i * N;
    for (let j = 0; j < K; j += 4) {
      const e0 = j * N;
      const e1 = e0 + N;
      const e2 = e1 + N;
      const e3 = e2 + N;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < N; k++) {
        const x = t[ti + k]!;
        s0 = f32(s0 + f32(x * d[e0 + k]!));
        s1 = f32(s1 + f32(x * d[e1 + k]!));
        s2 = f32(s2 + f32(x * d[e2 + k]!));
        s3 = f32(s3 + f32(x * d[e3 + k]!));
      }
      b[i * K + j] = s0;
      b[i * K + j + 1] = s1;
      b[i * K + j + 2] = s2;
      b[i * K + j + 3] = s3;
    }
  }
  return b;
}
