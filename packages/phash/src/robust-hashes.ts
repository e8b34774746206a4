import type { BlobAnchor, BlobArea } from './blob-anchors.ts';
import { chooseBlobAnchors, findBlobs } from './blob-anchors.ts';
import { findContentRect } from './content-rect.ts';
import type { Hash256 } from './hash256.ts';
import { rotatedRegion } from './luma-rotate.ts';
import { findScreenQuad, warpQuad } from './screen-quad.ts';
import type { PdqIntermediate } from './pdq.ts';
import type { DihedralTransform } from './pdq-dihedral.ts';
import { DIHEDRAL_TRANSFORMS, transformCoefficients } from './pdq-dihedral.ts';
import { pdqDihedralFromIntermediate, pdqIntermediate, pdqIntermediateFromLuma } from './pdq.ts';
import { coefficientsToHash } from './pdq-bits.ts';
import type { LumaRegion } from './pdq-downsample.ts';
import type { PixelImage } from './pixel-image.ts';
import { equaliseLocally } from './local-equalise.ts';
import { dct64To16 } from './pdq-dct.ts';
import { pdqDownsampleLuma } from './pdq-downsample.ts';
import { pdqQuality } from './pdq-quality.ts';
import type { LumaPlane } from './working-image.ts';
import { resizePlane, shrinkLuma, shrinkPlane } from './working-image.ts';

/*
 * Crop- and layout-robust hash sets built from PDQ. One plain PDQ hash survives recompression,
 * colour edits, resizing and (via dihedral variants) rotation by 90° and mirroring, but not
 * crops, bars, screenshots, big captions or small tilts: PDQ sees a 1 % shift of the frame as
 * ~40 changed bits. So an image gets several PDQ hashes, each aimed at a family of edits:
 *
 * - global: the whole picture, and the picture with uniform bars or screenshot UI trimmed off
 *   (same trimming on both sides, so a bordered original also matches its bare copy; only a
 *   flat surround is trimmed, not a dark sky that a bright sticker makes look like one);
 * - centre: the middle 60 % of the (trimmed) picture, which a top/bottom caption does not touch
 *   and which a query also hashes after undoing tilts of ±1–4°, and after undoing a "straighten"
 *   (turned 3–12° and cropped to the largest upright rectangle of the same aspect: the window
 *   turned back and shrunk by the zoom that crop implies);
 * - screen (queries only): a photo of a screen shows the picture as a quadrilateral in a dark
 *   surround; its sides are found and it is warped back to a rectangle (screen-quad.ts), then
 *   hashed whole and centred like the picture itself;
 * - quadrants (queries only): each quarter of the picture on the finer anchor master plane, its
 *   own surround trimmed (growing back over a pale edge the surround hid), hashed whole and
 *   compared with the references' global hashes, and its central window compared with their
 *   centre hashes: a photo in a 2×2 collage (a smooth one's whole-picture hash drifts once
 *   shrunk into a cell and recompressed; its centre drifts less);
 * - anchors: 64×64 regions centred on the strongest blobs (difference-of-Gaussians extrema) of a
 *   copy whose picture (surround trimmed) is scaled to a fixed size. Blob centres move with the
 *   content, so a crop that keeps a blob keeps its region. Because the picture's size is
 *   normalised, a crop that was then resized looks like a plain crop: a crop keeping a share k
 *   of the longer side is magnified 1/k whatever size the app saved it at. So the reference
 *   hashes its anchors at one scale and the query at a few magnifications from 1 to 2 (crops
 *   keeping half the picture or more), each anchor tagged with its magnification. Besides the
 *   strongest blobs, a reference keeps some chosen spread over a 3×3 grid, and a query's
 *   unmagnified anchors are spread that way too: a sticker's own strong blobs then take only
 *   the slots of the cells it covers. Those anchors are also chosen again within the outer
 *   strips across the longer side (left and right 40 % of a landscape picture), each strip a
 *   group of its own: a sticker and the regions touching it cover most cells, and a strip beside
 *   it keeps enough of the reference's.
 *
 * References (the known images) store few global/centre hashes and many anchors, plus centre
 * hashes turned by ±8° (with the query's ±1–4° that covers tilts up to ±12°); queries
 * (uploads) compute the variants (dihedral, tilts, quadrants, magnifications). Hashes with PDQ
 * quality < 50 are dropped (anchored regions: < 30).
 */

/** One blob-anchored region hash with the anchor's position in its anchor plane. */
export interface AnchorHash {
  /** PDQ hash of the 64×64 region around the anchor. */
  readonly hash: Hash256;
  /** Anchor column in the anchor plane (sub-pixel). */
  readonly x: number;
  /** Anchor row in the anchor plane (sub-pixel). */
  readonly y: number;
  /**
   * Magnification the anchor plane assumed (the picture's longer side scaled to
   * `anchorSide / scale`); absent means 1. Anchors of different magnifications are never mixed
   * in one geometry.
   */
  readonly scale?: number;
  /**
   * Queries only: the dihedral transform (pdq-dihedral.ts) the region and its position were
   * turned by, for a copy that was mirrored or turned by 90° steps; absent means untouched.
   * Anchors of different turns are never mixed in one geometry.
   */
  readonly turn?: DihedralTransform;
  /**
   * Queries only: the strip of an uncropped picture the anchor was chosen in, besides the anchors
   * chosen over the whole picture; absent means the whole picture. An overlay over part of the
   * picture (a sticker, an emoji) takes the whole picture's strongest blobs for itself, so the
   * anchors of a strip away from it are chosen again. Anchors of different parts are never
   * mixed in one geometry.
   */
  readonly part?: AnchorPart;
}

/** A strip of the picture a query's unmagnified anchors are also chosen in. */
export type AnchorPart = 'left' | 'right' | 'top' | 'bottom';

/**
 * Versions of the robust scheme. Hashes of different schemes are not comparable, except the
 * whole-picture ones (the full-resolution PDQ hash is in every scheme), so every set says which
 * it was made with:
 * - 1: the windows' and regions' PDQ as it is (sets without a `scheme` are scheme 1);
 * - 2: each window's and region's 64×64 PDQ downsample is evened out locally first
 *   (local-equalise.ts, 4×4 tiles, clip 2), so a dark or flat picture's own structure outweighs a
 *   bright overlay it shares with other pictures (app chrome, a caption bar), and a smooth photo's
 *   regions become usable anchors. The plain full-resolution PDQ hash is not touched. (A clip of 3
 *   amplified resampling noise enough to lose crops: docs/benchmarks.md.)
 */
export type RobustScheme = 1 | 2;
/** The schemes this build can compute and match, oldest first. */
export const ROBUST_SCHEMES: readonly RobustScheme[] = [1, 2];

/** The scheme a set was made with (absent: 1, the sets written before schemes had numbers). */
export function robustSchemeOf(h: Pick<RobustHashes, 'scheme'>): RobustScheme {
  return h.scheme ?? 1;
}

/** The hashes of one image for robust matching. */
export interface RobustHashes {
  /** The scheme the set was made with; absent means 1. */
  readonly scheme?: RobustScheme;
  /** Whole-picture hashes (queries: all 8 dihedral variants of each, and the quadrants). */
  readonly global: Hash256[];
  /** Central-window hashes (queries: also after undoing small tilts; references: turned ±8°). */
  readonly centre: Hash256[];
  /** Blob-anchored region hashes. */
  readonly anchors: AnchorHash[];
}

/** Tunables of the robust scheme (exported for the evaluation script). */
/**
 * Anchors each version of a stored set may carry (the server's bank files, peers and the protect
 * page write a set in the oldest version whose limit it fits, so older instances still read it).
 */
export const ROBUST_SET_MAX_ANCHORS = { 2: 64, 3: 96, 4: 192 } as const;

/** The version a set with this many anchors is written as: the oldest whose limit it fits. */
export function robustSetVersion(anchors: number): 2 | 3 | 4 {
  return anchors > ROBUST_SET_MAX_ANCHORS[3] ? 4 : anchors > ROBUST_SET_MAX_ANCHORS[2] ? 3 : 2;
}

export const ROBUST_PARAMS = {
  /** Longest side of the plane global/centre hashes are computed on. */
  workingSide: 512,
  /** Longer side of the picture (surround trimmed) in the reference's anchor plane. */
  anchorSide: 384,
  /** Side of an anchored region in the anchor plane. */
  anchorRegion: 64,
  /**
   * Shrinks a reference hashes its anchors at, each with `referenceAnchors` anchors. Region
   * hashes tolerate only ~2 % of scale error and the query's magnifications are ~9 % apart, so
   * the reference's scales 3 % apart put every crop within ~1.5 % of some pair (two scales
   * 4.5 % apart left ~2.2 %, and lost crops keeping 90 % of the picture).
   */
  referenceScales: [1, 1.03, 1.06] as readonly number[],
  /** Anchors per reference scale: the strongest... */
  referenceAnchors: 32,
  /**
   * ...and this many more spread over a grid of `anchorCells`² cells (blob-anchors.ts), so a
   * sticker or emoji over part of a query, whose own strong blobs take that part's slots, still
   * leaves reference anchors elsewhere, and a small crop (a third of the picture) still holds
   * enough of them. 3 × (32 + 32) = 192 anchors, the most a v4 stored set carries (hash-codec.ts
   * in the server; v3 sets carried 96 as 3 × (24 + 8), v2 sets 64). Anchors are chosen, not
   * hashed differently, so sets with fewer stay comparable: no new scheme.
   */
  referenceSpreadAnchors: 32,
  /** Cells across and down that spread anchors are chosen from. */
  anchorCells: 3,
  /**
   * Anchors per query magnification: the strongest, except at magnification 1 (an uncropped
   * picture, which a sticker may cover in part), where they are spread over `anchorCells`².
   */
  queryAnchors: 12,
  /** Magnifications a query tries for its anchors (1 = not cropped, 2 = half the longer side kept). */
  queryScales: [1, 1.09, 1.19, 1.3, 1.41, 1.54, 1.68, 1.83, 2] as readonly number[],
  /**
   * Magnifications whose query anchors are also hashed in the 7 other dihedral turns (mirrored,
   * turned by 90° steps): a mirrored or turned copy of a texture-like photo, whose whole-picture
   * hash is too unstable for its dihedral variants to match, still lines up region by region.
   */
  turnedAnchorScales: [1] as readonly number[],
  /**
   * Strips of an uncropped query (magnification 1) whose anchors are chosen again, each a group
   * of its own: a sticker over a fifth of the picture, with the 64-pixel regions that touch it,
   * leaves free only a strip beside it. Only those across the longer side are used.
   */
  queryParts: ['left', 'right', 'top', 'bottom'] as readonly AnchorPart[],
  /** Share of the picture's width (left, right) or height (top, bottom) a part covers. */
  partShare: 0.4,
  /** Aspect ratio up to which a picture counts as squarish and gets all four parts. */
  squarish: 1.2,
  /** Fraction cut from each side for the central window. */
  centreInset: 0.2,
  /**
   * Whether a query also hashes the central window of each quarter (its surround trimmed), for
   * the reference's centre hashes: a smooth photo in a 2×2 collage (development's Storm: its
   * quarter 40–54 bits from the reference's whole picture, its quarter's centre 16–22 from the
   * reference's centre). Query-only: sets made before match as they did.
   */
  quadrantCentres: true,
  /**
   * A quarter's trimmed rectangle grows back over each adjacent row (column) more than this share
   * not flat (content-rect.ts `growShare`; null: no growing): a pale sky or a lamp's glow at the
   * edge of a photo in a white collage cell looks like the cell, and trimming cut it off (the
   * held-out mountain photo `aitzgorri`: 106 bits from the reference trimmed, 14 grown). Query-only.
   */
  quadrantGrowShare: 0.5 as number | null,
  /**
   * The plane a query's quarters are hashed on: `'master'` (the ≈ 768-px plane the anchors come
   * from) or `'working'` (≤ 512 px, as before). A photo in one cell of a collage saved at about
   * 1,100 px is 177 px wide on the working plane, and its hash drifted to 32 bits from the
   * reference's on some held-out wallpapers; on the master plane, 14–26. Query-only.
   */
  quadrantPlane: 'master' as 'working' | 'master',
  /** Tilts (degrees) a query undoes before hashing its centre. */
  tilts: [-4, -3, -2, -1, 1, 2, 3, 4] as readonly number[],
  /** Whether turned centres are also hashed on the untrimmed plane when trimming cut something. */
  tiltWholeToo: true,
  /** Tilts (degrees) a reference also hashes its centre at. */
  referenceTilts: [-8, 8] as readonly number[],
  /**
   * Rotations (degrees) a query undoes together with the zoom a "straighten" tool adds (it turns
   * the picture and crops it to the largest upright rectangle of the same aspect, then saves it
   * at the old size): the reference's central window, turned and magnified, hashed again.
   */
  straightenTilts: [-12, -11, -10, -9, -8, -7, -6, -5, -4, -3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] as readonly number[],
  /** Minimum PDQ quality of any hash kept. */
  minQuality: 50,
  /**
   * Minimum PDQ quality of an anchored region's hash. Lower than `minQuality`: a region of a
   * smooth or dark photo (sky, a night scene) is often below 50 yet still located by its blob,
   * and an anchor match must also agree on one geometry with two more, which a lone flat region
   * shared by chance does not.
   */
  anchorMinQuality: 30,
  /**
   * Trimming a surround removes rows (columns) only when their median share of picture pixels is
   * at most this (content-rect.ts); null: the rule before, which trimmed any run of "empty" rows.
   */
  trimMaxRemovedShare: 0.1 as number | null,
  /**
   * The scheme new sets are made with (RobustScheme): 2. The server also makes scheme-1 query
   * sets while its banks hold scheme-1 sets (robustQueryHashes' `scheme` option).
   */
  scheme: 2 as RobustScheme,
  /**
   * Development probe: undefined (the default) equalises as the scheme says; otherwise it
   * overrides the scheme: null, none; `[grid, clip]` equalises the working and anchor planes
   * locally (local-equalise.ts) after trimming (`[grid, clip, 'working']`: the working plane
   * only; `'window'`: each whole-picture, quarter and centre window on its own, the anchors as
   * before; `'all'`: as 'window', and each anchored region on its own, 2×2 tiles; `'small'` /
   * `'small-all'`: as 'window' / 'all', but the 64×64 downsample PDQ makes of each window is
   * equalised instead of the window, which costs little; scheme 2 is `[4, 2, 'small-all']`).
   * Measured in docs/benchmarks.md ("Dark photos under a shared overlay").
   */
  equalise: undefined as EqualiseSetting | null | undefined,
};

/**
 * `[grid, clip, mode, regionGrid, regionClip]`: the tiles across (and clip) of windows, and of
 * anchored regions when regionGrid/regionClip are given (development probes; default: as windows).
 */
type EqualiseSetting = readonly [number, number, ('working' | 'both' | 'window' | 'all' | 'small' | 'small-all')?, number?, number?];

/** How each scheme equalises (see RobustScheme). */
const SCHEME_EQUALISE: Record<RobustScheme, EqualiseSetting | null> = { 1: null, 2: [4, 2, 'small-all'] };

/** The equalisation of the set being computed (set by {@link inScheme} around each computation). */
let activeEqualise: EqualiseSetting | null = null;

/** Runs a (synchronous) computation in a scheme: its equalisation, unless the probe overrides it. */
function inScheme<T>(scheme: RobustScheme, compute: () => T): T {
  const before = activeEqualise;
  const probe = ROBUST_PARAMS.equalise;
  activeEqualise = probe === undefined ? SCHEME_EQUALISE[scheme] : probe;
  try {
    return compute();
  } finally {
    activeEqualise = before;
  }
}

/** The picture inside a plane, its surround trimmed by the scheme's rule. */
function contentRect(plane: LumaPlane, growShare?: number | null): LumaRegion {
  const limit = ROBUST_PARAMS.trimMaxRemovedShare;
  return findContentRect(plane, {
    ...(limit === null ? {} : { maxRemovedShare: limit }),
    ...(growShare == null ? {} : { growShare }),
  });
}

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
  const eq = activeEqualise;
  const all = { x: 0, y: 0, width: p.width, height: p.height };
  if (eq && (eq[2] === 'small' || eq[2] === 'small-all')) return equalisedSmall(p.luma, p.width, all, eq[0], eq[1]);
  const q = eq && (eq[2] === 'window' || eq[2] === 'all') ? equaliseLocally(p, eq[0], eq[1]) : p;
  return pdqIntermediateFromLuma(q.luma, q.width, { x: 0, y: 0, width: q.width, height: q.height });
}

/** PDQ of a region with its 64×64 downsample equalised on its own (the 'small' probes). */
function equalisedSmall(luma: Float32Array, stride: number, r: LumaRegion, grid: number, clip: number): PdqIntermediate {
  const small = equaliseLocally({ luma: pdqDownsampleLuma(luma, stride, r), width: 64, height: 64 }, grid, clip).luma;
  return { coefficients: dct64To16(small), quality: pdqQuality(small) };
}

/** The hash of one window of a plane (equalised on its own in the 'window' probe). */
function windowHash(p: LumaPlane, r: LumaRegion): PdqIntermediate {
  const eq = activeEqualise;
  if (eq && (eq[2] === 'small' || eq[2] === 'small-all')) return equalisedSmall(p.luma, p.width, r, eq[0], eq[1]);
  if (eq && (eq[2] === 'window' || eq[2] === 'all')) return wholePlane(copyRegion(p, r));
  return pdqIntermediateFromLuma(p.luma, p.width, r);
}

/** The planes both hash sets are computed from, made with one pass over the pixels. */
interface Planes {
  /** ≤ 512 px plane for global and centre hashes. */
  readonly working: LumaPlane;
  /** Plane of about twice the anchor side, resampled for each magnification. */
  readonly master: LumaPlane;
  /** The picture inside `master` (surround trimmed). */
  readonly content: LumaRegion;
}

function planes(image: PixelImage): Planes {
  const { workingSide, anchorSide } = ROBUST_PARAMS;
  const long = Math.max(image.width, image.height);
  const needed = Math.ceil(long / workingSide);
  // The working plane's shrink factor as it has always been (stored hashes stay comparable):
  // big images were shrunk by 4 first, so the factor is a multiple of 4 from 4 up.
  const factor = needed >= 4 ? 4 * Math.ceil(needed / 4) : needed;
  // One pass over the full-resolution pixels: the largest divisor of `factor` that still leaves
  // at least twice the anchor side; area averages compose, so the working plane follows exactly.
  let d = 1;
  for (let k = factor; k >= 1; k--) {
    if (factor % k === 0 && long / k >= 2 * anchorSide) {
      d = k;
      break;
    }
  }
  const base = shrinkLuma(image, d);
  const working = shrinkPlane(base, factor / d);
  const baseLong = Math.max(base.width, base.height);
  const master =
    baseLong > 2 * anchorSide
      ? resizePlane(base, (base.width * 2 * anchorSide) / baseLong, (base.height * 2 * anchorSide) / baseLong)
      : base;
  const content = contentRect(master);
  const eq = activeEqualise;
  if (eq && (eq[2] === 'working' || eq[2] === 'both' || eq[2] === undefined)) {
    const m = eq[2] === 'working' ? master : equaliseLocally(master, eq[0], eq[1]);
    return { working: equaliseLocally(working, eq[0], eq[1]), master: m, content };
  }
  return { working, master, content };
}

/** Anchor hashes of the picture with its longer side scaled to `anchorSide / magnification`. */
function anchorHashes(
  p: Planes,
  magnification: number,
  count: number,
  spread: { cells: number; strongest?: number } = { cells: 1 },
  options: { turned?: boolean; parts?: readonly AnchorPart[] } = {},
): AnchorHash[] {
  const size = ROBUST_PARAMS.anchorRegion;
  const { master, content } = p;
  const f = ROBUST_PARAMS.anchorSide / (magnification * Math.max(content.width, content.height));
  const plane = resizePlane(master, master.width * f, master.height * f);
  // Only the picture: anchors on app chrome, caption bars or letterbox text around it are shared
  // by every screenshot or meme made with the same app, whatever the picture.
  const within = {
    x: Math.round(content.x * f),
    y: Math.round(content.y * f),
    width: Math.round(content.width * f),
    height: Math.round(content.height * f),
  };
  const { blobs, area } = findBlobs(plane, { margin: size / 2 + 1, within });
  // A blob chosen twice (by the whole picture and by a part) is resampled and hashed once.
  const regions = new Map<BlobAnchor, PdqIntermediate | null>();
  const region = (a: BlobAnchor) => {
    if (regions.has(a)) return regions.get(a)!;
    // Resample at the sub-pixel anchor so the region is centred on the blob, not the grid.
    const box = { x: a.x + 0.5 - size / 2, y: a.y + 0.5 - size / 2, width: size, height: size };
    const raw = rotatedRegion(plane, box, 0);
    const eq = activeEqualise;
    const region = eq && eq[2] === 'all' ? equaliseLocally(raw, 2, eq[1]) : raw;
    const it =
      eq && eq[2] === 'small-all'
        ? equalisedSmall(raw.luma, raw.width, { x: 0, y: 0, width: raw.width, height: raw.height }, eq[3] ?? eq[0], eq[4] ?? eq[1])
        : pdqIntermediateFromLuma(region.luma, region.width, { x: 0, y: 0, width: region.width, height: region.height });
    const kept = it.quality >= ROBUST_PARAMS.anchorMinQuality ? it : null;
    regions.set(a, kept);
    return kept;
  };
  const tag = magnification === 1 ? {} : { scale: magnification };
  const out: AnchorHash[] = [];
  for (const a of chooseBlobAnchors(blobs, { count, ...spread, area })) {
    const it = region(a);
    if (!it) continue;
    out.push({ hash: coefficientsToHash(it.coefficients), x: a.x, y: a.y, ...tag });
    if (!options.turned) continue;
    // The region as the un-mirrored / un-turned picture shows it: the same blob, its DCT
    // coefficients transformed (blob finding and the region's resampling are symmetric), its
    // position transformed on the plane (the region's centre is at a.x + 0.5).
    for (const turn of DIHEDRAL_TRANSFORMS) {
      if (turn === 'original') continue;
      const p = turnedPosition(turn, a.x + 0.5, a.y + 0.5, plane.width, plane.height);
      const h = coefficientsToHash(transformCoefficients(it.coefficients, turn));
      out.push({ hash: h, x: p.x - 0.5, y: p.y - 0.5, turn, ...tag });
    }
  }
  for (const part of options.parts ?? []) {
    const w = partArea(area, part);
    const inside = blobs.filter((a) => a.x >= w.x && a.x < w.x + w.width && a.y >= w.y && a.y < w.y + w.height);
    for (const a of chooseBlobAnchors(inside, { count, ...spread, area: w })) {
      const it = region(a);
      if (it) out.push({ hash: coefficientsToHash(it.coefficients), x: a.x, y: a.y, part, ...tag });
    }
  }
  return out;
}

/**
 * The parts worth choosing anchors in again: strips across the longer side (left and right of a
 * landscape picture, top and bottom of a portrait one, all four of a squarish one). A sticker over
 * a fifth of the picture, with the regions that touch it, spans the whole shorter side, so a strip
 * along the longer side is never free of it.
 */
function partsAcross(content: LumaRegion): readonly AnchorPart[] {
  const r = content.width / content.height;
  const across: readonly AnchorPart[] =
    r > ROBUST_PARAMS.squarish ? ['left', 'right'] : r < 1 / ROBUST_PARAMS.squarish ? ['top', 'bottom'] : ['left', 'right', 'top', 'bottom'];
  return ROBUST_PARAMS.queryParts.filter((part) => across.includes(part));
}

/** The strip of the searched area a part names (`partShare` of its width or height). */
function partArea(area: BlobArea, part: AnchorPart): BlobArea {
  const w = Math.round(area.width * ROBUST_PARAMS.partShare);
  const h = Math.round(area.height * ROBUST_PARAMS.partShare);
  switch (part) {
    case 'left':
      return { ...area, width: w };
    case 'right':
      return { ...area, x: area.x + area.width - w, width: w };
    case 'top':
      return { ...area, height: h };
    case 'bottom':
      return { ...area, y: area.y + area.height - h, height: h };
  }
}

/**
 * Where a point of a width×height plane lands when the plane is transformed as `turn` transforms
 * a PDQ coefficient block (pdq-dihedral.ts: mirror rows, mirror columns, then transpose).
 */
function turnedPosition(turn: DihedralTransform, x: number, y: number, width: number, height: number) {
  const rows = turn === 'rotate180' || turn === 'rotate270' || turn === 'flipX' || turn === 'flipMinus1';
  const cols = turn === 'rotate90' || turn === 'rotate180' || turn === 'flipY' || turn === 'flipMinus1';
  const transpose = turn === 'rotate90' || turn === 'rotate270' || turn === 'flipPlus1' || turn === 'flipMinus1';
  const mx = cols ? width - x : x;
  const my = rows ? height - y : y;
  return transpose ? { x: my, y: mx } : { x: mx, y: my };
}

function globalAndCentre(working: LumaPlane): {
  rects: LumaRegion[];
  whole: LumaRegion;
  trimmed: LumaRegion;
} {
  const whole = { x: 0, y: 0, width: working.width, height: working.height };
  const trimmed = contentRect(working);
  return { rects: sameRect(whole, trimmed) ? [whole] : [whole, trimmed], whole, trimmed };
}

function copyRegion(p: LumaPlane, r: LumaRegion): LumaPlane {
  const luma = new Float32Array(r.width * r.height);
  for (let y = 0; y < r.height; y++)
    luma.set(p.luma.subarray((r.y + y) * p.width + r.x, (r.y + y) * p.width + r.x + r.width), y * r.width);
  return { luma, width: r.width, height: r.height };
}

/**
 * Whole-picture hashes of each quarter of the picture, each with its own surround trimmed, and
 * (with `quadrantCentres`) the central window of each trimmed quarter.
 */
function quadrantHashes(plane: LumaPlane): { global: Hash256[]; centre: Hash256[] } {
  const out = { global: [] as Hash256[], centre: [] as Hash256[] };
  const w = Math.floor(plane.width / 2);
  const h = Math.floor(plane.height / 2);
  if (w < 32 || h < 32) return out;
  for (const [i, j] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ] as const) {
    const quarter = copyRegion(plane, { x: i * w, y: j * h, width: w, height: h });
    const rect = contentRect(quarter, ROBUST_PARAMS.quadrantGrowShare);
    const it = windowHash(quarter, rect);
    if (good(it)) out.global.push(coefficientsToHash(it.coefficients));
    if (!ROBUST_PARAMS.quadrantCentres) continue;
    const c = windowHash(quarter, inset(rect, ROBUST_PARAMS.centreInset));
    if (good(c)) out.centre.push(coefficientsToHash(c.coefficients));
  }
  return out;
}

/**
 * The rectangles whose central windows are also hashed turned: the trimmed picture, and the
 * whole plane too when they differ (a photo with a flat side is sometimes trimmed where its
 * turned copy, which has no flat side, is not).
 */
function tiltRects(rects: LumaRegion[], trimmed: LumaRegion): LumaRegion[] {
  return ROBUST_PARAMS.tiltWholeToo ? rects : [trimmed];
}

function referenceFrom(p: Planes, pdq: PdqIntermediate): RobustHashes {
  const { working } = p;
  const { rects, trimmed } = globalAndCentre(working);
  // The plain hash keeps the scheme a superset of plain PDQ matching: the shrunken plane moves
  // a few bits, which matters for edits that already sit near the threshold.
  const global: Hash256[] = good(pdq) ? [coefficientsToHash(pdq.coefficients)] : [];
  const centre: Hash256[] = [];
  for (const r of rects) {
    const g = windowHash(working, r);
    if (good(g)) global.push(coefficientsToHash(g.coefficients));
    const c = windowHash(working, inset(r, ROBUST_PARAMS.centreInset));
    if (good(c)) centre.push(coefficientsToHash(c.coefficients));
  }
  for (const r of tiltRects(rects, trimmed)) {
    const window = inset(r, ROBUST_PARAMS.centreInset);
    for (const degrees of ROBUST_PARAMS.referenceTilts) {
      const it = wholePlane(rotatedRegion(working, window, degrees));
      if (good(it)) centre.push(coefficientsToHash(it.coefficients));
    }
  }
  const anchors = ROBUST_PARAMS.referenceScales.flatMap((m) =>
    anchorHashes(p, m, ROBUST_PARAMS.referenceAnchors + ROBUST_PARAMS.referenceSpreadAnchors, {
      cells: ROBUST_PARAMS.anchorCells,
      strongest: ROBUST_PARAMS.referenceAnchors,
    }),
  );
  return { global, centre, anchors };
}

function queryFrom(p: Planes, pdq: PdqIntermediate): RobustHashes {
  const { working } = p;
  const { rects, trimmed } = globalAndCentre(working);
  const global: Hash256[] = good(pdq) ? Object.values(pdqDihedralFromIntermediate(pdq).hashes) : [];
  const centre: Hash256[] = [];
  for (const r of rects) {
    const g = windowHash(working, r);
    if (good(g)) global.push(...Object.values(pdqDihedralFromIntermediate(g).hashes));
    const c = windowHash(working, inset(r, ROBUST_PARAMS.centreInset));
    if (good(c)) centre.push(coefficientsToHash(c.coefficients));
  }
  // Quarters of the whole plane: a collage's gutters split its picture rows, so the trimmed
  // rectangle may be one row of cells only.
  const quadrants = quadrantHashes(ROBUST_PARAMS.quadrantPlane === 'master' ? p.master : working);
  global.push(...quadrants.global);
  centre.push(...quadrants.centre);
  for (const r of tiltRects(rects, trimmed)) {
    const window = inset(r, ROBUST_PARAMS.centreInset);
    for (const degrees of ROBUST_PARAMS.tilts) {
      const it = wholePlane(rotatedRegion(working, window, degrees));
      if (good(it)) centre.push(coefficientsToHash(it.coefficients));
    }
  }
  // The whole plane, not the trimmed picture: a turned copy has no flat side, and a photo with one
  // is sometimes trimmed where its straightened copy is not.
  centre.push(...straightenedCentres(working));
  const screen = rectifiedScreen(working);
  if (screen) {
    const g = wholePlane(screen);
    if (good(g)) global.push(coefficientsToHash(g.coefficients));
    const whole = { x: 0, y: 0, width: screen.width, height: screen.height };
    const c = windowHash(screen, inset(whole, ROBUST_PARAMS.centreInset));
    if (good(c)) centre.push(coefficientsToHash(c.coefficients));
  }
  const anchors = ROBUST_PARAMS.queryScales.flatMap((m) =>
    anchorHashes(
      p,
      m,
      ROBUST_PARAMS.queryAnchors,
      { cells: m === 1 ? ROBUST_PARAMS.anchorCells : 1 },
      { turned: ROBUST_PARAMS.turnedAnchorScales.includes(m), parts: m === 1 ? partsAcross(p.content) : [] },
    ),
  );
  return { global, centre, anchors };
}

/**
 * The picture of a photographed screen warped back to a rectangle (its size the quadrilateral's
 * mean side lengths), or null when the plane shows no screen in a uniform surround.
 */
function rectifiedScreen(working: LumaPlane): LumaPlane | null {
  const quad = findScreenQuad(working);
  if (!quad) return null;
  const [a, b, c, d] = quad;
  const len = (p: { x: number; y: number }, q: { x: number; y: number }) => Math.hypot(p.x - q.x, p.y - q.y);
  const width = Math.round((len(a, b) + len(d, c)) / 2);
  const height = Math.round((len(a, d) + len(b, c)) / 2);
  return width >= 32 && height >= 32 ? warpQuad(working, quad, width, height) : null;
}

/**
 * Centre hashes of a picture that may have been straightened: turned by θ and cropped to the
 * largest upright rectangle of its own aspect, which magnifies it by cos θ + r·sin θ (r the
 * longer side over the shorter). The reference's central window then sits in the middle of the
 * query, turned by θ and that much larger; sampling it turned back gives the reference's window.
 */
function straightenedCentres(plane: LumaPlane): Hash256[] {
  const out: Hash256[] = [];
  const r = Math.max(plane.width, plane.height) / Math.min(plane.width, plane.height);
  const share = 1 - 2 * ROBUST_PARAMS.centreInset;
  for (const degrees of ROBUST_PARAMS.straightenTilts) {
    const a = (Math.abs(degrees) * Math.PI) / 180;
    const zoom = Math.cos(a) + r * Math.sin(a);
    const width = Math.round(plane.width * share * zoom);
    const height = Math.round(plane.height * share * zoom);
    const window = {
      x: Math.round((plane.width - width) / 2),
      y: Math.round((plane.height - height) / 2),
      width,
      height,
    };
    const it = wholePlane(rotatedRegion(plane, window, degrees));
    if (good(it)) out.push(coefficientsToHash(it.coefficients));
  }
  return out;
}

/** Which scheme to compute a set in (default: ROBUST_PARAMS.scheme). */
export interface RobustHashOptions {
  scheme?: RobustScheme;
}

function schemeOf(options: RobustHashOptions): RobustScheme {
  const scheme = options.scheme ?? ROBUST_PARAMS.scheme;
  if (!ROBUST_SCHEMES.includes(scheme)) throw new RangeError(`unknown robust scheme ${String(scheme)}`);
  return scheme;
}

/**
 * Both hash sets of an image at once (the server keeps both for every upload), sharing the one
 * pass over the full-resolution pixels. `pdq` as for {@link robustReferenceHashes}.
 */
export function robustHashes(
  image: PixelImage,
  pdq: PdqIntermediate = pdqIntermediate(image),
  options: RobustHashOptions = {},
): { query: RobustHashes; reference: RobustHashes } {
  const scheme = schemeOf(options);
  return inScheme(scheme, () => {
    const p = planes(image);
    return { query: { scheme, ...queryFrom(p, pdq) }, reference: { scheme, ...referenceFrom(p, pdq) } };
  });
}

/**
 * Hash set of a known (reference) image: its plain full-resolution PDQ hash, 1–2 global hashes
 * of the shrunken plane, 1–6 centre and up to 96 anchor hashes (32 per reference scale). Pass `pdq` when the caller has
 * already computed {@link pdqIntermediate} for the image (it is needed anyway for the standard
 * PDQ hash) to avoid hashing the full resolution twice.
 */
export function robustReferenceHashes(
  image: PixelImage,
  pdq: PdqIntermediate = pdqIntermediate(image),
  options: RobustHashOptions = {},
): RobustHashes {
  const scheme = schemeOf(options);
  return inScheme(scheme, () => ({ scheme, ...referenceFrom(planes(image), pdq) }));
}

/**
 * Hash set of an upload to check: dihedral variants of the plain and global hashes, quadrant
 * hashes, centre hashes with tilts undone, and up to 12 anchor hashes per magnification. `pdq`
 * as for {@link robustReferenceHashes}.
 */
export function robustQueryHashes(
  image: PixelImage,
  pdq: PdqIntermediate = pdqIntermediate(image),
  options: RobustHashOptions = {},
): RobustHashes {
  const scheme = schemeOf(options);
  return inScheme(scheme, () => ({ scheme, ...queryFrom(planes(image), pdq) }));
}
