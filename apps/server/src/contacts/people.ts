/**
 * What people do with their own consent: the subscribe page (`/c/<business>`: what they would
 * agree to, per purpose, in the business's exact words), double opt-in (the business asks in the
 * person's chat and nothing counts until they answer YES or open the link), "why am I getting
 * this" (their ledger with each business), withdrawal, and one-tap unsubscribe links.
 *
 * Unsubscribe tokens are HMAC-SHA256 over (business, account, purpose) with a server secret:
 * unguessable, one per contact and purpose, valid for ever (an old message's link must still
 * work), and they can only ever opt out, so a leaked one can do no harm beyond that. The two
 * halves are joined by `~`, not `.`: a web page path with a dot would be taken for a file.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_SCOPES, type MyConsent, type SubscribePage, type SubscribeReply, type UnsubscribeInfo } from '@mmd/contracts';
import { type Principal, accountsByIds } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { BusinessPort } from './business-port.ts';
import { appendConsent, eventView, personOptedOut, stateOf, statesOf } from './consent.ts';
import { languageOf, replyText } from './keywords.ts';
import { ensureContact, purposesOf } from './service.ts';

/** A double opt-in request is good for a week. */
export const CONFIRMATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** The same purpose asked again within this time does not send a second confirmation message. */
const RESEND_AFTER_MS = 60_000;

export interface PeopleDeps {
  db: Database;
  clock: () => number;
  business: Pick<BusinessPort, 'profile' | 'profileByHandle'>;
  secret: Buffer;
  /** MMD_PUBLIC_URL (https://…): where the web app's /u/<token> page lives; '' when unknown. */
  publicUrl: string;
  /** Opens (or finds) the person's direct chat with the business, as the person. */
  openChat(person: Principal, businessHandle: string): Promise<{ id: string }>;
  /** messaging.send as the business. */
  send(principal: Principal, conversationId: string, input: { text: string; idempotencyKey: string; automated: true; interactive?: { quick_replies: { rows: { text: string }[][]; one_time: boolean } } }): Promise<unknown>;
}

export function businessPrincipal(accountId: string, handle: string): Principal {
  return { accountId, handle, kind: 'business', role: 'user', deviceId: null, apiKeyId: null, scopes: new Set(API_SCOPES) };
}

/** Confirms a person's open double opt-in requests with one business (their YES in the chat). */
export async function confirmPending(tx: Tx, options: { businessId: string; accountId: string; at: number; evidence: string }): Promise<string[]> {
  const open = await tx
    .selectFrom('consent_confirmations')
    .selectAll()
    .where('business_id', '=', options.businessId)
    .where('account_id', '=', options.accountId)
    .where('done_at', 'is', null)
    .where('expires_at', '>', options.at)
    .orderBy('requested_at')
    .orderBy('token')
    .execute();
  const confirmed: string[] = [];
  for (const c of open) {
    await tx.updateTable('consent_confirmations').set({ done_at: options.at }).where('token', '=', c.token).execute();
    await appendConsent(tx, {
      businessId: c.business_id,
      accountId: c.account_id,
      purpose: c.purpose,
      action: 'opt_in',
      source: 'double_opt_in',
      at: options.at,
      recordedAt: options.at,
      wording: c.wording,
      evidence: `requested ${new Date(Number(c.requested_at)).toISOString()}; confirmed by ${options.evidence}`,
      actorId: c.account_id,
      page: c.page,
    });
    confirmed.push(c.purpose);
  }
  return confirmed;
}

export function createPeople(deps: PeopleDeps) {
  const { db, clock } = deps;

  const businessByHandle = (handle: string) => deps.business.profileByHandle(handle.replace(/^@/, ''));

  function mac(payload: string): string {
    return createHmac('sha256', deps.secret).update(`unsubscribe:${payload}`).digest().subarray(0, 16).toString('base64url');
  }

  function readToken(token: string): { businessId: string; accountId: string; purpose: string } {
    const [body, signature] = token.split('~');
    if (!body || !signature) throw notFound('unsubscribe link');
    const payload = Buffer.from(body, 'base64url').toString('utf8');
    const expected = Buffer.from(mac(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw notFound('unsubscribe link');
    const [businessId, accountId, purpose] = payload.split('|');
    if (!businessId || !accountId || !purpose) throw notFound('unsubscribe link');
    return { businessId, accountId, purpose };
  }

  return {
    /** The token of a one-tap unsubscribe link for this contact and purpose (see the header). */
    unsubscribeToken(options: { businessId: string; accountId: string; purpose: string }): string {
      const payload = `${options.businessId}|${options.accountId}|${options.purpose}`;
      return `${Buffer.from(payload, 'utf8').toString('base64url')}~${mac(payload)}`;
    },

    /**
     * The one-tap link for a message's button: the web app's `/u/<token>` page under
     * MMD_PUBLIC_URL, or null when the server does not know its public address (a URL button must
     * be https; a sender then offers the STOP quick reply instead).
     */
    unsubscribeUrl(options: { businessId: string; accountId: string; purpose: string }): string | null {
      return deps.publicUrl ? `${deps.publicUrl}/u/${this.unsubscribeToken(options)}` : null;
    },

    async unsubscribeInfo(token: string): Promise<UnsubscribeInfo> {
      const key = readToken(token);
      // The business account is gone: the link has nothing left to stop.
      const profile = await deps.business.profile(key.businessId).catch(() => null);
      if (!profile) throw notFound('unsubscribe link');
      return { business: { handle: profile.handle, display_name: profile.display_name }, purpose: key.purpose, state: await stateOf(db.db, key) };
    },

    /** One tap: opts out (again, harmlessly, if already out). */
    async unsubscribe(token: string): Promise<UnsubscribeInfo> {
      const key = readToken(token);
      const now = clock();
      await db.writeTransaction(async (tx) => {
        if (await personOptedOut(tx, key)) return;
        await appendConsent(tx, { ...key, action: 'opt_out', source: 'unsubscribe_link', at: now, recordedAt: now, actorId: key.accountId, evidence: 'one-tap unsubscribe link' });
      });
      return this.unsubscribeInfo(token);
    },

    async page(handle: string): Promise<SubscribePage> {
      const profile = await businessByHandle(handle);
      const purposes = (await purposesOf(db.db, { id: profile.id, handle: profile.handle })).filter((p) => p.subscribable);
      return {
        business: { id: profile.id, handle: profile.handle, display_name: profile.display_name, verified: profile.verified },
        purposes: purposes.map((p) => ({ key: p.key, wording: p.wording })),
        notice: `Choosing a purpose does not subscribe you yet: ${profile.display_name} will ask you to confirm in your chat with them, and nothing is sent for it until you reply YES. You can reply STOP at any time, and see or withdraw your consent under Settings → Businesses.`,
      };
    },

    async subscribe(principal: Principal, handle: string, purposes: readonly string[]): Promise<SubscribeReply> {
      if (principal.kind !== 'person') throw new AppError('person_only', 'only people subscribe to a business');
      const profile = await businessByHandle(handle);
      const offered = new Map((await purposesOf(db.db, { id: profile.id, handle: profile.handle })).filter((p) => p.subscribable).map((p) => [p.key, p]));
      const errors = purposes.filter((p) => !offered.has(p)).map((p) => ({ path: '/purposes', message: `${p} is not offered by @${profile.handle}` }));
      if (errors.length) throw new AppError('validation_failed', errors.map((e) => e.message).join('; '), { errors });
      const chat = await deps.openChat(principal, profile.handle);
      const now = clock();
      const page = `/c/${profile.handle}`;
      const result = await db.writeTransaction(async (tx) => {
        const { contact } = await ensureContact(tx, { businessId: profile.id, accountId: principal.accountId, source: 'subscribe_page', at: now });
        // The person asked for it themselves: an erased contact comes back, and its erasure's
        // suppression is lifted (a business's own suppression stays: the business said no).
        if (contact.erased_at !== null) await tx.updateTable('contacts').set({ erased_at: null, updated_at: now }).where('id', '=', contact.id).execute();
        await tx.deleteFrom('suppressions').where('business_id', '=', profile.id).where('account_id', '=', principal.accountId).where('reason', '=', 'erased').execute();
        const pending: string[] = [];
        const already: string[] = [];
        let ask = false;
        for (const key of [...new Set(purposes)].sort()) {
          if ((await stateOf(tx, { businessId: profile.id, accountId: principal.accountId, purpose: key })) === 'opted_in') {
            already.push(key);
            continue;
          }
          const open = await tx
            .selectFrom('consent_confirmations')
            .select(['token', 'requested_at'])
            .where('business_id', '=', profile.id)
            .where('account_id', '=', principal.accountId)
            .where('purpose', '=', key)
            .where('done_at', 'is', null)
            .where('expires_at', '>', now)
            .executeTakeFirst();
          pending.push(key);
          if (open && Number(open.requested_at) > now - RESEND_AFTER_MS) continue;
          if (open) await tx.updateTable('consent_confirmations').set({ done_at: now }).where('token', '=', open.token).execute();
          await tx
            .insertInto('consent_confirmations')
            .values({
              token: randomBytes(24).toString('base64url'),
              business_id: profile.id,
              account_id: principal.accountId,
              purpose: key,
              wording: offered.get(key)!.wording,
              page,
              conversation_id: chat.id,
              requested_at: now,
              expires_at: now + CONFIRMATION_TTL_MS,
              done_at: null,
            })
            .execute();
          ask = true;
        }
        return { pending, already, ask, locale: contact.locale };
      });
      if (result.ask) {
        const lines = result.pending.map((key) => `• ${offered.get(key)!.wording}`).join('\n');
        await deps.send(businessPrincipal(profile.id, profile.handle), chat.id, {
          // The question in the person's language when the business knows it; YES works in all five.
          text: `${replyText('confirm_request', languageOf(result.locale), profile.display_name)}\n\n${lines}`,
          idempotencyKey: `contacts:confirm:${principal.accountId}:${now}`,
          automated: true,
          interactive: { quick_replies: { rows: [[{ text: 'YES' }]], one_time: true } },
        });
      }
      return { pending: result.pending, already: result.already, conversation_id: chat.id };
    },

    /** "Why am I getting this": every business holding a consent record for the person. */
    async mine(principal: Principal): Promise<MyConsent[]> {
      const rows = await db.db.selectFrom('consent_events').selectAll().where('account_id', '=', principal.accountId).orderBy('business_id').orderBy('seq').execute();
      const businessIds = [...new Set(rows.map((r) => r.business_id))];
      const handles = await accountsByIds(db.db, businessIds);
      const out: MyConsent[] = [];
      for (const businessId of businessIds) {
        const states = await statesOf(db.db, businessId, [principal.accountId]);
        out.push({
          business: { id: businessId, handle: handles.get(businessId)?.handle ?? null },
          state: states.get(principal.accountId) ?? {},
          events: rows.filter((r) => r.business_id === businessId).map(eventView),
        });
      }
      return out;
    },

    async withdraw(principal: Principal, businessId: string, purpose: string): Promise<MyConsent[]> {
      const now = clock();
      await db.writeTransaction(async (tx) => {
        const known = await tx.selectFrom('consent_state').select('state').where('business_id', '=', businessId).where('account_id', '=', principal.accountId).where('purpose', '=', purpose).executeTakeFirst();
        // No record with this business: nothing to withdraw (and no oracle on business ids).
        if (!known) throw notFound('consent');
        if (await personOptedOut(tx, { businessId, accountId: principal.accountId, purpose })) return;
        await appendConsent(tx, { businessId, accountId: principal.accountId, purpose, action: 'opt_out', source: 'self_service', at: now, recordedAt: now, actorId: principal.accountId });
      });
      return this.mine(principal);
    },
  };
}

export type People = ReturnType<typeof createPeople>;
