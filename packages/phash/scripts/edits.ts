/**
 * The edits social apps and evaders make beyond transforms.ts, generated with sharp and small
 * pixel loops, for measuring how robust matching generalises (Node only; never imported by the
 * library). Every edit is deterministic per (photo, edit): crops, angles and positions come from
 * a hash of the file's name, so a re-run gives the same images.
 */
import { basename } from 'node:path';
import sharp from 'sharp';

/** Name of one new edit. */
export type EditName =
  | 'crop-resize-1080'
  | 'crop-resize-640'
  | 'rotate7'
  | 'rotate-10'
  | 'rotate10-crop'
  | 'rephoto-screen'
  | 'collage'
  | 'sticker'
  | 'caption-bars'
  | 'blur-heavy'
  | 'noise';

/** The new edits, in report order. */
export const EDITS: readonly EditName[] = [
  'crop-resize-1080',
  'crop-resize-640',
  'rotate7',
  'rotate-10',
  'rotate10-crop',
  'rephoto-screen',
  'collage',
  'sticker',
  'caption-bars',
  'blur-heavy',
  'noise',
];

/** Deterministic value in [0, 1) per seed. */
export function unit(seed: string): number {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  return ((h >>> 0) % 10007) / 10007;
}

/** A deterministic standard normal sample stream (Box–Muller over a xorshift generator). */
function normals(seed: string): () => number {
  let s = (Math.floor(unit(seed) * 0x7fffffff) | 1) >>> 0;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}

async function rgb(input: string | Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(input)
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  return { data, width: info.width, height: info.height };
}

function jpeg(px: { data: Buffer; width: number; height: number }, quality = 90): Promise<Buffer> {
  return sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/**
 * An off-centre crop keeping 55–85 % of each side, then resized so its longer side is `side`
 * (what a messaging app does to every upload after the sender crops it).
 */
async function cropResize(file: string, side: number, seed: string): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const keep = 0.55 + 0.3 * unit(`${seed}keep`);
  const w = Math.round(width * keep);
  const h = Math.round(height * keep);
  const left = Math.round((width - w) * unit(`${seed}x`));
  const top = Math.round((height - h) * unit(`${seed}y`));
  const cropped = await sharp(file).extract({ left, top, width: w, height: h }).toBuffer();
  return sharp(cropped)
    .resize({ width: w >= h ? side : undefined, height: h > w ? side : undefined })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** Rotated on the same canvas, corners filled black (a "straighten" that does not crop). */
async function rotateInPlace(file: string, degrees: number): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const r = await sharp(file).rotate(degrees, { background: '#000000' }).toBuffer({ resolveWithObject: true });
  return sharp(r.data)
    .extract({
      left: Math.floor((r.info.width - width) / 2),
      top: Math.floor((r.info.height - height) / 2),
      width,
      height,
    })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Rotated and cropped to the largest upright rectangle of the same aspect, resized back. */
async function rotateCrop(file: string, degrees: number): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const r = await sharp(file).rotate(degrees, { background: '#000000' }).toBuffer({ resolveWithObject: true });
  const a = (Math.abs(degrees) * Math.PI) / 180;
  // Largest axis-aligned rectangle of aspect w:h inside the rotated w×h rectangle.
  const k = Math.min(
    height / (width * Math.sin(a) + height * Math.cos(a)),
    width / (width * Math.cos(a) + height * Math.sin(a)),
  );
  const w = Math.floor(width * k);
  const h = Math.floor(height * k);
  return sharp(r.data)
    .extract({ left: Math.floor((r.info.width - w) / 2), top: Math.floor((r.info.height - h) / 2), width: w, height: h })
    .resize({ width, height, fit: 'fill' })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Solves the 8 homography parameters mapping `from[i]` to `to[i]` (Gaussian elimination). */
function homography(from: number[][], to: number[][]): number[] {
  const m: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    m.push([x!, y!, 1, 0, 0, 0, -u! * x!, -u! * y!, u!]);
    m.push([0, 0, 0, x!, y!, 1, -v! * x!, -v! * y!, v!]);
  }
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k < 9; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[8]! / row[i]!);
}

/**
 * A phone photo of a screen showing the picture: the screen is seen at an angle (perspective, each
 * corner moved by up to 6 % of the frame), inside a dark bezel and room; the screen's pixel grid
 * beats with the camera's (moiré, a fine sinusoidal pattern), exposure and gamma shift, sensor
 * noise, and the phone's JPEG.
 */
async function rephotoScreen(file: string, seed: string): Promise<Buffer> {
  const src = await rgb(await sharp(file).resize({ width: 1200, height: 1200, fit: 'inside' }).toBuffer());
  const W = Math.round(src.width * 1.2);
  const H = Math.round(src.height * 1.2);
  const mx = (src.width * 0.1) | 0;
  const my = (src.height * 0.1) | 0;
  const j = (k: string, size: number) => (unit(`${seed}${k}`) * 2 - 1) * 0.06 * size;
  const quad = [
    [mx + j('ax', W), my + j('ay', H)],
    [mx + src.width + j('bx', W), my + j('by', H)],
    [mx + src.width + j('cx', W), my + src.height + j('cy', H)],
    [mx + j('dx', W), my + src.height + j('dy', H)],
  ];
  const corners = [
    [0, 0],
    [src.width, 0],
    [src.width, src.height],
    [0, src.height],
  ];
  // Output → source mapping, so every output pixel samples the screen once.
  const [a, b, c, d, e, f, g, h] = homography(quad, corners) as [number, number, number, number, number, number, number, number];
  const out = Buffer.alloc(W * H * 3);
  const noise = normals(`${seed}noise`);
  const angle = unit(`${seed}moire`) * Math.PI;
  const period = 3.1 + unit(`${seed}period`);
  const gain = 0.85 + 0.2 * unit(`${seed}gain`);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const den = g * x + h * y + 1;
      const sx = (a * x + b * y + c) / den;
      const sy = (d * x + e * y + f) / den;
      const o = (y * W + x) * 3;
      const inside = sx >= 0 && sy >= 0 && sx < src.width - 1 && sy < src.height - 1;
      const moire = 1 + 0.12 * Math.sin((2 * Math.PI * (x * Math.cos(angle) + y * Math.sin(angle))) / period);
      for (let k = 0; k < 3; k++) {
        let v = 18; // the bezel and the dark room around the screen
        if (inside) {
          const x0 = Math.floor(sx);
          const y0 = Math.floor(sy);
          const fx = sx - x0;
          const fy = sy - y0;
          const i = (y0 * src.width + x0) * 3 + k;
          const r = src.width * 3;
          const top = src.data[i]! + (src.data[i + 3]! - src.data[i]!) * fx;
          const bottom = src.data[i + r]! + (src.data[i + r + 3]! - src.data[i + r]!) * fx;
          v = 255 * (((top + (bottom - top) * fy) / 255) * gain) ** 0.9 * moire;
        }
        out[o + k] = Math.max(0, Math.min(255, Math.round(v + 5 * noise())));
      }
    }
  }
  return sharp(await jpeg({ data: out, width: W, height: H }, 92))
    .blur(0.8)
    .jpeg({ quality: 80 })
    .toBuffer();
}

/**
 * A 2×2 collage (1080×1080, white gutters): the photo in one cell, `others` in the rest, each
 * shrunk to fit its cell without cropping.
 */
export async function collage(file: string, others: readonly string[], seed: string): Promise<Buffer> {
  const cell = 530;
  const gutter = 20;
  const slot = Math.floor(unit(`${seed}slot`) * 4);
  const files = [...others.slice(0, 3)];
  files.splice(slot, 0, file);
  const parts = [];
  for (const [i, f] of files.entries()) {
    const img = await sharp(f)
      .resize({ width: cell, height: cell, fit: 'contain', background: '#ffffff' })
      .toBuffer();
    parts.push({ input: img, left: gutter / 2 + (i % 2) * (cell + gutter), top: gutter / 2 + Math.floor(i / 2) * (cell + gutter) });
  }
  return sharp({ create: { width: 1100, height: 1100, channels: 3, background: '#ffffff' } })
    .composite(parts)
    .jpeg({ quality: 88 })
    .toBuffer();
}

/** A round emoji sticker covering about a fifth to a quarter of the picture, anywhere on it. */
async function sticker(file: string, seed: string): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const share = 0.18 + 0.07 * unit(`${seed}share`);
  const d = Math.min(Math.round(Math.sqrt((share * width * height * 4) / Math.PI)), width, height);
  const left = Math.round((width - d) * unit(`${seed}x`));
  const top = Math.round((height - d) * unit(`${seed}y`));
  const svg = `<svg width="${d}" height="${d}" viewBox="0 0 100 100" xmlns="http://www.w3.org/2000/svg">
    <circle cx="50" cy="50" r="48" fill="#ffd23f" stroke="#7a4b00" stroke-width="3"/>
    <ellipse cx="35" cy="38" rx="6" ry="10" fill="#3b2300"/><ellipse cx="65" cy="38" rx="6" ry="10" fill="#3b2300"/>
    <path d="M25 60 Q50 88 75 60" stroke="#3b2300" stroke-width="6" fill="none" stroke-linecap="round"/>
  </svg>`;
  return sharp(file).composite([{ input: Buffer.from(svg), left, top }]).jpeg({ quality: 90 }).toBuffer();
}

/** A meme: white bars above and below the photo, each with a line of black text. */
async function captionBars(file: string): Promise<Buffer> {
  const shown = await sharp(file).resize({ width: 1080 }).toBuffer({ resolveWithObject: true });
  const bar = Math.round(shown.info.height * 0.18);
  const H = shown.info.height + 2 * bar;
  const text = (y: number, s: string) =>
    `<text x="540" y="${y}" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="${Math.round(bar * 0.42)}" fill="#000000">${s}</text>`;
  const svg = `<svg width="1080" height="${H}" xmlns="http://www.w3.org/2000/svg">
    <rect width="100%" height="100%" fill="#ffffff"/>
    ${text(Math.round(bar * 0.65), 'nobody:')}${text(H - Math.round(bar * 0.35), 'absolutely nobody:')}
  </svg>`;
  return sharp(Buffer.from(svg))
    .composite([{ input: shown.data, left: 0, top: bar }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Gaussian blur with sigma 1/120 of the longer side (about 11 px on a 1280 px photo). */
async function blurHeavy(file: string): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  return sharp(file)
    .blur(Math.max(width, height) / 120)
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Gaussian noise, sigma 25 of 255 per channel. */
async function addNoise(file: string, seed: string): Promise<Buffer> {
  const px = await rgb(file);
  const n = normals(seed);
  for (let i = 0; i < px.data.length; i++) px.data[i] = Math.max(0, Math.min(255, Math.round(px.data[i]! + 25 * n())));
  return jpeg(px);
}

/**
 * Applies a new edit to a photo; returns a JPEG. `others` are the photos a collage puts beside
 * it (at least three). `variant` > 0 draws the edit's random choices (crop, corners, slot,
 * position, noise) from another seed, and turns `rotate10-crop` the other way on odd variants:
 * more queries of one edit from the development photos, to see its failures (0 = the reported
 * edit).
 */
export async function applyEdit(file: string, name: EditName, others: readonly string[] = [], variant = 0): Promise<Buffer> {
  const seed = `${basename(file)}:${name}${variant > 0 ? `#${variant}` : ''}`;
  switch (name) {
    case 'crop-resize-1080':
      return cropResize(file, 1080, seed);
    case 'crop-resize-640':
      return cropResize(file, 640, seed);
    case 'rotate7':
      return rotateInPlace(file, 7);
    case 'rotate-10':
      return rotateInPlace(file, -10);
    case 'rotate10-crop':
      return rotateCrop(file, variant % 2 === 1 ? -10 : 10);
    case 'rephoto-screen':
      return rephotoScreen(file, seed);
    case 'collage':
      return collage(file, others, seed);
    case 'sticker':
      return sticker(file, seed);
    case 'caption-bars':
      return captionBars(file);
    case 'blur-heavy':
      return blurHeavy(file);
    case 'noise':
      return addNoise(file, seed);
  }
}
