/**
 * Budget adaptation requests, normalised so the server keeps few copies per item: the byte budget
 * is rounded down to a tier (a carrier's 307,200 B becomes 300,000 B, which still fits), and the
 * accept list is reduced to a canonical, sorted set of known types and parameters (pixel sizes
 * rounded down to common screen widths). Any request then maps to one of a small number of cache
 * keys, and each item keeps at most a configured number of copies, the oldest evicted first.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';

/** Budgets a request is rounded down to (bytes). */
export const BUDGET_TIERS = [
  100, 1_000, 10_000, 30_000, 100_000, 300_000, 600_000, 1_000_000, 3_000_000, 10_000_000, 30_000_000,
  100_000_000,
] as const;
const SIDE_TIERS = [120, 160, 176, 240, 320, 352, 480, 640, 720, 854, 1080, 1280, 1920, 3840] as const;
const MAX_ACCEPT_ENTRIES = 6;
const PARAMS = new Set(['profile', 'audio', 'max_width', 'max_height']);

export function budgetTier(maxBytes: number): number {
  let tier: number = BUDGET_TIERS[0];
  for (const t of BUDGET_TIERS) if (t <= maxBytes) tier = t;
  return tier;
}

function floorTo(tiers: readonly number[], value: number): number {
  let out = tiers[0]!;
  for (const t of tiers) if (t <= value) out = t;
  return out;
}

/** `" IMAGE/JPEG , video/mp4; max_width=700"` → `["image/jpeg", "video/mp4;max_width=640"]`, sorted, deduplicated. */
export function normaliseAccept(entries: string[]): string[] {
  const out = new Set<string>();
  for (const entry of entries) {
    const [mimeRaw, ...paramsRaw] = entry.split(';').map((s) => s.trim().toLowerCase());
    if (!mimeRaw || !/^[a-z]+\/[a-z0-9.+-]+$/.test(mimeRaw)) throw invalid(`"${entry}" is not a MIME type`);
    const params: string[] = [];
    for (const p of paramsRaw) {
      if (!p) continue;
      const [key, value = ''] = p.split('=').map((s) => s.trim());
      if (!key || !PARAMS.has(key))
        throw invalid(`unknown parameter "${key}" (known: ${[...PARAMS].join(', ')})`);
      if (key === 'max_width' || key === 'max_height') {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw invalid(`${key} must be a positive integer`);
        params.push(`${key}=${floorTo(SIDE_TIERS, n)}`);
      } else if (key === 'profile') {
        if (!['baseline', 'main', 'high'].includes(value))
          throw invalid('profile must be baseline, main or high');
        params.push(`profile=${value}`);
      } else {
        params.push(`audio=${value === 'no' || value === 'false' ? 'no' : 'yes'}`);
      }
    }
    out.add([mimeRaw, ...params.sort()].join(';'));
  }
  if (out.size === 0) throw invalid('accept names no type');
  if (out.size > MAX_ACCEPT_ENTRIES) throw invalid(`accept may name at most ${MAX_ACCEPT_ENTRIES} types`);
  return [...out].sort();
}

/** The blob key of an item's copy for a normalised request. */
export function adaptedKey(mediaId: string, tier: number, accept: string[]): string {
  const digest = createHash('sha256').update(accept.join(',')).digest('hex').slice(0, 16);
  return `media/${mediaId}/adapted/${tier}-${digest}`;
}

function invalid(message: string) {
  return new AppError('validation_failed', message, { errors: [{ path: 'querystring/accept', message }] });
}
