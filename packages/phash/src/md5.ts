import { bytesToHex } from './hex.ts';

/*
 * MD5 (RFC 1321), written out because Web Crypto deliberately omits it, yet hash-sharing
 * programmes (e.g. StopNCII partners, NCMEC lists) still exchange MD5 digests of exact files.
 * Not for security: only to recognise byte-identical files. Incremental, so large uploads can
 * be hashed chunk by chunk.
 */

/** Per-round left-rotation amounts. */
const SHIFTS = new Uint8Array([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
  21, 6, 10, 15, 21,
]);

/** K[i] = floor(|sin(i + 1)| · 2^32), as the RFC defines. */
const K = new Int32Array(64).map((_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);

/** Incremental MD5: `update` any number of times, then `digest` once. */
export class Md5 {
  private a = 0x67452301;
  private b = 0xefcdab89 | 0;
  private c = 0x98badcfe | 0;
  private d = 0x10325476;
  private readonly block = new Uint8Array(64);
  private readonly words = new Int32Array(16);
  private blockLength = 0;
  private totalBytes = 0;
  private finished = false;

  /** Feeds more bytes. */
  update(data: Uint8Array): this {
    if (this.finished) throw new Error('MD5 digest already taken');
    this.totalBytes += data.length;
    let i = 0;
    if (this.blockLength > 0) {
      const n = Math.min(64 - this.blockLength, data.length);
      this.block.set(data.subarray(0, n), this.blockLength);
      this.blockLength += n;
      i = n;
      if (this.blockLength < 64) return this;
      this.compress(this.block, 0);
      this.blockLength = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.compress(data, i);
    this.block.set(data.subarray(i), 0);
    this.blockLength = data.length - i;
    return this;
  }

  /** Finishes and returns the 16-byte digest. */
  digest(): Uint8Array {
    if (this.finished) throw new Error('MD5 digest already taken');
    const bitLength = this.totalBytes * 8;
    // Padding: 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian.
    const pad = new Uint8Array((this.blockLength < 56 ? 56 : 120) - this.blockLength + 8);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, bitLength >>> 0, true);
    view.setUint32(pad.length - 4, Math.floor(bitLength / 2 ** 32), true);
    this.update(pad);
    this.finished = true;
    const out = new Uint8Array(16);
    const outView = new DataView(out.buffer);
    outView.setInt32(0, this.a, true);
    outView.setInt32(4, this.b, true);
    outView.setInt32(8, this.c, true);
    outView.setInt32(12, this.d, true);
    return out;
  }

  private compress(bytes: Uint8Array, offset: number): void {
    const m = this.words;
    for (let i = 0; i < 16; i++) {
      const p = offset + 4 * i;
      m[i] = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
    }
    let { a, b, c, d } = this;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + K[i]! + m[g]!) | 0;
      const s = SHIFTS[i]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    this.a = (this.a + a) | 0;
    this.b = (this.b + b) | 0;
    this.c = (this.c + c) | 0;
    this.d = (this.d + d) | 0;
  }
}

/** MD5 digest (16 bytes) of a byte array. */
export function md5(data: Uint8Array): Uint8Array {
  return new Md5().update(data).digest();
}

/** MD5 digest as 32 lower-case hex digits. */
export function md5Hex(data: Uint8Array): string {
  return bytesToHex(md5(data));
}
