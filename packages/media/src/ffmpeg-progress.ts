/**
 * Incremental parser for ffmpeg's `-progress` output (blocks of `key=value` lines ending in
 * `progress=continue|end`). Turns the encoded timestamp into a 0..1 fraction of the expected duration.
 */
export class FfmpegProgressParser {
  private readonly durationSeconds: number;
  private readonly onProgress: (fraction: number) => void;
  private last = -1;

  /**
   * @param durationSeconds expected output duration (after any trimming)
   * @param onProgress receives non-decreasing fractions, 1 exactly once at the end
   */
  constructor(durationSeconds: number, onProgress: (fraction: number) => void) {
    this.durationSeconds = durationSeconds;
    this.onProgress = onProgress;
  }

  /**
   * Feeds one line of ffmpeg's progress stream.
   * @param line a `key=value` line
   */
  push(line: string): void {
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    if (key === 'progress' && value === 'end') {
      this.emit(1);
      return;
    }
    // `out_time_ms` is microseconds despite its name (an old ffmpeg bug kept for compatibility);
    // newer versions also print the correctly named `out_time_us`. Both mean the same.
    if ((key === 'out_time_us' || key === 'out_time_ms') && /^\d+$/.test(value) && this.durationSeconds > 0) {
      // Never report 1 before the end block: muxing and trailer writing still follow.
      this.emit(Math.min(0.99, Number(value) / 1e6 / this.durationSeconds));
    }
  }

  private emit(fraction: number): void {
    if (fraction <= this.last) return;
    this.last = fraction;
    this.onProgress(fraction);
  }
}
