/** How media facts read to a person: durations as m:ss, sizes in KB/MB, a photo's description. */
import type { MediaSummary } from '@mmd/sdk';

/** 75.4 → "1:15"; an hour or more → "1:02:03". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '0:00';
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A duration as words, for screen readers: "1 minute 15 seconds". */
export function spokenDuration(seconds: number | undefined): string {
  // Cut like formatDuration, so what is said matches what is shown.
  const total = Math.max(0, Math.floor(seconds ?? 0));
  const m = Math.floor(total / 60);
  const s = total % 60;
  const parts = [];
  if (m) parts.push(`${m} minute${m === 1 ? '' : 's'}`);
  if (s || !m) parts.push(`${s} second${s === 1 ? '' : 's'}`);
  return parts.join(' ');
}

/** 1536 → "1.5 KB". */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** Alt text: the file name when there is one, else "Photo, 1280 × 960". */
export function describeImage(item: Pick<MediaSummary, 'filename' | 'width' | 'height'>, noun = 'Photo'): string {
  if (item.filename) return item.filename;
  return item.width && item.height ? `${noun}, ${item.width} × ${item.height}` : noun;
}
