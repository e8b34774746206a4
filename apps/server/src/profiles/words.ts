/**
 * How names are compared in people search: lower-cased, accents removed (NFKD, then combining
 * marks dropped), split into words. "José Núñez" is found by "jose", "nun" and "núñ".
 */

/** Folds text for search: NFKD, no combining marks, lower case. */
export function foldForSearch(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** The distinct folded words of a display name (letters, digits and emoji runs; at most 16). */
export function nameWords(displayName: string): string[] {
  const words = foldForSearch(displayName)
    .split(/[\s\p{P}\p{Z}]+/u)
    .filter((w) => w.length > 0)
    .map((w) => w.slice(0, 64));
  return [...new Set(words)].slice(0, 16);
}

/**
 * A display name or about line as stored: NFC, surrounding whitespace trimmed, runs of
 * whitespace inside collapsed to one space; empty becomes null.
 */
export function cleanText(text: string | null): string | null {
  if (text === null) return null;
  const cleaned = text.normalize('NFC').trim().replace(/\s+/gu, ' ');
  return cleaned.length > 0 ? cleaned : null;
}
