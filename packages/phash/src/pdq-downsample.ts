import { boxFilterRows4At, ColumnBoxFilter, jaroszWindowSize, ROW_BATCH } from './pdq-box-filter.ts';
import { lumaRow, lumaRowRgbWords, rgbWords } from './pdq-luma.ts';
import type { PixelImage } from './pixel-image.ts';
import { imageChannels } from './pixel-image.ts';
import { KERNEL_HEAP_START, type PdqKernels, pdqKernels } from './wasm/kernels.ts';

const f32 = Math.fround;

/** Side of PDQ's downsampled image. */
export const PDQ_DOWNSAMPLE_SIZE = 64;

/** Largest side the exactness argument of the box filter's reciprocal trick covers (2^17). */
export const PDQ_MAX_DIMENSION = 131072;

/**
 * Sample positions of the 64 decimation points along a dimension: the centre of each 1/64
 * stripe, floor((i + 0.5) · n / 64), computed in double like the reference.
 */
function decimationIndices(n: number): Int32Array {
  const idx = new Int32Array(PDQ_DOWNSAMPLE_SIZE);
  for (let i = 0; i < PDQ_DOWNSAMPLE_SIZE; i++) idx[i] = Math.floor(((i + 0.5) * n) / PDQ_DOWNSAMPLE_SIZE);
  return idx;
}

/**
 * PDQ's blur-and-decimate: luma, then two rounds of (box along rows, box along columns) — a tent
 * filter per Jarosz — then the value at the centre of each of 64×64 cells. Returns the 64×64
 * row-major float image.
 *
 * The passes are streamed (luma → row box → column box → row box, 4 rows at a time) so the
 * working set is a few rows rather than two full-resolution float copies, and the last column
 * pass only runs on the 64 columns that are sampled. Every output equals the reference's
 * full-image computation.
 */
export function pdqDownsample(image: PixelImage): Float32Array {
  const channels = imageChannels(image);
  if (channels === 3 && pdqKernels()) return downsampleRows(image.width, image.height, () => {}, image.data);
  const words = channels === 3 ? rgbWords(image.data) : undefined;
  if (words) {
    const { data, width } = image;
    return downsampleRows(width, image.height, (y, out) => lumaRowRgbWords(words, data, width, y, out));
  }
  return downsampleRows(image.width, image.height, (y, out) => lumaRow(image, channels, y, out));
}

/** Where a region of a luma plane lies, in pixels. */
export interface LumaRegion {
  /** Left edge. */
  readonly x: number;
  /** Top edge. */
  readonly y: number;
  /** Width (≥ 1). */
  readonly width: number;
  /** Height (≥ 1). */
  readonly height: number;
}

/**
 * {@link pdqDownsample} of a rectangle of an already computed row-major luma plane (of width
 * `stride`); used to hash many regions of one image without recomputing luma.
 */
export function pdqDownsampleLuma(luma: Float32Array, stride: number, region: LumaRegion): Float32Array {
  const { x, y, width, height } = region;
  if (
    x < 0 ||
    y < 0 ||
    width < 1 ||
    height < 1 ||
    x + width > stride ||
    (y + height) * stride > luma.length
  ) {
    throw new RangeError('region outside the luma plane');
  }
  if (width === PDQ_DOWNSAMPLE_SIZE && height === PDQ_DOWNSAMPLE_SIZE)
    return downsample64(luma, stride, x, y);
  return downsampleRows(width, height, (row, out) => {
    const start = (y + row) * stride + x;
    out.set(luma.subarray(start, start + width));
  });
}

/**
 * {@link downsampleRows} for a 64×64 region (the blob-anchored regions robust hashing makes by
 * the dozen): the window is 1 and the 64 samples are every pixel, so the pipeline reduces to
 * four passes of the running-sum recurrence (rows, columns, rows, columns) on a 64×64 copy.
 * Same float operations in the same order as the general path, so the same output, without its
 * ring buffers and batching.
 */
function downsample64(luma: Float32Array, stride: number, x: number, y: number): Float32Array {
  const n = PDQ_DOWNSAMPLE_SIZE;
  const a = new Float32Array(n * n);
  for (let row = 0; row < n; row++)
    a.set(luma.subarray((y + row) * stride + x, (y + row) * stride + x + n), row * n);
  return pdqDownsample64InPlace(a);
}

/** Scratch of the 64×64 passes (module state is per thread, and nothing here awaits). */
const scratch64 = new Float32Array(PDQ_DOWNSAMPLE_SIZE * PDQ_DOWNSAMPLE_SIZE);

/**
 * {@link pdqDownsampleLuma} of a whole 64×64 plane, computed in place in `a` (which it returns):
 * for callers that sample a region into a buffer of their own and need no copy of it.
 */
export function pdqDownsample64InPlace(a: Float32Array): Float32Array {
  const n = PDQ_DOWNSAMPLE_SIZE;
  if (a.length !== n * n) throw new RangeError('expected a 64×64 plane');
  const b = scratch64;
  for (let pass = 0; pass < 2; pass++) {
    // Along rows, a → b: out[0] = in[0], then s = (s + in[i]) − in[i − 1], each step rounded.
    // Each row is a serial chain, so four rows run side by side.
    for (let r0 = 0; r0 < n * n; r0 += 4 * n) {
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      let s0 = a[r0]!;
      let s1 = a[r1]!;
      let s2 = a[r2]!;
      let s3 = a[r3]!;
      b[r0] = s0;
      b[r1] = s1;
      b[r2] = s2;
      b[r3] = s3;
      for (let i = 1; i < n; i++) {
        s0 = f32(f32(s0 + a[r0 + i]!) - a[r0 + i - 1]!);
        s1 = f32(f32(s1 + a[r1 + i]!) - a[r1 + i - 1]!);
        s2 = f32(f32(s2 + a[r2 + i]!) - a[r2 + i - 1]!);
        s3 = f32(f32(s3 + a[r3 + i]!) - a[r3 + i - 1]!);
        b[r0 + i] = s0;
        b[r1 + i] = s1;
        b[r2 + i] = s2;
        b[r3 + i] = s3;
      }
    }
    // Down columns, b → a, one row at a time (the same recurrence per column).
    for (let c = 0; c < n; c++) a[c] = b[c]!;
    for (let row = n; row < n * n; row += n) {
      for (let c = 0; c < n; c++) a[row + c] = f32(f32(a[row - n + c]! + b[row + c]!) - b[row - n + c]!);
    }
  }
  return a;
}

/**
 * The pipeline's buffers in the WebAssembly kernels' memory (views taken after it has grown to
 * hold them): the rows, the first column pass's running sums and ring (zeroed), and the row
 * kernel's scratch (`hist`, a byte offset).
 */
function kernelBuffers(kernels: PdqKernels, width: number, windowAlongCols: number) {
  let at = KERNEL_HEAP_START;
  const take = (floats: number): number => {
    const start = at;
    at += Math.ceil((4 * floats) / 16) * 16;
    return start;
  };
  const offsets = {
    luma: take(ROW_BATCH * width),
    pass1: take(ROW_BATCH * width),
    pass2: take(2 * ROW_BATCH * width),
    pass3: take(ROW_BATCH * width),
    columns: take(width + width * windowAlongCols),
    hist: take(4 * width),
    // One row of RGB bytes, and 16 more the luma kernel may read past its last pixel.
    rgbRow: take(Math.ceil((3 * width + 16) / 4)),
  };
  const buffer = kernels.reserve(at);
  const columns = new Float32Array(buffer, offsets.columns, width + width * windowAlongCols);
  columns.fill(0);
  return {
    luma: new Float32Array(buffer, offsets.luma, ROW_BATCH * width),
    pass1: new Float32Array(buffer, offsets.pass1, ROW_BATCH * width),
    pass2: new Float32Array(buffer, offsets.pass2, 2 * ROW_BATCH * width),
    pass3: new Float32Array(buffer, offsets.pass3, ROW_BATCH * width),
    columns,
    hist: offsets.hist,
    rgbRow: new Uint8Array(buffer, offsets.rgbRow, 3 * width + 16),
  };
}

/** The shared pipeline; `fillRow(y, out)` writes row y's luma into `out[0..width)`. */
function downsampleRows(
  width: number,
  height: number,
  fillRow: (y: number, out: Float32Array) => void,
  rgb?: PixelImage['data'],
): Float32Array {
  if (width > PDQ_MAX_DIMENSION || height > PDQ_MAX_DIMENSION) {
    throw new RangeError(`image side over ${PDQ_MAX_DIMENSION} px`);
  }
  const windowAlongRows = jaroszWindowSize(width);
  const windowAlongCols = jaroszWindowSize(height);
  const sampleCols = decimationIndices(width);
  const sampleRows = decimationIndices(height);
  const size = PDQ_DOWNSAMPLE_SIZE;

  // Batches of 4 rows, back to back. Rows past the image bottom in the last batch hold stale
  // values; they are filtered along but never used. The first column pass's output (pass2) is a
  // ring of 8 rows, filtered along 4 at a time (a batch adds at most 4 to fewer than 4 waiting,
  // so nothing waiting is overwritten).
  const ring = 2 * ROW_BATCH;
  const kernels = pdqKernels();
  const { luma, pass1, pass2, pass3, columns, hist, rgbRow } = kernels
    ? kernelBuffers(kernels, width, windowAlongCols)
    : {
        luma: new Float32Array(ROW_BATCH * width),
        pass1: new Float32Array(ROW_BATCH * width),
        pass2: new Float32Array(ring * width),
        pass3: new Float32Array(ROW_BATCH * width),
        columns: undefined,
        hist: 0,
        rgbRow: undefined,
      };
  // RGB pixels given with the kernels: each row is copied into their memory and turned to luma there.
  if (kernels && rgb && rgbRow) {
    const rowBytes = 3 * width;
    fillRow = (y, out) => {
      rgbRow.set(rgb.subarray(y * rowBytes, (y + 1) * rowBytes));
      kernels.exports.luma(rgbRow.byteOffset, out.byteOffset, width);
    };
  }
  const slot = (row: number): number => (row % ring) * width;
  // Along 4 rows of `input` (at float offsets r0..r3) into `output`'s first 4 rows.
  const alongRows = kernels
    ? (input: Float32Array, output: Float32Array, r0: number, r1: number, r2: number, r3: number) => {
        const at = input.byteOffset;
        kernels.exports.rows4(at + 4 * r0, at + 4 * r1, at + 4 * r2, at + 4 * r3, output.byteOffset, width, windowAlongRows, hist);
      }
    : (input: Float32Array, output: Float32Array, r0: number, r1: number, r2: number, r3: number) =>
        boxFilterRows4At(input, output, width, windowAlongRows, r0, r1, r2, r3);
  // Output of the second row pass, kept only at the 64 sampled columns, for every row.
  const narrow = new Float32Array(height * size);

  let written = 0; // rows out of the first column pass
  let flushed = 0; // of those, rows through the second row pass
  const flushSecondRowPass = (rows: number): void => {
    alongRows(pass2, pass3, slot(flushed), slot(flushed + 1), slot(flushed + 2), slot(flushed + 3));
    for (let k = 0; k < rows; k++) {
      const src = k * width;
      const dst = (flushed + k) * size;
      for (let j = 0; j < size; j++) narrow[dst + j] = pass3[src + sampleCols[j]!]!;
    }
    flushed += rows;
  };

  const firstColumnPass = new ColumnBoxFilter(width, height, windowAlongCols, kernels, columns);
  for (let y0 = 0; y0 < height; y0 += ROW_BATCH) {
    const rows = Math.min(ROW_BATCH, height - y0);
    for (let k = 0; k < rows; k++) fillRow(y0 + k, luma.subarray(k * width));
    alongRows(luma, pass1, 0, width, 2 * width, 3 * width);
    if (rows === ROW_BATCH && firstColumnPass.pushed >= windowAlongCols) {
      firstColumnPass.push4(pass1, pass2, slot(written), slot(written + 1), slot(written + 2), slot(written + 3));
      written += ROW_BATCH;
    } else {
      for (let k = 0; k < rows; k++) if (firstColumnPass.push(pass1, k * width, pass2, slot(written)) >= 0) written++;
    }
    if (written - flushed >= ROW_BATCH) flushSecondRowPass(ROW_BATCH);
  }
  while (firstColumnPass.drain(pass2, slot(written)) >= 0) {
    if (++written - flushed >= ROW_BATCH) flushSecondRowPass(ROW_BATCH);
  }
  if (written > flushed) flushSecondRowPass(written - flushed);

  const out = new Float32Array(size * size);
  const secondColumnPass = new ColumnBoxFilter(size, height, windowAlongCols);
  const filtered = new Float32Array(size);
  let nextSample = 0;
  const keep = (row: number): void => {
    // Several cells can share a source row when the image is shorter than 64 pixels.
    while (nextSample < size && sampleRows[nextSample] === row) {
      out.set(filtered, nextSample * size);
      nextSample++;
    }
  };
  for (let y = 0; y < height; y++) keep(secondColumnPass.push(narrow, y * size, filtered, 0));
  for (let row = secondColumnPass.drain(filtered, 0); row >= 0; row = secondColumnPass.drain(filtered, 0)) {
    keep(row);
  }
  return out;
}
