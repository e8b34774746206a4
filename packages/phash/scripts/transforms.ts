/**
 * The edits a re-uploader makes, generated with sharp, for measuring robust matching. Shared by
 * `make-transforms.ts` (writes them to disk), `robust-eval.ts` (measures recall) and the
 * stretch test. Node only; never imported by the library.
 */
import { basename } from 'node:path';
import type { Sharp } from 'sharp';
import sharp from 'sharp';

/** Name of one transformation. */
export type TransformName =
  | 'crop10'
  | 'crop20'
  | 'crop30'
  | 'stretch'
  | 'letterbox'
  | 'pillarbox'
  | 'mirror'
  | 'rotate90'
  | 'greyscale'
  | 'sepia'
  | 'contrast'
  | 'saturation'
  | 'text'
  | 'jpeg20'
  | 'downscale'
  | 'rotate3'
  | 'screenshot';

/** All transformations, in report order. */
export const TRANSFORMS: readonly TransformName[] = [
  'crop10',
  'crop20',
  'crop30',
  'stretch',
  'letterbox',
  'pillarbox',
  'mirror',
  'rotate90',
  'greyscale',
  'sepia',
  'contrast',
  'saturation',
  'text',
  'jpeg20',
  'downscale',
  'rotate3',
  'screenshot',
];

/** Deterministic offset in [0, 1) per (photo, transform), so crops are off-centre but repeatable. */
function unit(seed: string): number {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  return ((h >>> 0) % 10007) / 10007;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

/** A phone screenshot (1080×2340) showing the photo in a chat app, with status bar and UI text. */
async function phoneScreenshot(photo: Buffer, seed: string): Promise<Sharp> {
  const W = 1080;
  const H = 2340;
  const dark = unit(`${seed}dark`) < 0.5;
  const bg = dark ? '#121212' : '#ffffff';
  const fg = dark ? '#eeeeee' : '#111111';
  const shown = await sharp(photo)
    .resize({ width: W - 80 })
    .toBuffer({ resolveWithObject: true });
  const top = 420;
  const ui = `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">
    <rect width="100%" height="100%" fill="${bg}"/>
    <text x="40" y="70" font-family="DejaVu Sans" font-size="40" fill="${fg}">9:41</text>
    <rect x="930" y="38" width="90" height="40" rx="8" fill="none" stroke="${fg}" stroke-width="4"/>
    <rect x="936" y="44" width="60" height="28" fill="${fg}"/>
    <rect x="0" y="120" width="${W}" height="150" fill="${dark ? '#1f1f1f' : '#f2f2f2'}"/>
    <text x="120" y="215" font-family="DejaVu Sans" font-size="52" font-weight="bold" fill="${fg}">Alex Morgan</text>
    <text x="40" y="215" font-family="DejaVu Sans" font-size="60" fill="${fg}">‹</text>
    <text x="40" y="370" font-family="DejaVu Sans" font-size="42" fill="${fg}">${escapeXml('look at this one!!')}</text>
    <text x="40" y="${top + shown.info.height + 90}" font-family="DejaVu Sans" font-size="42" fill="${fg}">sent 10:02 · seen</text>
    <rect x="30" y="${H - 170}" width="${W - 60}" height="110" rx="55" fill="none" stroke="${fg}" stroke-width="4"/>
    <text x="90" y="${H - 100}" font-family="DejaVu Sans" font-size="42" fill="#888888">Message</text>
  </svg>`;
  return sharp(Buffer.from(ui)).composite([{ input: shown.data, left: 40, top }]);
}

/** Applies a transformation to an encoded image; returns a JPEG (quality 90 unless stated). */
export async function applyTransform(file: string, name: TransformName): Promise<Buffer> {
  const input = sharp(file);
  const { width = 0, height = 0 } = await input.metadata();
  // The file's name, not its path: the same crops wherever the data folder is.
  const seed = `${basename(file)}:${name}`;
  const crop = (keep: number) => {
    const w = Math.round(width * keep);
    const h = Math.round(height * keep);
    const left = Math.round((width - w) * unit(`${seed}x`));
    const top = Math.round((height - h) * unit(`${seed}y`));
    return sharp(file).extract({ left, top, width: w, height: h });
  };
  let out: Sharp;
  switch (name) {
    case 'crop10':
      out = crop(0.9);
      break;
    case 'crop20':
      out = crop(0.8);
      break;
    case 'crop30':
      out = crop(0.7);
      break;
    case 'stretch':
      out = sharp(file).resize({ width: Math.round(width * 1.35), height, fit: 'fill' });
      break;
    case 'letterbox': {
      const bar = Math.round(height * 0.2);
      out = sharp(file).extend({ top: bar, bottom: bar, background: '#000000' });
      break;
    }
    case 'pillarbox': {
      const bar = Math.round(width * 0.2);
      out = sharp(file).extend({ left: bar, right: bar, background: '#000000' });
      break;
    }
    case 'mirror':
      out = sharp(file).flop();
      break;
    case 'rotate90':
      out = sharp(file).rotate(90);
      break;
    case 'greyscale':
      out = sharp(file).greyscale();
      break;
    case 'sepia':
      out = sharp(file).recomb([
        [0.393, 0.769, 0.189],
        [0.349, 0.686, 0.168],
        [0.272, 0.534, 0.131],
      ]);
      break;
    case 'contrast':
      out = sharp(file).linear(1.6, -0.3 * 128);
      break;
    case 'saturation':
      out = sharp(file).modulate({ saturation: 2.2 });
      break;
    case 'text': {
      const size = Math.round(height / 9);
      const svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
        <text x="50%" y="${Math.round(height * 0.16)}" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold"
          font-size="${size}" fill="white" stroke="black" stroke-width="${Math.max(2, size / 14)}">WHEN IT'S MONDAY</text>
        <text x="50%" y="${Math.round(height * 0.94)}" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold"
          font-size="${size}" fill="white" stroke="black" stroke-width="${Math.max(2, size / 14)}">AGAIN</text>
      </svg>`;
      out = sharp(file).composite([{ input: Buffer.from(svg) }]);
      break;
    }
    case 'jpeg20':
      return sharp(file).jpeg({ quality: 20 }).toBuffer();
    case 'downscale':
      out = sharp(file).resize({ width: 320 });
      break;
    case 'rotate3': {
      // Rotate in place: same canvas, corners filled black, as a "straighten" without crop.
      const rotated = await sharp(file)
        .rotate(3, { background: '#000000' })
        .toBuffer({ resolveWithObject: true });
      out = sharp(rotated.data).extract({
        left: Math.floor((rotated.info.width - width) / 2),
        top: Math.floor((rotated.info.height - height) / 2),
        width,
        height,
      });
      break;
    }
    case 'screenshot':
      out = await phoneScreenshot(await sharp(file).toBuffer(), seed);
      break;
  }
  return out.jpeg({ quality: 90 }).toBuffer();
}
