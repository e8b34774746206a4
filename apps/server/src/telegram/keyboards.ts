/**
 * Telegram's reply_markup and polls in MMD's interactive content, both ways. Inline keyboards are
 * MMD buttons (callback_data → callback, url → url, copy_text → copy); reply keyboards are quick
 * replies (one_time_keyboard → one_time, is_persistent → persistent, input_field_placeholder →
 * placeholder); remove_keyboard removes them. force_reply has no MMD counterpart: it is accepted
 * and ignored (the person's composer is always open). A poll's id is its MMD message id.
 */
import type { ButtonInput, Message, Poll, PollInput, QuickRepliesInput } from '@mmd/contracts';
import { badRequest } from './errors.ts';
import type { Params } from './params.ts';
import { optJson } from './params.ts';

interface InlineButton {
  text?: unknown;
  callback_data?: unknown;
  url?: unknown;
  copy_text?: { text?: unknown };
  [other: string]: unknown;
}

export interface Markup {
  buttons?: ButtonInput[][] | null;
  quick_replies?: QuickRepliesInput;
}

function inlineButton(b: InlineButton): ButtonInput {
  if (!b || typeof b !== 'object' || typeof b.text !== 'string' || b.text === '') throw badRequest('text buttons are unallowed in the inline keyboard');
  if (typeof b.callback_data === 'string') return { type: 'callback', text: b.text, data: b.callback_data };
  if (typeof b.url === 'string') {
    if (!/^https:\/\//i.test(b.url)) throw badRequest(`inline keyboard button URL '${b.url}' is invalid: MMD opens https links only`);
    return { type: 'url', text: b.text, url: b.url };
  }
  if (b.copy_text && typeof b.copy_text.text === 'string') return { type: 'copy', text: b.text, copy_text: b.copy_text.text };
  const kind = Object.keys(b).find((k) => k !== 'text') ?? 'none';
  throw badRequest(`inline keyboard buttons of kind "${kind}" are not supported on MMD`);
}

/** reply_markup as MMD content: buttons, quick replies, or nothing (undefined: not given). */
export function markupFrom(params: Params): Markup | undefined {
  const markup = optJson<Record<string, unknown>>(params, 'reply_markup');
  if (markup === undefined) return undefined;
  if (!markup || typeof markup !== 'object') throw badRequest("can't parse reply keyboard markup JSON object");
  if (Array.isArray(markup.inline_keyboard)) {
    const rows = (markup.inline_keyboard as unknown[]).map((row) => {
      if (!Array.isArray(row)) throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
      return row.map((b) => inlineButton(b as InlineButton));
    });
    return { buttons: rows.filter((r) => r.length > 0) };
  }
  if (Array.isArray(markup.keyboard)) {
    const rows = (markup.keyboard as unknown[]).map((row) => {
      if (!Array.isArray(row)) throw badRequest('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays');
      return row.map((b) => {
        const text = typeof b === 'string' ? b : (b as { text?: unknown })?.text;
        if (typeof text !== 'string' || text === '') throw badRequest('keyboard button text is empty');
        return { text };
      });
    });
    return {
      quick_replies: {
        rows: rows.filter((r) => r.length > 0),
        one_time: markup.one_time_keyboard === true,
        persistent: markup.is_persistent === true,
        ...(typeof markup.input_field_placeholder === 'string' && markup.input_field_placeholder ? { placeholder: markup.input_field_placeholder } : {}),
      },
    };
  }
  if (markup.remove_keyboard === true) return { quick_replies: { remove: true } };
  if (markup.force_reply === true) return {};
  throw badRequest('unsupported reply_markup');
}

/** An MMD message's buttons as an InlineKeyboardMarkup (callback data as its sender sees it). */
export function inlineKeyboardOf(m: Message): { inline_keyboard: Record<string, unknown>[][] } | undefined {
  if (!m.buttons || m.buttons.length === 0) return undefined;
  return {
    inline_keyboard: m.buttons.map((row) =>
      row.map((b) => {
        switch (b.type) {
          case 'url':
            return { text: b.text, url: b.url };
          case 'copy':
            return { text: b.text, copy_text: { text: b.copy_text ?? '' } };
          case 'callback':
            return { text: b.text, callback_data: b.data ?? '' };
          default:
            // A reply button sends its text as the person's message: the nearest Telegram button is one carrying that text.
            return { text: b.text, callback_data: b.text };
        }
      }),
    ),
  };
}

/** sendPoll's parameters as an MMD poll. */
export function pollFrom(params: Params): PollInput {
  const question = params.question;
  if (typeof question !== 'string' || question.trim() === '') throw badRequest('poll question must be non-empty');
  const raw = optJson<unknown[]>(params, 'options');
  if (!Array.isArray(raw)) throw badRequest('poll options must be an Array of InputPollOption');
  const options = raw.map((o) => (typeof o === 'string' ? o : typeof (o as { text?: unknown })?.text === 'string' ? (o as { text: string }).text : ''));
  if (options.some((o) => o === '')) throw badRequest('poll options must be non-empty');
  if (options.length < 2) throw badRequest('poll must have at least 2 option');
  if (options.length > 12) throw badRequest('poll can\'t have more than 12 options');
  const quiz = params.type === 'quiz';
  const anonymous = !(params.is_anonymous === false || params.is_anonymous === 'false');
  const poll: PollInput = { question, options, anonymous, multiple: params.allows_multiple_answers === true || params.allows_multiple_answers === 'true' };
  if (quiz) {
    const correct = Number(params.correct_option_id);
    if (!Number.isInteger(correct) || correct < 0 || correct >= options.length) throw badRequest('wrong correct option ID specified');
    poll.quiz = { correct, ...(typeof params.explanation === 'string' && params.explanation ? { explanation: params.explanation } : {}) };
    poll.multiple = false;
  }
  const openPeriod = Number(params.open_period ?? 0);
  const closeDate = Number(params.close_date ?? 0);
  if (openPeriod > 0) poll.closes_at = Date.now() + openPeriod * 1000;
  else if (closeDate > 0) poll.closes_at = closeDate * 1000;
  return poll;
}

/** An MMD poll as Telegram's Poll object (counts from the message, or fresher ones from a poll.updated event). */
export function pollOf(messageId: string, poll: Poll, fresh?: { counts: number[]; voters: number; closed: boolean }): Record<string, unknown> {
  const counts = fresh?.counts ?? poll.options.map((o) => o.votes);
  return {
    id: messageId,
    question: poll.question,
    options: poll.options.map((o, i) => ({ text: o.text, voter_count: counts[i] ?? 0 })),
    total_voter_count: fresh?.voters ?? poll.voters,
    is_closed: fresh?.closed ?? poll.closed,
    is_anonymous: poll.anonymous,
    type: poll.quiz ? 'quiz' : 'regular',
    allows_multiple_answers: poll.multiple,
    ...(poll.quiz && poll.quiz.correct !== null ? { correct_option_id: poll.quiz.correct } : {}),
    ...(poll.quiz?.explanation ? { explanation: poll.quiz.explanation } : {}),
    ...(poll.closes_at ? { close_date: Math.floor(poll.closes_at / 1000) } : {}),
  };
}
