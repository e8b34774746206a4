/**
 * The consent gate campaigns and notifications call before every message, and the record they
 * make when a message actually went out (frequency caps count those records).
 *
 *   check({ businessId, contactId | accountId, purpose, at }) → { ok: true } | { ok: false, reason, retryAt? }
 *   record({ businessId, contactId | accountId, purpose, at, key })
 *
 * `check` reads one consistent snapshot; the decision itself is gate.ts's pure `decide`.
 * `record` is idempotent per (business, key): a sender retrying after a crash counts once.
 */
import type { Database, Tx } from '../platform/db/index.ts';
import { AppError } from '../errors.ts';
import type { BusinessPort, BusinessSettingsView } from './business-port.ts';
import { type GateVerdict, decide } from './gate.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export type GateTarget = { businessId: string; purpose: string; at: number } & ({ contactId: string; accountId?: undefined } | { accountId: string; contactId?: undefined });

export function createSendGate(deps: { db: Database; business: Pick<BusinessPort, 'settings'> }) {
  const { db } = deps;

  async function who(reader: Database['db'] | Tx, target: GateTarget) {
    let query = reader.selectFrom('contacts').select(['id', 'account_id', 'erased_at', 'time_zone']).where('business_id', '=', target.businessId);
    query = target.contactId !== undefined ? query.where('id', '=', target.contactId) : query.where('account_id', '=', target.accountId!);
    return query.executeTakeFirst();
  }

  return {
    /**
     * May a message for `purpose` go to this contact at `at`? `settings` may be passed by a sender
     * checking many contacts of one business (read once per batch, not per message).
     */
    async check(target: GateTarget & { settings?: BusinessSettingsView }): Promise<GateVerdict> {
      const settings = target.settings ?? (await deps.business.settings(target.businessId));
      return db.readTransaction(async (tx) => {
        const contact = await who(tx, target);
        const accountId = contact?.account_id ?? target.accountId;
        const cap = settings.frequency_caps[target.purpose] ?? null;
        const [suppression, state, sends] = accountId
          ? await Promise.all([
              tx.selectFrom('suppressions').select('reason').where('business_id', '=', target.businessId).where('account_id', '=', accountId).executeTakeFirst(),
              tx
                .selectFrom('consent_state')
                .select('state')
                .where('business_id', '=', target.businessId)
                .where('account_id', '=', accountId)
                .where('purpose', '=', target.purpose)
                .executeTakeFirst(),
              cap
                ? tx
                    .selectFrom('contact_sends')
                    .select('at')
                    .where('business_id', '=', target.businessId)
                    .where('account_id', '=', accountId)
                    .where('purpose', '=', target.purpose)
                    .where('at', '>', target.at - cap.days * DAY_MS)
                    .where('at', '<=', target.at)
                    .orderBy('at')
                    .execute()
                : Promise.resolve([]),
            ])
          : [undefined, undefined, []];
        return decide({
          purpose: target.purpose,
          at: target.at,
          contact: contact ? { erased: contact.erased_at !== null, timeZone: contact.time_zone } : null,
          suppressed: suppression !== undefined,
          consent: (state?.state as 'opted_in' | 'opted_out' | undefined) ?? null,
          quietHours: settings.quiet_hours,
          defaultTimeZone: settings.default_time_zone,
          cap,
          sends: sends.map((s) => Number(s.at)),
        });
      });
    },

    /**
     * `check` for many contacts of one business at once (a sender's batch): five queries for the
     * batch instead of four per contact. Keys of the answer are the ids given (contact ids, or
     * account ids with `by: 'account'`); unknown ones answer `not_a_contact`.
     */
    async checkMany(options: {
      businessId: string;
      ids: readonly string[];
      by?: 'contact' | 'account';
      purpose: string;
      at: number;
      settings?: BusinessSettingsView;
      /** Read inside the caller's write transaction (a sender deciding and sending atomically: a STOP cannot slip in between). `settings` is then required. */
      tx?: Tx;
    }): Promise<Map<string, GateVerdict>> {
      if (options.tx && !options.settings) throw new Error('checkMany inside a transaction needs the settings read beforehand');
      const settings = options.settings ?? (await deps.business.settings(options.businessId));
      const reading = <T>(fn: (tx: Tx) => Promise<T>) => (options.tx ? fn(options.tx) : db.readTransaction(fn));
      const cap = settings.frequency_caps[options.purpose] ?? null;
      const byAccount = options.by === 'account';
      const ids = [...new Set(options.ids)];
      const out = new Map<string, GateVerdict>();
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        await reading(async (tx) => {
          const contacts = await tx
            .selectFrom('contacts')
            .select(['id', 'account_id', 'erased_at', 'time_zone'])
            .where('business_id', '=', options.businessId)
            .where(byAccount ? 'account_id' : 'id', 'in', chunk)
            .execute();
          const accountIds = byAccount ? chunk : contacts.map((c) => c.account_id);
          const [suppressed, states, sends] = accountIds.length
            ? await Promise.all([
                tx.selectFrom('suppressions').select('account_id').where('business_id', '=', options.businessId).where('account_id', 'in', accountIds).execute(),
                tx
                  .selectFrom('consent_state')
                  .select(['account_id', 'state'])
                  .where('business_id', '=', options.businessId)
                  .where('purpose', '=', options.purpose)
                  .where('account_id', 'in', accountIds)
                  .execute(),
                cap
                  ? tx
                      .selectFrom('contact_sends')
                      .select(['account_id', 'at'])
                      .where('business_id', '=', options.businessId)
                      .where('purpose', '=', options.purpose)
                      .where('account_id', 'in', accountIds)
                      .where('at', '>', options.at - cap.days * DAY_MS)
                      .where('at', '<=', options.at)
                      .orderBy('account_id')
                      .orderBy('at')
                      .execute()
                  : Promise.resolve([] as { account_id: string; at: number }[]),
              ])
            : [[], [], []];
          const suppressedSet = new Set(suppressed.map((s) => s.account_id));
          const stateOf = new Map(states.map((s) => [s.account_id, s.state as 'opted_in' | 'opted_out']));
          const contactBy = new Map(contacts.map((c) => [byAccount ? c.account_id : c.id, c]));
          for (const id of chunk) {
            const contact = contactBy.get(id);
            const accountId = contact?.account_id ?? (byAccount ? id : undefined);
            out.set(
              id,
              decide({
                purpose: options.purpose,
                at: options.at,
                contact: contact ? { erased: contact.erased_at !== null, timeZone: contact.time_zone } : null,
                suppressed: accountId !== undefined && suppressedSet.has(accountId),
                consent: (accountId !== undefined ? stateOf.get(accountId) : undefined) ?? null,
                quietHours: settings.quiet_hours,
                defaultTimeZone: settings.default_time_zone,
                cap,
                sends: accountId !== undefined ? sends.filter((s) => s.account_id === accountId).map((s) => Number(s.at)) : [],
              }),
            );
          }
        });
      }
      return out;
    },

    /** `record` for many sends at once, in the caller's transaction (accounts already known). */
    async recordMany(tx: Tx, sends: readonly { businessId: string; accountId: string; purpose: string; at: number; key: string }[]): Promise<void> {
      for (let i = 0; i < sends.length; i += 200) {
        const rows = sends.slice(i, i + 200).map((x) => ({ business_id: x.businessId, account_id: x.accountId, purpose: x.purpose, send_key: x.key, at: x.at }));
        await tx
          .insertInto('contact_sends')
          .values(rows)
          .onConflict((oc) => oc.columns(['business_id', 'send_key']).doNothing())
          .execute();
      }
    },

    /** Counts one message sent (idempotent per `key`, e.g. the campaign × contact idempotency key). */
    async record(target: GateTarget & { key: string }): Promise<void> {
      const contact = await who(db.db, target);
      const accountId = contact?.account_id ?? target.accountId;
      if (!accountId) throw new AppError('not_found', 'contact not found');
      await db.db
        .insertInto('contact_sends')
        .values({ business_id: target.businessId, account_id: accountId, purpose: target.purpose, send_key: target.key, at: target.at })
        .onConflict((oc) => oc.columns(['business_id', 'send_key']).doNothing())
        .execute();
    },
  };
}

export type SendGate = ReturnType<typeof createSendGate>;
