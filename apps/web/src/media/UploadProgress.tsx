/**
 * Upload progress for the composer: a native <progress> (announced by screen readers) with the
 * percentage and bytes beside it. Feed it MmdClient.upload's `onProgress(sent, total)`.
 */
import { formatBytes } from './format.ts';
import './media.css';

export interface UploadProgressProps {
  /** Bytes sent so far. */
  sent: number;
  /** Bytes in all (0 when not known yet). */
  total: number;
  /** What is uploading, e.g. "Uploading beach.jpg"; names the progress bar. */
  label: string;
  /** When given, a Cancel button (e.g. aborting the upload's AbortController). */
  onCancel?: () => void;
}

export function UploadProgress({ sent, total, label, onCancel }: UploadProgressProps) {
  const known = total > 0;
  const percent = known ? Math.min(100, Math.round((sent / total) * 100)) : 0;
  const done = known && sent >= total;
  return (
    <div className="upload-progress">
      {/* Without a total the bar is indeterminate (no value), which browsers animate. */}
      <progress aria-label={label} max={known ? total : undefined} value={known ? Math.min(sent, total) : undefined} />
      <span className="upload-progress-text" aria-hidden="true">
        {done ? 'Processing…' : known ? `${percent}% · ${formatBytes(sent)} of ${formatBytes(total)}` : 'Starting…'}
      </span>
      {onCancel && !done && (
        <button type="button" className="upload-progress-cancel" onClick={onCancel} aria-label={`Cancel: ${label}`}>
          ✕
        </button>
      )}
    </div>
  );
}
