/** Long-poll support: wait until the account has at least one event after `cursor`. */
import type { StoredEvent } from './event-log.ts';
import type { SyncHub } from './hub.ts';

export async function waitForEvents(options: {
  hub: SyncHub;
  accountId: string;
  cursor: number;
  limit: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** The credential behind the poll, so revoking it ends the wait at once. */
  deviceId?: string | null;
  apiKeyId?: string | null;
  /** Told when the hub ends the wait early (credential revoked, shutdown). */
  onClose?: (code: string, detail: string) => void;
}): Promise<StoredEvent[]> {
  const { hub, accountId, cursor, limit, timeoutMs, signal } = options;
  const events: StoredEvent[] = [];
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    finish();
  };
  const timer = setTimeout(settle, timeoutMs);
  const onAbort = () => settle();
  signal.addEventListener('abort', onAbort);
  const handle = await hub.attach(
    {
      accountId,
      deviceId: options.deviceId ?? null,
      apiKeyId: options.apiKeyId ?? null,
      send(event) {
        if (events.length < limit) events.push(event);
        // Let events committed together arrive together before answering.
        setImmediate(settle);
      },
      close(code, detail) {
        options.onClose?.(code, detail);
        settle();
      },
    },
    cursor,
  );
  if (events.length > 0) settle();
  await done;
  clearTimeout(timer);
  signal.removeEventListener('abort', onAbort);
  handle.detach();
  return events;
}
