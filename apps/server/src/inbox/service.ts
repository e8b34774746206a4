/**
 * The team inbox: a business's customer chats (its direct chats with people) as its team works
 * them — assignment, status, internal notes, canned replies, automation's hand-off — live for
 * every team member at once.
 *
 * The list is kept by an event tap: inside the transaction that writes each `message.created` in
 * a direct chat between a person and a business, the chat's inbox row is made or brought up to
 * date (a customer's message reopens a resolved or pending chat) and the team is told. Nothing is
 * lost to a crash between a message and its inbox row, and the list never scans messages.
 *
 * Team events (`inbox.updated`, `inbox.note_added`) are addressed to each account of
 * `business.teamIds()` (targeted events), never to the conversation: the customer, who is its
 * other member, receives none of them, and they are written by a writer without taps, so no
 * webhook carries them. Internal notes live in `inbox_notes` only, never as messages.
 */
import {
  API_SCOPES,
  type CannedReply,
  type InboxChange,
  type InboxConversation,
  type InboxConversationDetail,
  type InboxList,
  type InboxListQuery,
  type InboxNote,
  type InboxReplyBody,
  MAX_INBOX_NOTES,
  type MediaItem,
  type Message,
  type UpdateInboxConversationBody,
} from '@mmd/contracts';
import { sql } from 'kysely';
import { accountsByIds, handlesOf, type Principal } from '../accounts/index.ts';
import { type AutomationService, automationEnabled, handoffStates } from '../automation/index.ts';
import { type Business, type BusinessActor, roleAllows } from '../business/index.ts';
import { directPair } from '../conversations/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import type { Media } from '../media/index.ts';
import { findMessage, type Messaging } from '../messaging/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { Emit, EventTap, WriteWithEvents } from '../sync/index.ts';
import type { InboxConversationsTable, InboxNotesTable } from './schema.ts';

type Reader = Database['db'] | Tx;

/** A business's message no team member wrote reaches the team live only within this long of the customer's last message. */
const LIVE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** How much of the newest message the list shows. */
const PREVIEW_CHARS = 140;

export interface InboxDeps {
  db: Database;
  clock: () => number;
  /**
   * Writes the team's events. Made without taps (sync's createEventWriter with none): inbox events
   * are for the team's live clients only, never for webhooks or automation.
   */
  write: WriteWithEvents;
  business: Pick<Business, 'teamIds' | 'roleOf' | 'settings'>;
  messaging: Pick<Messaging, 'send' | 'history' | 'view'>;
  media: Pick<Media, 'view'>;
  automation: Pick<AutomationService, 'handover' | 'listTemplates' | 'createTemplate' | 'deleteTemplate' | 'listRules'>;
}

/** The business account itself, as the inbox sends, reads and hands over for it. */
function businessPrincipal(actor: Pick<BusinessActor, 'businessId' | 'businessHandle'>): Principal {
  return { accountId: actor.businessId, handle: actor.businessHandle, kind: 'business', role: 'user', deviceId: null, apiKeyId: null, scopes: new Set(API_SCOPES) };
}

function preview(text: string | null): string | null {
  if (text === null) return null;
  const chars = [...text];
  return chars.length > PREVIEW_CHARS ? `${chars.slice(0, PREVIEW_CHARS - 1).join('')}…` : text;
}

function encodeCursor(row: Pick<InboxConversationsTable, 'last_activity_at' | 'conversation_id'>): string {
  return Buffer.from(JSON.stringify([Number(row.last_activity_at), row.conversation_id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'number' && Number.isSafeInteger(at) && typeof id === 'string' && id.length > 0 && id.length <= 64) return { at, id };
  } catch {
    // Falls through to the error below.
  }
  throw new AppError('validation_failed', 'cursor is not one this server gave', { errors: [{ path: '/cursor', message: 'not a cursor from a previous page' }] });
}

/** `%` and `_` are LIKE wildcards (`_` is also allowed in handles): matched literally here. */
function likePrefix(text: string): string {
  return `${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function createInbox(deps: InboxDeps) {
  const { db, clock, write, business, messaging, automation, media } = deps;

  async function views(reader: Reader, businessId: string, rows: InboxConversationsTable[]): Promise<InboxConversation[]> {
    if (rows.length === 0) return [];
    const handles = await handlesOf(reader, rows.flatMap((r) => (r.assignee_id ? [r.customer_id, r.assignee_id] : [r.customer_id])));
    // No automation on: people answer every chat, and there is no hand-off to show.
    const states = (await automationEnabled(reader, businessId)) ? await handoffStates(reader, { businessId, conversationIds: rows.map((r) => r.conversation_id) }) : null;
    return rows.map((r) => ({
      conversation_id: r.conversation_id,
      customer: { id: r.customer_id, handle: handles.get(r.customer_id) ?? 'deleted' },
      status: r.status,
      assignee: r.assignee_id ? { id: r.assignee_id, handle: handles.get(r.assignee_id) ?? 'deleted' } : null,
      handoff: states ? (states.get(r.conversation_id)?.state ?? 'bot') : null,
      last_activity_at: Number(r.last_activity_at),
      last_customer_message_at: r.last_customer_message_at === null ? null : Number(r.last_customer_message_at),
      last_message_preview: r.last_message_preview,
      last_message_from: r.last_message_from,
      created_at: Number(r.created_at),
    }));
  }

  async function view(reader: Reader, row: InboxConversationsTable): Promise<InboxConversation> {
    return (await views(reader, row.business_id, [row]))[0]!;
  }

  async function loadRow(reader: Reader, businessId: string, conversationId: string) {
    return reader.selectFrom('inbox_conversations').selectAll().where('conversation_id', '=', conversationId).where('business_id', '=', businessId).executeTakeFirst();
  }

  /** The business's inbox conversation; another business's (or none) is not found, alike. */
  async function requireRow(reader: Reader, businessId: string, conversationId: string): Promise<InboxConversationsTable> {
    const row = await loadRow(reader, businessId, conversationId);
    if (!row) throw notFound('conversation');
    return row;
  }

  /** One event per team member, addressed to them alone (never to the conversation). */
  async function tellTeam(tx: Tx, emit: Emit, businessId: string, event: { at: number } & ({ type: 'inbox.updated'; change: InboxChange; by: string | null; conversation: InboxConversation; message_id?: string } | { type: 'inbox.note_added'; note: InboxNote })) {
    const team = await business.teamIds(businessId, tx);
    for (const accountId of team) {
      if (event.type === 'inbox.updated') {
        const { type, at, conversation, ...rest } = event;
        // No content in the log: the preview and the message are read through the API, which honours deletions.
        await emit({ type, conversationId: null, targetAccountId: accountId, at, data: { business_id: businessId, ...rest, conversation: { ...conversation, last_message_preview: null } } });
      } else {
        await emit({ type: 'inbox.note_added', conversationId: null, targetAccountId: accountId, at: event.at, data: { business_id: businessId, conversation_id: event.note.conversation_id, note: event.note } });
      }
    }
  }

  /**
   * Runs inside every event-writing transaction (after automation's, so the hand-off state read
   * here is the one that transaction leaves). A person's message costs two indexed reads when the
   * chat is not with a business; a business's message one primary-key read.
   */
  const tap: EventTap = async (tx, { event }, emit) => {
    if (event.type === 'message.deleted' && event.conversationId) {
      await tx.updateTable('inbox_conversations').set({ last_message_preview: null }).where('conversation_id', '=', event.conversationId).where('last_message_id', '=', event.data.id).execute();
      return;
    }
    if (event.type === 'message.edited' && event.conversationId) {
      await tx
        .updateTable('inbox_conversations')
        .set({ last_message_preview: preview(event.data.text) })
        .where('conversation_id', '=', event.conversationId)
        .where('last_message_id', '=', event.data.id)
        .execute();
      return;
    }
    if (event.type !== 'message.created' || !event.conversationId) return;
    const message = event.data;
    if (message.status !== 'sent' || message.sender_kind === 'bot') return;
    const conversationId = event.conversationId;
    const at = event.at;
    const last = { last_activity_at: at, last_message_id: message.id, last_message_preview: preview(message.text), updated_at: at };

    if (message.sender_kind === 'business') {
      const row = await loadRow(tx, message.sender_id, conversationId);
      // Not in the inbox (the customer never wrote, e.g. a campaign): nothing to keep.
      if (!row) return;
      // A team member's reply takes an unassigned chat: the others see someone has it.
      const assignee = row.assignee_id ?? message.agent?.id ?? null;
      const next: InboxConversationsTable = { ...row, ...last, last_message_from: 'business', assignee_id: assignee };
      await tx.updateTable('inbox_conversations').set({ ...last, last_message_from: 'business', assignee_id: assignee }).where('conversation_id', '=', conversationId).execute();
      // What no team member wrote (automation, a campaign, an integration) is told to the team
      // only in a conversation going on now: not resolved, the customer wrote within a day. A
      // campaign to a million customers must not become millions of team events.
      if (!message.agent && (row.status === 'resolved' || row.last_customer_message_at === null || at - Number(row.last_customer_message_at) > LIVE_WINDOW_MS)) return;
      await tellTeam(tx, emit, row.business_id, { type: 'inbox.updated', change: message.agent ? 'reply' : 'message', by: message.agent?.id ?? null, conversation: await view(tx, next), message_id: message.id, at });
      return;
    }

    // A person wrote: is the other side of this direct chat a business?
    const pair = await directPair(tx, conversationId);
    if (!pair) return;
    const businessId = pair[0] === message.sender_id ? pair[1] : pair[0];
    const accounts = await accountsByIds(tx, [businessId, message.sender_id]);
    if (accounts.get(businessId)?.kind !== 'business' || accounts.get(message.sender_id)?.kind !== 'person') return;
    const existing = await loadRow(tx, businessId, conversationId);
    let row: InboxConversationsTable;
    if (existing) {
      // A customer's message reopens a chat that was resolved or waiting for them.
      row = { ...existing, ...last, last_message_from: 'customer', last_customer_message_at: at, status: 'open' };
      await tx.updateTable('inbox_conversations').set({ ...last, last_message_from: 'customer', last_customer_message_at: at, status: 'open' }).where('conversation_id', '=', conversationId).execute();
    } else {
      row = {
        conversation_id: conversationId,
        business_id: businessId,
        customer_id: message.sender_id,
        customer_handle_key: message.sender_handle.toLowerCase(),
        status: 'open',
        assignee_id: null,
        ...last,
        last_customer_message_at: at,
        last_message_from: 'customer',
        created_at: at,
      };
      await tx.insertInto('inbox_conversations').values(row).execute();
    }
    await tellTeam(tx, emit, businessId, { type: 'inbox.updated', change: 'message', by: null, conversation: await view(tx, row), message_id: message.id, at });
  };

  return {
    tap,

    /** The business's customer chats, newest activity first. */
    async list(actor: BusinessActor, query: InboxListQuery): Promise<InboxList> {
      const limit = query.limit ?? 30;
      let q = db.db.selectFrom('inbox_conversations').selectAll().where('business_id', '=', actor.businessId);
      if (query.assignee === 'mine') q = q.where('assignee_id', '=', actor.accountId);
      else if (query.assignee === 'unassigned') q = q.where('assignee_id', 'is', null);
      if (query.status) q = q.where('status', '=', query.status);
      if (query.q) q = q.where(sql<boolean>`customer_handle_key like ${likePrefix(query.q)} escape '\\'`);
      if (query.cursor) {
        const { at, id } = decodeCursor(query.cursor);
        q = q.where((eb) => eb.or([eb('last_activity_at', '<', at), eb.and([eb('last_activity_at', '=', at), eb('conversation_id', '<', id)])]));
      }
      const rows = await q.orderBy('last_activity_at', 'desc').orderBy('conversation_id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      return { conversations: await views(db.db, actor.businessId, page), next: rows.length > limit ? encodeCursor(page.at(-1)!) : null };
    },

    /** One conversation: its inbox entry, its newest messages (or those before `before`) and its notes. */
    async get(actor: BusinessActor, conversationId: string, options: { before?: number; limit?: number }): Promise<InboxConversationDetail> {
      const row = await requireRow(db.db, actor.businessId, conversationId);
      const history = await messaging.history(businessPrincipal(actor), conversationId, { before: options.before, limit: options.limit ?? 50 });
      const notes = await db.db.selectFrom('inbox_notes').selectAll().where('conversation_id', '=', conversationId).where('business_id', '=', actor.businessId).orderBy('created_at').orderBy('id').limit(MAX_INBOX_NOTES).execute();
      return { conversation: await view(db.db, row), messages: history.messages, has_more: history.has_more, notes: await noteViews(notes) };
    },

    /** Assign (or unassign), set the status, hand over to or back from automation. */
    async update(actor: BusinessActor, conversationId: string, body: UpdateInboxConversationBody): Promise<InboxConversation> {
      await requireRow(db.db, actor.businessId, conversationId);
      if (body.if_unassigned && body.assignee_id === undefined) {
        throw new AppError('validation_failed', 'if_unassigned goes with assignee_id', { errors: [{ path: '/if_unassigned', message: 'needs assignee_id' }] });
      }
      if (body.assignee_id !== undefined && body.assignee_id !== null) {
        const role = await business.roleOf(actor.businessId, body.assignee_id);
        if (!role || !roleAllows(role, 'send', await business.settings(actor.businessId))) {
          throw new AppError('validation_failed', 'a conversation is assigned to someone on the team who may reply (owner, admin or agent)', {
            errors: [{ path: '/assignee_id', message: 'not a team member who may reply' }],
          });
        }
      }
      if (body.handoff) await automation.handover(businessPrincipal(actor), conversationId, body.handoff);
      const now = clock();
      return write(async (tx, emit) => {
        const before = await requireRow(tx, actor.businessId, conversationId);
        const changes: InboxChange[] = [];
        if (body.assignee_id !== undefined && body.assignee_id !== before.assignee_id) {
          let q = tx.updateTable('inbox_conversations').set({ assignee_id: body.assignee_id, updated_at: now }).where('conversation_id', '=', conversationId);
          // Two agents taking it at once: the second finds it taken (the row lock makes PostgreSQL re-check).
          if (body.if_unassigned) q = q.where('assignee_id', 'is', null);
          const done = await q.executeTakeFirst();
          if (Number(done.numUpdatedRows) !== 1) throw new AppError('conflict', 'someone else on the team has this conversation already');
          changes.push('assigned');
        }
        if (body.status !== undefined && body.status !== before.status) {
          await tx.updateTable('inbox_conversations').set({ status: body.status, updated_at: now }).where('conversation_id', '=', conversationId).execute();
          changes.push('status');
        }
        if (body.handoff) changes.push('handoff');
        const conversation = await view(tx, await requireRow(tx, actor.businessId, conversationId));
        for (const change of changes) await tellTeam(tx, emit, actor.businessId, { type: 'inbox.updated', change, by: actor.accountId, conversation, at: now });
        return conversation;
      });
    },

    /**
     * GDPR erasure of a business's contact (called by contacts' erase, inside its transaction):
     * deletes every internal note written in the business's inbox conversations with that person.
     * Returns how many went.
     */
    async eraseNotesAbout(tx: Tx, businessId: string, accountId: string): Promise<number> {
      const result = await tx
        .deleteFrom('inbox_notes')
        .where('business_id', '=', businessId)
        .where('conversation_id', 'in', (eb) => eb.selectFrom('inbox_conversations').select('conversation_id').where('business_id', '=', businessId).where('customer_id', '=', accountId))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** An internal note: stored apart from the chat, told to the team only. */
    async addNote(actor: BusinessActor, conversationId: string, text: string): Promise<InboxNote> {
      await requireRow(db.db, actor.businessId, conversationId);
      const now = clock();
      const note = await write(async (tx, emit) => {
        const count = await tx.selectFrom('inbox_notes').select((eb) => eb.fn.countAll<number>().as('n')).where('conversation_id', '=', conversationId).executeTakeFirstOrThrow();
        if (Number(count.n) >= MAX_INBOX_NOTES) throw new AppError('limit_reached', `a conversation keeps at most ${MAX_INBOX_NOTES} notes`);
        const row: InboxNotesTable = { id: newId('nte'), business_id: actor.businessId, conversation_id: conversationId, author_id: actor.accountId, text, created_at: now };
        await tx.insertInto('inbox_notes').values(row).execute();
        const [view] = await noteViews([row], tx);
        await tellTeam(tx, emit, actor.businessId, { type: 'inbox.note_added', note: view!, at: now });
        return view!;
      });
      return note;
    },

    /**
     * A reply as the business, naming the team member who wrote it (customers see "Business ·
     * handle"). The business account replying itself names nobody. The idempotency key is the
     * writer's own: two agents' keys never collide.
     */
    async reply(actor: BusinessActor, conversationId: string, body: InboxReplyBody): Promise<Message> {
      await requireRow(db.db, actor.businessId, conversationId);
      const agent = actor.accountId === actor.businessId ? undefined : { id: actor.accountId, handle: actor.principal.handle };
      const { message } = await messaging.send(businessPrincipal(actor), conversationId, {
        text: body.text,
        ...(body.reply_to ? { replyTo: body.reply_to } : {}),
        ...(body.idempotency_key ? { idempotencyKey: `inbox:${actor.accountId}:${body.idempotency_key}` } : {}),
        ...(agent ? { agent } : {}),
      });
      return message as Message;
    },

    /**
     * A photo, video, voice note or file a message of this chat carries, with its URLs signed for
     * the business (team members are not members of the chat; the business is). Only media of a
     * delivered message of this very chat: the inbox is no way into the business's other chats.
     */
    async media(actor: BusinessActor, conversationId: string, messageId: string, mediaId: string): Promise<MediaItem> {
      await requireRow(db.db, actor.businessId, conversationId);
      const row = await findMessage(db.db, messageId);
      if (!row || row.conversation_id !== conversationId || row.status !== 'sent' || row.deleted_at !== null) throw notFound('media');
      const message = await messaging.view(db.db, messageId, actor.businessId);
      if (!message.media.some((m) => m.id === mediaId)) throw notFound('media');
      return media.view(businessPrincipal(actor), mediaId);
    },

    /** Canned replies are automation's saved templates: one list for rules and people. */
    async cannedReplies(actor: BusinessActor): Promise<CannedReply[]> {
      return automation.listTemplates(businessPrincipal(actor));
    },

    async createCannedReply(actor: BusinessActor, body: { name: string; text: string }): Promise<CannedReply> {
      return automation.createTemplate(businessPrincipal(actor), body);
    },

    /** Refused (409) while an automation rule sends it: deleting it here would silence the rule. */
    async deleteCannedReply(actor: BusinessActor, id: string): Promise<void> {
      const as = businessPrincipal(actor);
      const rules = await automation.listRules(as);
      const user = rules.find((r) => r.actions.some((a) => a.type === 'template' && a.template_id === id));
      if (user) throw new AppError('conflict', `the automation rule "${user.name}" sends this reply; change the rule first`);
      await automation.deleteTemplate(as, id);
    },
  };

  async function noteViews(rows: InboxNotesTable[], reader: Reader = db.db): Promise<InboxNote[]> {
    const handles = await handlesOf(reader, rows.map((r) => r.author_id));
    return rows.map((r) => ({
      id: r.id,
      conversation_id: r.conversation_id,
      author: { id: r.author_id, handle: handles.get(r.author_id) ?? 'deleted' },
      text: r.text,
      created_at: Number(r.created_at),
    }));
  }
}

export type Inbox = ReturnType<typeof createInbox>;
