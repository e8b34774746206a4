/** How long a failed job waits before its next attempt. */
export interface BackoffOptions {
  /** Delay after the first failure, before jitter (default 1 s). */
  baseMs?: number;
  /** Upper bound on the delay (default 10 min). */
  maxMs?: number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so a batch of jobs
 * that failed together (a dependency was down) does not retry in lockstep.
 */
export function retryDelay(
  failedAttempts: number,
  options: BackoffOptions = {},
  random = Math.random,
): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 10 * 60_000;
  const exp = Math.min(max, base * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
