/**
 * A per-key fixed-window counter kept in this process's memory: cheap enough to consult on every
 * request. Used where the database holds no row to count (tus creations, budget adaptations); in
 * a scaled-out deployment each API process counts on its own, so the effective limit is the
 * setting times the number of API processes.
 */
export interface WindowLimiter {
  /** Counts one use by `key`; returns the milliseconds to wait when over the limit, else 0. */
  take(key: string): number;
}

export function createWindowLimiter(options: {
  max: number;
  windowMs: number;
  clock: () => number;
}): WindowLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key) {
      const now = options.clock();
      let entry = windows.get(key);
      if (!entry || now - entry.start >= options.windowMs) {
        // Forget finished windows as they are met, so the map holds only recent users.
        if (windows.size > 10_000)
          for (const [k, w] of windows) if (now - w.start >= options.windowMs) windows.delete(k);
        entry = { start: now, count: 0 };
        windows.set(key, entry);
      }
      if (entry.count >= options.max) return entry.start + options.windowMs - now;
      entry.count += 1;
      return 0;
    },
  };
}
