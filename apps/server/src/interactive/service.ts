/**
 * Interactions with interactive messages: taps on buttons, list picks, poll votes, form
 * submissions; callback queries and their answers; closing; who voted; form results.
 *
 * A vote writes the voter's rows and a poll's per-option counters, nothing more. Everyone's live
 * view follows through `poll.updated`: small (the counts, not the message) and coalesced — the
 * first vote on a quiet poll starts a window (`coalesceMs`), and when it ends one event carries
 * the counts as they are then, however many votes came in between. A burst of 5,000 votes in a
 * 10,000-subscriber channel thus costs 5,000 small writes and a handful of events, not 5,000
 * fan-outs. Each API process coalesces its own votes: a cluster of N sends at most N events per
 * poll per window.
 *
 * A callback tap waits (up to `callbackWaitMs`, 15 s) for the bot's answer. The answer is a
 * `callback.answered` event to the person who tapped; the waiting request hears it on the event
 * bus the sync hub uses, so the bot may answer through any process of a cluster. The query row
 * is also re-read every second in case a publish was lost.
 */
import type { AnswerCallbackBody, ButtonInput, CallbackAnswer, Form, FormAnswers, FormResults, InteractionBody, InteractionReply, Message, Poll, PollVoters } from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import { handlesOf } from '../accounts/index.ts';
import { membersAmong } from '../conversations/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { type Messaging, audienceOf, findMessage } from '../messaging/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { EventBus } from '../platform/pubsub/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { type StoredContent, buttonsById, checkAnswers, httpsHost, prepareInteractive } from './content.ts';
import type { InteractiveContentsTable } from './schema.ts';
import { storeInteractive } from './store.ts';
import { formView, isClosed, parseContent, pollView, tallies, votesOf } from './views.ts';

export interface InteractiveDeps {
  db: Database;
  clock: () => number;
  write: WriteWithEvents;
  bus: EventBus;
  messaging: Messaging;
  /** How long a callback tap waits for the bot's answer (and how long a query may be answered). */
  callbackWaitMs?: number;
  /** The window over which a poll's votes become one `poll.updated` event. */
  coalesceMs?: number;
  /** Callback taps one account may have waiting at once, per process. */
  maxWaitingPerAccount?: number;
  log?: { warn(obj: object, msg: string): void };
}

export const CALLBACK_WAIT_MS = 15_000;
export const POLL_COALESCE_MS = 250;

type Reader = Database['db'] | Tx;
const from = (p: Principal) => ({ id: p.accountId, handle: p.handle });

export function createInteractive(deps: InteractiveDeps) {
  const { db, clock, write, bus, messaging } = deps;

  /** Writes a message's new buttons (none: removes them) in `tx`; false when there was nothing to change. */
  async function applyButtons(tx: Tx, message: { id: string; conversation_id: string; sender_id: string }, prepared: ReturnType<typeof prepareInteractive> | null): Promise<boolean> {
    const messageId = message.id;
    const now = clock();
    const row = await contentRow(tx, messageId);
    const content: StoredContent = row ? parseContent(row) : {};
    if (content.list && prepared) throw new AppError('validation_failed', 'a list message has no buttons of its own', { errors: [{ path: '/buttons', message: 'not with a list' }] });
    if (prepared?.content.buttons) {
      const taken = new Set((content.cards ?? []).flatMap((c) => c.buttons.map((b) => b.id)));
      const clash = prepared.content.buttons.flat().find((b) => taken.has(b.id));
      if (clash) throw new AppError('validation_failed', `button id ${clash.id} is taken by a card`, { errors: [{ path: '/buttons', message: 'id taken' }] });
      content.buttons = prepared.content.buttons;
    } else delete content.buttons;
    const hasButtons = content.buttons !== undefined || (content.cards ?? []).some((c) => c.buttons.length > 0);
    if (row) {
      const type = row.type === 'buttons' || row.type === 'quick_replies' ? (content.buttons ? 'buttons' : 'quick_replies') : row.type;
      if (type === 'quick_replies' && !content.quick_replies) {
        await tx.deleteFrom('interactive_contents').where('message_id', '=', messageId).execute();
      } else {
        await tx
          .updateTable('interactive_contents')
          .set({ content: JSON.stringify(content), type, has_buttons: hasButtons ? 1 : 0, updated_at: now })
          .where('message_id', '=', messageId)
          .execute();
      }
      return true;
    }
    if (!prepared) return false;
    await storeInteractive(tx, { messageId, conversationId: message.conversation_id, senderId: message.sender_id, prepared, now });
    return true;
  }
  const waitMs = deps.callbackWaitMs ?? CALLBACK_WAIT_MS;
  const coalesceMs = deps.coalesceMs ?? POLL_COALESCE_MS;
  const maxWaiting = deps.maxWaitingPerAccount ?? 10;
  const waiters = new Map<string, (answer: CallbackAnswer | null) => void>();
  const waitingByAccount = new Map<string, number>();
  const scheduled = new Map<string, NodeJS.Timeout>();
  let stopped = false;

  const unsubscribe = bus.subscribe((events) => {
    if (waiters.size === 0) return;
    for (const e of events) {
      if (e.type !== 'callback.answered') continue;
      const d = JSON.parse(e.payload) as { id: string; text: string; alert: boolean; url?: string };
      waiters.get(d.id)?.(answerOf(d));
    }
  });

  function answerOf(d: { text: string; alert: boolean; url?: string }): CallbackAnswer {
    return { text: d.text, alert: d.alert, ...(d.url ? { url: d.url } : {}) };
  }

  async function contentRow(executor: Reader, messageId: string): Promise<InteractiveContentsTable | undefined> {
    return executor.selectFrom('interactive_contents').selectAll().where('message_id', '=', messageId).executeTakeFirst();
  }

  /**
   * Locks the content row for this transaction (PostgreSQL: a row lock, so one poll's votes queue
   * behind each other; SQLite has one writer anyway) and returns it as it now is.
   */
  async function lockContent(tx: Tx, messageId: string, now: number): Promise<InteractiveContentsTable> {
    await tx.updateTable('interactive_contents').set({ updated_at: now }).where('message_id', '=', messageId).execute();
    const row = await contentRow(tx, messageId);
    if (!row) throw notFound('message');
    return row;
  }

  /** The message and its content, for someone who may see it; everyone else gets 404 (no oracle). */
  async function target(principal: Principal, messageId: string) {
    const message = await messaging.readable(principal, messageId);
    const row = await contentRow(db.db, messageId);
    return { message, row, content: row ? parseContent(row) : null };
  }

  /**
   * Taps, votes, picks and answers are told to the message's sender only while the sender is a
   * member: one who left or was removed hears nothing more of the conversation (events addressed
   * to one account reach it whatever its memberships).
   */
  async function senderPresent(executor: Reader, message: { conversation_id: string; sender_id: string }): Promise<boolean> {
    return (await membersAmong(executor, message.conversation_id, [message.sender_id])).has(message.sender_id);
  }

  /** Interactions need a delivered, undeleted message. */
  function assertActionable(message: { deleted_at: number | null; status: string }) {
    if (message.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
    if (message.status !== 'sent') throw new AppError('conflict', 'this message is not delivered yet');
  }

  async function pollFor(executor: Reader, row: InteractiveContentsTable, viewerId: string, now: number): Promise<Poll> {
    const poll = parseContent(row).poll!;
    const counts = (await tallies(executor, [row.message_id])).get(row.message_id) ?? [];
    const mine = (await votesOf(executor, [row.message_id], viewerId)).get(row.message_id) ?? [];
    return pollView({ poll, row, counts, myVotes: mine, viewerId, now });
  }

  async function formFor(executor: Reader, row: InteractiveContentsTable, viewerId: string, now: number): Promise<Form> {
    const sub = await executor
      .selectFrom('form_submissions')
      .select('answers')
      .where('message_id', '=', row.message_id)
      .where('account_id', '=', viewerId)
      .executeTakeFirst();
    return formView({ form: parseContent(row).form!, row, myAnswers: sub ? (JSON.parse(sub.answers) as FormAnswers) : null, now });
  }

  /** Emits the current counts of a poll (or a form's submissions), in its own transaction. */
  async function announce(messageId: string) {
    await write(async (tx, emit) => {
      const row = await contentRow(tx, messageId);
      if (!row) return;
      // A held poll (its media pending or under review) is its sender's alone: nobody hears of it
      // closing. A released one is heard by whom its message reached (see messaging's audienceOf).
      const message = await findMessage(tx, messageId);
      if (message?.status !== 'sent') return;
      const membersJoinedBy = audienceOf(message);
      const now = clock();
      const closed = isClosed(row, now);
      if (row.type === 'poll') {
        const counts = (await tallies(tx, [messageId])).get(messageId) ?? [];
        const n = parseContent(row).poll?.options.length ?? counts.length;
        await emit({
          type: 'poll.updated',
          conversationId: row.conversation_id,
          membersJoinedBy,
          data: { message_id: messageId, conversation_id: row.conversation_id, counts: Array.from({ length: n }, (_, i) => counts[i] ?? 0), voters: Number(row.responders), closed },
          at: now,
        });
      } else if (row.type === 'form') {
        await emit({
          type: 'form.updated',
          conversationId: row.conversation_id,
          membersJoinedBy,
          data: { message_id: messageId, conversation_id: row.conversation_id, submissions: Number(row.responders), closed },
          at: now,
        });
      }
    });
  }

  /** At most one update per poll per window, carrying the counts as they are when it ends. */
  function touch(messageId: string) {
    if (stopped || scheduled.has(messageId)) return;
    const timer = setTimeout(() => {
      scheduled.delete(messageId);
      announce(messageId).catch((err) => deps.log?.warn({ err, messageId }, 'could not announce poll counts'));
    }, coalesceMs);
    timer.unref?.();
    scheduled.set(messageId, timer);
  }

  async function waitForAnswer(queryId: string, deadline: number): Promise<CallbackAnswer | null> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (answer: CallbackAnswer | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(poller);
        waiters.delete(queryId);
        resolve(answer);
      };
      waiters.set(queryId, finish);
      const timer = setTimeout(() => finish(null), waitMs);
      // A publish lost between processes: the answer is in the database all the same.
      const poller = setInterval(() => {
        // The deadline is on the service's clock too (answers are refused after it).
        if (clock() >= deadline) return finish(null);
        db.db
          .selectFrom('callback_queries')
          .select('answer')
          .where('id', '=', queryId)
          .executeTakeFirst()
          .then((r) => {
            if (r?.answer) finish(answerOf(JSON.parse(r.answer) as CallbackAnswer));
          })
          .catch(() => {});
      }, 1000);
      timer.unref?.();
      poller.unref?.();
    });
  }

  async function callback(principal: Principal, message: { id: string; conversation_id: string; sender_id: string }, button: { id: string; data?: string }): Promise<InteractionReply> {
    const waiting = waitingByAccount.get(principal.accountId) ?? 0;
    if (waiting >= maxWaiting) throw new AppError('rate_limited', `at most ${maxWaiting} button taps may wait for an answer at once`);
    // Nobody is left to answer: the tap gets no answer, and the departed sender hears nothing.
    if (!(await senderPresent(db.db, message))) return { answer: null };
    const id = newId('cbq');
    const now = clock();
    await write(async (tx, emit) => {
      await tx
        .insertInto('callback_queries')
        .values({
          id,
          message_id: message.id,
          conversation_id: message.conversation_id,
          bot_id: message.sender_id,
          from_id: principal.accountId,
          button_id: button.id,
          data: button.data ?? '',
          created_at: now,
          answered_at: null,
          answer: null,
        })
        .execute();
      await emit({
        type: 'callback.query',
        conversationId: message.conversation_id,
        targetAccountId: message.sender_id,
        data: { id, message_id: message.id, conversation_id: message.conversation_id, from: from(principal), button_id: button.id, data: button.data ?? '' },
        at: now,
      });
    });
    waitingByAccount.set(principal.accountId, waiting + 1);
    try {
      return { answer: await waitForAnswer(id, now + waitMs) };
    } finally {
      const left = (waitingByAccount.get(principal.accountId) ?? 1) - 1;
      if (left <= 0) waitingByAccount.delete(principal.accountId);
      else waitingByAccount.set(principal.accountId, left);
    }
  }

  async function vote(principal: Principal, messageId: string, poll: NonNullable<StoredContent['poll']>, options: number[]): Promise<InteractionReply> {
    const chosen = [...new Set(options)].sort((a, b) => a - b);
    if (chosen.length !== options.length) throw new AppError('validation_failed', 'an option appears twice', { errors: [{ path: '/options', message: 'distinct indexes' }] });
    if (chosen.some((i) => i >= poll.options.length)) {
      throw new AppError('validation_failed', `options are indexes 0–${poll.options.length - 1}`, { errors: [{ path: '/options', message: 'no such option' }] });
    }
    if (!poll.multiple && chosen.length > 1) throw new AppError('validation_failed', 'this poll takes one answer', { errors: [{ path: '/options', message: 'one option at most' }] });
    const result = await write(async (tx, emit) => {
      const now = clock();
      const row = await lockContent(tx, messageId, now);
      if (isClosed(row, now)) throw new AppError('poll_closed', 'this poll is closed');
      const previous = (await votesOf(tx, [messageId], principal.accountId)).get(messageId) ?? [];
      if (poll.quiz && previous.length > 0) throw new AppError('conflict', 'a quiz answer is final');
      const removed = previous.filter((i) => !chosen.includes(i));
      const added = chosen.filter((i) => !previous.includes(i));
      if (removed.length > 0) {
        await tx.deleteFrom('poll_votes').where('message_id', '=', messageId).where('account_id', '=', principal.accountId).where('option_index', 'in', removed).execute();
        await tx
          .updateTable('poll_tallies')
          .set((eb) => ({ votes: eb('votes', '-', 1) }))
          .where('message_id', '=', messageId)
          .where('option_index', 'in', removed)
          .execute();
      }
      if (added.length > 0) {
        await tx
          .insertInto('poll_votes')
          .values(added.map((option_index) => ({ message_id: messageId, account_id: principal.accountId, option_index, voted_at: now })))
          .execute();
        await tx
          .updateTable('poll_tallies')
          .set((eb) => ({ votes: eb('votes', '+', 1) }))
          .where('message_id', '=', messageId)
          .where('option_index', 'in', added)
          .execute();
      }
      const delta = previous.length === 0 && chosen.length > 0 ? 1 : previous.length > 0 && chosen.length === 0 ? -1 : 0;
      if (delta !== 0) {
        await tx
          .updateTable('interactive_contents')
          .set((eb) => ({ responders: eb('responders', '+', delta) }))
          .where('message_id', '=', messageId)
          .execute();
      }
      const changed = removed.length > 0 || added.length > 0;
      if (changed && !poll.anonymous && (await senderPresent(tx, row))) {
        await emit({
          type: 'poll.answer',
          conversationId: row.conversation_id,
          targetAccountId: row.sender_id,
          data: { message_id: messageId, conversation_id: row.conversation_id, from: from(principal), options: chosen },
          at: now,
        });
      }
      const fresh = (await contentRow(tx, messageId))!;
      return { changed, poll: await pollFor(tx, fresh, principal.accountId, now) };
    });
    if (result.changed) touch(messageId);
    return { answer: null, poll: result.poll };
  }

  async function submit(principal: Principal, messageId: string, form: NonNullable<StoredContent['form']>, answers: Record<string, unknown>): Promise<InteractionReply> {
    const checked = checkAnswers(form, answers);
    const reply = await write(async (tx, emit) => {
      const now = clock();
      const row = await lockContent(tx, messageId, now);
      if (isClosed(row, now)) throw new AppError('form_closed', 'this form is closed');
      const existing = await tx
        .selectFrom('form_submissions')
        .select('account_id')
        .where('message_id', '=', messageId)
        .where('account_id', '=', principal.accountId)
        .executeTakeFirst();
      if (existing) {
        await tx
          .updateTable('form_submissions')
          .set({ answers: JSON.stringify(checked), edited_at: now })
          .where('message_id', '=', messageId)
          .where('account_id', '=', principal.accountId)
          .execute();
      } else {
        await tx
          .insertInto('form_submissions')
          .values({ message_id: messageId, account_id: principal.accountId, answers: JSON.stringify(checked), submitted_at: now, edited_at: null })
          .execute();
        await tx
          .updateTable('interactive_contents')
          .set((eb) => ({ responders: eb('responders', '+', 1) }))
          .where('message_id', '=', messageId)
          .execute();
      }
      if (await senderPresent(tx, row)) {
        await emit({
          type: 'form.submitted',
          conversationId: row.conversation_id,
          targetAccountId: row.sender_id,
          data: { message_id: messageId, conversation_id: row.conversation_id, from: from(principal), answers: checked, edited: existing !== undefined },
          at: now,
        });
      }
      return { answer: null, form: await formFor(tx, (await contentRow(tx, messageId))!, principal.accountId, now) };
    });
    touch(messageId);
    return reply;
  }

  async function sendOnBehalf(principal: Principal, message: { id: string; conversation_id: string }, text: string): Promise<Message> {
    const { message: sent } = await messaging.send(principal, message.conversation_id, { text, replyTo: message.id });
    return sent;
  }

  return {
    /** POST /v1/messages/{id}/interactions. */
    async interact(principal: Principal, messageId: string, body: InteractionBody): Promise<InteractionReply> {
      const { message, content } = await target(principal, messageId);
      assertActionable(message);
      switch (body.kind) {
        case 'button': {
          if (body.id === undefined) throw new AppError('validation_failed', 'a button tap names the button', { errors: [{ path: '/id', message: 'required' }] });
          const button = content ? buttonsById(content).get(body.id) : undefined;
          if (!button) throw notFound('button');
          switch (button.type) {
            case 'callback':
              return callback(principal, message, button);
            case 'reply':
              return { answer: null, message: await sendOnBehalf(principal, message, button.text) };
            case 'url':
            case 'copy':
              // Opened or copied by the client; nothing for the server to do.
              return { answer: null };
          }
          break;
        }
        case 'list': {
          if (body.row_id === undefined) throw new AppError('validation_failed', 'a list pick names the row', { errors: [{ path: '/row_id', message: 'required' }] });
          const row = content?.list?.sections.flatMap((s) => s.rows).find((r) => r.id === body.row_id);
          if (!row) throw notFound('list row');
          const sent = await sendOnBehalf(principal, message, row.title);
          await write(async (tx, emit) => {
            if (!(await senderPresent(tx, message))) return;
            await emit({
              type: 'list.selected',
              conversationId: message.conversation_id,
              targetAccountId: message.sender_id,
              data: { message_id: message.id, conversation_id: message.conversation_id, from: from(principal), row_id: row.id, title: row.title },
              at: clock(),
            });
          });
          return { answer: null, message: sent };
        }
        case 'poll': {
          if (!content?.poll) throw notFound('poll');
          if (body.options === undefined) throw new AppError('validation_failed', 'a vote names its options ([] retracts)', { errors: [{ path: '/options', message: 'required' }] });
          return vote(principal, messageId, content.poll, body.options);
        }
        case 'form': {
          if (!content?.form) throw notFound('form');
          if (body.answers === undefined) throw new AppError('validation_failed', 'a submission carries answers', { errors: [{ path: '/answers', message: 'required' }] });
          return submit(principal, messageId, content.form, body.answers);
        }
      }
      throw notFound('interaction');
    },

    /** POST /v1/callbacks/{id}/answer: the bot that sent the message answers, once, while the person waits. */
    async answerCallback(principal: Principal, queryId: string, body: AnswerCallbackBody): Promise<void> {
      if (body.url !== undefined && httpsHost(body.url) === null) {
        throw new AppError('validation_failed', 'url must be https', { errors: [{ path: '/url', message: 'https only' }] });
      }
      await write(async (tx, emit) => {
        const q = await tx.selectFrom('callback_queries').selectAll().where('id', '=', queryId).executeTakeFirst();
        // Another account's query is as good as absent.
        if (!q || q.bot_id !== principal.accountId) throw notFound('callback query');
        if (q.answered_at !== null) throw new AppError('callback_answered', 'this callback query was answered already');
        const now = clock();
        if (now > Number(q.created_at) + waitMs) throw new AppError('callback_expired', `callback queries are answered within ${Math.round(waitMs / 1000)} s`);
        const answer = { text: body.text ?? '', alert: body.alert ?? false, ...(body.url ? { url: body.url } : {}) };
        const updated = await tx
          .updateTable('callback_queries')
          .set({ answered_at: now, answer: JSON.stringify(answer) })
          .where('id', '=', queryId)
          .where('answered_at', 'is', null)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) throw new AppError('callback_answered', 'this callback query was answered already');
        await emit({
          type: 'callback.answered',
          conversationId: q.conversation_id,
          targetAccountId: q.from_id,
          data: { id: q.id, message_id: q.message_id, conversation_id: q.conversation_id, ...answer },
          at: now,
        });
      });
    },

    /**
     * PUT /v1/messages/{id}/buttons: the sender replaces (null: removes) a message's buttons — a
     * bot updating its keyboard after a tap (Telegram's editMessageReplyMarkup). Everyone gets
     * `message.edited` with the message as it now is. With `text`, the new text and the new
     * keyboard are one write and one event (Telegram's editMessageText with a reply_markup, or
     * without one, which takes the keyboard away): no reader sees the new text with the old keys.
     */
    async editButtons(principal: Principal, messageId: string, buttons: ButtonInput[][] | null, options: { text?: string } = {}): Promise<Message> {
      const message = await messaging.readable(principal, messageId);
      if (message.sender_id !== principal.accountId) throw new AppError('forbidden', 'only the sender changes a message’s buttons');
      assertActionable(message);
      const prepared = buttons && buttons.length > 0 ? prepareInteractive({ buttons }, { kind: principal.kind, now: clock() }) : null;
      if (options.text !== undefined) {
        return messaging.edit(principal, messageId, options.text, { within: async (tx) => void (await applyButtons(tx, message, prepared)) });
      }
      await write(async (tx, emit) => {
        if (!(await applyButtons(tx, message, prepared))) return;
        await emit({ type: 'message.edited', conversationId: message.conversation_id, membersJoinedBy: audienceOf(message), data: await messaging.view(tx, messageId), at: clock() });
      });
      return messaging.view(db.db, messageId, principal.accountId);
    },

    /** POST /v1/messages/{id}/close: the sender closes a poll or form; everyone hears at once. */
    async close(principal: Principal, messageId: string): Promise<InteractionReply> {
      const { message, row } = await target(principal, messageId);
      assertActionable(message);
      if (!row || (row.type !== 'poll' && row.type !== 'form')) throw notFound('poll or form');
      if (message.sender_id !== principal.accountId) throw new AppError('forbidden', 'only the sender closes a poll or form');
      const now = clock();
      const changed = await write(async (tx) => {
        const r = await tx.updateTable('interactive_contents').set({ closed_at: now, updated_at: now }).where('message_id', '=', messageId).where('closed_at', 'is', null).executeTakeFirst();
        return Number(r.numUpdatedRows) > 0;
      });
      if (changed) {
        clearTimeout(scheduled.get(messageId));
        scheduled.delete(messageId);
        await announce(messageId);
      }
      const fresh = (await contentRow(db.db, messageId))!;
      return row.type === 'poll'
        ? { answer: null, poll: await pollFor(db.db, fresh, principal.accountId, now) }
        : { answer: null, form: await formFor(db.db, fresh, principal.accountId, now) };
    },

    /** A poll or form whose closes_at has passed is marked closed and announced (the `interactive-close` job). */
    async closeDue(messageId: string): Promise<void> {
      const now = clock();
      const changed = await write(async (tx) => {
        const r = await tx
          .updateTable('interactive_contents')
          .set((eb) => ({ closed_at: eb.ref('closes_at'), updated_at: now }))
          .where('message_id', '=', messageId)
          .where('closed_at', 'is', null)
          .where('closes_at', '<=', now)
          .executeTakeFirst();
        return Number(r.numUpdatedRows) > 0;
      });
      if (changed) await announce(messageId);
    },

    /** GET /v1/messages/{id}/poll/voters: who chose one option of a public poll, oldest first. */
    async voters(principal: Principal, messageId: string, options: { option: number; after?: string; limit: number }): Promise<PollVoters> {
      const { content } = await target(principal, messageId);
      const poll = content?.poll;
      if (!poll) throw notFound('poll');
      if (poll.anonymous) throw new AppError('forbidden', 'this poll is anonymous: who voted is not shown');
      if (options.option >= poll.options.length) throw new AppError('validation_failed', `options are indexes 0–${poll.options.length - 1}`, { errors: [{ path: '/option', message: 'no such option' }] });
      let q = db.db
        .selectFrom('poll_votes')
        .select(['account_id', 'voted_at'])
        .where('message_id', '=', messageId)
        .where('option_index', '=', options.option)
        .orderBy('voted_at')
        .orderBy('account_id')
        .limit(options.limit + 1);
      if (options.after) {
        const [at, account] = options.after.split('.', 2);
        const votedAt = Number(at);
        if (!Number.isSafeInteger(votedAt) || !account) throw new AppError('validation_failed', 'after is the `next` of a previous page', { errors: [{ path: '/after', message: 'not a page cursor' }] });
        q = q.where((eb) => eb.or([eb('voted_at', '>', votedAt), eb.and([eb('voted_at', '=', votedAt), eb('account_id', '>', account)])]));
      }
      const rows = await q.execute();
      const page = rows.slice(0, options.limit);
      const handles = await handlesOf(
        db.db,
        page.map((r) => r.account_id),
      );
      const last = page.at(-1);
      return {
        voters: page.map((r) => ({ account_id: r.account_id, handle: handles.get(r.account_id) ?? 'deleted', voted_at: Number(r.voted_at) })),
        next: rows.length > options.limit && last ? `${Number(last.voted_at)}.${last.account_id}` : null,
      };
    },

    /** GET /v1/messages/{id}/form/results: for the form's sender. */
    async formResults(principal: Principal, messageId: string): Promise<FormResults> {
      const { message, row, content } = await target(principal, messageId);
      const form = content?.form;
      if (!row || !form) throw notFound('form');
      if (message.sender_id !== principal.accountId) throw new AppError('forbidden', 'only the sender reads a form’s results');
      const subs = await db.db.selectFrom('form_submissions').selectAll().where('message_id', '=', messageId).orderBy('submitted_at').orderBy('account_id').execute();
      const handles = await handlesOf(
        db.db,
        subs.map((s) => s.account_id),
      );
      const responses = subs.map((s) => ({
        account_id: s.account_id,
        handle: handles.get(s.account_id) ?? 'deleted',
        submitted_at: Number(s.submitted_at),
        edited_at: s.edited_at === null ? null : Number(s.edited_at),
        answers: JSON.parse(s.answers) as FormAnswers,
      }));
      const questions = form.questions.map((q) => {
        const values = responses.map((r) => r.answers[q.id]).filter((v) => v !== undefined);
        let counts: number[] | null = null;
        let average: number | null = null;
        let nps: number | null = null;
        if (q.type === 'single' || q.type === 'multiple') {
          counts = (q.options ?? []).map(() => 0);
          for (const v of values) for (const i of Array.isArray(v) ? v : [v as number]) counts[i] = (counts[i] ?? 0) + 1;
        } else if (q.type === 'rating' || q.type === 'nps') {
          const lowest = q.type === 'rating' ? 1 : 0;
          counts = Array.from({ length: q.type === 'rating' ? 5 : 11 }, () => 0);
          for (const v of values as number[]) counts[v - lowest]! += 1;
          if (values.length > 0) average = Math.round(((values as number[]).reduce((a, b) => a + b, 0) / values.length) * 100) / 100;
          if (q.type === 'nps' && values.length > 0) {
            const promoters = (values as number[]).filter((v) => v >= 9).length;
            const detractors = (values as number[]).filter((v) => v <= 6).length;
            nps = Math.round(((promoters - detractors) / values.length) * 1000) / 10;
          }
        }
        return { id: q.id, type: q.type, label: q.label, answered: values.length, counts, average, nps };
      });
      return { message_id: messageId, title: form.title, closed: isClosed(row, clock()), submissions: responses.length, questions, responses };
    },

    /** The same responses as CSV: one row per person, one column per question (option texts, not indexes). */
    async formResultsCsv(principal: Principal, messageId: string): Promise<string> {
      const results = await this.formResults(principal, messageId);
      const { content } = await target(principal, messageId);
      const form = content!.form!;
      // Loaded on first use: only this export needs the CSV writer.
      const { stringify } = await import('csv-stringify/sync');
      const header = ['handle', 'submitted_at', 'edited_at', ...form.questions.map((q) => q.label)];
      const rows = results.responses.map((r) => [
        r.handle,
        new Date(r.submitted_at).toISOString(),
        r.edited_at === null ? '' : new Date(r.edited_at).toISOString(),
        ...form.questions.map((q) => {
          const v = r.answers[q.id];
          if (v === undefined) return '';
          if (q.type === 'single') return q.options?.[v as number] ?? '';
          if (q.type === 'multiple') return (v as number[]).map((i) => q.options?.[i] ?? '').join('; ');
          return String(v);
        }),
      ]);
      // People typed these cells: one starting with = + - @ (or a tab or CR) would run as a formula in a spreadsheet.
      const safe = (cell: string) => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell);
      return stringify([header.map(safe), ...rows.map((r) => r.map(safe))], { bom: true, record_delimiter: 'windows' });
    },

    stats() {
      return { waiting: waiters.size, scheduled: scheduled.size };
    },

    /** Stops timers and the bus subscription; taps still waiting get no answer. */
    stop() {
      stopped = true;
      unsubscribe();
      for (const t of scheduled.values()) clearTimeout(t);
      scheduled.clear();
      for (const finish of [...waiters.values()]) finish(null);
    },
  };
}

export type Interactive = ReturnType<typeof createInteractive>;
