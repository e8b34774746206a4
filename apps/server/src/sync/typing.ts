/**
 * Typing indicators: "@ana is typing…" for the people in a direct chat or a small group. They
 * are ephemeral — never stored, never replayed, not part of the cursor order — so they cost one
 * membership read per burst of typing and one small frame per online member, nothing more.
 *
 * Reach: the sockets connected to this server process (the embedded default is one process).
 * Across several API processes a typing frame reaches only the people connected to the same one;
 * nothing depends on it arriving.
 */
import { hasBlocked } from '../accounts/index.ts';
import { activeMembership, currentMemberIds } from '../conversations/index.ts';
import type { Database } from '../platform/db/index.ts';

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

export function createTypingRelay(deps: { db: Database; clock?: () => number }): TypingRelay {
  const clock = deps.clock ?? Date.now;
  const sockets = new Map<string, Set<TypingSocket>>();
  const lastSent = new Map<string, number>();

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
      for (const accountId of recipients) {
        for (const socket of sockets.get(accountId) ?? []) socket.send(frame);
      }
      return true;
    },
  };
}
