/**
 * Messages: send (idempotent), history, edit, delete for everyone, reactions, forwards, read and
 * delivery receipts. A send writes one message row and one event row, whatever the audience.
 */
import type { AiDisclosure, Message, MessageContentType, ReactionDetails, Receipts } from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import { type Membership, assertMayPost, directChatsOf, inRanges, isAdmin, markOwnMessages, nextSeq, nextSeqs, raiseDeliveredMany, raiseWatermarks, readableRanges, readersOfSeq, requireMember, seqIn } from '../conversations/index.ts';
import { accountStates, accountsByIds, blockedBy, blockersOf, blocksBetween, readsShownBetween } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { type Database, type Tx, concurrentWrite, lockScope, prepared as preparedQuery } from '../platform/db/index.ts';
import type { MessagesTable } from './schema.ts';
import { type Emit, type WriteWithEvents, emitAll, latestCursor } from '../sync/index.ts';
import { attachMedia, loadMediaRows, mediaOfMessageIds } from '../media/index.ts';
import { type InteractiveInput, hasInteractive, messagesOfType, prepareInteractive, storeInteractive } from '../interactive/index.ts';
import { deleteForEveryone } from './delete.ts';
import { hiddenAmong, hideMessages, notHiddenFor } from './hides.ts';
import { asChannelPost, audienceOf, loadMessageViews, positionOf, toMessage } from './views.ts';
import { countViews } from './post-views.ts';
import { displayNameOf } from '../profiles/index.ts';
import { checkForwardLimit } from './forward-limits.ts';
import { shareMedia } from './spread.ts';
import { recordLinkShares } from './links.ts';
import { indexMessages, reindexText } from './search.ts';
import type { SpreadPolicy } from './spread-velocity.ts';
import { type LinkPreviewDeps, planLinkPreview, previewLink } from './link-previews.ts';
import { detachPreviewImage } from '../media/index.ts';
import { listUnreadMentions, storeMentions } from './mentions.ts';

/**
 * Order within a page: a held message (position P: written after seq P - 1) sorts after the sent
 * message P, so the sent message with a seq always comes first where both could stand (a lookup
 * "the message after seq N" finds the sent one).
 */
function sortKey(r: MessagesTable): number {
  return r.status === 'sent' ? Number(r.seq) : positionOf(r) + 0.5;
}

/** A new message's row (every send): a statement prepared once. Columns left out keep their defaults. */
type NewMessageRow = Omit<MessagesTable, 'spread_cluster' | 'spread_hops' | 'spread_fast' | 'views' | 'agent_id' | 'spread_confirmed' | 'signature'> & {
  agent_id: string | null;
  spread_confirmed: number | null;
  signature: string | null;
};
const insertMessage = preparedQuery((db, p: NewMessageRow) =>
  db.insertInto('messages').values({
    id: p.id,
    conversation_id: p.conversation_id,
    seq: p.seq,
    sender_id: p.sender_id,
    text: p.text,
    reply_to: p.reply_to,
    forward_origin_id: p.forward_origin_id,
    forward_origin_conversation_id: p.forward_origin_conversation_id,
    forward_origin_sender_id: p.forward_origin_sender_id,
    forward_hops: p.forward_hops,
    idempotency_key: p.idempotency_key,
    spread_confirmed: p.spread_confirmed,
    created_at: p.created_at,
    edited_at: p.edited_at,
    deleted_at: p.deleted_at,
    deleted_reason: p.deleted_reason,
    status: p.status,
    automated: p.automated,
    agent_id: p.agent_id,
    held_after: p.held_after,
    written_cursor: p.written_cursor,
    signature: p.signature,
  }),
);

/** What `sendMany` answers per conversation: the message (written now or already), or the refusal. */
type BulkOutcome = { ok: true; message: { id: string; seq: number }; replayed: boolean } | { ok: false; code: 'forbidden' | 'not_a_member' | 'validation_failed'; message: string };

/** Live receipt events go to direct chats and groups up to this size; larger ones ask for counts. */
export const LIVE_RECEIPTS_MAX_MEMBERS = 100;

function receiptsLive(kind: string, memberCount: number): boolean {
  return kind === 'direct' || (kind === 'group' && memberCount <= LIVE_RECEIPTS_MAX_MEMBERS);
}

/** Accounts whose memberships one statement looks up when acknowledgements are applied. */
const ACKS_PER_STATEMENT = 500;

/** The newest message a device holding every event up to `cursor` has of a conversation: prepared once. */
const newestMessageUpTo = preparedQuery((db, p: { conversationId: string; cursor: number }) =>
  db
    .selectFrom('events')
    .select('seq')
    .where('conversation_id', '=', p.conversationId)
    .where('type', '=', 'message.created')
    .where('id', '<=', p.cursor)
    .orderBy('id', 'desc')
    .limit(1),
);

export interface MessagingDeps {
  db: Database;
  clock: () => number;
  /** Transactions whose events reach live clients after commit. */
  write: WriteWithEvents;
  /** Announces a poll or form as closed at its closes_at (a durable job). */
  scheduleClose?: (tx: Tx, options: { messageId: string; at: number }) => Promise<unknown>;
  /** Friction on what spreads too fast (spread-velocity.ts), from the instance's config. */
  spread: SpreadPolicy;
  /** Queues a message's link preview (link-previews.ts); absent: no previews (config linkPreviews off). */
  enqueuePreview?: LinkPreviewDeps['enqueue'];
}

export function createMessaging(deps: MessagingDeps) {
  const { db, clock, write } = deps;


  async function loadMessage(tx: Database['db'] | Tx, messageId: string): Promise<MessagesTable> {
    const row = await tx.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirst();
    if (!row) throw notFound('message');
    return row;
  }

  /**
   * A message held back (pending its media, or failed) exists for its sender alone, and one sent
   * outside the caller's stays in a group (see readableRanges) does not exist for them either:
   * not found, whatever the path (get, receipts, reactions, replies, forwards).
   */
  async function assertVisible(tx: Database['db'] | Tx, membership: Membership, row: Pick<MessagesTable, 'id' | 'status' | 'sender_id' | 'seq' | 'held_after'>) {
    const accountId = membership.member.account_id;
    if (row.status !== 'sent' && row.sender_id !== accountId) throw notFound('message');
    if (!inRanges(await readableRanges(tx, membership), positionOf(row))) throw notFound('message');
    // Deleted for me: gone for me everywhere (not for the others).
    if ((await hiddenAmong(tx, accountId, [row.id])).size > 0) throw notFound('message');
  }

  /** Its sender sees a held message but cannot change it until it is released: an edit or a reaction would reach every member. */
  function assertReleased(row: MessagesTable) {
    if (row.status !== 'sent') throw new AppError('conflict', 'this message is not delivered yet; it cannot be edited or reacted to until it is');
  }

  /** In a direct chat, a block either way stops messages and reactions (groups are shared spaces: not there). */
  async function assertNotBlocked(tx: Tx, { conversation, member }: Membership) {
    if (conversation.kind !== 'direct' || !conversation.direct_key) return;
    const peer = conversation.direct_key.split(':').find((id) => id !== member.account_id);
    if (!peer) return;
    const blocks = await blocksBetween(tx, peer, member.account_id);
    if (blocks.aBlockedB) throw new AppError('forbidden', 'this account does not accept messages from you');
    if (blocks.bBlockedA) throw new AppError('forbidden', 'you blocked this account; unblock it to write');
  }

  /**
   * A suspended account sends nothing, whatever path built its principal. A principal from a
   * token this request presented was checked when the token was resolved (a suspended account's
   * tokens are refused), so only the ones the server builds itself are looked up: a business's
   * team inbox, automation, campaigns and bots' webhook replies.
   */
  async function assertNotSuspended(tx: Tx, principal: Principal) {
    if (principal.deviceId !== null || principal.apiKeyId !== null || principal.botToken === true) return;
    if ((await accountStates(tx, [principal.accountId])).get(principal.accountId)?.suspended) throw new AppError('forbidden', 'this account is suspended');
  }

  /** One message's view: for `viewerId`, or as events carry it (null). */
  async function single(tx: Database['db'] | Tx, row: MessagesTable, viewerId: string | null = null): Promise<Message> {
    const [view] = await loadMessageViews(tx, [row], { viewerId, now: clock() });
    return view!;
  }

  /**
   * Raises the caller's watermarks and tells the conversation when receipts are live there. In a
   * direct chat where either person has read receipts off, the reader's own devices get their
   * real marks and the other person only the delivered mark (read_seq 0), and only when that
   * rose: an event with nothing new for them would itself say "read just now".
   */
  async function advanceWatermarks(
    tx: Tx,
    emit: Emit,
    options: { conversationId: string; accountId: string; delivered: number; read: number; kind: string; memberCount: number; directKey: string | null },
  ) {
    const { conversationId, accountId } = options;
    const raised = await raiseWatermarks(tx, { conversationId, accountId, delivered: options.delivered, read: options.read });
    if (!raised) return;
    const { delivered, read } = raised;
    if (receiptsLive(options.kind, options.memberCount)) {
      const quiet = options.kind === 'direct' && (await automatedFromBusiness(tx, conversationId, accountId, Math.max(delivered, read)));
      const peer = options.kind === 'direct' ? options.directKey?.split(':').find((id) => id !== accountId) : undefined;
      if (peer && !(await readsShownBetween(tx, accountId, peer))) {
        const at = clock();
        await emit({ type: 'receipt.updated', conversationId, data: { account_id: accountId, delivered_seq: delivered, read_seq: read, reads_private: true }, at, targetAccountId: accountId });
        if (!quiet && delivered > raised.before.delivered) {
          await emit({ type: 'receipt.updated', conversationId, data: { account_id: accountId, delivered_seq: delivered, read_seq: 0, reads_private: true }, at, targetAccountId: peer });
        }
        return;
      }
      await emit({ type: 'receipt.updated', conversationId, data: { account_id: accountId, delivered_seq: delivered, read_seq: read }, at: clock(), ...(quiet ? { targetAccountId: accountId } : {}) });
    }
  }

  /**
   * Whether the newest message a receipt covers is a business's automated one (a campaign or a
   * notification). Such receipts go to the reader's own devices alone: a campaign to a million
   * people must not bring the business's devices and every agent's browser a million delivery
   * and read events (campaigns count them in the funnel, notifications report them by webhook,
   * both through the event's tap). Receipts of an agent's reply still reach the team.
   */
  async function automatedFromBusiness(tx: Tx, conversationId: string, readerId: string, seq: number): Promise<boolean> {
    if (seq <= 0) return false;
    const row = await tx.selectFrom('messages').select(['automated', 'sender_id']).where('conversation_id', '=', conversationId).where('seq', '=', seq).executeTakeFirst();
    if (!row || Number(row.automated) !== 1 || row.sender_id === readerId) return false;
    return (await accountsByIds(tx, [row.sender_id])).get(row.sender_id)?.kind === 'business';
  }

  const api = {
    /** The API view of one message, as its event carries it. */
    async view(executor: Database['db'] | Tx, messageId: string, viewerId: string | null = null): Promise<Message> {
      return single(executor, await loadMessage(executor, messageId), viewerId);
    },

    /**
     * The message row, for a caller who may see it; 404 for anyone else, member or not, so the
     * answer never says whether a message exists (interactions use it).
     */
    async readable(principal: Principal, messageId: string): Promise<MessagesTable> {
      const row = await loadMessage(db.db, messageId);
      const membership = await requireMember(db.db, row.conversation_id, principal.accountId).catch((err: unknown) => {
        throw err instanceof AppError && err.code === 'not_a_member' ? notFound('message') : err;
      });
      await assertVisible(db.db, membership, row);
      return row;
    },

    async send(
      principal: Principal,
      conversationId: string,
      input: {
        text?: string;
        replyTo?: string;
        forwardOf?: string;
        idempotencyKey?: string;
        media?: string[];
        automated?: boolean;
        interactive?: InteractiveInput;
        /** A business's message written by this person on its team (the inbox checked the role). */
        agent?: { id: string; handle: string };
        /**
         * Address the live `message.created` event to this member alone (a campaign's message
         * in a business's direct chat: the business's own devices and its team's browsers must
         * not get one live event per recipient of a million; they read the chat's history).
         */
        eventTo?: string;
        /** The sender confirmed sharing media that is spreading fast (spread-velocity.ts). */
        confirmSpread?: boolean;
        /** false: no link preview for this message (the sender or a Telegram bot turned it off). */
        linkPreview?: boolean;
        /** The sender's "made with AI" disclosure for the media they uploaded (media/attach.ts). */
        aiDisclosure?: AiDisclosure;
      },
      /** Inside a caller's transaction (a campaign's batch), else in one of its own. */
      within?: { tx: Tx; emit: Emit },
    ) {
      if (input.agent && principal.kind !== 'business') throw new AppError('forbidden', 'only a business names the team member who wrote');
      // Limits and who may send what, before anything is written (interactive_limit, interactive_not_allowed).
      const prepared = prepareInteractive(input.interactive, { kind: principal.kind, now: clock() });
      if (input.text === undefined && input.forwardOf === undefined && !input.media?.length && !prepared?.standsAlone) {
        throw new AppError('validation_failed', 'a message needs text, media or forward_of (buttons and quick replies go under text or media)', {
          errors: [{ path: '/text', message: 'required unless media, forward_of, list, cards, poll or form is given' }],
        });
      }
      if ((input.text !== undefined || input.media?.length || hasInteractive(input.interactive)) && input.forwardOf !== undefined) {
        throw new AppError('validation_failed', 'a forward carries its original content; send text separately', { errors: [{ path: '/text', message: 'not allowed with forward_of' }] });
      }
      if (prepared?.mediaIds.length && input.media?.length) {
        throw new AppError('validation_failed', 'cards carry their own media: send media or cards', { errors: [{ path: '/media', message: 'not allowed with cards' }] });
      }
      const body = async (tx: Tx, emit: Emit) => {
        await assertNotSuspended(tx, principal);
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayPost(membership);
        await assertNotBlocked(tx, membership);
        if (input.idempotencyKey) {
          // Two sends with one key at once (a retry racing the first): the second waits, then finds the first.
          await lockScope(tx, `send-key:${conversationId}:${principal.accountId}:${input.idempotencyKey}`);
          const existing = await tx
            .selectFrom('messages')
            .selectAll()
            .where('conversation_id', '=', conversationId)
            .where('sender_id', '=', principal.accountId)
            .where('idempotency_key', '=', input.idempotencyKey)
            .executeTakeFirst();
          if (existing) return { message: await single(tx, existing, principal.accountId), replayed: true };
        }
        if (input.replyTo) {
          const parent = await tx.selectFrom('messages').select(['id', 'conversation_id', 'status', 'sender_id', 'seq', 'held_after']).where('id', '=', input.replyTo).executeTakeFirst();
          // A message the sender cannot read is as good as absent: replying to it must not confirm it exists.
          // Nor is a held one, even the sender's own: the reply would name it to everyone before it is out.
          const readable =
            parent && parent.status === 'sent' && parent.conversation_id === conversationId && (await assertVisible(tx, membership, parent).then(() => true, () => false));
          if (!readable) {
            throw new AppError('validation_failed', 'reply_to must be a message in this conversation', { errors: [{ path: '/reply_to', message: 'not in this conversation' }] });
          }
        }
        let text = input.text ?? null;
        let mediaIds = input.media ?? [];
        let forward: Pick<MessagesTable, 'forward_origin_id' | 'forward_origin_conversation_id' | 'forward_origin_sender_id' | 'forward_hops'> = {
          forward_origin_id: null,
          forward_origin_conversation_id: null,
          forward_origin_sender_id: null,
          forward_hops: 0,
        };
        if (input.forwardOf) {
          const source = await tx.selectFrom('messages').selectAll().where('id', '=', input.forwardOf).executeTakeFirst();
          if (!source) throw notFound('message to forward');
          // Only content the sender can read may be forwarded.
          const sourceMembership = await requireMember(tx, source.conversation_id, principal.accountId);
          // A held message is not forwarded, not even by its sender, until it is released.
          if (source.status !== 'sent') throw notFound('message to forward');
          await assertVisible(tx, sourceMembership, source).catch(() => {
            throw notFound('message to forward');
          });
          if (source.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
          text = source.text;
          // The forward carries the same media items: already processed and checked, never re-uploaded.
          mediaIds = (await mediaOfMessageIds(tx, [source.id])).map((m) => m.mediaId);
          forward = {
            forward_origin_id: source.forward_origin_id ?? source.id,
            forward_origin_conversation_id: source.forward_origin_conversation_id ?? source.conversation_id,
            // A channel's post was written by the channel: forwarding it names the channel, never its admin.
            forward_origin_sender_id: source.forward_origin_sender_id ?? (sourceMembership.conversation.kind === 'channel' ? source.conversation_id : source.sender_id),
            forward_hops: Number(source.forward_hops) + 1,
          };
          await checkForwardLimit(tx, { senderId: principal.accountId, originId: forward.forward_origin_id!, sourceHops: Number(source.forward_hops), conversationId, now: clock(), limits: deps.spread.limits });
        }
        const now = clock();
        const { conversation } = membership;
        const channel = conversation.kind === 'channel' ? { id: conversation.id, title: conversation.title, handle: conversation.handle, signPosts: Number(conversation.sign_posts ?? 0) === 1 } : null;
        // A signed channel keeps who signed with the post: a later change of name does not rewrite old posts.
        const signature = channel?.signPosts ? ((await displayNameOf(tx, principal.accountId)) ?? principal.handle) : null;
        const present = (m: Message): Message => (channel ? asChannelPost(m, { signature, views: 0 }, channel) : m);
        // Without media nothing can hold a message back: it takes its seq at once and is written
        // sent (three statements fewer than the held path below, on every text message).
        const outNow = mediaIds.length === 0 && !prepared?.mediaIds.length;
        // With media it is written held: a private placeholder seq, so nothing public counts it
        // before we know whether its media lets it go out now. Under the conversation's
        // placeholder lock (platform/db), the smallest placeholder so far is still the smallest
        // when we take the next one below it.
        if (!outNow) await lockScope(tx, `held-seq:${conversationId}`);
        const lowest = outNow
          ? undefined
          : await tx
              .selectFrom('messages')
              .select((eb) => eb.fn.min('seq').as('min'))
              .where('conversation_id', '=', conversationId)
              .executeTakeFirst();
        const row: MessagesTable = {
          id: newId('msg', now),
          conversation_id: conversationId,
          seq: outNow ? await nextSeq(tx, conversationId) : Math.min(0, Number(lowest?.min ?? 0)) - 1,
          sender_id: principal.accountId,
          text,
          reply_to: input.replyTo ?? null,
          ...forward,
          idempotency_key: input.idempotencyKey ?? null,
          ...(input.confirmSpread ? { spread_confirmed: 1 } : {}),
          created_at: now,
          edited_at: null,
          deleted_at: null,
          deleted_reason: null,
          status: outNow ? 'sent' : 'pending',
          automated: input.automated ? 1 : 0,
          agent_id: input.agent?.id ?? null,
          held_after: outNow ? null : membership.conversation.last_seq,
          written_cursor: outNow ? null : await latestCursor(tx),
          ...(signature ? { signature } : {}),
        };
        await insertMessage(tx, { ...row, spread_confirmed: row.spread_confirmed ?? null, agent_id: row.agent_id ?? null, signature: row.signature ?? null });
        if (prepared) {
          if (prepared.mediaIds.length > 0) {
            // A card's header is the sender's own image or video, already processed: a card is never held back.
            const items = new Map((await loadMediaRows(tx, prepared.mediaIds)).map((m) => [m.id, m]));
            for (const id of prepared.mediaIds) {
              const item = items.get(id);
              if (!item || item.owner_id !== principal.accountId) throw notFound(`media ${id}`);
              if (item.status !== 'ready' || (item.kind !== 'image' && item.kind !== 'video')) {
                throw new AppError('validation_failed', `media ${id} cannot head a card: it must be a ready image or video`, { errors: [{ path: '/cards', message: `media ${id} is not a ready image or video` }] });
              }
            }
            mediaIds = prepared.mediaIds;
          }
          await storeInteractive(tx, { messageId: row.id, conversationId, senderId: principal.accountId, prepared, now });
          if (prepared.closesAt !== null) await deps.scheduleClose?.(tx, { messageId: row.id, at: prepared.closesAt });
        }
        // A forward carries someone else's words from another chat: it mentions nobody here.
        const mentions = input.forwardOf
          ? []
          : await storeMentions(tx, { messageId: row.id, conversationId, kind: membership.conversation.kind, senderId: principal.accountId, text: row.text, now, fresh: true });
        const attached = await attachMedia(tx, { messageId: row.id, mediaIds, senderId: principal.accountId, forwarded: input.forwardOf !== undefined, aiDisclosure: input.aiDisclosure });
        // Searchable from this transaction on (by its sender alone while it is held).
        await indexMessages(tx, [{ id: row.id, conversationId, text: row.text, mediaKinds: attached.summaries.map((m) => m.kind) }]);
        if (attached.pending) {
          // Held back until its media is ready; deliverPending gives it a seq and publishes it
          // then. Until then it exists for its sender alone: no seq, no count, no event.
          return { message: prepared ? await single(tx, row, principal.accountId) : present({ ...toMessage(row, principal.handle, [], attached.summaries, principal.kind, input.agent), mentions }), replayed: false };
        }
        // Its media's spread (spread.ts): the sender's limit per picture, and the hops it inherits.
        const spread = mediaIds.length > 0 ? await shareMedia(tx, { messageId: row.id, conversationId, senderId: principal.accountId, automated: input.automated === true, mediaIds, chainHops: Number(forward.forward_hops), now, policy: deps.spread, confirmed: input.confirmSpread === true }) : null;
        if (spread?.held) {
          // Held for review (its cluster or its sender's shares): pending, for its sender alone, until a moderator decides.
          const heldFields = { spread_cluster: spread.cluster, spread_hops: spread.hops, spread_fast: 1 };
          Object.assign(row, heldFields);
          await tx.updateTable('messages').set(heldFields).where('id', '=', row.id).execute();
          return { message: prepared ? await single(tx, row, principal.accountId) : present({ ...toMessage(row, principal.handle, [], attached.summaries, principal.kind, input.agent), mentions }), replayed: false };
        }
        const seq = outNow ? Number(row.seq) : await nextSeq(tx, conversationId);
        const going = { seq, status: 'sent' as const, held_after: null, written_cursor: null, spread_cluster: spread?.cluster ?? null, spread_hops: spread?.hops ?? null, spread_fast: spread?.fast ? 1 : null };
        Object.assign(row, going);
        if (!outNow) await tx.updateTable('messages').set(going).where('id', '=', row.id).execute();
        await recordLinkShares(tx, { messageId: row.id, conversationId, senderId: principal.accountId, text: row.text, automated: input.automated === true, now });
        // A person's (or bot's) own text message with a link: its preview is made by a job. Not for
        // a business's automated messages (a campaign's link, once per recipient) nor forwards.
        if (deps.enqueuePreview && input.linkPreview !== false && !input.automated && !input.forwardOf && mediaIds.length === 0) {
          await planLinkPreview(tx, { messageId: row.id, conversationId, senderId: principal.accountId, text: row.text, now, enqueue: deps.enqueuePreview });
        }
        // Interactive content is seen per viewer (callback data by the sender only): the event carries everyone's view, the sender gets theirs.
        const message = prepared ? await single(tx, row) : present({ ...toMessage(row, principal.handle, [], attached.summaries, principal.kind, input.agent), mentions });
        await emit({ type: 'message.created', conversationId, seq, data: message, at: now, ...(input.eventTo ? { targetAccountId: input.eventTo } : {}) });
        // Your own message is read by you (one UPDATE: its seq is the newest, above any mark).
        await markOwnMessages(tx, principal.accountId, new Map([[conversationId, seq]]));
        return { message: prepared ? await single(tx, row, principal.accountId) : message, replayed: false };
      };
      // Sends run side by side on PostgreSQL (platform/db concurrentWrite): this path's check-then-write steps take lockScope.
      return within ? body(within.tx, within.emit) : concurrentWrite(() => write(body));
    },

    /**
     * A business's automated text messages into many direct chats at once (a campaign's batch),
     * inside the caller's transaction: the checks `send` makes for each (a current member of a
     * direct chat; no block either way; the idempotency key answers with the message already
     * written) and the same rows and events, in a few statements for the whole batch instead of
     * about fifteen per message. Each chat at most once per call. Messages with media or
     * interactive parts go through `send`.
     */
    async sendMany(
      principal: Principal,
      items: readonly { conversationId: string; text: string; idempotencyKey: string; eventTo: string }[],
      within: { tx: Tx; emit: Emit },
    ): Promise<Map<string, BulkOutcome>> {
      const { tx, emit } = within;
      const out = new Map<string, BulkOutcome>();
      if (principal.kind !== 'business') throw new AppError('forbidden', 'only a business sends automated messages in bulk');
      const ids = items.map((x) => x.conversationId);
      if (new Set(ids).size !== ids.length) throw new Error('sendMany: a conversation appears twice in one batch');
      const now = clock();
      await assertNotSuspended(tx, principal);
      const chats = await directChatsOf(tx, principal.accountId, ids);
      for (const x of items) if (!chats.has(x.conversationId)) out.set(x.conversationId, { ok: false, code: 'not_a_member', message: 'you are not a member of this conversation' });
      const peers = [...new Set([...chats.values()].map((c) => c.peerId))];
      const theyBlocked = await blockersOf(tx, peers, principal.accountId);
      const iBlocked = await blockedBy(tx, principal.accountId, peers);
      for (const [conversationId, { peerId }] of chats) {
        if (theyBlocked.has(peerId)) out.set(conversationId, { ok: false, code: 'forbidden', message: 'this account does not accept messages from you' });
        else if (iBlocked.has(peerId)) out.set(conversationId, { ok: false, code: 'forbidden', message: 'you blocked this account; unblock it to write' });
      }
      const open = items.filter((x) => !out.has(x.conversationId));
      // Already written under its key (a batch retried after a crash): that message is the answer.
      for (let i = 0; i < open.length; i += 250) {
        const part = open.slice(i, i + 250);
        const rows = await tx
          .selectFrom('messages')
          .select(['id', 'conversation_id', 'seq', 'status', 'held_after', 'idempotency_key'])
          .where(
            'conversation_id',
            'in',
            part.map((x) => x.conversationId),
          )
          .where('sender_id', '=', principal.accountId)
          .where(
            'idempotency_key',
            'in',
            part.map((x) => x.idempotencyKey),
          )
          .execute();
        const wanted = new Map(part.map((x) => [`${x.conversationId}\n${x.idempotencyKey}`, x]));
        for (const r of rows) {
          const x = wanted.get(`${r.conversation_id}\n${r.idempotency_key}`);
          if (x) out.set(x.conversationId, { ok: true, message: { id: r.id, seq: positionOf(r) }, replayed: true });
        }
      }
      const fresh = open.filter((x) => !out.has(x.conversationId));
      if (fresh.length === 0) return out;
      const seqs = await nextSeqs(
        tx,
        fresh.map((x) => x.conversationId),
      );
      const rows: MessagesTable[] = fresh.map((x) => ({
        id: newId('msg', now),
        conversation_id: x.conversationId,
        seq: seqs.get(x.conversationId)!,
        sender_id: principal.accountId,
        text: x.text,
        reply_to: null,
        forward_origin_id: null,
        forward_origin_conversation_id: null,
        forward_origin_sender_id: null,
        forward_hops: 0,
        idempotency_key: x.idempotencyKey,
        created_at: now,
        edited_at: null,
        deleted_at: null,
        deleted_reason: null,
        status: 'sent',
        automated: 1,
        agent_id: null,
        held_after: null,
        written_cursor: null,
      }));
      for (let i = 0; i < rows.length; i += 100) await tx.insertInto('messages').values(rows.slice(i, i + 100)).execute();
      await indexMessages(tx, rows.map((r) => ({ id: r.id, conversationId: r.conversation_id, text: r.text })));
      await emitAll(
        emit,
        rows.map((row, i) => ({
          type: 'message.created' as const,
          conversationId: row.conversation_id,
          seq: Number(row.seq),
          data: toMessage(row, principal.handle, [], [], principal.kind),
          at: now,
          targetAccountId: fresh[i]!.eventTo,
        })),
      );
      // Your own message is read by you.
      await markOwnMessages(tx, principal.accountId, new Map(rows.map((r) => [r.conversation_id, Number(r.seq)])));
      for (const row of rows) out.set(row.conversation_id, { ok: true, message: { id: row.id, seq: Number(row.seq) }, replayed: false });
      return out;
    },

    async history(principal: Principal, conversationId: string, options: { after?: number; before?: number; limit: number; type?: MessageContentType }) {
      const ranges = await readableRanges(db.db, await requireMember(db.db, conversationId, principal.accountId));
      if (ranges?.length === 0) return { messages: [], has_more: false };
      // Only sent messages have seqs; they page as before, and no one's held message takes a place.
      let q = db.db
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .where('status', '=', 'sent')
        .where((eb) => notHiddenFor(eb, principal.accountId))
        .limit(options.limit + 1);
      // Groups: only the stretches the caller was there for (and earlier history, if shown).
      if (ranges) q = q.where((eb) => seqIn(eb, ranges));
      // ?type=poll and friends: only messages carrying that kind of interactive content.
      if (options.type) q = q.where('id', 'in', messagesOfType(db.db, conversationId, options.type));
      const ascending = options.after !== undefined;
      if (options.after !== undefined) q = q.where('seq', '>', options.after);
      if (options.before !== undefined) q = q.where('seq', '<', options.before);
      q = q.orderBy('seq', ascending ? 'asc' : 'desc');
      const rows = await q.execute();
      const hasMore = rows.length > options.limit;
      const page = rows.slice(0, options.limit);
      if (!ascending) page.reverse();
      // The caller's own held messages (pending or failed) exist for them alone. One written
      // after seq A shows at position A + 1 (sortKey: just after the sent message A + 1) when that
      // falls inside this page's span; the edge page also takes those after its last message.
      const lo = ascending ? options.after! : hasMore ? Number(page[0]!.seq) : 0;
      const hi = ascending ? (hasMore ? Number(page.at(-1)!.seq) : null) : (options.before ?? null);
      let own = db.db
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .where('sender_id', '=', principal.accountId)
        .where('status', '!=', 'sent')
        .where((eb) => notHiddenFor(eb, principal.accountId))
        .where('held_after', '>=', lo - 1);
      if (hi !== null) own = own.where('held_after', '<', hi - 1);
      if (options.type) own = own.where('id', 'in', messagesOfType(db.db, conversationId, options.type));
      const held = (await own.orderBy('created_at').limit(1000).execute()).filter((r) => inRanges(ranges, positionOf(r)));
      const merged = held.length === 0 ? page : [...page, ...held].sort((a, b) => sortKey(a) - sortKey(b) || Number(a.created_at) - Number(b.created_at));
      return { messages: await loadMessageViews(db.db, merged, { viewerId: principal.accountId, now: clock() }), has_more: hasMore };
    },

    /** The caller's unread mentions in a group, oldest first (the @ jump); none elsewhere. */
    unreadMentions(principal: Principal, conversationId: string, options: { after?: number; limit: number }) {
      return listUnreadMentions(db, principal, conversationId, options);
    },

    async get(principal: Principal, messageId: string): Promise<Message> {
      const row = await loadMessage(db.db, messageId);
      await assertVisible(db.db, await requireMember(db.db, row.conversation_id, principal.accountId), row);
      return single(db.db, row, principal.accountId);
    },

    /**
     * The sender replaces a message's text. `within` runs in the same transaction after the new
     * text is written and before the event is made (another capability's part of one edit: a bot's
     * new keyboard), so readers see the whole edit or none of it.
     */
    async edit(principal: Principal, messageId: string, text: string, options: { within?: (tx: Tx) => Promise<void> } = {}): Promise<Message> {
      return write(async (tx, emit) => {
        const row = await loadMessage(tx, messageId);
        const membership = await requireMember(tx, row.conversation_id, principal.accountId);
        await assertVisible(tx, membership, row);
        // A channel's posts are the channel's (as in Telegram, where admins may edit others' posts): any of its admins edits them.
        const channelAdmin = membership.conversation.kind === 'channel' && isAdmin(membership.member);
        if (row.sender_id !== principal.accountId && !channelAdmin) throw new AppError('forbidden', 'only the sender edits a message');
        // Rights are those of today, not of when the message was sent: a demoted channel admin no
        // longer speaks for the channel, old posts included.
        assertMayPost(membership);
        if (row.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
        assertReleased(row);
        if (row.forward_origin_id) throw new AppError('forbidden', 'a forwarded message cannot be edited');
        // A caption may be emptied (the photo or file stays); a message of text alone keeps some text.
        const stored = text.trim() === '' ? null : text;
        if (stored === null && (await mediaOfMessageIds(tx, [messageId])).length === 0) {
          throw new AppError('validation_failed', 'a message without media needs text', { errors: [{ path: '/text', message: 'empty' }] });
        }
        const now = clock();
        await tx.updateTable('messages').set({ text: stored, edited_at: now }).where('id', '=', messageId).execute();
        // Mentions follow the new words: added, kept or gone (against today's members).
        await storeMentions(tx, { messageId, conversationId: row.conversation_id, kind: membership.conversation.kind, senderId: row.sender_id, text: stored ?? '', now });
        // The old words are no longer found, in the same transaction.
        await reindexText(tx, { id: messageId, conversationId: row.conversation_id, text: stored ?? '' });
        // A preview of a link the text no longer has would mislead: it goes (no new one is made for an edit).
        const preview = await tx.selectFrom('link_previews').select(['url', 'status']).where('message_id', '=', messageId).executeTakeFirst();
        if (preview && (preview.status === 'pending' || preview.status === 'ready') && previewLink(stored ?? '') !== preview.url) {
          await tx.updateTable('link_previews').set({ status: 'none', title: null, description: null, site_name: null, image_media_id: null, updated_at: now }).where('message_id', '=', messageId).execute();
          await detachPreviewImage(tx, messageId);
        }
        await options.within?.(tx);
        const message = await single(tx, { ...row, text: stored, edited_at: now });
        await emit({ type: 'message.edited', conversationId: row.conversation_id, membersJoinedBy: audienceOf(row), data: message, at: now });
        return single(tx, { ...row, text: stored, edited_at: now }, principal.accountId);
      });
    },

    async remove(principal: Principal, messageId: string): Promise<void> {
      await write(async (tx, emit) => {
        const row = await loadMessage(tx, messageId);
        const membership = await requireMember(tx, row.conversation_id, principal.accountId);
        await assertVisible(tx, membership, row);
        const moderating = membership.conversation.kind !== 'direct' && isAdmin(membership.member);
        if (membership.conversation.kind === 'channel' && !moderating) throw new AppError('forbidden', 'only admins delete channel posts');
        if (row.sender_id !== principal.accountId && !moderating) throw new AppError('forbidden', 'only the sender or an admin deletes a message');
        if (row.deleted_at !== null) return;
        await deleteForEveryone(tx, emit, { messageIds: [messageId], actor: principal.accountId, now: clock() });
      });
    },

    /** "Delete for me": the message disappears for the caller alone, on all of their devices. */
    async deleteForMe(principal: Principal, messageId: string): Promise<void> {
      await write(async (tx, emit) => {
        const row = await loadMessage(tx, messageId);
        // Not a member, or a message they cannot see: the same 404, so nothing is confirmed.
        const membership = await requireMember(tx, row.conversation_id, principal.accountId).catch((err: unknown) => {
          throw err instanceof AppError && err.code === 'not_a_member' ? notFound('message') : err;
        });
        // Already gone for me: done (a retry, or my other device was first).
        if ((await hiddenAmong(tx, principal.accountId, [messageId])).size > 0) return;
        await assertVisible(tx, membership, row);
        await hideMessages(tx, emit, { accountId: principal.accountId, conversationId: row.conversation_id, messageIds: [messageId], now: clock() });
      });
    },

    async react(principal: Principal, messageId: string, emoji: string, on: boolean): Promise<Message> {
      return write(async (tx, emit) => {
        const row = await loadMessage(tx, messageId);
        const membership = await requireMember(tx, row.conversation_id, principal.accountId);
        await assertVisible(tx, membership, row);
        if (row.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
        assertReleased(row);
        await assertNotBlocked(tx, membership);
        const now = clock();
        let changed: boolean;
        if (on) {
          const result = await tx
            .insertInto('reactions')
            .values({ message_id: messageId, account_id: principal.accountId, emoji, created_at: now })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst();
          changed = Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
        } else {
          const result = await tx.deleteFrom('reactions').where('message_id', '=', messageId).where('account_id', '=', principal.accountId).where('emoji', '=', emoji).executeTakeFirst();
          changed = Number(result.numDeletedRows) > 0;
        }
        const message = await single(tx, row, principal.accountId);
        if (changed) {
          await emit({
            type: 'reaction.changed',
            conversationId: row.conversation_id,
            membersJoinedBy: audienceOf(row),
            data: { message_id: messageId, account_id: principal.accountId, emoji, action: on ? 'added' : 'removed', reactions: message.reactions },
            at: now,
          });
        }
        return message;
      });
    },

    /**
     * Its sender takes a message's link preview away (or stops one still being made): gone for
     * everyone, its picture off the message; `message.link_preview` with null tells the chat.
     */
    async removeLinkPreview(principal: Principal, messageId: string): Promise<void> {
      await write(async (tx, emit) => {
        const row = await loadMessage(tx, messageId);
        const membership = await requireMember(tx, row.conversation_id, principal.accountId).catch((err: unknown) => {
          throw err instanceof AppError && err.code === 'not_a_member' ? notFound('message') : err;
        });
        await assertVisible(tx, membership, row);
        if (row.sender_id !== principal.accountId) throw new AppError('forbidden', 'only the sender removes a link preview');
        const preview = await tx.selectFrom('link_previews').select('status').where('message_id', '=', messageId).executeTakeFirst();
        if (!preview || preview.status === 'none') throw notFound('link preview');
        if (preview.status === 'removed') return;
        const now = clock();
        await tx.updateTable('link_previews').set({ status: 'removed', title: null, description: null, site_name: null, image_media_id: null, updated_at: now }).where('message_id', '=', messageId).execute();
        await detachPreviewImage(tx, messageId);
        if (preview.status === 'ready') {
          await emit({ type: 'message.link_preview', conversationId: row.conversation_id, membersJoinedBy: audienceOf(row), data: { message_id: messageId, link_preview: null }, at: now });
        }
      });
    },

    /**
     * Who reacted with each emoji. Members who can read the message may ask, except in channels:
     * a channel never tells its subscribers who else follows it, so there only admins may.
     */
    async reactionDetails(principal: Principal, messageId: string): Promise<ReactionDetails> {
      const row = await loadMessage(db.db, messageId);
      const membership = await requireMember(db.db, row.conversation_id, principal.accountId).catch((err: unknown) => {
        throw err instanceof AppError && err.code === 'not_a_member' ? notFound('message') : err;
      });
      await assertVisible(db.db, membership, row);
      if (membership.conversation.kind === 'channel' && !isAdmin(membership.member)) throw new AppError('forbidden', "only a channel's admins see who reacted");
      if (row.deleted_at !== null) return { message_id: row.id, reactions: [] };
      const counts = await db.db
        .selectFrom('reactions')
        .select(['emoji', (eb) => eb.fn.countAll<number>().as('count')])
        .where('message_id', '=', messageId)
        .groupBy('emoji')
        .orderBy('emoji')
        .execute();
      const reactions: ReactionDetails['reactions'] = [];
      for (const c of counts) {
        const who = await db.db
          .selectFrom('reactions')
          .innerJoin('accounts', 'accounts.id', 'reactions.account_id')
          .select(['accounts.id', 'accounts.handle', 'reactions.created_at'])
          .where('reactions.message_id', '=', messageId)
          .where('reactions.emoji', '=', c.emoji)
          .orderBy('reactions.created_at', 'desc')
          .limit(100)
          .execute();
        reactions.push({ emoji: c.emoji, count: Number(c.count), accounts: who.map((w) => ({ account_id: w.id, handle: w.handle, reacted_at: Number(w.created_at) })) });
      }
      return { message_id: row.id, reactions };
    },

    /** A subscriber saw these channel posts (scrolled past, opened): each counts once; the posts' counts now. */
    async viewPosts(principal: Principal, conversationId: string, seqs: number[]) {
      return write(async (tx) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        if (membership.conversation.kind !== 'channel') throw new AppError('validation_failed', 'views are counted on channel posts only');
        const ranges = await readableRanges(tx, membership);
        return { views: await countViews(tx, { conversationId, accountId: principal.accountId, seqs: seqs.filter((s) => inRanges(ranges, s)) }) };
      });
    },

    async markRead(principal: Principal, conversationId: string, upToSeq: number) {
      return write(async (tx, emit) => {
        const { conversation, member } = await requireMember(tx, conversationId, principal.accountId);
        const seq = Math.min(upToSeq, conversation.last_seq);
        // Reading up to a post is seeing it: each subscriber counts once per post (post-views.ts).
        if (conversation.kind === 'channel' && seq > member.read_seq) await countViews(tx, { conversationId, accountId: principal.accountId, after: member.read_seq, upTo: seq });
        await advanceWatermarks(tx, emit, { conversationId, accountId: principal.accountId, delivered: seq, read: seq, kind: conversation.kind, memberCount: conversation.member_count, directKey: conversation.direct_key });
        return { read_seq: seq };
      });
    },

    /**
     * Devices say they hold every event up to their cursors: the messages among them are
     * delivered. Several accounts' acknowledgements in one transaction (one fsync; sync/acks.ts
     * batches them): a channel post to 10,000 online subscribers brings 10,000 acks, which one
     * by one took seconds (bench:messaging). Only memberships with undelivered messages are
     * touched. Where receipts are live (direct chats, small groups) each member's marks move
     * one by one, since each move may bring events; elsewhere (channels, large groups) no event
     * is due, and the members who reached the same message move together, a statement per few
     * hundred (raiseDeliveredMany).
     */
    async acknowledgeMany(acks: { accountId: string; cursor: number }[]) {
      const cursorOf = new Map<string, number>();
      for (const { accountId, cursor } of acks) cursorOf.set(accountId, Math.max(cursor, cursorOf.get(accountId) ?? 0));
      const accountIds = [...cursorOf.keys()];
      const behind: { account_id: string; conversation_id: string; kind: string; member_count: number; direct_key: string | null }[] = [];
      for (let i = 0; i < accountIds.length; i += ACKS_PER_STATEMENT) {
        const rows = await db.db
          .selectFrom('members')
          .innerJoin('conversations', 'conversations.id', 'members.conversation_id')
          .select(['members.account_id', 'members.conversation_id', 'conversations.kind', 'conversations.member_count', 'conversations.direct_key'])
          .where('members.account_id', 'in', accountIds.slice(i, i + ACKS_PER_STATEMENT))
          .where('members.left_cursor', 'is', null)
          .whereRef('members.delivered_seq', '<', 'conversations.last_seq')
          .execute();
        for (const r of rows) behind.push(r);
      }
      if (behind.length === 0) return;
      await write(async (tx, emit) => {
        // Subscribers acknowledging one post mostly hold the same cursor: one lookup serves them all.
        const newest = new Map<string, number>();
        const together = new Map<string, { conversationId: string; seq: number; accountIds: string[] }>();
        for (const m of behind) {
          const cursor = cursorOf.get(m.account_id)!;
          const key = `${m.conversation_id} ${cursor}`;
          let seq = newest.get(key);
          if (seq === undefined) {
            const [row] = (await newestMessageUpTo(tx, { conversationId: m.conversation_id, cursor })).rows;
            seq = Number(row?.seq ?? 0);
            newest.set(key, seq);
          }
          if (seq <= 0) continue;
          if (receiptsLive(m.kind, Number(m.member_count))) {
            await advanceWatermarks(tx, emit, { conversationId: m.conversation_id, accountId: m.account_id, delivered: seq, read: 0, kind: m.kind, memberCount: Number(m.member_count), directKey: m.direct_key });
            continue;
          }
          const group = `${m.conversation_id} ${seq}`;
          const g = together.get(group);
          if (g) g.accountIds.push(m.account_id);
          else together.set(group, { conversationId: m.conversation_id, seq, accountIds: [m.account_id] });
        }
        for (const g of together.values()) await raiseDeliveredMany(tx, g);
      });
    },

    async receipts(principal: Principal, messageId: string): Promise<Receipts> {
      const row = await loadMessage(db.db, messageId);
      const membership = await requireMember(db.db, row.conversation_id, principal.accountId);
      const { conversation, member } = membership;
      await assertVisible(db.db, membership, row);
      if (row.sender_id !== principal.accountId && !isAdmin(member)) throw new AppError('forbidden', 'only the sender sees who received a message');
      const seq = Number(row.seq);
      const base = db.db
        .selectFrom('members')
        .where('conversation_id', '=', row.conversation_id)
        .where('left_cursor', 'is', null)
        .where('account_id', '!=', row.sender_id)
        // Only those who can read it received it (a newcomer to a group hiding its history did not).
        .where((eb) => readersOfSeq(eb, conversation, seq));
      // A held message (its sender asking) has no seq yet: nobody has it.
      const held = row.status !== 'sent';
      const count = async (column?: 'delivered_seq' | 'read_seq') => {
        if (column && held) return 0;
        const q = column ? base.where(column, '>=', seq) : base;
        const r = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        return Number(r.n);
      };
      // A direct chat where either person has read receipts off shows delivered, never read (groups always count reads).
      const peer = conversation.kind === 'direct' ? conversation.direct_key?.split(':').find((id) => id !== row.sender_id) : undefined;
      const readsShown = !peer || (await readsShownBetween(db.db, row.sender_id, peer));
      const result: Receipts = { message_id: row.id, recipients: await count(), delivered: await count('delivered_seq'), read: readsShown ? await count('read_seq') : 0 };
      if (conversation.kind === 'direct' || conversation.member_count <= LIVE_RECEIPTS_MAX_MEMBERS) {
        const rows = await base.innerJoin('accounts', 'accounts.id', 'members.account_id').select(['accounts.id', 'accounts.handle', 'members.delivered_seq', 'members.read_seq']).execute();
        result.per_recipient = rows.map((r) => ({
          account_id: r.id,
          handle: r.handle,
          status: held ? 'sent' : readsShown && Number(r.read_seq) >= seq ? 'read' : Number(r.delivered_seq) >= seq ? 'delivered' : 'sent',
        }));
      }
      return result;
    },
  };
  return api;
}

export type Messaging = ReturnType<typeof createMessaging>;
