/**
 * Drawing personalised media: text and image layers over a base image (sharp) or a base clip
 * (ffmpeg drawtext and overlay). No database, no network: the caller hands over the base's bytes
 * and each image layer's bytes, and gets the rendered file's bytes back. Text uses the bundled
 * DejaVu Sans (open licence, dejavu-fonts-ttf), the same file for images and video, so a name
 * looks the same in both and never depends on the fonts of the machine.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locateBinaries } from '@mmd/media';
import sharp, { type OverlayOptions } from 'sharp';
import type { ImageLayer, TextLayer } from './render.ts';

const require = createRequire(import.meta.url);
/** The bundled fonts: found through module resolution, so they work from any working directory. */
export const FONT_FILES = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
} as const;

/** Text smaller than this share of its asked size is wrapped inside words rather than shrunk further. */
const MIN_SHRINK = 0.5;

const escapeMarkup = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/**
 * A render refused for what it asks (a text layer past the pixel budget, a picture sharp or cairo
 * cannot draw): the caller answers with a reason (template_render_failed), never a 500.
 */
export class DrawRefusal extends Error {}

/** The size text is measured at: small, so measuring costs little whatever the asked size. */
const MEASURE_SIZE = 20;
/** Cairo's surfaces stop at 32,767 pixels a side. */
const MAX_SIDE = 32_000;
/** A line's height per font pixel (DejaVu Sans with pango's default spacing), for estimates. */
const LINE_HEIGHT = 1.3;

function textOptions(layer: TextLayer, markup: string, size: number, width?: number, wrap?: 'word' | 'word-char') {
  const bold = layer.bold === true;
  return {
    text: markup,
    font: `DejaVu Sans${bold ? ' Bold' : ''} ${size.toFixed(1)}`,
    fontfile: bold ? FONT_FILES.bold : FONT_FILES.regular,
    rgba: true,
    dpi: 72,
    align: layer.align ?? 'left',
    ...(width ? { width, wrap } : {}),
  } as const;
}

/**
 * The font size a text layer is drawn at and the size of what it draws, from one small measuring
 * render: text scales linearly with its font, so the width of the whole text and of its longest
 * word at MEASURE_SIZE give the size at which the longest word fits the box and the wrapped text
 * fits `max_lines` (never below half the asked size; below that words break inside). Refuses
 * (DrawRefusal) a layer whose drawing would be larger than `budget` pixels or than cairo allows.
 */
export async function layoutText(layer: TextLayer, scale: number, budget: number): Promise<{ size: number; breakWords: boolean; width: number; height: number }> {
  const asked = Math.max(4, layer.font_size * scale);
  const maxWidth = layer.max_width ? Math.max(8, Math.round(layer.max_width * scale)) : undefined;
  const hardLines = layer.text.split('\n');
  const longestLine = Math.max(1, ...hardLines.map((l) => [...l].length));
  const measured = await sharp({ text: textOptions(layer, escapeMarkup(layer.text), MEASURE_SIZE) }).png().toBuffer({ resolveWithObject: true });
  // Pixels per character per font pixel, from the widest line.
  const advance = measured.info.width / longestLine / MEASURE_SIZE;
  const totalChars = hardLines.reduce((n, l) => n + [...l].length, 0);
  const longestWord = Math.max(1, ...layer.text.split(/\s+/).map((w) => [...w].length));
  let fit = asked;
  if (maxWidth) {
    fit = Math.min(fit, maxWidth / (longestWord * advance));
    // Wrapping wastes the end of each line: count on 90 % of the box.
    if (layer.max_lines !== undefined) fit = Math.min(fit, (layer.max_lines * maxWidth * 0.9) / Math.max(1, totalChars * advance));
  }
  const breakWords = fit < asked * MIN_SHRINK;
  const size = Math.max(fit, asked * MIN_SHRINK);
  const natural = (chars: number) => chars * advance * size;
  const lines = maxWidth ? hardLines.reduce((n, l) => n + Math.max(1, Math.ceil(natural([...l].length) / maxWidth)), 0) : hardLines.length;
  const width = Math.ceil(maxWidth ? Math.min(maxWidth, natural(longestLine)) : natural(longestLine));
  const height = Math.ceil(lines * size * LINE_HEIGHT);
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > budget) {
    throw new DrawRefusal(`a text layer would be about ${width}×${height} pixels drawn (at most ${budget} pixels): use a smaller font_size, max_width or max_lines, or shorter values`);
  }
  return { size, breakWords, width, height };
}

/** One text layer drawn alone (transparent background), shrunk so it fits its max width and lines: one measuring render, one drawing. */
export async function drawText(layer: TextLayer, scale: number, budget: number): Promise<{ png: Buffer; width: number; height: number; left: number; top: number }> {
  const maxWidth = layer.max_width ? Math.max(8, Math.round(layer.max_width * scale)) : undefined;
  const color = layer.color ?? '#ffffff';
  const markup = `<span foreground="${color}">${escapeMarkup(layer.text)}</span>`;
  const { size, breakWords } = await layoutText(layer, scale, budget);
  const out = await sharp({ text: textOptions(layer, markup, size, maxWidth, breakWords ? 'word-char' : 'word') })
    .png()
    .toBuffer({ resolveWithObject: true });
  const width = out.info.width;
  let left = Math.round(layer.x * scale);
  if (maxWidth && layer.align === 'center') left += Math.round((maxWidth - width) / 2);
  else if (maxWidth && layer.align === 'right') left += maxWidth - width;
  return { png: out.data, width, height: out.info.height, left, top: Math.round(layer.y * scale) };
}

/** An image layer resized into its box (cover by default), as PNG. */
export async function drawImage(layer: ImageLayer, bytes: Buffer, scale: number, maxPixels: number): Promise<{ png: Buffer; width: number; height: number; left: number; top: number }> {
  const width = Math.max(1, Math.round(layer.width * scale));
  const height = Math.max(1, Math.round(layer.height * scale));
  const png = await sharp(bytes, { limitInputPixels: maxPixels })
    .rotate()
    .resize(width, height, { fit: layer.fit ?? 'cover', background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png()
    .toBuffer();
  return { png, width, height, left: Math.round(layer.x * scale), top: Math.round(layer.y * scale) };
}

/** The part of an overlay inside the base (sharp refuses overlays reaching past its edges), or null. */
async function clip(o: { png: Buffer; width: number; height: number; left: number; top: number }, baseWidth: number, baseHeight: number) {
  const x0 = Math.max(0, o.left);
  const y0 = Math.max(0, o.top);
  const x1 = Math.min(baseWidth, o.left + o.width);
  const y1 = Math.min(baseHeight, o.top + o.height);
  if (x1 <= x0 || y1 <= y0) return null;
  if (x0 === o.left && y0 === o.top && x1 - x0 === o.width && y1 - y0 === o.height) return { input: o.png, left: x0, top: y0 };
  const part = await sharp(o.png).extract({ left: x0 - o.left, top: y0 - o.top, width: x1 - x0, height: y1 - y0 }).png().toBuffer();
  return { input: part, left: x0, top: y0 };
}

/** What a layer becomes before drawing: text as is, images with their bytes fetched. */
export type DrawLayer = TextLayer | (ImageLayer & { bytes: Buffer });

/**
 * Draws the layers over a base image; coordinates are pixels of the base as its owner sees it
 * (`designWidth`), scaled to the bytes given (a served rendition may be smaller). Returns a JPEG.
 */
export async function drawOverImage(options: { base: Buffer; designWidth: number; layers: DrawLayer[]; maxPixels: number }): Promise<{ bytes: Buffer; width: number; height: number }> {
  try {
    const base = sharp(options.base, { limitInputPixels: options.maxPixels }).rotate();
    const meta = await base.clone().toBuffer({ resolveWithObject: true });
    const { width, height } = meta.info;
    const scale = width / (options.designWidth || width);
    // A text layer is cut at the base's edges anyway: more than four bases' worth is never needed.
    const budget = Math.min(options.maxPixels, 4 * width * height);
    const overlays: OverlayOptions[] = [];
    for (const layer of options.layers) {
      const drawn = layer.type === 'text' ? await drawText(layer, scale, budget) : await drawImage(layer, layer.bytes, scale, options.maxPixels);
      const part = await clip(drawn, width, height);
      if (part) overlays.push(part);
    }
    const bytes = await sharp(meta.data).composite(overlays).jpeg({ quality: 90, mozjpeg: false }).toBuffer();
    return { bytes, width, height };
  } catch (err) {
    if (err instanceof DrawRefusal) throw err;
    // sharp and cairo refuse what they cannot draw (a surface too large, a broken layer image).
    throw new DrawRefusal(`the image could not be drawn: ${(err as Error).message}`);
  }
}

/** A value inside a filtergraph option: quoted, with the quote and backslash escaped. */
const filterValue = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/:/g, '\\:')}'`;

function run(command: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`ffmpeg failed: ${String(stderr).slice(-600)}`));
      else resolve();
    });
  });
}

/**
 * Lines for drawtext, which does not wrap: words are laid out greedily using the width sharp
 * measures for the whole text in the same font (its mean advance per character), shrinking the
 * font until the longest word fits, as images do.
 */
async function videoTextLayout(layer: TextLayer, scale: number): Promise<{ lines: string[]; size: number }> {
  const asked = Math.max(4, layer.font_size * scale);
  const maxWidth = layer.max_width ? layer.max_width * scale : Number.POSITIVE_INFINITY;
  const probe = await sharp({ text: { text: escapeMarkup(layer.text), font: `DejaVu Sans${layer.bold ? ' Bold' : ''} ${MEASURE_SIZE}`, fontfile: layer.bold ? FONT_FILES.bold : FONT_FILES.regular, dpi: 72 } }).png().toBuffer({ resolveWithObject: true });
  const perChar = probe.info.width / MEASURE_SIZE / Math.max(1, [...layer.text].length); // em per character
  const words = layer.text.split(/\s+/).filter(Boolean);
  let size = asked;
  for (;;) {
    const charWidth = perChar * size;
    const longest = Math.max(...words.map((w) => [...w].length)) * charWidth;
    const lines: string[] = [];
    let current = '';
    for (const word of words) {
      const next = current ? `${current} ${word}` : word;
      if (current && [...next].length * charWidth > maxWidth) {
        lines.push(current);
        current = word;
      } else current = next;
    }
    if (current) lines.push(current);
    const fits = longest <= maxWidth && (layer.max_lines === undefined || lines.length <= layer.max_lines);
    if (fits || size < asked * MIN_SHRINK) return { lines, size };
    size *= 0.9;
  }
}

/**
 * Draws the layers over a short clip with ffmpeg: text with drawtext (DejaVu Sans from the same
 * file as images), images with overlay. H.264 MP4 out (audio copied); the media ladder then makes
 * its usual renditions from it.
 */
export async function drawOverVideo(options: { base: Buffer; designWidth: number; videoWidth: number; layers: DrawLayer[]; maxPixels: number; timeoutMs?: number }): Promise<{ bytes: Buffer }> {
  const { ffmpeg } = await locateBinaries();
  const work = await mkdtemp(path.join(tmpdir(), 'mmd-personalise-'));
  try {
    const input = path.join(work, 'base.mp4');
    await writeFile(input, options.base);
    const scale = options.videoWidth / (options.designWidth || options.videoWidth);
    const args = ['-hide_banner', '-nostdin', '-y', '-i', input];
    const filters: string[] = [];
    let label = '0:v';
    let inputIndex = 1;
    for (const [i, layer] of options.layers.entries()) {
      const out = `v${i}`;
      if (layer.type === 'text') {
        const { lines, size } = await videoTextLayout(layer, scale);
        const textFile = path.join(work, `text-${i}.txt`);
        await writeFile(textFile, lines.join('\n'));
        const color = (layer.color ?? '#ffffff').replace('#', '0x');
        const x = Math.round(layer.x * scale);
        const boxWidth = layer.max_width ? Math.round(layer.max_width * scale) : null;
        const xExpr = boxWidth && layer.align === 'center' ? `${x}+(${boxWidth}-text_w)/2` : boxWidth && layer.align === 'right' ? `${x}+${boxWidth}-text_w` : String(x);
        filters.push(
          `[${label}]drawtext=fontfile=${filterValue(layer.bold ? FONT_FILES.bold : FONT_FILES.regular)}:textfile=${filterValue(textFile)}:fontsize=${Math.round(size)}:fontcolor=${color}:x=${filterValue(xExpr)}:y=${Math.round(layer.y * scale)}:line_spacing=${Math.round(size * 0.2)}:expansion=none[${out}]`,
        );
      } else {
        const drawn = await drawImage(layer, layer.bytes, scale, options.maxPixels);
        const file = path.join(work, `image-${i}.png`);
        await writeFile(file, drawn.png);
        args.push('-i', file);
        filters.push(`[${label}][${inputIndex}:v]overlay=${drawn.left}:${drawn.top}[${out}]`);
        inputIndex += 1;
      }
      label = out;
    }
    const output = path.join(work, 'out.mp4');
    if (filters.length > 0) args.push('-filter_complex', filters.join(';'), '-map', `[${label}]`);
    else args.push('-map', '0:v');
    args.push('-map', '0:a?', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-c:a', 'copy', '-movflags', '+faststart', output);
    try {
      await run(ffmpeg, args, options.timeoutMs ?? 120_000);
    } catch (err) {
      throw new DrawRefusal(`the clip could not be drawn: ${(err as Error).message}`);
    }
    return { bytes: await readFile(output) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
