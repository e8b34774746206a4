/**
 * Transactional notifications (order updates, reminders): one template message to one contact,
 * in their chat with the business.
 *
 * - Idempotent: a business's idempotency key names one notification for good. The same key again
 *   returns that notification (and sends nothing); the same key with another contact or template
 *   is a 409 `conflict`.
 * - Never twice: the row and its `notification-send` job are written in one transaction, and the
 *   message carries the key `notification:<id>`, which messaging deduplicates; the request tries
 *   the send at once, the job makes sure it happens if the process dies first.
 * - Status: queued → sent → delivered → read, or failed (reason). Each change is an event
 *   addressed to the business alone (`notification.sent|delivered|read|failed`), which its
 *   webhooks receive. Delivered and read come from the contact's receipts (the event tap in
 *   tracking.ts), which cannot write events themselves: they enqueue `notification-event`.
 */
import type { CreateNotificationBody, Notification } from '@mmd/contracts';
import { accountsByIds, type Principal } from '../accounts/index.ts';
import type { BusinessActor } from '../business/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import type { Tx } from '../platform/db/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import type { CampaignPorts, SendableMessage } from './ports.ts';
import type { NotificationsTable } from './schema.ts';
import { businessPrincipal } from './service.ts';

export interface NotificationsDeps {
  db: Database;
  clock: () => number;
  ports: CampaignPorts;
  write: WriteWithEvents;
  enqueueSend(tx: Tx, notificationId: string): Promise<unknown>;
  enqueueEvent(tx: Tx, payload: { notificationId: string; status: 'delivered' | 'read' }): Promise<unknown>;
  send(principal: Principal, conversationId: string, input: SendableMessage & { idempotencyKey: string; automated: true; eventTo: string }): Promise<{ message: { id: string; seq: number } }>;
  openDirect(principal: Principal, handle: string): Promise<{ conversation: { id: string } }>;
  log: { warn(obj: object, msg: string): void };
}

function view(r: NotificationsTable): Notification {
  return {
    id: r.id,
    contact_id: r.contact_id,
    template_version_id: r.template_version_id,
    idempotency_key: r.idempotency_key,
    status: r.status as Notification['status'],
    reason: r.reason,
    message_id: r.message_id,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

export function createNotifications(deps: NotificationsDeps) {
  const { db, clock, ports } = deps;

  async function byKey(executor: Database['db'] | Tx, businessId: string, key: string) {
    return executor.selectFrom('notifications').selectAll().where('business_id', '=', businessId).where('idempotency_key', '=', key).executeTakeFirst();
  }

  /** Sets a final outcome (sent or failed) and tells the business, once. */
  async function settle(id: string, outcome: { status: 'sent'; messageId: string; conversationId: string; seq: number } | { status: 'failed'; reason: string }) {
    await deps.write(async (tx, emit) => {
      const row = await tx.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
      if (row?.status !== 'queued') return;
      const now = clock();
      const patch =
        outcome.status === 'sent'
          ? { status: 'sent', message_id: outcome.messageId, conversation_id: outcome.conversationId, seq: outcome.seq, reason: null, updated_at: now }
          : { status: 'failed', reason: outcome.reason, updated_at: now };
      await tx.updateTable('notifications').set(patch).where('id', '=', id).execute();
      const data = view({ ...row, ...patch });
      await emit({ type: outcome.status === 'sent' ? 'notification.sent' : 'notification.failed', conversationId: null, targetAccountId: row.business_id, data, at: now });
    });
  }

  /** Sends a queued notification (the request tries at once; the job makes sure). Idempotent. */
  async function deliver(id: string): Promise<string> {
    const row = await db.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
    if (row?.status !== 'queued') return row?.status ?? 'gone';
    const [contact] = await ports.contactsByIds({ businessId: row.business_id, ids: [row.contact_id] });
    const handles = contact ? await accountsByIds(db.db, [contact.account_id, row.business_id]) : new Map();
    const handle = contact ? handles.get(contact.account_id)?.handle : undefined;
    if (!contact || !handle) {
      await settle(id, { status: 'failed', reason: 'not_a_contact' });
      return 'failed';
    }
    const now = clock();
    const verdict = await ports.check({ businessId: row.business_id, accountId: contact.account_id, purpose: row.purpose, at: now });
    if (!verdict.ok) {
      // A non-transactional purpose may wait (quiet hours, a cap): the job comes back then.
      if (verdict.retryAt !== undefined) throw new Error(`waiting: ${verdict.reason} until ${new Date(verdict.retryAt).toISOString()}`);
      await settle(id, { status: 'failed', reason: verdict.reason });
      return 'failed';
    }
    const rendered = await ports.render({ businessId: row.business_id, versionId: row.template_version_id, contactId: row.contact_id, variables: JSON.parse(row.variables) as Record<string, string>, trackingKey: `ntf:${row.id}` });
    if (!rendered.ok) {
      await settle(id, { status: 'failed', reason: rendered.reason });
      return 'failed';
    }
    const principal = businessPrincipal(row.business_id, handles.get(row.business_id)?.handle ?? '');
    try {
      const { conversation } = await deps.openDirect(principal, handle);
      const key = `notification:${row.id}`;
      const { message } = await deps.send(principal, conversation.id, { ...rendered.message, idempotencyKey: key, automated: true, eventTo: contact.account_id });
      await ports.recordSend({ businessId: row.business_id, accountId: contact.account_id, purpose: row.purpose, sendKey: key, at: now });
      await settle(id, { status: 'sent', messageId: message.id, conversationId: conversation.id, seq: Number(message.seq) });
      return 'sent';
    } catch (err) {
      if (err instanceof AppError) {
        await settle(id, { status: 'failed', reason: `${err.code}: ${err.message}` });
        return 'failed';
      }
      throw err;
    }
  }

  return {
    deliver,

    async create(actor: BusinessActor, body: CreateNotificationBody): Promise<{ notification: Notification; replayed: boolean }> {
      if ((body.contact_id === undefined) === (body.external_id === undefined)) {
        throw new AppError('validation_failed', 'name the contact by contact_id or by external_id (one of them)', { errors: [{ path: '/contact_id', message: 'contact_id or external_id, not both' }] });
      }
      let contactId = body.contact_id;
      if (body.external_id !== undefined) contactId = (await ports.contactIdsByExternalIds({ businessId: actor.businessId, externalIds: [body.external_id] })).get(body.external_id);
      const existing = await byKey(db.db, actor.businessId, body.idempotency_key);
      if (existing) {
        // A retry of the same request gets the same notification; another request under the key is a mistake.
        if (existing.contact_id !== contactId || existing.template_version_id !== body.template_version_id) throw new AppError('conflict', 'this idempotency key names another notification');
        return { notification: view(existing), replayed: true };
      }
      const [contact] = contactId ? await ports.contactsByIds({ businessId: actor.businessId, ids: [contactId] }) : [];
      if (!contact) throw notFound('contact');
      const variables = body.variables ?? {};
      const info = await ports.templateVersion({ businessId: actor.businessId, versionId: body.template_version_id, variables });
      if (!info) throw notFound('template version');
      if (!info.approved) throw new AppError('template_not_approved', `template version ${body.template_version_id} is not approved`);
      if (info.unknownVariables.length > 0) throw new AppError('unknown_variables', `the template needs ${info.unknownVariables.map((n) => `{{${n}}}`).join(', ')}, which nobody provides`);
      const now = clock();
      const row: NotificationsTable = {
        id: newId('ntf', now),
        business_id: actor.businessId,
        idempotency_key: body.idempotency_key,
        contact_id: contact.id,
        template_version_id: body.template_version_id,
        purpose: body.purpose ?? 'transactional',
        variables: JSON.stringify(variables),
        status: 'queued',
        reason: null,
        message_id: null,
        conversation_id: null,
        seq: null,
        created_at: now,
        updated_at: now,
      };
      const inserted = await db.writeTransaction(async (tx) => {
        // Two requests with one key at once: one row wins (unique key), the other answers with it.
        const result = await tx.insertInto('notifications').values(row).onConflict((oc) => oc.columns(['business_id', 'idempotency_key']).doNothing()).executeTakeFirst();
        if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await deps.enqueueSend(tx, row.id);
        return true;
      });
      if (!inserted) {
        const winner = (await byKey(db.db, actor.businessId, body.idempotency_key))!;
        if (winner.contact_id !== row.contact_id || winner.template_version_id !== row.template_version_id) throw new AppError('conflict', 'this idempotency key names another notification');
        return { notification: view(winner), replayed: true };
      }
      try {
        await deliver(row.id);
      } catch (err) {
        // The job retries it; the caller learns the notification is queued.
        deps.log.warn({ err, notificationId: row.id }, 'notification not sent at once; its job will retry');
      }
      return { notification: view((await db.db.selectFrom('notifications').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()) as NotificationsTable), replayed: false };
    },

    async get(actor: BusinessActor, id: string): Promise<Notification> {
      const row = await db.db.selectFrom('notifications').selectAll().where('id', '=', id).where('business_id', '=', actor.businessId).executeTakeFirst();
      if (!row) throw notFound('notification');
      return view(row);
    },

    /** From the receipts tap: the contact received or read notifications in this chat. */
    async onReceipt(tx: Tx, options: { conversationId: string; accountId: string; delivered: number; read: number }) {
      const rows = await tx
        .selectFrom('notifications')
        .select(['id', 'business_id', 'seq', 'status'])
        .where('conversation_id', '=', options.conversationId)
        .where('seq', '<=', Math.max(options.delivered, options.read))
        .where('status', 'in', ['sent', 'delivered'])
        .orderBy('seq')
        .execute();
      for (const r of rows) {
        // The business's own read marks (an agent opened the chat) are not the contact's.
        if (r.business_id === options.accountId) continue;
        const status = options.read >= Number(r.seq) ? 'read' : 'delivered';
        if (status === r.status) continue;
        await tx.updateTable('notifications').set({ status, updated_at: clock() }).where('id', '=', r.id).execute();
        await deps.enqueueEvent(tx, { notificationId: r.id, status });
      }
    },

    /** The `notification-event` job: tells the business of a delivery or a read. */
    async announce(payload: { notificationId: string; status: 'delivered' | 'read' }) {
      await deps.write(async (tx, emit) => {
        const row = await tx.selectFrom('notifications').selectAll().where('id', '=', payload.notificationId).executeTakeFirst();
        if (!row) return;
        await emit({ type: payload.status === 'read' ? 'notification.read' : 'notification.delivered', conversationId: null, targetAccountId: row.business_id, data: { ...view(row), status: payload.status }, at: clock() });
      });
    },
  };
}

export type Notifications = ReturnType<typeof createNotifications>;
