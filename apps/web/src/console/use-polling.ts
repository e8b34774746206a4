/**
 * Keeps a view fresh without a reload: runs `load` now, then every `intervalMs` while the page is
 * visible (a hidden tab costs the server nothing), and at once when it becomes visible again.
 * Calls never overlap. A new `key` (another tab, say) loads at once. Returns a function that loads
 * now (after a decision, say).
 */
import { useCallback, useEffect, useRef } from 'react';

export function usePolling(
  load: () => Promise<unknown>,
  intervalMs: number,
  key?: string,
): () => Promise<void> {
  const latest = useRef(load);
  const busy = useRef<Promise<void> | null>(null);
  useEffect(() => {
    latest.current = load;
  });

  const run = useCallback(async () => {
    // A refresh asked for during a load waits for it, then loads again, so it sees its own change.
    while (busy.current !== null) await busy.current;
    const current = latest
      .current()
      .then(() => undefined)
      .finally(() => {
        busy.current = null;
      });
    busy.current = current;
    await current;
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is only a reason to load again at once
  useEffect(() => {
    const tick = () => {
      if (document.visibilityState === 'visible' && !busy.current) void run().catch(() => {});
    };
    if (document.visibilityState === 'visible') void run().catch(() => {});
    const timer = window.setInterval(tick, intervalMs);
    document.addEventListener('visibilitychange', tick);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [run, intervalMs, key]);

  return run;
}
