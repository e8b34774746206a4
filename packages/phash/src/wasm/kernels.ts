/*
 * PDQ's hot loops compiled to WebAssembly with 128-bit SIMD (pdq-kernels.wat), loaded once per
 * thread. Each kernel does the very float operations of the JavaScript it stands in for, so hashes
 * are the same bit for bit with or without it; where WebAssembly SIMD is missing (or a browser
 * refuses to compile on its main thread), {@link pdqKernels} returns null and the JavaScript runs.
 * Each thread's kernel memory grows to what its largest image needed (a few rows and one
 * window of rows: about 1 MB for a 4000-pixel-wide photo) and is kept for the next.
 */
import { DCT_MATRIX } from '../pdq-dct-matrix.ts';
import { PDQ_KERNELS_WASM_BASE64 } from './pdq-kernels.wasm.ts';

/** The kernels' exports (byte offsets into `memory`). */
interface KernelExports {
  readonly memory: WebAssembly.Memory;
  rows4(in0: number, in1: number, in2: number, in3: number, out: number, n: number, w: number, hist: number): void;
  columns4(
    sums: number,
    input: number,
    width: number,
    b0: number,
    b1: number,
    b2: number,
    b3: number,
    o0: number,
    o1: number,
    o2: number,
    o3: number,
    count: number,
  ): void;
  dct(): void;
  luma(src: number, dst: number, n: number): void;
}

/** Byte offsets of the DCT's fixed buffers (pdq-kernels.wat). */
const DCT = { D: 0, DT: 4096, A: 8192, B: 28672 } as const;
/** Where the memory the box filter lays out begins. */
export const KERNEL_HEAP_START = 32768;

export interface PdqKernels {
  readonly exports: KernelExports;
  /**
   * Makes the memory at least `bytes` long (growing invalidates earlier views: take views after
   * this call) and returns its buffer.
   */
  reserve(bytes: number): ArrayBuffer;
  /** {@link dct64To16} of a 64×64 plane. */
  dct64To16(a: Float32Array): Float32Array;
}

let enabled = true;
let loaded: PdqKernels | null | undefined;

/** Turns the WebAssembly kernels off (false) or back on: for tests and benchmarks comparing both. */
export function usePdqKernels(on: boolean): void {
  enabled = on;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The kernels, or null where they cannot run (or are turned off). */
export function pdqKernels(): PdqKernels | null {
  if (!enabled) return null;
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    if (typeof WebAssembly !== 'object') return null;
    const module = new WebAssembly.Module(decodeBase64(PDQ_KERNELS_WASM_BASE64) as BufferSource);
    const exports = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    const k: PdqKernels = {
      exports,
      reserve(bytes: number): ArrayBuffer {
        const have = exports.memory.buffer.byteLength;
        if (bytes > have) exports.memory.grow(Math.ceil((bytes - have) / 65536));
        return exports.memory.buffer;
      },
      dct64To16(a: Float32Array): Float32Array {
        const buffer = exports.memory.buffer;
        new Float32Array(buffer, DCT.A, 64 * 64).set(a);
        exports.dct();
        return new Float32Array(buffer, DCT.B, 16 * 16).slice();
      },
    };
    // The DCT's matrix and its transpose, once.
    const buffer = exports.memory.buffer;
    new Float32Array(buffer, DCT.D, 16 * 64).set(DCT_MATRIX);
    const dt = new Float32Array(buffer, DCT.DT, 64 * 16);
    for (let i = 0; i < 16; i++) for (let j = 0; j < 64; j++) dt[j * 16 + i] = DCT_MATRIX[i * 64 + j]!;
    loaded = k;
  } catch {
    loaded = null;
  }
  return loaded;
}
