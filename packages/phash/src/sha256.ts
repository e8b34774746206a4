import { bytesToHex } from './hex.ts';

/*
 * SHA-256 through Web Crypto (`globalThis.crypto.subtle`), present in browsers (secure
 * contexts) and Node ≥ 19 without imports — native speed and no hand-rolled crypto. It is
 * one-shot: the whole input must be in memory.
 */

/**
 * SHA-256 digest (32 bytes) of the data.
 * @throws Error when Web Crypto is unavailable (e.g. a browser page served over plain HTTP).
 */
export async function sha256(data: Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('Web Crypto (crypto.subtle) is not available in this context');
  // Copy views that do not cover their whole buffer: digest() reads a view's window correctly,
  // but SharedArrayBuffer-backed views are rejected, and a copy is cheap next to hashing.
  const input = data instanceof Uint8Array && data.buffer instanceof SharedArrayBuffer ? data.slice() : data;
  return new Uint8Array(await subtle.digest('SHA-256', input as BufferSource));
}

/** SHA-256 digest as 64 lower-case hex digits. */
export async function sha256Hex(data: Uint8Array | ArrayBuffer): Promise<string> {
  return bytesToHex(await sha256(data));
}
