/**
 * Contacts in chats. A tap on sync's event writer sees each `message.created` inside the
 * transaction that writes it; for a person's message in their direct chat with a business it:
 *  - makes the person a contact (source chat) the first time, recording implied consent for
 *    `transactional` and `support` only (answering them and telling them about their orders),
 *    never marketing;
 *  - acts on STOP / START / HELP (keywords.ts) and on YES to a pending double opt-in at once, in
 *    the same transaction as the message: by the time the message is stored, the STOP counts;
 *  - enqueues one durable `contacts-reply` job confirming it in the person's language (a tap may
 *    not send messages itself; the job sends with an idempotency key, so a retry sends once).
 */
import type { Message } from '@mmd/contracts';
import { accountsByIds } from '../accounts/index.ts';
import { directPair } from '../conversations/index.ts';
import { AppError } from '../errors.ts';
import type { Tx } from '../platform/db/index.ts';
import type { EventTap } from '../sync/index.ts';
import type { BusinessPort } from './business-port.ts';
import { appendConsent, personOptedOut } from './consent.ts';
import { CONFIRM_WORDS, type KeywordLanguage, type ReplyKind, languageOf, matchKeyword, normaliseWord, replyText } from './keywords.ts';
import { businessPrincipal, confirmPending, type PeopleDeps } from './people.ts';
import { recordActivity } from './batch.ts';
import { ensureContact } from './service.ts';

export interface ContactsReplyPayload {
  businessId: string;
  conversationId: string;
  /** The message it answers: the reply's idempotency key. */
  messageId: string;
  kind: ReplyKind;
  lang: KeywordLanguage;
}

export interface ChatDeps {
  business: Pick<BusinessPort, 'profile'>;
  enqueueReply(tx: Tx, payload: ContactsReplyPayload, options: { dedupeKey: string; maxAttempts: number }): Promise<unknown>;
  send: PeopleDeps['send'];
  log: { warn(obj: object, msg: string): void };
}

/** What writing to a business implies: it may answer, and tell about the person's orders. Never marketing. */
const IMPLIED = ['support', 'transactional'];

/**
 * Account kinds never change, nor who a direct chat is between (other conversations are never
 * direct): small caches keep the tap off the database for most messages — a campaign's own
 * messages (sent by the business) cost it nothing at all.
 */
const CACHE_MAX = 10_000;

export function createContactsChat(deps: ChatDeps) {
  const kinds = new Map<string, 'person' | 'bot' | 'business'>();
  const pairs = new Map<string, [string, string] | null>();

  async function pairOf(tx: Tx, conversationId: string) {
    if (pairs.has(conversationId)) return pairs.get(conversationId) ?? null;
    const pair = await directPair(tx, conversationId);
    if (pairs.size >= CACHE_MAX) pairs.clear();
    pairs.set(conversationId, pair);
    return pair;
  }

  async function kindsOf(tx: Tx, ids: readonly string[]) {
    const missing = ids.filter((id) => !kinds.has(id));
    if (missing.length) {
      const found = await accountsByIds(tx, missing);
      if (kinds.size + found.size > CACHE_MAX) kinds.clear();
      for (const [id, a] of found) kinds.set(id, a.kind);
    }
    return ids.map((id) => kinds.get(id));
  }

  /** A person's read mark moving in their direct chat with a business: segments' "read" activity. */
  async function readActivity(tx: Tx, conversationId: string, readerId: string, at: number) {
    const [readerKind] = await kindsOf(tx, [readerId]);
    if (readerKind !== 'person') return;
    const pair = await pairOf(tx, conversationId);
    if (!pair) return;
    const businessId = pair[0] === readerId ? pair[1] : pair[0];
    const [otherKind] = await kindsOf(tx, [businessId]);
    if (otherKind !== 'business') return;
    await recordActivity(tx, { businessId, accountId: readerId, kind: 'read', at });
  }

  const tap: EventTap = async (tx, { event }) => {
    if (event.type === 'receipt.updated' && event.conversationId) {
      const receipt = event.data as { account_id: string; read_seq: number; reads_private?: true };
      // Reads kept private (read receipts off) are no activity the business may see.
      if (receipt.read_seq > 0 && !receipt.reads_private) await readActivity(tx, event.conversationId, receipt.account_id, event.at ?? Date.now());
      return;
    }
    if (event.type !== 'message.created' || !event.conversationId) return;
    const message = event.data as Message;
    if (message.automated || message.status !== 'sent') return;
    const [senderKind] = await kindsOf(tx, [message.sender_id]);
    if (senderKind !== 'person') return;
    const pair = await pairOf(tx, event.conversationId);
    if (!pair) return;
    const businessId = pair[0] === message.sender_id ? pair[1] : pair[0];
    const [otherKind] = await kindsOf(tx, [businessId]);
    if (otherKind !== 'business') return;
    const at = event.at ?? Number(message.created_at);
    const accountId = message.sender_id;
    const { contact } = await ensureContact(tx, { businessId, accountId, source: 'chat', at });
    // The person wrote again after an erasure: they are a contact again (their erasure's
    // suppression stays, so marketing still needs their own opt-in).
    await tx.updateTable('contacts').set({ last_inbound_at: at, ...(contact.erased_at !== null ? { erased_at: null, updated_at: at } : {}) }).where('id', '=', contact.id).execute();
    // Implied consent comes from the person writing, once per purpose: a contact the business
    // added first gets it at their first message; an explicit earlier choice is never overridden.
    const known = await tx
      .selectFrom('consent_state')
      .select('purpose')
      .where('business_id', '=', businessId)
      .where('account_id', '=', accountId)
      .where('purpose', 'in', IMPLIED)
      .execute();
    for (const purpose of IMPLIED.filter((p) => !known.some((k) => k.purpose === p))) {
      await appendConsent(tx, {
        businessId,
        accountId,
        purpose,
        action: 'opt_in',
        source: 'chat',
        at,
        recordedAt: at,
        wording: 'Implied by writing to the business in a chat (answers and order updates only, never marketing)',
        evidence: `message:${message.id}`,
        actorId: accountId,
      });
    }

    const word = normaliseWord(message.text);
    if (word === null) return;
    const lang = languageOf(contact.locale);
    const reply = (kind: ReplyKind, replyLang: KeywordLanguage) =>
      deps.enqueueReply(tx, { businessId, conversationId: event.conversationId!, messageId: message.id, kind, lang: replyLang }, { dedupeKey: `contacts-reply:${message.id}`, maxAttempts: 5 });
    if (CONFIRM_WORDS.has(word)) {
      const confirmed = await confirmPending(tx, { businessId, accountId, at, evidence: `message:${message.id}` });
      if (confirmed.length) await reply('confirmed', lang);
      return;
    }
    const keyword = matchKeyword(message.text);
    if (!keyword) return;
    const proof = { source: 'keyword' as const, at, recordedAt: at, wording: `Sent "${message.text?.trim()}" in the chat`, evidence: `message:${message.id}`, actorId: accountId };
    if (keyword.action === 'stop') {
      // STOP ends every purpose but the ones that answer the person (support, transactional).
      const held = await tx.selectFrom('consent_state').select('purpose').where('business_id', '=', businessId).where('account_id', '=', accountId).where('state', '=', 'opted_in').orderBy('purpose').execute();
      const purposes = new Set(['marketing', ...held.map((h) => h.purpose)]);
      purposes.delete('support');
      purposes.delete('transactional');
      for (const purpose of [...purposes].sort()) {
        if (await personOptedOut(tx, { businessId, accountId, purpose })) continue;
        await appendConsent(tx, { businessId, accountId, purpose, action: 'opt_out', ...proof });
      }
    } else if (keyword.action === 'start') {
      await appendConsent(tx, { businessId, accountId, purpose: 'marketing', action: 'opt_in', ...proof });
    }
    await reply(keyword.action, keyword.lang);
  };

  /** The `contacts-reply` job: one confirming message, as the business, marked automated. */
  async function runReply(payload: ContactsReplyPayload): Promise<string> {
    const profile = await deps.business.profile(payload.businessId).catch(() => null);
    if (!profile) return 'no_business';
    try {
      await deps.send(businessPrincipal(profile.id, profile.handle), payload.conversationId, {
        text: replyText(payload.kind, payload.lang, profile.display_name),
        idempotencyKey: `contacts:${payload.kind}:${payload.messageId}`,
        automated: true,
      });
      return 'sent';
    } catch (err) {
      // Refused for good (the person blocked the business): the consent change stands anyway.
      if (err instanceof AppError) {
        deps.log.warn({ err, businessId: payload.businessId }, 'consent reply refused');
        return 'refused';
      }
      throw err;
    }
  }

  return { tap, runReply };
}
