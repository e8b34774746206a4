/**
 * Interactive content as one viewer sees it. Events go to everyone, so they carry the view of
 * nobody in particular (viewer null): no callback data, no votes of one's own, quiz answers hidden.
 */
import type { Button, Card, Form, FormAnswers, List, MediaSummary, Poll, QuickReplies } from '@mmd/contracts';
import type { Database, Tx } from '../platform/db/index.ts';
import { type StoredButton, type StoredContent, httpsHost } from './content.ts';
import type { InteractiveContentsTable } from './schema.ts';

type Reader = Database['db'] | Tx;

export interface InteractiveFields {
  buttons?: Button[][] | null;
  quick_replies?: QuickReplies | null;
  list?: List | null;
  cards?: Card[] | null;
  poll?: Poll | null;
  form?: Form | null;
}

/** Closed by hand, or its closing time has passed. */
export function isClosed(row: Pick<InteractiveContentsTable, 'closed_at' | 'closes_at'>, now: number): boolean {
  return row.closed_at !== null || (row.closes_at !== null && Number(row.closes_at) <= now);
}

export function parseContent(row: Pick<InteractiveContentsTable, 'content'>): StoredContent {
  return JSON.parse(row.content) as StoredContent;
}

function buttonView(b: StoredButton, isSender: boolean): Button {
  const out: Button = { id: b.id, type: b.type, text: b.text };
  if (b.type === 'callback' && isSender) out.data = b.data;
  if (b.type === 'url' && b.url) {
    out.url = b.url;
    out.domain = httpsHost(b.url) ?? '';
  }
  if (b.type === 'copy') out.copy_text = b.copy_text;
  return out;
}

export function pollView(options: {
  poll: NonNullable<StoredContent['poll']>;
  row: Pick<InteractiveContentsTable, 'closed_at' | 'closes_at' | 'responders' | 'sender_id'>;
  counts: number[];
  myVotes: number[];
  viewerId: string | null;
  now: number;
}): Poll {
  const { poll, row, counts, myVotes, viewerId, now } = options;
  const closed = isClosed(row, now);
  // The answer shows once the viewer has answered (or the poll is over); its author knows it anyway.
  const reveal = closed || myVotes.length > 0 || (viewerId !== null && viewerId === row.sender_id);
  return {
    question: poll.question,
    options: poll.options.map((text, i) => ({ text, votes: counts[i] ?? 0 })),
    anonymous: poll.anonymous,
    multiple: poll.multiple,
    quiz: poll.quiz ? { correct: reveal ? poll.quiz.correct : null, explanation: reveal ? poll.quiz.explanation : null } : null,
    closes_at: row.closes_at === null ? null : Number(row.closes_at),
    closed,
    voters: Number(row.responders),
    my_votes: myVotes,
  };
}

export function formView(options: {
  form: NonNullable<StoredContent['form']>;
  row: Pick<InteractiveContentsTable, 'closed_at' | 'closes_at' | 'responders'>;
  myAnswers: FormAnswers | null;
  now: number;
}): Form {
  const { form, row, myAnswers, now } = options;
  return {
    title: form.title,
    questions: form.questions.map((q) => ({ id: q.id, type: q.type, label: q.label, options: q.options, required: q.required })),
    submit_label: form.submit_label,
    closes_at: row.closes_at === null ? null : Number(row.closes_at),
    closed: isClosed(row, now),
    submissions: Number(row.responders),
    my_answers: myAnswers,
  };
}

/** Per-option counts of polls, as arrays indexed by option. */
export async function tallies(db: Reader, messageIds: string[]): Promise<Map<string, number[]>> {
  const result = new Map<string, number[]>();
  if (messageIds.length === 0) return result;
  const rows = await db.selectFrom('poll_tallies').selectAll().where('message_id', 'in', messageIds).execute();
  for (const r of rows) {
    const list = result.get(r.message_id) ?? [];
    list[Number(r.option_index)] = Number(r.votes);
    result.set(r.message_id, list);
  }
  return result;
}

/** One account's votes on these polls. */
export async function votesOf(db: Reader, messageIds: string[], accountId: string): Promise<Map<string, number[]>> {
  const result = new Map<string, number[]>();
  if (messageIds.length === 0) return result;
  const rows = await db
    .selectFrom('poll_votes')
    .select(['message_id', 'option_index'])
    .where('message_id', 'in', messageIds)
    .where('account_id', '=', accountId)
    .orderBy('option_index')
    .execute();
  for (const r of rows) {
    const list = result.get(r.message_id) ?? [];
    list.push(Number(r.option_index));
    result.set(r.message_id, list);
  }
  return result;
}

/**
 * The interactive fields of these messages for one viewer (null: the view events carry).
 * `media` holds each message's attached items (card headers among them).
 */
export async function interactiveFieldsOf(
  db: Reader,
  messages: { id: string; sender_id: string }[],
  options: { viewerId: string | null; media: Map<string, MediaSummary[]>; now: number },
): Promise<Map<string, InteractiveFields>> {
  const result = new Map<string, InteractiveFields>();
  if (messages.length === 0) return result;
  const rows = await db
    .selectFrom('interactive_contents')
    .selectAll()
    .where(
      'message_id',
      'in',
      messages.map((m) => m.id),
    )
    .execute();
  if (rows.length === 0) return result;
  const { viewerId, now } = options;
  const pollIds = rows.filter((r) => r.type === 'poll').map((r) => r.message_id);
  const formIds = rows.filter((r) => r.type === 'form').map((r) => r.message_id);
  const counts = await tallies(db, pollIds);
  const mine = viewerId ? await votesOf(db, pollIds, viewerId) : new Map<string, number[]>();
  const answers = new Map<string, FormAnswers>();
  if (viewerId && formIds.length > 0) {
    const subs = await db
      .selectFrom('form_submissions')
      .select(['message_id', 'answers'])
      .where('message_id', 'in', formIds)
      .where('account_id', '=', viewerId)
      .execute();
    for (const s of subs) answers.set(s.message_id, JSON.parse(s.answers) as FormAnswers);
  }
  for (const row of rows) {
    const content = parseContent(row);
    const isSender = viewerId !== null && viewerId === row.sender_id;
    const fields: InteractiveFields = {};
    if (content.buttons) fields.buttons = content.buttons.map((r) => r.map((b) => buttonView(b, isSender)));
    if (content.quick_replies) fields.quick_replies = content.quick_replies;
    if (content.list) fields.list = content.list;
    if (content.cards) {
      const media = new Map((options.media.get(row.message_id) ?? []).map((m) => [m.id, m]));
      fields.cards = content.cards.map((c) => ({
        title: c.title,
        description: c.description,
        media: c.media_id ? (media.get(c.media_id) ?? null) : null,
        buttons: c.buttons.map((b) => buttonView(b, isSender)),
      }));
    }
    if (content.poll) {
      fields.poll = pollView({ poll: content.poll, row, counts: counts.get(row.message_id) ?? [], myVotes: mine.get(row.message_id) ?? [], viewerId, now });
    }
    if (content.form) fields.form = formView({ form: content.form, row, myAnswers: answers.get(row.message_id) ?? null, now });
    result.set(row.message_id, fields);
  }
  return result;
}
