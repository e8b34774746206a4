/**
 * How hashes are written down: in the database, on the wire and in bank files. PDQ, SHA-256 and
 * MD5 are lower-case hex; a vPDQ is HMA's compact JSON (`["pdqhex,quality,seconds", …]`), which
 * HMA and python-threatexchange read as they are; a robust hash set is a small JSON object.
 */
import { decodeVideoSignature, type Hash256, hash256FromHex, hash256ToHex, type RobustHashes, ROBUST_SCHEMES, robustSchemeOf, robustSetVersion, type VideoSignature, videoSignatureIndexHashes, type VpdqFeature } from '@mmd/phash';
import type { RobustHashSet, SignalType } from '@mmd/contracts';
import { AppError } from '../errors.ts';

const HEX = { pdq: /^[0-9a-f]{64}$/, sha256: /^[0-9a-f]{64}$/, md5: /^[0-9a-f]{32}$/ } as const;

/**
 * The robust hash set as stored and sent: hex strings, anchor positions kept to 1/100 pixel.
 * `v: 3` only when the anchors exceed the 64 a v2 set may carry, `v: 4` when they exceed v3's 96
 * (older instances reject more), so a set that fits still imports into them.
 */
export function encodeRobust(h: RobustHashes): RobustHashSet {
  return {
    v: robustSetVersion(h.anchors.length),
    // Scheme 1 unnamed, as every set was written before schemes had numbers.
    ...(robustSchemeOf(h) !== 1 ? { scheme: robustSchemeOf(h) } : {}),
    global: h.global.map(hash256ToHex),
    centre: h.centre.map(hash256ToHex),
    anchors: h.anchors.map((a) => ({
      hash: hash256ToHex(a.hash),
      x: Math.round(a.x * 100) / 100,
      y: Math.round(a.y * 100) / 100,
      ...(a.scale !== undefined && a.scale !== 1 ? { scale: Math.round(a.scale * 10000) / 10000 } : {}),
      ...(a.turn !== undefined && a.turn !== 'original' ? { turn: a.turn } : {}),
      ...(a.part !== undefined ? { part: a.part } : {}),
    })),
  };
}

/**
 * A stored or sent set as hashes. Sets written before `v: 2` keep their whole-picture and centre
 * hashes; their anchors lay on a fixed 1/4-scale plane that today's anchors (on a plane where
 * the picture has one size) cannot be compared with, so they are dropped: such an image still
 * matches its copies, its crops only once it is hashed again. A set without `scheme` is scheme 1.
 */
export function decodeRobust(set: RobustHashSet): RobustHashes {
  if (set.scheme !== undefined && !ROBUST_SCHEMES.includes(set.scheme)) {
    throw new AppError('validation_failed', `robust set: unknown scheme ${String(set.scheme)}`, { errors: [{ path: 'robust/scheme', message: 'unknown scheme' }] });
  }
  return {
    scheme: set.scheme ?? 1,
    global: set.global.map((h) => hash256FromHex(h)),
    centre: set.centre.map((h) => hash256FromHex(h)),
    anchors:
      set.v === 2 || set.v === 3 || set.v === 4
        ? set.anchors.map((a) => ({
            hash: hash256FromHex(a.hash),
            x: a.x,
            y: a.y,
            ...(a.scale !== undefined ? { scale: a.scale } : {}),
            ...(a.turn !== undefined ? { turn: a.turn } : {}),
            ...(a.part !== undefined ? { part: a.part } : {}),
          }))
        : [],
  };
}

export function parseRobustJson(text: string | null): RobustHashes | null {
  return text ? decodeRobust(JSON.parse(text) as RobustHashSet) : null;
}

/**
 * A stored set, or null when there is none or it cannot be read (a row written by something
 * other than this build: an unknown scheme, broken JSON). For the paths that must never stop on
 * one bad row (the indexes, matching): such a signal is matched by its plain PDQ value alone.
 */
export function readStoredRobust(text: string | null | undefined): RobustHashes | null {
  if (!text) return null;
  try {
    return decodeRobust(JSON.parse(text) as RobustHashSet);
  } catch {
    return null;
  }
}

/** A pasted PDQ hash alone behaves like a robust set with one whole-picture hash. */
export function plainRobust(pdq: Hash256): RobustHashes {
  return { global: [pdq], centre: [], anchors: [] };
}

/** vPDQ frames in HMA's compact JSON (python-threatexchange `vpdq_to_json`), without spaces. */
export function formatVpdqCompact(frames: readonly VpdqFeature[]): string {
  return JSON.stringify(frames.map((f) => `${hash256ToHex(f.hash)},${f.quality},${f.timestampSeconds.toFixed(3)}`));
}

/**
 * Reads a vPDQ in HMA's compact JSON or the reference tool's `frame,quality,hex,seconds` lines.
 * @throws AppError validation_failed naming what is wrong.
 */
export function parseVpdqAny(text: string, path = 'value'): VpdqFeature[] {
  const trimmed = text.trim();
  const frames: VpdqFeature[] = [];
  const bad = (why: string) => new AppError('validation_failed', `${path}: not a vPDQ hash (${why})`, { errors: [{ path, message: why }] });
  if (trimmed.startsWith('[')) {
    let items: unknown;
    try {
      items = JSON.parse(trimmed);
    } catch {
      throw bad('malformed JSON');
    }
    if (!Array.isArray(items)) throw bad('expected a JSON list');
    for (const [i, item] of items.entries()) {
      if (typeof item !== 'string') throw bad(`frame ${i} is not a string`);
      const [hex, quality, seconds, ...rest] = item.split(',');
      frames.push(frame(hex, quality, seconds, i, rest.length > 0, bad));
    }
  } else {
    for (const line of trimmed.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      const [index, quality, hex, seconds, ...rest] = line.trim().split(',');
      frames.push(frame(hex, quality, seconds, Number(index), rest.length > 0, bad));
    }
  }
  if (frames.length === 0) throw bad('no frames');
  if (frames.length > 20_000) throw bad('more than 20,000 frames');
  return frames;
}

function frame(hex: string | undefined, quality: string | undefined, seconds: string | undefined, index: number, extra: boolean, bad: (why: string) => AppError): VpdqFeature {
  const h = (hex ?? '').toLowerCase();
  const q = Number(quality);
  const t = Number(seconds);
  if (extra || !HEX.pdq.test(h) || !Number.isInteger(q) || q < 0 || q > 100 || !Number.isFinite(t) || t < 0 || !Number.isInteger(index) || index < 0) {
    throw bad(`frame ${index} should be pdq hex, quality 0-100 and seconds ≥ 0`);
  }
  return { frameNumber: index, quality: q, hash: hash256FromHex(h), timestampSeconds: t };
}

/** A hash value in its stored form, or a validation error naming `path`. */
export function normaliseSignal(type: SignalType, value: string, path = 'value'): { value: string; frames?: VpdqFeature[] } {
  if (type === 'vpdq') {
    const frames = parseVpdqAny(value, path);
    return { value: formatVpdqCompact(frames), frames };
  }
  const v = value.trim().toLowerCase();
  if (!HEX[type].test(v)) {
    const length = type === 'md5' ? 32 : 64;
    throw new AppError('validation_failed', `${path}: a ${type} hash is ${length} hex digits`, { errors: [{ path, message: `expected ${length} hex digits` }] });
  }
  return { value: v };
}

/** Frames with PDQ quality at least 50, the reference's rule for frames worth matching. */
export function usableFrames(frames: readonly VpdqFeature[]): VpdqFeature[] {
  return frames.filter((f) => f.quality >= 50);
}

/** At most `n` frames spread evenly: enough to find a candidate video in the index. */
export function sampleFrames(frames: readonly VpdqFeature[], n: number): VpdqFeature[] {
  if (frames.length <= n) return [...frames];
  const out: VpdqFeature[] = [];
  for (let i = 0; i < n; i++) out.push(frames[Math.floor((i * frames.length) / n)]!);
  return out;
}

/** A list of hashes as one base64 string (32 bytes each). */
export function encodeHashList(hashes: readonly Hash256[]): string {
  const bytes = Buffer.alloc(hashes.length * 32);
  for (const [i, h] of hashes.entries()) bytes.set(h, i * 32);
  return bytes.toString('base64');
}

export function decodeHashList(text: string | null): Hash256[] {
  if (!text) return [];
  const bytes = Buffer.from(text, 'base64');
  const out: Hash256[] = [];
  for (let i = 0; i + 32 <= bytes.length; i += 32) out.push(new Uint8Array(bytes.subarray(i, i + 32)));
  return out;
}

/**
 * The hashes of a video signature an index keeps: whole-picture and centre hashes and the four
 * strongest anchored regions of at most 32 frames, without rotation variants (the other side of
 * a search carries those).
 */
export function videoIndexKeys(signature: VideoSignature): Hash256[] {
  return videoSignatureIndexHashes(signature, { maxFrames: 32, anchorsPerFrame: 4, variants: false });
}

/**
 * The hashes of a bank signal's reference signature the bank index keeps: denser than an
 * upload's (a frame every ~5 s of a 15-minute video), so a short excerpt of a long banked video
 * still shares a key with it; 4 whole/centre hashes and 2 anchored regions a frame.
 */
export function videoSignalKeys(signature: VideoSignature): Hash256[] {
  const frames = signature.frames.map((f) => ({ ...f, hashes: f.hashes.slice(0, 4), variants: undefined }));
  return videoSignatureIndexHashes({ role: signature.role, frames }, { maxFrames: 180, anchorsPerFrame: 2, variants: false });
}

/**
 * The hashes to search an index with for this signature: up to 64 frames, with their rotation
 * variants when it carries them.
 */
export function videoSearchKeys(signature: VideoSignature): Hash256[] {
  return videoSignatureIndexHashes(signature, { maxFrames: 64, anchorsPerFrame: 4, variants: true });
}

/** A stored signature, or null when there is none or it cannot be read (never thrown at a matcher). */
export function parseVideoSignature(text: string | null | undefined): VideoSignature | null {
  if (!text) return null;
  try {
    return decodeVideoSignature(text);
  } catch {
    return null;
  }
}
