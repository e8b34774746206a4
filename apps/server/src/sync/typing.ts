/**
 * Typing indicators: "@ana is typing…" for the people in a direct chat or a small group. They
 * are ephemeral — never stored, never replayed, not part of the cursor order — so they cost one
 * membership read per burst of typing and one small frame per online member, nothing more.
 *
 * Reach: the sockets connected to this server process (the embedded default is one process).
 * Across several API processes a typing frame reaches only the people connected to the same one;
 * nothing depends on it arriving.
 */
import { LIVE_RECEIPTS_MAX_MEMBERS } from '../messaging/service.ts';
import type { Database } from '../platform/db/index.ts';

/** A sender's frames for one conversation count once per this window (clients send every ~3 s). */
const BURST_MS = 2500;

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

      const conversation = await deps.db.db
        .selectFrom('conversations')
        .innerJoin('members', 'members.conversation_id', 'conversations.id')
        .select(['conversations.kind', 'conversations.member_count', 'members.left_cursor'])
        .where('conversations.id', '=', conversationId)
        .where('members.account_id', '=', sender.accountId)
        .executeTakeFirst();
      if (!conversation || conversation.left_cursor !== null) return false;
      // Channels have no typing; big groups would turn every keystroke into a broadcast.
      if (conversation.kind === 'channel' || Number(conversation.member_count) > LIVE_RECEIPTS_MAX_MEMBERS) return false;
      const members = await deps.db.db
        .selectFrom('members')
        .select('account_id')
        .where('conversation_id', '=', conversationId)
        .where('left_cursor', 'is', null)
        .execute();
      const frame = JSON.stringify({ type: 'typing', conversation_id: conversationId, account_id: sender.accountId, handle: sender.handle });
      for (const m of members) {
        if (m.account_id === sender.accountId) continue;
        for (const socket of sockets.get(m.account_id) ?? []) socket.send(frame);
      }
      return true;
    },
  };
}
