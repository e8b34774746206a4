/**
 * Shared-overlay images and crop positives for evaluating crop-robust matching (Node only; never
 * imported by the library).
 *
 * Shared overlays are the false matches anchored regions are prone to: the same app chrome, caption
 * or watermark composited over *different* photos gives two images with many identical regions in
 * identical places. Every overlay here is pixel-identical across photos (photos are first resized
 * to one width), which is the hardest case for the matcher.
 *
 * Crop positives come in two families, reported apart: plain crops (pixels kept at their original
 * scale, the case anchored regions are built for) and crops that were also resized (what a
 * re-upload through most apps looks like).
 */
import { basename } from 'node:path';
import type { Sharp } from 'sharp';
import sharp from 'sharp';

/** A shared overlay composited over a photo. */
export type OverlayName =
  | 'app-chrome-light'
  | 'app-chrome-dark'
  | 'caption-bar'
  | 'caption-overlay'
  | 'watermark'
  | 'stock-watermark';

/** All overlays, in report order. */
export const OVERLAYS: readonly OverlayName[] = [
  'app-chrome-light',
  'app-chrome-dark',
  'caption-bar',
  'caption-overlay',
  'watermark',
  'stock-watermark',
];

/** Width every photo is resized to before an overlay is applied, so overlays coincide pixel for pixel. */
const WIDTH = 1080;

function svgText(s: string): string {
  return s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

/** A phone screenshot (1080×2340) of a chat app showing the photo: status bar, header, text, composer. */
async function appChrome(photo: Buffer, dark: boolean): Promise<Sharp> {
  const H = 2340;
  const bg = dark ? '#121212' : '#ffffff';
  const fg = dark ? '#eeeeee' : '#111111';
  const shown = await sharp(photo)
    .resize({ width: WIDTH - 80, height: 1500, fit: 'inside' })
    .toBuffer({ resolveWithObject: true });
  const top = 420;
  const ui = `<svg width="${WIDTH}" height="${H}" xmlns="http://www.w3.org/2000/svg">
    <rect width="100%" height="100%" fill="${bg}"/>
    <text x="40" y="70" font-family="DejaVu Sans" font-size="40" fill="${fg}">9:41</text>
    <rect x="930" y="38" width="90" height="40" rx="8" fill="none" stroke="${fg}" stroke-width="4"/>
    <rect x="936" y="44" width="60" height="28" fill="${fg}"/>
    <rect x="0" y="120" width="${WIDTH}" height="150" fill="${dark ? '#1f1f1f' : '#f2f2f2'}"/>
    <circle cx="960" cy="195" r="40" fill="#3b82f6"/>
    <text x="120" y="215" font-family="DejaVu Sans" font-size="52" font-weight="bold" fill="${fg}">Alex Morgan</text>
    <text x="40" y="215" font-family="DejaVu Sans" font-size="60" fill="${fg}">‹</text>
    <text x="40" y="370" font-family="DejaVu Sans" font-size="42" fill="${fg}">${svgText('look at this one!!')}</text>
    <text x="40" y="${H - 300}" font-family="DejaVu Sans" font-size="42" fill="${fg}">sent 10:02 · seen ✓✓</text>
    <rect x="30" y="${H - 170}" width="${WIDTH - 60}" height="110" rx="55" fill="none" stroke="${fg}" stroke-width="4"/>
    <text x="90" y="${H - 100}" font-family="DejaVu Sans" font-size="42" fill="#888888">Message</text>
    <circle cx="${WIDTH - 110}" cy="${H - 115}" r="35" fill="#3b82f6"/>
  </svg>`;
  return sharp(Buffer.from(ui)).composite([
    { input: shown.data, left: 40 + Math.floor((WIDTH - 80 - shown.info.width) / 2), top },
  ]);
}

/** A meme: a white bar with black text above the photo. */
async function captionBar(photo: Buffer): Promise<Sharp> {
  const shown = await sharp(photo).resize({ width: WIDTH }).toBuffer({ resolveWithObject: true });
  const bar = 300;
  const svg = `<svg width="${WIDTH}" height="${bar}" xmlns="http://www.w3.org/2000/svg">
    <rect width="100%" height="100%" fill="#ffffff"/>
    <text x="40" y="120" font-family="DejaVu Sans" font-size="64" fill="#000000">me explaining to my mom</text>
    <text x="40" y="220" font-family="DejaVu Sans" font-size="64" fill="#000000">why I need another plant</text>
  </svg>`;
  return sharp(Buffer.from(svg))
    .extend({ bottom: shown.info.height, background: '#ffffff' })
    .composite([{ input: shown.data, left: 0, top: bar }]);
}

/** A meme: white impact-style text with a black outline over the top and bottom of the photo. */
async function captionOverlay(photo: Buffer): Promise<Sharp> {
  const shown = await sharp(photo).resize({ width: WIDTH }).toBuffer({ resolveWithObject: true });
  const h = shown.info.height;
  const text = (y: number, s: string) =>
    `<text x="50%" y="${y}" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="92" fill="white" stroke="black" stroke-width="7">${s}</text>`;
  const svg = `<svg width="${WIDTH}" height="${h}" xmlns="http://www.w3.org/2000/svg">
    ${text(130, 'WHEN IT&apos;S MONDAY')}${text(h - 40, 'AGAIN')}
  </svg>`;
  return sharp(shown.data).composite([{ input: Buffer.from(svg) }]);
}

/** A site's watermark in the bottom-right corner: a logo and a handle. */
async function watermark(photo: Buffer): Promise<Sharp> {
  const shown = await sharp(photo).resize({ width: WIDTH }).toBuffer({ resolveWithObject: true });
  const w = 420;
  const h = 110;
  const svg = `<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">
    <rect width="100%" height="100%" rx="20" fill="#000000" fill-opacity="0.55"/>
    <circle cx="55" cy="55" r="36" fill="#ff5a36"/>
    <text x="55" y="72" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="48" fill="#ffffff">m</text>
    <text x="110" y="72" font-family="DejaVu Sans" font-weight="bold" font-size="44" fill="#ffffff">@memehub</text>
  </svg>`;
  return sharp(shown.data).composite([
    { input: Buffer.from(svg), left: WIDTH - w - 30, top: shown.info.height - h - 30 },
  ]);
}

/** A stock-photo watermark: a large half-transparent mark and name across the middle. */
async function stockWatermark(photo: Buffer): Promise<Sharp> {
  const shown = await sharp(photo).resize({ width: WIDTH }).toBuffer({ resolveWithObject: true });
  const h = shown.info.height;
  const svg = `<svg width="${WIDTH}" height="${h}" xmlns="http://www.w3.org/2000/svg">
    <g transform="translate(${WIDTH / 2} ${h / 2}) rotate(-20)" fill="#ffffff" fill-opacity="0.45" stroke="#000000" stroke-opacity="0.35" stroke-width="3">
      <circle cx="-330" cy="-10" r="70" fill="none" stroke="#ffffff" stroke-opacity="0.6" stroke-width="14"/>
      <text x="40" y="30" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="120">stockpix</text>
      <text x="0" y="140" text-anchor="middle" font-family="DejaVu Sans" font-size="44">preview · not for use</text>
    </g>
  </svg>`;
  return sharp(shown.data).composite([{ input: Buffer.from(svg) }]);
}

/** The photo under a shared overlay, as JPEG (quality 90). */
export async function applyOverlay(file: string, name: OverlayName): Promise<Buffer> {
  const photo = await sharp(file).toBuffer();
  let out: Sharp;
  switch (name) {
    case 'app-chrome-light':
      out = await appChrome(photo, false);
      break;
    case 'app-chrome-dark':
      out = await appChrome(photo, true);
      break;
    case 'caption-bar':
      out = await captionBar(photo);
      break;
    case 'caption-overlay':
      out = await captionOverlay(photo);
      break;
    case 'watermark':
      out = await watermark(photo);
      break;
    case 'stock-watermark':
      out = await stockWatermark(photo);
      break;
  }
  return out.jpeg({ quality: 90 }).toBuffer();
}

/** A crop: the share of each side kept (`keepX`, `keepY`) and, for the hard set, a resize factor. */
export interface CropSpec {
  readonly name: string;
  readonly keepX: number;
  readonly keepY: number;
}

/** Plain crops, from a light trim to keeping a third of the picture. */
export const CROPS: readonly CropSpec[] = [
  { name: 'keep90', keepX: 0.9, keepY: 0.9 },
  { name: 'keep80', keepX: 0.8, keepY: 0.8 },
  { name: 'keep70', keepX: 0.7, keepY: 0.7 },
  { name: 'keep60', keepX: 0.6, keepY: 0.6 },
  { name: 'keep-width60', keepX: 0.6, keepY: 1 },
  { name: 'keep-height60', keepX: 1, keepY: 0.6 },
];

/** Resize factors of the crop-then-resize hard set. */
export const CROP_RESIZES: readonly number[] = [0.5, 0.75, 1.25];

/** Deterministic offset in [0, 1) per seed, so crops are off-centre but repeatable. */
function unit(seed: string): number {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  return ((h >>> 0) % 10007) / 10007;
}

/** A crop of the photo at its own pixel scale, or also resized by `scale`; JPEG quality 90. */
export async function applyCrop(file: string, crop: CropSpec, scale = 1): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const w = Math.round(width * crop.keepX);
  const h = Math.round(height * crop.keepY);
  const seed = `${basename(file)}:${crop.name}`;
  const left = Math.round((width - w) * unit(`${seed}x`));
  const top = Math.round((height - h) * unit(`${seed}y`));
  let out = sharp(file).extract({ left, top, width: w, height: h });
  if (scale !== 1) out = sharp(await out.toBuffer()).resize({ width: Math.round(w * scale) });
  return out.jpeg({ quality: 90 }).toBuffer();
}
