/**
 * Lets the event loop run (sockets, timers, other requests) before going on. Queries on embedded
 * SQLite resolve synchronously, so a loop of them runs entirely in microtasks: without this, a
 * campaign's sender or planner looping batch after batch never lets the process read an incoming
 * request until it stops (a GET waited 74 s behind a 20,000-recipient campaign in bench:campaigns).
 */
export function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
