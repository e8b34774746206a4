/**
 * A fixed-window attempt counter per key, in this process's memory (like the rate-limit plugin's
 * default store). Used where one request must pass two limits at once: the plugin applies only
 * one limiter per request.
 */
export interface WindowLimiter {
  /** Counts one attempt by `key`; returns the milliseconds to wait when over the limit, else 0. */
  hit(key: string): number;
}

export function createWindowLimiter(options: { max: number; windowMs: number; clock?: () => number }): WindowLimiter {
  const { max, windowMs } = options;
  const clock = options.clock ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();
  let lastSweep = clock();
  return {
    hit(key) {
      const now = clock();
      // Forget finished windows once per window, so a flood of new keys cannot grow memory for long.
      if (now - lastSweep >= windowMs) {
        for (const [k, w] of windows) if (now - w.start >= windowMs) windows.delete(k);
        lastSweep = now;
      }
      let w = windows.get(key);
      if (!w || now - w.start >= windowMs) {
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      w.count += 1;
      return w.count > max ? w.start + windowMs - now : 0;
    },
  };
}
