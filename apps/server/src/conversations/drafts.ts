/**
 * Drafts: what a person was writing in a chat, kept on the server so it survives a reload and
 * follows them to their other devices (`draft.updated`, addressed to them alone). Clients save
 * it debounced while typing; an empty text deletes it (sending a message does that).
 */
import type { Draft } from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { requireMember } from './access.ts';

/** Drafts listed at most (the newest): more chats than anyone writes in at once. */
const MAX_DRAFTS_LISTED = 1000;

export function createDrafts(deps: { db: Database; clock: () => number; write: WriteWithEvents }) {
  const { db, clock, write } = deps;
  return {
    /** My drafts in the chats I am still in, newest first. */
    async list(principal: Principal): Promise<Draft[]> {
      const rows = await db.db
        .selectFrom('chat_drafts')
        .innerJoin('members', (j) => j.onRef('members.conversation_id', '=', 'chat_drafts.conversation_id').onRef('members.account_id', '=', 'chat_drafts.account_id'))
        .select(['chat_drafts.conversation_id', 'chat_drafts.text', 'chat_drafts.updated_at'])
        .where('chat_drafts.account_id', '=', principal.accountId)
        .where('members.left_cursor', 'is', null)
        .orderBy('chat_drafts.updated_at', 'desc')
        .limit(MAX_DRAFTS_LISTED)
        .execute();
      return rows.map((r) => ({ conversation_id: r.conversation_id, text: r.text, updated_at: Number(r.updated_at) }));
    },

    /** Saves (or, with no text, deletes) my draft in a chat, and tells my other devices. */
    async put(principal: Principal, conversationId: string, text: string): Promise<Draft> {
      return write(async (tx, emit) => {
        await requireMember(tx, conversationId, principal.accountId);
        const now = clock();
        const current = await tx.selectFrom('chat_drafts').select('text').where('account_id', '=', principal.accountId).where('conversation_id', '=', conversationId).executeTakeFirst();
        const draft = { conversation_id: conversationId, text, updated_at: now };
        // Unchanged (a device saving what another already saved): no write, no event.
        if ((current?.text ?? '') === text) return draft;
        if (text === '') await tx.deleteFrom('chat_drafts').where('account_id', '=', principal.accountId).where('conversation_id', '=', conversationId).execute();
        else {
          await tx
            .insertInto('chat_drafts')
            .values({ account_id: principal.accountId, conversation_id: conversationId, text, updated_at: now })
            .onConflict((oc) => oc.columns(['account_id', 'conversation_id']).doUpdateSet({ text, updated_at: now }))
            .execute();
        }
        await emit({ type: 'draft.updated', conversationId: null, targetAccountId: principal.accountId, data: draft, at: now });
        return draft;
      });
    },
  };
}

export type Drafts = ReturnType<typeof createDrafts>;
