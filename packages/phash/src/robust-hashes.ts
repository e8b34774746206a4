import { findBlobAnchors } from './blob-anchors.ts';
import { findContentRect } from './content-rect.ts';
import type { Hash256 } from './hash256.ts';
import { rotatedRegion } from './luma-rotate.ts';
import type { PdqIntermediate } from './pdq.ts';
import { pdqDihedralFromIntermediate, pdqIntermediate, pdqIntermediateFromLuma } from './pdq.ts';
import { coefficientsToHash } from './pdq-bits.ts';
import type { LumaRegion } from './pdq-downsample.ts';
import type { PixelImage } from './pixel-image.ts';
import type { LumaPlane } from './working-image.ts';
import { shrinkLuma, shrinkPlane } from './working-image.ts';

/*
 * Crop- and layout-robust hash sets built from PDQ. One plain PDQ hash survives recompression,
 * colour edits, resizing and (via dihedral variants) rotation by 90° and mirroring, but not
 * crops, bars, screenshots, big captions or small tilts: PDQ sees a 1 % shift of the frame as
 * ~40 changed bits. So an image gets several PDQ hashes, each aimed at a family of edits:
 *
 * - global: the whole picture, and the picture with uniform bars or screenshot UI trimmed off
 *   (same trimming on both sides, so a bordered original also matches its bare copy);
 * - centre: the middle 60 % of the (trimmed) picture, which a top/bottom caption does not touch
 *   and which a query also hashes after undoing tilts of ±1–4°;
 * - anchors: 64×64 regions centred on the strongest blobs (difference-of-Gaussians extrema) of a
 *   fixed 1/4-scale copy. Blob centres move with the content, so a crop that keeps a blob keeps
 *   its region; fixed scale means this route covers crops that were not also resized.
 *
 * References (the known images) store few global/centre hashes and many anchors; queries
 * (uploads) compute the variants (dihedral, tilts). Hashes with PDQ quality < 50 are dropped.
 */

/** One blob-anchored region hash with the anchor's position in the 1/4-scale plane. */
export interface AnchorHash {
  /** PDQ hash of the 64×64 region around the anchor. */
  readonly hash: Hash256;
  /** Anchor column at 1/4 scale (sub-pixel). */
  readonly x: number;
  /** Anchor row at 1/4 scale (sub-pixel). */
  readonly y: number;
}

/** The hashes of one image for robust matching. */
export interface RobustHashes {
  /** Whole-picture hashes (queries: all 8 dihedral variants of each). */
  readonly global: Hash256[];
  /** Central-window hashes (queries: also after undoing small tilts). */
  readonly centre: Hash256[];
  /** Blob-anchored region hashes. */
  readonly anchors: AnchorHash[];
}

/** Tunables of the robust scheme (exported for the evaluation script). */
export const ROBUST_PARAMS = {
  /** Longest side of the plane global/centre hashes are computed on. */
  workingSide: 512,
  /** Fixed shrink factor of the anchor plane (fixed so a crop and its original share a scale). */
  anchorFactor: 4,
  /** Side of an anchored region at 1/4 scale. */
  anchorRegion: 64,
  /** Anchors per reference image / per query. */
  referenceAnchors: 40,
  queryAnchors: 20,
  /** Fraction cut from each side for the central window. */
  centreInset: 0.2,
  /** Tilts (degrees) a query undoes before hashing its centre. */
  tilts: [-4, -3, -2, -1, 1, 2, 3, 4] as readonly number[],
  /** Minimum PDQ quality of any hash kept. */
  minQuality: 50,
};

function inset(r: LumaRegion, f: number): LumaRegion {
  const dx = Math.round(r.width * f);
  const dy = Math.round(r.height * f);
  return {
    x: r.x + dx,
    y: r.y + dy,
    width: Math.max(1, r.width - 2 * dx),
    height: Math.max(1, r.height - 2 * dy),
  };
}

function sameRect(a: LumaRegion, b: LumaRegion): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

function good(it: PdqIntermediate): boolean {
  return it.quality >= ROBUST_PARAMS.minQuality;
}

function wholePlane(p: LumaPlane): PdqIntermediate {
  return pdqIntermediateFromLuma(p.luma, p.width, { x: 0, y: 0, width: p.width, height: p.height });
}

/** The 1/4-scale anchor plane and the ≤512 px working plane, sharing one pass over the pixels. */
function planes(image: PixelImage): { anchorPlane: LumaPlane; working: LumaPlane } {
  const { anchorFactor, workingSide } = ROBUST_PARAMS;
  const anchorPlane = shrinkLuma(image, anchorFactor);
  const needed = Math.ceil(Math.max(image.width, image.height) / workingSide);
  // Big images: derive the working plane from the anchor plane (area averages compose).
  const working =
    needed >= anchorFactor
      ? shrinkPlane(anchorPlane, Math.ceil(needed / anchorFactor))
      : shrinkLuma(image, Math.max(1, needed));
  return { anchorPlane, working };
}

function anchorHashes(plane: LumaPlane, count: number): AnchorHash[] {
  const size = ROBUST_PARAMS.anchorRegion;
  const out: AnchorHash[] = [];
  // Only the picture: anchors on app chrome, caption bars or letterbox text around it are shared
  // by every screenshot or meme made with the same app, whatever the picture.
  const within = findContentRect(plane);
  for (const a of findBlobAnchors(plane, { count, margin: size / 2 + 1, within })) {
    // Resample at the sub-pixel anchor so the region is centred on the blob, not the grid.
    const region = rotatedRegion(
      plane,
      { x: a.x + 0.5 - size / 2, y: a.y + 0.5 - size / 2, width: size, height: size },
      0,
    );
    const it = wholePlane(region);
    if (good(it)) out.push({ hash: coefficientsToHash(it.coefficients), x: a.x, y: a.y });
  }
  return out;
}

function globalAndCentre(working: LumaPlane): {
  rects: LumaRegion[];
  whole: LumaRegion;
  trimmed: LumaRegion;
} {
  const whole = { x: 0, y: 0, width: working.width, height: working.height };
  const trimmed = findContentRect(working);
  return { rects: sameRect(whole, trimmed) ? [whole] : [whole, trimmed], whole, trimmed };
}

/**
 * Hash set of a known (reference) image: its plain full-resolution PDQ hash, 1–2 global hashes
 * of the shrunken plane, 1–2 centre and up to 40 anchor hashes. Pass `pdq` when the caller has
 * already computed {@link pdqIntermediate} for the image (it is needed anyway for the standard
 * PDQ hash) to avoid hashing the full resolution twice.
 */
export function robustReferenceHashes(
  image: PixelImage,
  pdq: PdqIntermediate = pdqIntermediate(image),
): RobustHashes {
  const { anchorPlane, working } = planes(image);
  const { rects } = globalAndCentre(working);
  // The plain hash keeps the scheme a superset of plain PDQ matching: the shrunken plane moves
  // a few bits, which matters for edits that already sit near the threshold.
  const global: Hash256[] = good(pdq) ? [coefficientsToHash(pdq.coefficients)] : [];
  const centre: Hash256[] = [];
  for (const r of rects) {
    const g = pdqIntermediateFromLuma(working.luma, working.width, r);
    if (good(g)) global.push(coefficientsToHash(g.coefficients));
    const c = pdqIntermediateFromLuma(working.luma, working.width, inset(r, ROBUST_PARAMS.centreInset));
    if (good(c)) centre.push(coefficientsToHash(c.coefficients));
  }
  return { global, centre, anchors: anchorHashes(anchorPlane, ROBUST_PARAMS.referenceAnchors) };
}

/**
 * Hash set of an upload to check: dihedral variants of the plain and global hashes, centre
 * hashes with tilts undone, and up to 20 anchor hashes. `pdq` as for {@link robustReferenceHashes}.
 */
export function robustQueryHashes(
  image: PixelImage,
  pdq: PdqIntermediate = pdqIntermediate(image),
): RobustHashes {
  const { anchorPlane, working } = planes(image);
  const { rects, trimmed } = globalAndCentre(working);
  const global: Hash256[] = good(pdq) ? Object.values(pdqDihedralFromIntermediate(pdq).hashes) : [];
  const centre: Hash256[] = [];
  for (const r of rects) {
    const g = pdqIntermediateFromLuma(working.luma, working.width, r);
    if (good(g)) global.push(...Object.values(pdqDihedralFromIntermediate(g).hashes));
    const c = pdqIntermediateFromLuma(working.luma, working.width, inset(r, ROBUST_PARAMS.centreInset));
    if (good(c)) centre.push(coefficientsToHash(c.coefficients));
  }
  const window = inset(trimmed, ROBUST_PARAMS.centreInset);
  for (const degrees of ROBUST_PARAMS.tilts) {
    const it = wholePlane(rotatedRegion(working, window, degrees));
    if (good(it)) centre.push(coefficientsToHash(it.coefficients));
  }
  return { global, centre, anchors: anchorHashes(anchorPlane, ROBUST_PARAMS.queryAnchors) };
}
