/**
 * A wake-up that is never lost: a `notify()` with nobody waiting is remembered, so a worker that
 * was busy querying when a job arrived does not then sleep a whole poll interval.
 */
export interface WakeSignal {
  notify(): void;
  /** Resolves on the next (or a pending) notify, or after `ms`. */
  wait(ms: number): Promise<void>;
}

export function createWakeSignal(): WakeSignal {
  let pending = false;
  let waiter: (() => void) | undefined;
  return {
    notify() {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w();
      } else pending = true;
    },
    wait(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          resolve();
        }, ms);
        waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}
