import type { Hash256 } from './hash256.ts';
import type { AnchorHash } from './robust-hashes.ts';
import type { VideoFrameHashes, VideoSignature } from './video-signature.ts';

/*
 * MMD's video signature written down: a compact binary layout in base64, for a database column
 * or a bank file. A one-minute upload is ~240 frames of up to 4 hashes and 16 anchored regions,
 * about 170 KB of bytes (JSON with hex would be twice that).
 *
 * Layout (little-endian): "MV" 0x01, role (0 reference, 1 query), u32 frame count; per frame
 * f32 seconds, u16 hashes, u16 variants, u16 anchors, then 32 bytes per hash and per variant,
 * and 32 bytes + f32 x + f32 y per anchor.
 */

const MAGIC = [0x4d, 0x56, 0x01];
const HEADER = 8;
const FRAME_HEADER = 10;
/** Refuses a written signature with more frames than this (hostile input). */
export const MAX_SIGNATURE_FRAMES = 20_000;
/**
 * Refuses a written frame with more entries than these (hostile input). MMD's own frames carry at
 * most 4 whole/centre hashes, 28 variants and 32 anchors; a reference frame merges 3 of them.
 */
const MAX_HASHES_PER_FRAME = 64;
const MAX_VARIANTS_PER_FRAME = 7 * 64;
const MAX_ANCHORS_PER_FRAME = 256;
/**
 * Refuses a written signature with more hashes, variants and anchors than this in all (hostile
 * input: matching costs their number times the other side's). A reference MMD makes of a
 * 15-minute video has ~175,000 (900 samples of 3 merged frames, each ~64 entries).
 */
export const MAX_SIGNATURE_ENTRIES = 200_000;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    chunk += B64[a >> 2]! + B64[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    chunk += b === undefined ? '=' : B64[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    chunk += c === undefined ? '=' : B64[c & 63]!;
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  if (clean.length % 4 === 1) throw new RangeError('video signature: bad base64 length');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const code = clean.charCodeAt(i);
    const v = code < 128 ? B64_INDEX[code]! : -1;
    if (v < 0) throw new RangeError('video signature: not base64');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** Writes a signature as base64 text. */
export function encodeVideoSignature(signature: VideoSignature): string {
  let size = HEADER;
  for (const f of signature.frames) {
    size += FRAME_HEADER + 32 * (f.hashes.length + (f.variants?.length ?? 0)) + 40 * f.anchors.length;
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[3] = signature.role === 'query' ? 1 : 0;
  view.setUint32(4, signature.frames.length, true);
  let at = HEADER;
  const hash = (h: Hash256) => {
    bytes.set(h, at);
    at += 32;
  };
  for (const f of signature.frames) {
    const variants = f.variants ?? [];
    view.setFloat32(at, f.seconds, true);
    view.setUint16(at + 4, f.hashes.length, true);
    view.setUint16(at + 6, variants.length, true);
    view.setUint16(at + 8, f.anchors.length, true);
    at += FRAME_HEADER;
    for (const h of f.hashes) hash(h);
    for (const h of variants) hash(h);
    for (const a of f.anchors) {
      hash(a.hash);
      view.setFloat32(at, a.x, true);
      view.setFloat32(at + 4, a.y, true);
      at += 8;
    }
  }
  return toBase64(bytes);
}

/**
 * Reads a signature written by {@link encodeVideoSignature}.
 * @throws RangeError naming what is wrong, for anything that is not one.
 */
export function decodeVideoSignature(text: string): VideoSignature {
  const bytes = fromBase64(text.trim());
  const bad = (why: string) => new RangeError(`video signature: ${why}`);
  if (bytes.length < HEADER || bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2]) {
    throw bad('unknown format');
  }
  if (bytes[3]! > 1) throw bad('unknown role');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  if (count > MAX_SIGNATURE_FRAMES) throw bad(`more than ${MAX_SIGNATURE_FRAMES} frames`);
  let at = HEADER;
  const need = (n: number) => {
    if (at + n > bytes.length) throw bad('truncated');
  };
  const hash = (): Hash256 => {
    const h = bytes.slice(at, at + 32) as Hash256;
    at += 32;
    return h;
  };
  const frames: VideoFrameHashes[] = [];
  let previous = -Infinity;
  let entries = 0;
  for (let i = 0; i < count; i++) {
    need(FRAME_HEADER);
    const seconds = view.getFloat32(at, true);
    const nh = view.getUint16(at + 4, true);
    const nv = view.getUint16(at + 6, true);
    const na = view.getUint16(at + 8, true);
    at += FRAME_HEADER;
    if (!Number.isFinite(seconds) || seconds < 0 || seconds < previous) throw bad(`frame ${i}: bad time`);
    if (nh > MAX_HASHES_PER_FRAME || nv > MAX_VARIANTS_PER_FRAME || na > MAX_ANCHORS_PER_FRAME) {
      throw bad(`frame ${i}: too many hashes`);
    }
    previous = seconds;
    entries += nh + nv + na;
    if (entries > MAX_SIGNATURE_ENTRIES) throw bad(`more than ${MAX_SIGNATURE_ENTRIES} hashes`);
    need(32 * (nh + nv) + 40 * na);
    const hashes: Hash256[] = [];
    for (let k = 0; k < nh; k++) hashes.push(hash());
    const variants: Hash256[] = [];
    for (let k = 0; k < nv; k++) variants.push(hash());
    const anchors: AnchorHash[] = [];
    for (let k = 0; k < na; k++) {
      const h = hash();
      const x = view.getFloat32(at, true);
      const y = view.getFloat32(at + 4, true);
      at += 8;
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw bad(`frame ${i}: bad anchor position`);
      anchors.push({ hash: h, x, y });
    }
    frames.push(nv > 0 ? { seconds, hashes, variants, anchors } : { seconds, hashes, anchors });
  }
  if (at !== bytes.length) throw bad('trailing bytes');
  return { role: bytes[3] === 1 ? 'query' : 'reference', frames };
}

/**
 * A few hashes of a signature to find it by in a near-duplicate index: whole-picture and centre
 * hashes (with their variants when `variants`) and the strongest `anchorsPerFrame` anchored
 * regions of at most `maxFrames` frames spread evenly. A copy shares some of them; matchVideo
 * then decides on the whole signature.
 */
export function videoSignatureIndexHashes(
  signature: VideoSignature,
  options: { maxFrames: number; anchorsPerFrame: number; variants: boolean },
): Hash256[] {
  const frames = signature.frames;
  const picked =
    frames.length <= options.maxFrames
      ? frames
      : Array.from({ length: options.maxFrames }, (_, i) => frames[Math.floor((i * frames.length) / options.maxFrames)]!);
  const out: Hash256[] = [];
  for (const f of picked) {
    // At most 12 whole/centre hashes a frame (a merged reference frame has 3 × 4), so a written
    // signature cannot flood an index.
    const hashes = f.hashes.slice(0, 12);
    out.push(...hashes);
    if (options.variants && f.variants) out.push(...f.variants.slice(0, 7 * hashes.length));
    for (const a of f.anchors.slice(0, options.anchorsPerFrame)) out.push(a.hash);
  }
  return out;
}
