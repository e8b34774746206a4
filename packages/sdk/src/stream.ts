/**
 * The live stream: one WebSocket carrying every event of every conversation, resuming from the
 * last cursor after a drop, so a flaky connection loses nothing and repeats nothing.
 */
import type { StreamServerFrame, SyncEvent, TypingFrame } from '@mmd/contracts';

/** The subset of the WebSocket API the stream needs (browsers' and the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: { data?: unknown; code?: number; reason?: string }) => void): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface StreamOptions {
  /** Resume after this cursor (0 or omitted: from the beginning). */
  cursor?: number;
  onEvent: (event: SyncEvent) => void;
  /** Called each time the stream has caught up (again, after a reconnect). */
  onReady?: (cursor: number) => void;
  /** Someone else is typing in a direct chat or small group (lasts ~5 s unless repeated). */
  onTyping?: (typing: Omit<TypingFrame, 'type'>) => void;
  /** Called when the connection drops and a reconnect is scheduled (onReady follows when it is back). */
  onDisconnect?: () => void;
  /** Called when the server refuses or drops the stream; reconnects follow unless closed. */
  onError?: (error: { code: string; detail: string }) => void;
  /**
   * The server does not know this stream's cursor (its database was restored from a backup, so the
   * cursor is beyond its newest event): what the app holds may be stale or gone. The stream reads
   * the newest cursor, calls this with it, and once the returned promise settles resumes from it.
   * Reload your lists here, as on first load. Without it the stream still resumes from the newest
   * cursor, and the events the app missed stay missed.
   */
  onReset?: (cursor: number) => void | Promise<void>;
  /** Reconnect after a drop (default true), with backoff from 250 ms up to 10 s. */
  reconnect?: boolean;
  /** Acknowledge received events so senders see "delivered" (default true). */
  acknowledge?: boolean;
}

export interface Stream {
  /** The cursor of the last event handed to onEvent. */
  readonly cursor: number;
  /** Resolves when the stream has first caught up. */
  readonly ready: Promise<number>;
  /** Tells the others in a conversation that this person is typing (dropped when disconnected). */
  typing(conversationId: string): void;
  close(): void;
}

/** Close code the server sends with `cursor_expired` (a browser sees the code, not the HTTP status). */
const CURSOR_EXPIRED_CLOSE = 4010;

export function openStream(
  options: StreamOptions & { url: (cursor: number) => string; connect: WebSocketFactory; newestCursor: () => Promise<number> },
): Stream {
  let cursor = options.cursor ?? 0;
  let closed = false;
  let socket: WebSocketLike | null = null;
  let attempt = 0;
  let ackTimer: ReturnType<typeof setTimeout> | null = null;
  let resolveReady: (c: number) => void = () => {};
  const ready = new Promise<number>((resolve) => {
    resolveReady = resolve;
  });

  const ack = () => {
    if (options.acknowledge === false || ackTimer) return;
    ackTimer = setTimeout(() => {
      ackTimer = null;
      if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: 'ack', cursor }));
    }, 200);
  };

  // Start over from the newest cursor: read it first, let the app reload, then follow from it, so
  // whatever happens while the app reloads arrives on the stream.
  const reset = async () => {
    if (closed) return;
    try {
      const newest = await options.newestCursor();
      if (closed) return;
      await options.onReset?.(newest);
      cursor = newest;
      connect();
    } catch {
      if (closed) return;
      options.onDisconnect?.();
      setTimeout(reset, Math.min(10_000, 250 * 2 ** attempt++));
    }
  };

  const connect = () => {
    if (closed) return;
    const ws = options.connect(options.url(cursor));
    socket = ws;
    ws.addEventListener('message', (message) => {
      let frame: StreamServerFrame;
      try {
        frame = JSON.parse(String(message.data)) as StreamServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'event') {
        // The server never repeats an event on one connection; after a reconnect we resume from
        // our cursor, so anything at or below it is a repeat and is dropped here.
        if (frame.event.cursor <= cursor) return;
        cursor = frame.event.cursor;
        options.onEvent(frame.event);
        ack();
      } else if (frame.type === 'ready') {
        attempt = 0;
        cursor = Math.max(cursor, frame.cursor);
        options.onReady?.(cursor);
        resolveReady(cursor);
      } else if (frame.type === 'typing') {
        options.onTyping?.({ conversation_id: frame.conversation_id, account_id: frame.account_id, handle: frame.handle });
      } else if (frame.type === 'error') {
        options.onError?.({ code: frame.code, detail: frame.detail });
      }
    });
    ws.addEventListener('close', (event) => {
      if (socket === ws) socket = null;
      if (closed || options.reconnect === false) return;
      // 4001: the credential was revoked (the reason starts with device_revoked or api_key_revoked);
      // 1008: policy (bad token, flooding). Retrying won't help.
      if (event.code === 4001 || event.code === 1008) {
        const reason = String(event.reason ?? '');
        const named = /^(device_revoked|api_key_revoked):/.exec(reason)?.[1];
        options.onError?.({ code: event.code === 4001 ? (named ?? 'device_revoked') : 'policy_violation', detail: reason });
        return;
      }
      const delay = Math.min(10_000, 250 * 2 ** attempt++);
      options.onDisconnect?.();
      setTimeout(event.code === CURSOR_EXPIRED_CLOSE ? reset : connect, delay);
    });
    ws.addEventListener('error', () => {
      // 'close' follows and decides about reconnecting.
    });
  };
  connect();

  return {
    get cursor() {
      return cursor;
    },
    ready,
    typing(conversationId) {
      if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: 'typing', conversation_id: conversationId }));
    },
    close() {
      closed = true;
      if (ackTimer) clearTimeout(ackTimer);
      if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: 'ack', cursor }));
      socket?.close(1000, 'bye');
    },
  };
}
