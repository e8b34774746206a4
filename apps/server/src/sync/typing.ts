/**
 * Typing indicators: "@ana is typing…" for the people in a direct chat or a small group. They
 * are ephemeral — never stored, never replayed, not part of the cursor order — so they cost one
 * membership read per burst of typing and one small frame per online member, nothing more.
 *
 * Reach: every API process. The frame goes out as a signal on the event bus (in-process embedded,
 * Redis pub/sub in a cluster) naming its recipients; each process writes it to those of them
 * connected to it. Nothing depends on it arriving: a frame lost while Redis is away is just gone.
 */
import { hasBlocked } from '../accounts/index.ts';
import { activeMembership, currentMemberIds } from '../conversations/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { EventBus } from '../platform/pubsub/index.ts';

/** A sender's frames for one conversation count once per this window (clients send every ~3 s). */
const BURST_MS = 2500;
/** Groups above this size get no typing indicators: every keystroke would become a broadcast. */
const TYPING_MAX_MEMBERS = 100;

export interface TypingSocket {
  accountId: string;
  send(frame: string): void;
}

export interface TypingRelay {
  connect(socket: TypingSocket): () => void;
  /** Tells the other members that `accountId` is typing; false when not allowed or throttled. */
  typing(sender: { accountId: string; handle: string }, conversationId: string): Promise<boolean>;
}

export function createTypingRelay(deps: { db: Database; bus: Pick<EventBus, 'signal' | 'onSignal'>; clock?: () => number }): TypingRelay & { stop(): void } {
  const clock = deps.clock ?? Date.now;
  const sockets = new Map<string, Set<TypingSocket>>();
  const lastSent = new Map<string, number>();
  const stop = deps.bus.onSignal('typing', (message) => {
    const { to, frame } = JSON.parse(message) as { to: string[]; frame: string };
    for (const accountId of to) {
      for (const socket of sockets.get(accountId) ?? []) socket.send(frame);
    }
  });

  return {
    connect(socket) {
      let set = sockets.get(socket.accountId);
      if (!set) {
        set = new Set();
        sockets.set(socket.accountId, set);
      }
      set.add(socket);
      return () => {
        set.delete(socket);
        if (set.size === 0) sockets.delete(socket.accountId);
      };
    },

    async typing(sender, conversationId) {
      const key = `${sender.accountId}\u0000${conversationId}`;
      const now = clock();
      if (now - (lastSent.get(key) ?? 0) < BURST_MS) return false;
      lastSent.set(key, now);
      if (lastSent.size > 50_000) for (const [k, at] of lastSent) if (now - at > BURST_MS) lastSent.delete(k);

      const conversation = await activeMembership(deps.db.db, { conversationId, accountId: sender.accountId });
      if (!conversation) return false;
      // Channels have no typing; big groups would turn every keystroke into a broadcast.
      if (conversation.kind === 'channel' || conversation.memberCount > TYPING_MAX_MEMBERS) return false;
      const frame = JSON.stringify({ type: 'typing', conversation_id: conversationId, account_id: sender.accountId, handle: sender.handle });
      const recipients = (await currentMemberIds(deps.db.db, conversationId)).filter((id) => id !== sender.accountId);
      // A block in a direct chat silences typing too, either way, as it does messages.
      if (conversation.kind === 'direct') {
        for (const peer of recipients) {
          if ((await hasBlocked(deps.db.db, peer, sender.accountId)) || (await hasBlocked(deps.db.db, sender.accountId, peer))) return false;
        }
      }
      deps.bus.signal('typing', JSON.stringify({ to: recipients, frame }));
      return true;
    },

    stop,
  };
}
