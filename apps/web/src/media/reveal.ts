/**
 * Which sensitive (blurred) items the person chose to view in this tab. Shared by the bubble and the
 * full-size viewer, so pressing "View" once is enough; forgotten on reload, as a choice about one
 * viewing should be.
 */
import { useCallback, useSyncExternalStore } from 'react';

const revealed = new Set<string>();
const listeners = new Set<() => void>();

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Whether `id` has been revealed, and a function to reveal it. */
export function useRevealed(id: string): [boolean, () => void] {
  const shown = useSyncExternalStore(subscribe, () => revealed.has(id));
  const reveal = useCallback(() => {
    revealed.add(id);
    for (const listener of [...listeners]) listener();
  }, [id]);
  return [shown, reveal];
}

/** Forgets every choice (signing out: the next person on this browser sees the warnings again). */
export function forgetReveals(): void {
  revealed.clear();
  for (const listener of [...listeners]) listener();
}
