/*
 * The part of the 64×64 2-D DCT-II that PDQ keeps: frequencies 1..16 in each direction (the DC
 * row/column is skipped because it only encodes overall brightness). Computed as B = D·A·Dᵀ with
 * a precomputed 16×64 matrix D; with only 16 of 64 outputs per axis this plain product beats a
 * fast DCT. Float32 with each product and sum rounded, matching the reference bit for bit.
 */
const f32 = Math.fround;
const N = 64;
const K = 16;

/** D[i][j] = sqrt(2/64) · cos(π/128 · (i+1) · (2j+1)), row-major 16×64, rounded to float. */
const DCT_MATRIX = (() => {
  const scale = f32(Math.sqrt(2 / 64));
  const d = new Float32Array(K * N);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < N; j++) d[i * N + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return d;
})();

const dctScratch = new Float32Array(K * N);

/**
 * 16×16 low-frequency DCT coefficients (row-major, row = vertical frequency) of a 64×64
 * row-major image.
 */
export function dct64To16(a: Float32Array): Float32Array {
  const d = DCT_MATRIX;
  // Reused between calls (per thread; nothing here awaits): the sums start from zero.
  const t = dctScratch.fill(0);
  // T = D·A, each output accumulated over k in order, like the reference. The loops run k
  // outside j so the 64 sums of a row are independent chains (the CPU overlaps them) and A is
  // read row by row; each sum sees the same roundings in the same order as k-innermost.
  for (let i = 0; i < K; i++) {
    const row = i * N;
    for (let k = 0; k < N; k++) {
      const dik = d[row + k]!;
      const ak = k * N;
      for (let j = 0; j < N; j++) t[row + j] = f32(t[row + j]! + f32(dik * a[ak + j]!));
    }
  }
  // B = T·Dᵀ
  const b = new Float32Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s = f32(s + f32(t[i * N + k]! * d[j * N + k]!));
      b[i * K + j] = s;
    }
  }
  return b;
}
