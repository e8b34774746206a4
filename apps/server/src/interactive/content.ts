/**
 * Interactive content as sent: checked against INTERACTIVE_LIMITS and the rules of who may send
 * what, then normalised (ids assigned, defaults filled) into the form stored beside the message.
 *
 * Two kinds of refusal: a breach of a limit is 400 `interactive_limit`, its detail naming the
 * limit; content that is malformed in itself (a callback button without data, an http URL, two
 * buttons with one id) is 400 `validation_failed`. Every problem is listed, not only the first.
 */
import {
  type AccountKind,
  type ButtonInput,
  type CardInput,
  type FormInput,
  type FormQuestionType,
  INTERACTIVE_LIMITS as L,
  type ListInput,
  type PollInput,
  type QuickRepliesInput,
} from '@mmd/contracts';
import { AppError } from '../errors.ts';

/** The interactive fields of SendMessageBody. */
export interface InteractiveInput {
  buttons?: ButtonInput[][];
  quick_replies?: QuickRepliesInput;
  list?: ListInput;
  cards?: CardInput[];
  poll?: PollInput;
  form?: FormInput;
}

export interface StoredButton {
  id: string;
  type: 'callback' | 'url' | 'reply' | 'copy';
  text: string;
  data?: string;
  url?: string;
  copy_text?: string;
}

export interface StoredContent {
  buttons?: StoredButton[][];
  quick_replies?: { rows: { text: string }[][]; one_time: boolean; persistent: boolean; placeholder: string | null; remove: boolean };
  list?: { button: string; sections: { title: string | null; rows: { id: string; title: string; description: string | null }[] }[] };
  cards?: { media_id: string | null; title: string; description: string | null; buttons: StoredButton[] }[];
  poll?: { question: string; options: string[]; anonymous: boolean; multiple: boolean; quiz: { correct: number; explanation: string | null } | null };
  form?: {
    title: string;
    questions: { id: string; type: FormQuestionType; label: string; options: string[] | null; required: boolean }[];
    submit_label: string | null;
  };
}

export type ContentType = 'poll' | 'form' | 'list' | 'cards' | 'buttons' | 'quick_replies';

/** What send stores: the normalised content and what history filters and closing need. */
export interface PreparedContent {
  content: StoredContent;
  type: ContentType;
  hasButtons: boolean;
  hasQuickReplies: boolean;
  closesAt: number | null;
  /** Card headers: the sender's own items, which must be ready. */
  mediaIds: string[];
  /** Polls, forms, lists and cards stand without text; buttons and quick replies go under text or media. */
  standsAlone: boolean;
}

/** Kinds of account that may send buttons, quick replies, lists, cards and forms (anyone may send a poll). */
const RICH_SENDERS: ReadonlySet<AccountKind> = new Set(['bot', 'business']);
const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Length in characters (code points), as people count them. */
export const chars = (s: string) => [...s].length;

class Problems {
  limits: { path: string; message: string }[] = [];
  invalid: { path: string; message: string }[] = [];
  limit(path: string, message: string) {
    this.limits.push({ path, message });
  }
  bad(path: string, message: string) {
    this.invalid.push({ path, message });
  }
  /** Text longer than `max` characters is a limit breach named after `name`. */
  text(path: string, value: string | undefined, max: number, name: string) {
    if (value !== undefined && chars(value) > max) this.limit(path, `${name}: at most ${max} characters (got ${chars(value)})`);
  }
  throwIfAny() {
    if (this.invalid.length > 0) {
      throw new AppError('validation_failed', this.invalid.map((e) => `${e.path} ${e.message}`).join('; '), { errors: this.invalid });
    }
    if (this.limits.length > 0) {
      throw new AppError('interactive_limit', this.limits.map((e) => e.message).join('; '), { errors: this.limits });
    }
  }
}

/** The host a URL button opens, or null when the URL is not https. */
export function httpsHost(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.hostname ? u.hostname : null;
  } catch {
    return null;
  }
}

function button(p: Problems, path: string, b: ButtonInput, id: string): StoredButton {
  p.text(`${path}/text`, b.text, L.buttonText, 'button text');
  if (b.id !== undefined && !ID_PATTERN.test(b.id)) p.bad(`${path}/id`, 'must be 1–32 of A-Z a-z 0-9 _ -');
  const out: StoredButton = { id: b.id ?? id, type: b.type, text: b.text };
  const stray = (field: 'data' | 'url' | 'copy_text') => {
    if (b[field] !== undefined) p.bad(`${path}/${field}`, `not allowed on a ${b.type} button`);
  };
  switch (b.type) {
    case 'callback':
      if (b.data === undefined || b.data === '') p.bad(`${path}/data`, 'a callback button needs data');
      else if (Buffer.byteLength(b.data, 'utf8') > L.callbackDataBytes) {
        p.limit(`${path}/data`, `callback data: at most ${L.callbackDataBytes} bytes UTF-8 (got ${Buffer.byteLength(b.data, 'utf8')})`);
      }
      out.data = b.data ?? '';
      stray('url');
      stray('copy_text');
      break;
    case 'url':
      if (b.url === undefined || httpsHost(b.url) === null) p.bad(`${path}/url`, 'a url button needs an https URL');
      else if (b.url.length > L.urlLength) p.limit(`${path}/url`, `button url: at most ${L.urlLength} characters`);
      out.url = b.url ?? '';
      stray('data');
      stray('copy_text');
      break;
    case 'copy':
      if (b.copy_text === undefined || b.copy_text === '') p.bad(`${path}/copy_text`, 'a copy button needs copy_text');
      else p.text(`${path}/copy_text`, b.copy_text, L.copyText, 'copy text');
      out.copy_text = b.copy_text ?? '';
      stray('data');
      stray('url');
      break;
    case 'reply':
      stray('data');
      stray('url');
      stray('copy_text');
      break;
  }
  return out;
}

function buttonRows(p: Problems, rows: ButtonInput[][]): StoredButton[][] {
  const total = rows.reduce((n, r) => n + r.length, 0);
  if (total > L.buttonsTotal) p.limit('/buttons', `buttons: at most ${L.buttonsTotal} in all (got ${total})`);
  if (total === 0) p.bad('/buttons', 'needs at least one button');
  return rows.map((row, r) => {
    if (row.length > L.buttonsPerRow) p.limit(`/buttons/${r}`, `buttons per row: at most ${L.buttonsPerRow} (row ${r} has ${row.length})`);
    if (row.length === 0) p.bad(`/buttons/${r}`, 'a row needs at least one button');
    return row.map((b, c) => button(p, `/buttons/${r}/${c}`, b, `r${r}c${c}`));
  });
}

function quickReplies(p: Problems, q: QuickRepliesInput): NonNullable<StoredContent['quick_replies']> {
  if (q.remove) {
    if (q.rows !== undefined || q.one_time !== undefined || q.persistent !== undefined || q.placeholder !== undefined) {
      p.bad('/quick_replies', 'remove stands alone');
    }
    return { rows: [], one_time: false, persistent: false, placeholder: null, remove: true };
  }
  const rows = q.rows ?? [];
  const total = rows.reduce((n, r) => n + r.length, 0);
  if (total === 0) p.bad('/quick_replies/rows', 'needs at least one reply, or remove: true');
  if (total > L.buttonsTotal) p.limit('/quick_replies/rows', `quick replies: at most ${L.buttonsTotal} in all (got ${total})`);
  rows.forEach((row, r) => {
    if (row.length > L.buttonsPerRow) p.limit(`/quick_replies/rows/${r}`, `quick replies per row: at most ${L.buttonsPerRow} (row ${r} has ${row.length})`);
    if (row.length === 0) p.bad(`/quick_replies/rows/${r}`, 'a row needs at least one reply');
    row.forEach((k, c) => {
      p.text(`/quick_replies/rows/${r}/${c}/text`, k.text, L.buttonText, 'quick reply text');
    });
  });
  p.text('/quick_replies/placeholder', q.placeholder, L.placeholder, 'quick replies placeholder');
  return { rows: rows.map((row) => row.map((k) => ({ text: k.text }))), one_time: q.one_time ?? false, persistent: q.persistent ?? false, placeholder: q.placeholder ?? null, remove: false };
}

function list(p: Problems, l: ListInput): NonNullable<StoredContent['list']> {
  p.text('/list/button', l.button, L.listButton, 'list button');
  if (l.sections.length === 0) p.bad('/list/sections', 'needs at least one section');
  if (l.sections.length > L.listSections) p.limit('/list/sections', `list sections: at most ${L.listSections} (got ${l.sections.length})`);
  const rows = l.sections.reduce((n, s) => n + s.rows.length, 0);
  if (rows > L.listRows) p.limit('/list/sections', `list rows: at most ${L.listRows} in all (got ${rows})`);
  const ids = new Set<string>();
  return {
    button: l.button,
    sections: l.sections.map((s, i) => {
      p.text(`/list/sections/${i}/title`, s.title, L.listSectionTitle, 'list section title');
      if (s.rows.length === 0) p.bad(`/list/sections/${i}/rows`, 'a section needs at least one row');
      return {
        title: s.title ?? null,
        rows: s.rows.map((r, j) => {
          const path = `/list/sections/${i}/rows/${j}`;
          if (!ID_PATTERN.test(r.id)) p.bad(`${path}/id`, 'must be 1–32 of A-Z a-z 0-9 _ -');
          if (ids.has(r.id)) p.bad(`${path}/id`, `row id ${r.id} appears twice`);
          ids.add(r.id);
          p.text(`${path}/title`, r.title, L.listRowTitle, 'list row title');
          p.text(`${path}/description`, r.description, L.listRowDescription, 'list row description');
          return { id: r.id, title: r.title, description: r.description ?? null };
        }),
      };
    }),
  };
}

function cards(p: Problems, list: CardInput[]): NonNullable<StoredContent['cards']> {
  if (list.length === 0) p.bad('/cards', 'needs at least one card');
  if (list.length > L.cards) p.limit('/cards', `cards: at most ${L.cards} in a carousel (got ${list.length})`);
  return list.map((card, i) => {
    p.text(`/cards/${i}/title`, card.title, L.cardTitle, 'card title');
    p.text(`/cards/${i}/description`, card.description, L.cardDescription, 'card description');
    const buttons = card.buttons ?? [];
    if (buttons.length > L.cardButtons) p.limit(`/cards/${i}/buttons`, `card buttons: at most ${L.cardButtons} (card ${i} has ${buttons.length})`);
    return {
      media_id: card.media_id ?? null,
      title: card.title,
      description: card.description ?? null,
      buttons: buttons.map((b, j) => button(p, `/cards/${i}/buttons/${j}`, b, `k${i}b${j}`)),
    };
  });
}

function poll(p: Problems, q: PollInput): NonNullable<StoredContent['poll']> {
  p.text('/poll/question', q.question, L.pollQuestion, 'poll question');
  if (q.options.length < L.pollOptionsMin || q.options.length > L.pollOptionsMax) {
    p.limit('/poll/options', `poll options: ${L.pollOptionsMin}–${L.pollOptionsMax} (got ${q.options.length})`);
  }
  q.options.forEach((o, i) => {
      p.text(`/poll/options/${i}`, o, L.pollOption, 'poll option');
    });
  let quiz: { correct: number; explanation: string | null } | null = null;
  if (q.quiz) {
    if (q.quiz.correct >= q.options.length) p.bad('/poll/quiz/correct', 'must be the index of one of the options');
    if (q.multiple) p.bad('/poll/multiple', 'a quiz has one correct answer: multiple is not allowed');
    p.text('/poll/quiz/explanation', q.quiz.explanation, L.quizExplanation, 'quiz explanation');
    quiz = { correct: q.quiz.correct, explanation: q.quiz.explanation ?? null };
  }
  return { question: q.question, options: [...q.options], anonymous: q.anonymous ?? true, multiple: q.multiple ?? false, quiz };
}

function form(p: Problems, f: FormInput): NonNullable<StoredContent['form']> {
  p.text('/form/title', f.title, L.formTitle, 'form title');
  p.text('/form/submit_label', f.submit_label, L.formSubmitLabel, 'form submit label');
  if (f.questions.length === 0) p.bad('/form/questions', 'needs at least one question');
  if (f.questions.length > L.formQuestions) p.limit('/form/questions', `form questions: at most ${L.formQuestions} (got ${f.questions.length})`);
  const ids = new Set<string>();
  return {
    title: f.title,
    submit_label: f.submit_label ?? null,
    questions: f.questions.map((q, i) => {
      const path = `/form/questions/${i}`;
      if (!ID_PATTERN.test(q.id)) p.bad(`${path}/id`, 'must be 1–32 of A-Z a-z 0-9 _ -');
      if (ids.has(q.id)) p.bad(`${path}/id`, `question id ${q.id} appears twice`);
      ids.add(q.id);
      p.text(`${path}/label`, q.label, L.formLabel, 'form question label');
      const choice = q.type === 'single' || q.type === 'multiple';
      if (choice) {
        const n = q.options?.length ?? 0;
        if (n < L.formOptionsMin || n > L.formOptionsMax) p.limit(`${path}/options`, `form question options: ${L.formOptionsMin}–${L.formOptionsMax} (question ${q.id} has ${n})`);
        q.options?.forEach((o, j) => {
      p.text(`${path}/options/${j}`, o, L.formOption, 'form question option');
    });
      } else if (q.options !== undefined) {
        p.bad(`${path}/options`, `not allowed on a ${q.type} question`);
      }
      return { id: q.id, type: q.type, label: q.label, options: choice ? [...(q.options ?? [])] : null, required: q.required ?? false };
    }),
  };
}

/** True when the message carries any interactive field. */
export function hasInteractive(input: InteractiveInput | undefined): input is InteractiveInput {
  if (!input) return false;
  return input.buttons !== undefined || input.quick_replies !== undefined || input.list !== undefined || input.cards !== undefined || input.poll !== undefined || input.form !== undefined;
}

/**
 * Checks and normalises a message's interactive fields, or returns null when it has none.
 * `kind` is the sender's account kind; `now` bounds closes_at.
 */
export function prepareInteractive(input: InteractiveInput | undefined, options: { kind: AccountKind; now: number }): PreparedContent | null {
  if (!hasInteractive(input)) return null;
  const rich = (['buttons', 'quick_replies', 'list', 'cards', 'form'] as const).filter((k) => input[k] !== undefined);
  if (rich.length > 0 && !RICH_SENDERS.has(options.kind)) {
    throw new AppError('interactive_not_allowed', `${rich.join(', ')}: sent by bot and business accounts only (anyone may send a poll)`);
  }
  const p = new Problems();
  const main = (['list', 'cards', 'poll', 'form'] as const).filter((k) => input[k] !== undefined);
  if (main.length > 1) p.limit('/', `one of list, cards, poll, form per message (got ${main.join(', ')})`);
  if (input.list && input.buttons) p.bad('/buttons', 'a list message has no buttons of its own');
  const content: StoredContent = {};
  if (input.buttons) content.buttons = buttonRows(p, input.buttons);
  if (input.quick_replies) content.quick_replies = quickReplies(p, input.quick_replies);
  if (input.list) content.list = list(p, input.list);
  if (input.cards) content.cards = cards(p, input.cards);
  if (input.poll) content.poll = poll(p, input.poll);
  if (input.form) content.form = form(p, input.form);
  // Button ids are how a tap names its button: one id, one button, across rows and cards.
  const buttonIds = new Set<string>();
  for (const b of [...(content.buttons?.flat() ?? []), ...(content.cards?.flatMap((c) => c.buttons) ?? [])]) {
    if (buttonIds.has(b.id)) p.bad('/buttons', `button id ${b.id} appears twice`);
    buttonIds.add(b.id);
  }
  const closesAt = input.poll?.closes_at ?? input.form?.closes_at ?? null;
  if (closesAt !== null && closesAt <= options.now) p.bad(input.poll ? '/poll/closes_at' : '/form/closes_at', 'must be in the future');
  const mediaIds = (content.cards ?? []).flatMap((c) => (c.media_id ? [c.media_id] : []));
  if (new Set(mediaIds).size !== mediaIds.length) p.bad('/cards', 'a media item heads two cards');
  p.throwIfAny();
  const type: ContentType = main[0] ?? (content.buttons ? 'buttons' : 'quick_replies');
  return {
    content,
    type,
    hasButtons: content.buttons !== undefined || (content.cards ?? []).some((c) => c.buttons.length > 0),
    hasQuickReplies: content.quick_replies !== undefined,
    closesAt,
    mediaIds,
    standsAlone: main.length > 0,
  };
}

/** Every button of a message, by id (rows and cards). */
export function buttonsById(content: StoredContent): Map<string, StoredButton> {
  const map = new Map<string, StoredButton>();
  for (const b of content.buttons?.flat() ?? []) map.set(b.id, b);
  for (const c of content.cards ?? []) for (const b of c.buttons) map.set(b.id, b);
  return map;
}

/**
 * Checks a form submission against the form: every answer names a question and has its type's
 * shape; required questions are answered. Returns the answers to store (unknown keys refused).
 */
export function checkAnswers(formContent: NonNullable<StoredContent['form']>, answers: Record<string, unknown>): Record<string, string | number | number[]> {
  const p = new Problems();
  const byId = new Map(formContent.questions.map((q) => [q.id, q]));
  const out: Record<string, string | number | number[]> = {};
  for (const [id, value] of Object.entries(answers)) {
    const q = byId.get(id);
    const path = `/answers/${id}`;
    if (!q) {
      p.bad(path, 'no such question');
      continue;
    }
    const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
    switch (q.type) {
      case 'text':
        if (typeof value !== 'string') p.bad(path, 'a text answer is a string');
        else if (chars(value) > L.formTextAnswer) p.limit(path, `form text answer: at most ${L.formTextAnswer} characters (got ${chars(value)})`);
        else if (value.trim() !== '') out[id] = value;
        break;
      case 'single':
        if (!isInt(value) || value < 0 || value >= (q.options?.length ?? 0)) p.bad(path, 'the index of one option');
        else out[id] = value;
        break;
      case 'multiple':
        if (!Array.isArray(value) || !value.every((v) => isInt(v) && v >= 0 && v < (q.options?.length ?? 0)) || new Set(value).size !== value.length) {
          p.bad(path, 'distinct option indexes');
        } else if (value.length > 0) out[id] = [...(value as number[])].sort((a, b) => a - b);
        break;
      case 'rating':
        if (!isInt(value) || value < 1 || value > 5) p.bad(path, 'a whole number 1–5');
        else out[id] = value;
        break;
      case 'nps':
        if (!isInt(value) || value < 0 || value > 10) p.bad(path, 'a whole number 0–10');
        else out[id] = value;
        break;
      case 'date':
        if (typeof value !== 'string' || !DATE_PATTERN.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
          p.bad(path, 'a date YYYY-MM-DD');
        } else out[id] = value;
        break;
    }
  }
  for (const q of formContent.questions) {
    const path = `/answers/${q.id}`;
    if (q.required && out[q.id] === undefined && ![...p.invalid, ...p.limits].some((e) => e.path === path)) p.bad(path, 'is required');
  }
  p.throwIfAny();
  return out;
}
