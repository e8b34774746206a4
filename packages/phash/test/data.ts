/**
 * Test-only helpers (Node): locating the shared data folder and decoding images with sharp.
 * Library code never imports this.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { PixelImage } from '../src/pixel-image.ts';

/** `../shared/data` beside the project root, where the manifest says test data lives. */
export const DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');

/** Non-empty skip reason when the shared data folder is absent (node:test `skip` option). */
export const SKIP_NO_DATA: string | false = existsSync(join(DATA_DIR, 'MANIFEST.md'))
  ? false
  : `shared test data not found at ${DATA_DIR}`;

/** Path of a file inside the data folder. */
export function dataPath(...parts: string[]): string {
  return join(DATA_DIR, ...parts);
}

/** Rows of a CSV with a header line, as objects keyed by header name. */
export function readCsv(...parts: string[]): Record<string, string>[] {
  const [header, ...rows] = readFileSync(dataPath(...parts), 'utf8')
    .trim()
    .split('\n');
  const keys = header!.split(',');
  return rows.map((row) => {
    const cells = row.split(',');
    return Object.fromEntries(keys.map((k, i) => [k, cells[i] ?? '']));
  });
}

/**
 * Decodes an image file to RGB pixels. No auto-rotation (the reference tools do not rotate),
 * alpha dropped.
 */
export async function decodeRgb(file: string): Promise<PixelImage & { channels: 3 }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: expected 3 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height, channels: 3 };
}
