import type { LumaPlane } from './working-image.ts';

/** A point in plane coordinates (pixel centres at i + 0.5). */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Corners of a quadrilateral: top-left, top-right, bottom-right, bottom-left. */
export type Quad = readonly [Point, Point, Point, Point];

/*
 * A photo of a screen shows the picture as a bright quadrilateral (the screen seen at an angle)
 * inside a dark, nearly uniform surround (bezel, room). Whole-picture hashes need the picture
 * upright and filling the frame, so the quadrilateral's sides are found — per scan line, where
 * the luma first leaves the surround's level, then a line fitted robustly through those points,
 * because the picture's own dark areas at its edge recess some of them — and the quadrilateral
 * is warped back to a rectangle. Moiré, gamma and noise are left to PDQ, which tolerates them.
 */

/** Luma difference from the surround that marks the picture. */
const EDGE_THRESHOLD = 12;
/** Share of the outer ring that must be within this of the surround's level to try at all. */
const UNIFORM_RING = 0.9;
const RING_TOLERANCE = 16;
/** Share of scan lines per side that must lie on the fitted line. */
const MIN_SIDE_SUPPORT = 0.5;
/**
 * A side with less support still counts when its other scan lines all stop inside the line
 * (the picture's own dark areas can only recess the edge, never push it out), at least this
 * share lie on it, and at most {@link MAX_OUTSIDE} of them stop outside it. Such a side is the
 * best-supported line with that few scan lines outside it (the envelope of the edge points), not
 * the best-supported line overall: a photo dark along most of one edge (a night sky, a dark
 * field at the foot of a wallpaper) leaves a tenth to a third of its scan lines on the screen's
 * edge, and a straight feature inside the picture can hold more.
 */
const MIN_RECESSED_SIDE_SUPPORT = 0.1;
const MAX_OUTSIDE = 0.05;
/** Sides steeper than this (run over rise) are not a screen seen at a modest angle. */
const MAX_SLOPE = 0.5;
/** Distance (px) within which a scan line's edge point lies on a fitted side. */
const LINE_TOLERANCE = 1.5;

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[s.length >> 1] ?? 0;
}

/**
 * A line `across = a + b·along` through scan-line edge points: the line through two points that
 * most points lie within 1.5 px of (a picture's dark border area recesses a long run of points,
 * so a least-squares or median fit would be pulled), then least squares on those points. With
 * `maxOutside`, only lines with at most that many points outside them (nearer the border) are
 * candidates.
 */
function fitLine(
  points: ReadonlyArray<readonly [number, number]>,
  maxOutside = Number.POSITIVE_INFINITY,
): { a: number; b: number; support: number } | null {
  const n = points.length;
  if (n < 8) return null;
  const step = Math.max(1, Math.floor(n / 40));
  let best = { a: 0, b: 0, count: -1 };
  for (let i = 0; i < n; i += step) {
    const [t0, s0] = points[i]!;
    for (let j = i + Math.max(1, n >> 2); j < n; j += step) {
      const [t1, s1] = points[j]!;
      const b = (s1 - s0) / (t1 - t0);
      const a = s0 - b * t0;
      let count = 0;
      let outside = 0;
      for (const [t, s] of points) {
        const d = s - a - b * t;
        if (Math.abs(d) <= LINE_TOLERANCE) count++;
        else if (d < 0) outside++;
      }
      if (outside <= maxOutside && count > best.count) best = { a, b, count };
    }
  }
  if (best.count < 0) return null;
  let { a, b } = best;
  let inliers = points;
  for (let round = 0; round < 3; round++) {
    inliers = points.filter(([t, s]) => Math.abs(s - a - b * t) <= LINE_TOLERANCE);
    if (inliers.length < 8) return null;
    let st = 0;
    let ss = 0;
    let stt = 0;
    let sts = 0;
    for (const [t, s] of inliers) {
      st += t;
      ss += s;
      stt += t * t;
      sts += t * s;
    }
    const m = inliers.length;
    const den = m * stt - st * st;
    if (den === 0) return null;
    b = (m * sts - st * ss) / den;
    a = (ss - b * st) / m;
  }
  return { a, b, support: inliers.length / n };
}

/**
 * Where a scan line leaves the surround: the first run of three picture pixels, refined to the
 * sub-pixel crossing of the level halfway between the surround and the picture just inside.
 * `at(k)` reads the k-th pixel from the border inwards.
 */
function edgeAlong(at: (k: number) => number, length: number, bg: number): number | null {
  const limit = Math.floor(length / 2);
  for (let k = 0; k < limit; k++) {
    if (
      Math.abs(at(k) - bg) > EDGE_THRESHOLD &&
      Math.abs(at(k + 1) - bg) > EDGE_THRESHOLD &&
      Math.abs(at(k + 2) - bg) > EDGE_THRESHOLD
    ) {
      if (k === 0) return null; // the picture touches the frame: no surround on this line
      const level = (bg + at(k + 2)) / 2;
      for (let j = k + 2; j >= 1; j--) {
        const inner = at(j);
        const outer = at(j - 1);
        if ((outer - level) * (inner - level) <= 0 && inner !== outer) {
          // Pixel j - 1's centre is at j - 0.5 from the border.
          return j - 0.5 + (level - outer) / (inner - outer);
        }
      }
      return k + 0.5;
    }
  }
  return null;
}

function intersect(
  v: { a: number; b: number }, // x = a + b·y
  h: { a: number; b: number }, // y = a + b·x
): Point {
  // x = v.a + v.b (h.a + h.b x)  =>  x (1 - v.b h.b) = v.a + v.b h.a
  const x = (v.a + v.b * h.a) / (1 - v.b * h.b);
  return { x, y: h.a + h.b * x };
}

/**
 * The picture's quadrilateral in a photo of a screen, or null when the plane has no uniform
 * surround on every side or its sides are not straight lines.
 */
export function findScreenQuad(plane: LumaPlane): Quad | null {
  const { luma, width, height } = plane;
  if (width < 64 || height < 64) return null;
  const px = (x: number, y: number) => luma[y * width + x]!;
  const ring: number[] = [];
  for (let x = 0; x < width; x++) ring.push(px(x, 0), px(x, height - 1));
  for (let y = 0; y < height; y++) ring.push(px(0, y), px(width - 1, y));
  const bg = median(ring);
  if (ring.filter((v) => Math.abs(v - bg) <= RING_TOLERANCE).length < UNIFORM_RING * ring.length) return null;

  // Scan lines over the middle 70 % of each side, so corners of a tilted quad are not crossed.
  const rows: number[] = [];
  for (let y = Math.round(height * 0.15); y < Math.round(height * 0.85); y++) rows.push(y);
  const cols: number[] = [];
  for (let x = Math.round(width * 0.15); x < Math.round(width * 0.85); x++) cols.push(x);
  const side = (lines: number[], edge: (line: number) => number | null) => {
    const points: Array<[number, number]> = [];
    for (const l of lines) {
      const e = edge(l);
      if (e !== null) points.push([l + 0.5, e]);
    }
    // Distances grow inwards: a recessed scan line lies beyond a line, one outside it before.
    const outside = (line: { a: number; b: number }) =>
      points.filter(([t, s]) => s - line.a - line.b * t < -LINE_TOLERANCE).length;
    const fit = fitLine(points);
    const strong =
      fit && Math.abs(fit.b) <= MAX_SLOPE && fit.support * points.length >= MIN_SIDE_SUPPORT * lines.length
        ? fit
        : null;
    if (strong && outside(strong) <= MAX_OUTSIDE * lines.length) return strong;
    // A strong line with scan lines beyond it may be a straight edge inside the picture (a dark
    // field's horizon): the envelope, when it holds enough of them, is the screen's edge.
    const envelope = fitLine(points, MAX_OUTSIDE * lines.length);
    if (
      envelope &&
      Math.abs(envelope.b) <= MAX_SLOPE &&
      envelope.support * points.length >= MIN_RECESSED_SIDE_SUPPORT * lines.length &&
      outside(envelope) <= MAX_OUTSIDE * lines.length
    )
      return envelope;
    return strong;
  };
  const left = side(rows, (y) => edgeAlong((k) => px(k, y), width, bg));
  const rightIn = side(rows, (y) => edgeAlong((k) => px(width - 1 - k, y), width, bg));
  const topFit = side(cols, (x) => edgeAlong((k) => px(x, k), height, bg));
  const bottomIn = side(cols, (x) => edgeAlong((k) => px(x, height - 1 - k), height, bg));
  if (!left || !rightIn || !topFit || !bottomIn) return null;
  // Distances from the far border become coordinates.
  const right = { a: width - rightIn.a, b: -rightIn.b };
  const bottom = { a: height - bottomIn.a, b: -bottomIn.b };
  const quad: Quad = [
    intersect(left, topFit),
    intersect(right, topFit),
    intersect(right, bottom),
    intersect(left, bottom),
  ];
  const area =
    Math.abs(
      quad.reduce((s, p, i) => {
        const q = quad[(i + 1) % 4]!;
        return s + p.x * q.y - q.x * p.y;
      }, 0),
    ) / 2;
  if (area < 0.2 * width * height) return null;
  if (quad.some((p) => p.x < -2 || p.y < -2 || p.x > width + 2 || p.y > height + 2)) return null;
  return quad;
}

/**
 * Samples the quadrilateral `quad` of `plane` onto a `width`×`height` rectangle (the projective
 * map taking the rectangle's corners to the quad's), bilinear, clamped at the plane's edges.
 */
export function warpQuad(plane: LumaPlane, quad: Quad, width: number, height: number): LumaPlane {
  const [p0, p1, p2, p3] = quad;
  // Unit square to quad (Heckbert's closed form).
  const sx = p0.x - p1.x + p2.x - p3.x;
  const sy = p0.y - p1.y + p2.y - p3.y;
  let a: number;
  let b: number;
  let d: number;
  let e: number;
  let g = 0;
  let h = 0;
  if (Math.abs(sx) < 1e-9 && Math.abs(sy) < 1e-9) {
    a = p1.x - p0.x;
    b = p3.x - p0.x;
    d = p1.y - p0.y;
    e = p3.y - p0.y;
  } else {
    const dx1 = p1.x - p2.x;
    const dx2 = p3.x - p2.x;
    const dy1 = p1.y - p2.y;
    const dy2 = p3.y - p2.y;
    const den = dx1 * dy2 - dx2 * dy1;
    g = (sx * dy2 - dx2 * sy) / den;
    h = (dx1 * sy - sx * dy1) / den;
    a = p1.x - p0.x + g * p1.x;
    b = p3.x - p0.x + h * p3.x;
    d = p1.y - p0.y + g * p1.y;
    e = p3.y - p0.y + h * p3.y;
  }
  const { luma, width: pw, height: ph } = plane;
  const out = new Float32Array(width * height);
  for (let j = 0; j < height; j++) {
    const v = (j + 0.5) / height;
    for (let i = 0; i < width; i++) {
      const u = (i + 0.5) / width;
      const w = g * u + h * v + 1;
      const sx2 = Math.min(pw - 1, Math.max(0, (a * u + b * v + p0.x) / w - 0.5));
      const sy2 = Math.min(ph - 1, Math.max(0, (d * u + e * v + p0.y) / w - 0.5));
      const x0 = Math.min(pw - 2, Math.floor(sx2));
      const y0 = Math.min(ph - 2, Math.floor(sy2));
      const fx = sx2 - x0;
      const fy = sy2 - y0;
      const k = y0 * pw + x0;
      const top = luma[k]! + (luma[k + 1]! - luma[k]!) * fx;
      const bottom = luma[k + pw]! + (luma[k + pw + 1]! - luma[k + pw]!) * fx;
      out[j * width + i] = top + (bottom - top) * fy;
    }
  }
  return { luma: out, width, height };
}
