/** D[i][j] = sqrt(2/64) · cos(π/128 · (i+1) · (2j+1)), row-major 16×64, rounded to float: the rows of the 64-point DCT-II PDQ keeps. */
export const DCT_MATRIX: Float32Array = (() => {
  const scale = Math.fround(Math.sqrt(2 / 64));
  const d = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) d[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return d;
})();
