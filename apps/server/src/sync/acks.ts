/**
 * Delivery acknowledgements, coalesced: every ack (WebSocket frame, long-poll cursor, POST
 * /v1/updates/ack) lands in a map of account → highest cursor, and one write per interval applies
 * the lot in one transaction. A channel post to 10,000 online subscribers brings 10,000 acks
 * within a second; one transaction each was 10,000 fsyncs.
 *
 * Nothing acknowledged is lost: a failed write puts its acks back for the next one, and stop()
 * writes whatever is pending (called when the server closes, after the sockets are gone).
 */
export interface Ack {
  accountId: string;
  cursor: number;
}

export interface AckBatcher {
  /** Records that one of the account's devices holds every event up to `cursor`. */
  add(accountId: string, cursor: number): void;
  /** The same, resolving once it is written (rejecting if that write failed; it is retried anyway). */
  addAndWait(accountId: string, cursor: number): Promise<void>;
  /** Writes what is pending now and waits for it. */
  flush(): Promise<void>;
  /** Writes what is pending; later adds are written at once, unbatched. */
  stop(): Promise<void>;
}

export function createAckBatcher(deps: {
  /** Applies a batch in one transaction (messaging.acknowledgeMany). */
  write: (acks: Ack[]) => Promise<void>;
  intervalMs: number;
  /**
   * Accounts pending that start a write at once, without waiting for the interval: a burst (a
   * channel post's 10,000 subscribers) is written in slices as it arrives, not all after it.
   */
  maxPending?: number;
  log: { warn: (o: object, m: string) => void };
}): AckBatcher {
  const maxPending = deps.maxPending ?? 1000;
  let pending = new Map<string, number>();
  let waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  let stopped = false;

  function schedule() {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = null;
      void flush();
    }, deps.intervalMs);
  }

  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    // One write at a time, in order: a batch never overtakes the one before it.
    writing = writing.then(async () => {
      if (pending.size === 0) return;
      const batch = pending;
      const settle = waiters;
      pending = new Map();
      waiters = [];
      try {
        await deps.write([...batch].map(([accountId, cursor]) => ({ accountId, cursor })));
        for (const w of settle) w.resolve();
      } catch (err) {
        deps.log.warn({ err, accounts: batch.size }, 'delivery acknowledgements not written; retrying');
        for (const [accountId, cursor] of batch) pending.set(accountId, Math.max(cursor, pending.get(accountId) ?? 0));
        for (const w of settle) w.reject(err);
        schedule();
      }
    });
    return writing;
  }

  function add(accountId: string, cursor: number) {
    pending.set(accountId, Math.max(cursor, pending.get(accountId) ?? 0));
    if (stopped || pending.size >= maxPending) void flush();
    else schedule();
  }

  return {
    add,
    addAndWait(accountId, cursor) {
      const written = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      add(accountId, cursor);
      return written;
    },
    flush,
    async stop() {
      stopped = true;
      await flush();
    },
  };
}
