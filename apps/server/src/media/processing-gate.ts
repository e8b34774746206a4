/**
 * Bounds the memory media processing may use at once in this process. A 300 KB PNG can state
 * 10,000 × 10,000 pixels; the renditions shrink on load and stream, but screening hashes the
 * stored pixels at full resolution (PDQ must match Meta's reference bit for bit), which costs about
 * 3 bytes per pixel plus the hasher's working set. So each job takes a share of a pixel budget
 * before it decodes: small photos run side by side, and a picture as large as the budget runs
 * alone. Jobs wait in arrival order, so a large one is never starved by a stream of small ones.
 */

export interface PixelGate {
  /** Waits until `pixels` (clamped to the budget) fit, then returns the release function. */
  acquire(pixels: number, signal?: AbortSignal): Promise<() => void>;
  /** Pixels held now (for tests and logs). */
  readonly inUse: number;
}

export function createPixelGate(budget: number): PixelGate {
  let inUse = 0;
  const waiting: Array<{ weight: number; grant: () => void }> = [];

  const pump = () => {
    while (waiting.length > 0 && inUse + waiting[0]!.weight <= budget) {
      const next = waiting.shift()!;
      inUse += next.weight;
      next.grant();
    }
  };

  return {
    get inUse() {
      return inUse;
    },
    acquire(pixels, signal) {
      const weight = Math.max(0, Math.min(budget, Math.ceil(pixels)));
      return new Promise((resolve, reject) => {
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          inUse -= weight;
          pump();
        };
        const entry = {
          weight,
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(release);
          },
        };
        const onAbort = () => {
          const at = waiting.indexOf(entry);
          if (at >= 0) waiting.splice(at, 1);
          reject(signal?.reason ?? new Error('aborted'));
          pump();
        };
        if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(entry);
        pump();
      });
    },
  };
}

/**
 * The share of the budget one item takes. Images: their pixels (decoded once at full size for
 * hashing). Videos: a few frames of their size are in flight while screening hashes them.
 * Audio and documents decode nothing large.
 */
export function pixelWeight(info: { kind: string; width?: number; height?: number }): number {
  const pixels = (info.width ?? 0) * (info.height ?? 0);
  if (info.kind === 'image') return pixels;
  if (info.kind === 'video') return pixels * 8;
  return 0;
}
