import { hash256FromHex, hash256ToHex } from './hash256.ts';
import type { VpdqFeature } from './vpdq.ts';

/**
 * Serialises features in the reference tool's text format: one `frame,quality,hex,seconds`
 * line per frame, seconds with 3 decimals.
 */
export function formatVpdq(features: readonly VpdqFeature[]): string {
  return features
    .map((f) => `${f.frameNumber},${f.quality},${hash256ToHex(f.hash)},${f.timestampSeconds.toFixed(3)}\n`)
    .join('');
}

/**
 * Parses the reference tool's `frame,quality,hex,seconds` lines (blank lines ignored).
 * @throws SyntaxError naming the first malformed line.
 */
export function parseVpdq(text: string): VpdqFeature[] {
  const out: VpdqFeature[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const [frame, quality, hex, seconds, ...rest] = line.split(',');
    const frameNumber = Number(frame);
    const q = Number(quality);
    const t = Number(seconds);
    if (
      rest.length > 0 ||
      !Number.isInteger(frameNumber) ||
      !Number.isInteger(q) ||
      !Number.isFinite(t) ||
      !hex
    ) {
      throw new SyntaxError(`vPDQ line ${i + 1} is malformed: ${line.slice(0, 120)}`);
    }
    out.push({ frameNumber, quality: q, hash: hash256FromHex(hex), timestampSeconds: t });
  }
  return out;
}
