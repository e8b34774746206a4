/**
 * Interactive content carried by messages: buttons, quick replies, lists, cards and carousels,
 * polls and quizzes, forms. Every field is optional on `SendMessageBody` and on `Message` (absent
 * or null when unused), so clients that ignore them keep working.
 *
 * The schemas give shapes only; the limits below are checked by the server, which refuses a
 * breach with 400 `interactive_limit` and a detail naming the limit (rather than a generic
 * validation error), so a client can tell "too many buttons" from "malformed body".
 */
import { type Static, Type } from 'typebox';
import { MediaSummary } from './media-summary.ts';
import type { Message } from './schemas.ts';

/** The limits of interactive content, as the server enforces them. */
export const INTERACTIVE_LIMITS = {
  /** Buttons in one row. */
  buttonsPerRow: 8,
  /** Buttons in all rows of one message. */
  buttonsTotal: 100,
  /** A button's label, in characters. */
  buttonText: 64,
  /** A callback button's data, in UTF-8 bytes. */
  callbackDataBytes: 64,
  /** A client-chosen button, row or question id: 1–32 of [A-Za-z0-9_-]. */
  idLength: 32,
  /** A URL button's URL (https only), in characters. */
  urlLength: 2048,
  /** A copy button's text. */
  copyText: 256,
  /** Quick replies' placeholder. */
  placeholder: 64,
  /** The text of the button that opens a list. */
  listButton: 20,
  listSections: 10,
  /** Rows across all of a list's sections. */
  listRows: 10,
  listSectionTitle: 24,
  listRowTitle: 24,
  listRowDescription: 72,
  /** A carousel holds 2–10 cards; a single card is a card. */
  cards: 10,
  cardTitle: 200,
  cardDescription: 2000,
  cardButtons: 4,
  pollQuestion: 300,
  pollOptionsMin: 2,
  pollOptionsMax: 12,
  pollOption: 100,
  quizExplanation: 200,
  formTitle: 100,
  formQuestions: 10,
  formLabel: 200,
  formOptionsMin: 2,
  formOptionsMax: 10,
  formOption: 100,
  formSubmitLabel: 32,
  formTextAnswer: 1000,
} as const;

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
const ClientId = Type.String({ description: '1–32 of A-Z a-z 0-9 _ -' });

export const ButtonType = Type.Enum(['callback', 'url', 'reply', 'copy']);
export type ButtonType = Static<typeof ButtonType>;

/**
 * A button to send. `callback`: needs `data` (≤ 64 bytes UTF-8), returned to the sender's bot when
 * tapped. `url`: needs `url` (https only). `reply`: tapping sends `text` as the person's message,
 * replying to this one. `copy`: needs `copy_text`, copied by the client. `id` is optional; the
 * server assigns `r{row}c{col}` otherwise.
 */
export const ButtonInput = Type.Object(
  {
    type: ButtonType,
    text: Type.String({ minLength: 1, description: '≤ 64 characters' }),
    id: Type.Optional(ClientId),
    data: Type.Optional(Type.String({ description: 'callback: ≤ 64 bytes UTF-8' })),
    url: Type.Optional(Type.String({ description: 'url: https only' })),
    copy_text: Type.Optional(Type.String({ description: 'copy: the text to copy (≤ 256)' })),
  },
  { additionalProperties: false },
);
export type ButtonInput = Static<typeof ButtonInput>;

/** A button as received. `data` is shown to the message's sender only; `domain` is set for url buttons. */
export const Button = Type.Object({
  id: Type.String(),
  type: ButtonType,
  text: Type.String(),
  data: Type.Optional(Type.String({ description: 'callback buttons, to the sender only' })),
  url: Type.Optional(Type.String()),
  domain: Type.Optional(Type.String({ description: 'url buttons: the host the link opens, to show beside it' })),
  copy_text: Type.Optional(Type.String()),
});
export type Button = Static<typeof Button>;

/** A keyboard that replaces the recipient's composer; `{remove: true}` takes the current one away. */
export const QuickRepliesInput = Type.Object(
  {
    rows: Type.Optional(Type.Array(Type.Array(Type.Object({ text: Type.String({ minLength: 1 }) }, { additionalProperties: false })))),
    one_time: Type.Optional(Type.Boolean({ description: 'hide the keyboard once a reply is chosen (default false)' })),
    persistent: Type.Optional(Type.Boolean({ description: 'keep showing it until removed (default false)' })),
    placeholder: Type.Optional(Type.String({ description: 'the composer placeholder while shown (≤ 64)' })),
    remove: Type.Optional(Type.Literal(true, { description: 'remove the keyboard; no rows with it' })),
  },
  { additionalProperties: false },
);
export type QuickRepliesInput = Static<typeof QuickRepliesInput>;
export const QuickReplies = Type.Object({
  rows: Type.Array(Type.Array(Type.Object({ text: Type.String() }))),
  one_time: Type.Boolean(),
  persistent: Type.Boolean(),
  placeholder: Type.Union([Type.String(), Type.Null()]),
  remove: Type.Boolean({ description: 'true: this message removes the keyboard (rows empty)' }),
});
export type QuickReplies = Static<typeof QuickReplies>;

/** A list: a button (≤ 20) opening 1–10 sections with 1–10 rows in all. */
export const ListInput = Type.Object(
  {
    button: Type.String({ minLength: 1 }),
    sections: Type.Array(
      Type.Object(
        {
          title: Type.Optional(Type.String({ description: '≤ 24' })),
          rows: Type.Array(
            Type.Object(
              { id: ClientId, title: Type.String({ minLength: 1, description: '≤ 24' }), description: Type.Optional(Type.String({ description: '≤ 72' })) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ListInput = Static<typeof ListInput>;
export const List = Type.Object({
  button: Type.String(),
  sections: Type.Array(
    Type.Object({
      title: Type.Union([Type.String(), Type.Null()]),
      rows: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), description: Type.Union([Type.String(), Type.Null()]) })),
    }),
  ),
});
export type List = Static<typeof List>;

/** One card: an optional media header (the sender's own image or video, processed and ready), a title, a description, up to 4 buttons. */
export const CardInput = Type.Object(
  {
    media_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    title: Type.String({ minLength: 1, description: '≤ 200' }),
    description: Type.Optional(Type.String({ description: '≤ 2000' })),
    buttons: Type.Optional(Type.Array(ButtonInput, { description: '≤ 4' })),
  },
  { additionalProperties: false },
);
export type CardInput = Static<typeof CardInput>;
export const Card = Type.Object({
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  media: Type.Union([MediaSummary, Type.Null()]),
  buttons: Type.Array(Button),
});
export type Card = Static<typeof Card>;

export const PollInput = Type.Object(
  {
    question: Type.String({ minLength: 1, description: '≤ 300' }),
    options: Type.Array(Type.String({ minLength: 1 }), { description: '2–12 options, each ≤ 100' }),
    anonymous: Type.Optional(Type.Boolean({ description: 'default true; false: the sender and members see who voted for what' })),
    multiple: Type.Optional(Type.Boolean({ description: 'default false: one option per voter' })),
    quiz: Type.Optional(
      Type.Object(
        { correct: Type.Integer({ minimum: 0, description: 'index of the correct option' }), explanation: Type.Optional(Type.String({ description: '≤ 200' })) },
        { additionalProperties: false },
      ),
    ),
    closes_at: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix ms; votes after it are refused with poll_closed' })),
  },
  { additionalProperties: false },
);
export type PollInput = Static<typeof PollInput>;

/** A poll as one viewer sees it. `quiz.correct` is null until the viewer voted or the poll closed. */
export const Poll = Type.Object({
  question: Type.String(),
  options: Type.Array(Type.Object({ text: Type.String(), votes: Type.Integer({ minimum: 0 }) })),
  anonymous: Type.Boolean(),
  multiple: Type.Boolean(),
  quiz: Type.Union([Type.Object({ correct: Type.Union([Type.Integer(), Type.Null()]), explanation: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
  closes_at: Type.Union([Millis, Type.Null()]),
  closed: Type.Boolean(),
  voters: Type.Integer({ minimum: 0, description: 'people who voted' }),
  my_votes: Type.Array(Type.Integer({ minimum: 0 }), { description: 'the viewer’s options; empty in events, which go to everyone' }),
});
export type Poll = Static<typeof Poll>;

export const FormQuestionType = Type.Enum(['text', 'single', 'multiple', 'rating', 'nps', 'date']);
export type FormQuestionType = Static<typeof FormQuestionType>;
export const FormQuestionInput = Type.Object(
  {
    id: ClientId,
    type: FormQuestionType,
    label: Type.String({ minLength: 1, description: '≤ 200' }),
    options: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'single/multiple: 2–10, each ≤ 100' })),
    required: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const FormInput = Type.Object(
  {
    title: Type.String({ minLength: 1, description: '≤ 100' }),
    questions: Type.Array(FormQuestionInput, { description: '1–10' }),
    submit_label: Type.Optional(Type.String({ minLength: 1, description: '≤ 32' })),
    closes_at: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type FormInput = Static<typeof FormInput>;
export const FormQuestion = Type.Object({
  id: Type.String(),
  type: FormQuestionType,
  label: Type.String(),
  options: Type.Union([Type.Array(Type.String()), Type.Null()]),
  required: Type.Boolean(),
});
export type FormQuestion = Static<typeof FormQuestion>;

/**
 * Answers by question id: text → string (≤ 1000); single → option index; multiple → indexes;
 * rating → 1–5; nps → 0–10; date → 'YYYY-MM-DD'.
 */
export const FormAnswers = Type.Record(
  Type.String(),
  // One `type` list, not anyOf: the server coerces query-style types, and under anyOf a number would
  // become the string branch's "1"; with a type list nothing is coerced when one type already fits.
  Type.Unsafe<string | number | number[]>({ type: ['array', 'integer', 'string'], items: { type: 'integer' } }),
);
export type FormAnswers = Static<typeof FormAnswers>;

export const Form = Type.Object({
  title: Type.String(),
  questions: Type.Array(FormQuestion),
  submit_label: Type.Union([Type.String(), Type.Null()]),
  closes_at: Type.Union([Millis, Type.Null()]),
  closed: Type.Boolean(),
  submissions: Type.Integer({ minimum: 0 }),
  my_answers: Type.Union([FormAnswers, Type.Null()], { description: 'the viewer’s submission; null in events' }),
});
export type Form = Static<typeof Form>;

/** What a message may carry besides text and media (at most one of list, cards, poll, form). */
export const InteractiveSendFields = {
  buttons: Type.Optional(Type.Array(Type.Array(ButtonInput), { description: 'rows of buttons: ≤ 8 per row, ≤ 100 in all (bots and businesses)' })),
  quick_replies: Type.Optional(QuickRepliesInput),
  list: Type.Optional(ListInput),
  cards: Type.Optional(Type.Array(CardInput, { description: '1 card, or a carousel of 2–10' })),
  poll: Type.Optional(PollInput),
  form: Type.Optional(FormInput),
};

/** The same on a received Message; null or absent when unused. */
export const InteractiveMessageFields = {
  buttons: Type.Optional(Type.Union([Type.Array(Type.Array(Button)), Type.Null()])),
  quick_replies: Type.Optional(Type.Union([QuickReplies, Type.Null()])),
  list: Type.Optional(Type.Union([List, Type.Null()])),
  cards: Type.Optional(Type.Union([Type.Array(Card), Type.Null()])),
  poll: Type.Optional(Type.Union([Poll, Type.Null()])),
  form: Type.Optional(Type.Union([Form, Type.Null()])),
};

/** `?type=` on history: only messages carrying this kind of content (`interactive`: any of them). */
export const MessageContentType = Type.Enum(['poll', 'form', 'list', 'cards', 'buttons', 'quick_replies', 'interactive']);
export type MessageContentType = Static<typeof MessageContentType>;

/**
 * `POST /v1/messages/{id}/interactions`: `{kind:'button', id}` · `{kind:'list', row_id}` ·
 * `{kind:'poll', options}` (an empty array retracts the vote) · `{kind:'form', answers}`.
 */
export const InteractionBody = Type.Object(
  {
    kind: Type.Enum(['button', 'list', 'poll', 'form']),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'button: its id' })),
    row_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'list: the row picked' })),
    options: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 12, description: 'poll: option indexes; [] retracts' })),
    answers: Type.Optional(FormAnswers),
  },
  { additionalProperties: false },
);
export type InteractionBody = Static<typeof InteractionBody>;

/** A bot's answer to a callback query, as the person who tapped sees it. */
export const CallbackAnswer = Type.Object({
  text: Type.String(),
  alert: Type.Boolean({ description: 'true: show as a dialog; false: a toast' }),
  url: Type.Optional(Type.String()),
});
export type CallbackAnswer = Static<typeof CallbackAnswer>;

export const InteractionReply = Type.Object({
  answer: Type.Union([CallbackAnswer, Type.Null()], { description: 'callback buttons: the bot’s answer if it came within 15 s' }),
  message: Type.Optional(Type.Unknown({ description: 'reply buttons and list picks: the message sent on the person’s behalf' })),
  poll: Type.Optional(Poll),
  form: Type.Optional(Form),
});
export interface InteractionReply {
  answer: CallbackAnswer | null;
  /** Reply buttons and list picks: the message sent on the person's behalf (a Message). */
  message?: Message;
  poll?: Poll;
  form?: Form;
}

/** `PUT /v1/messages/{id}/buttons`: the sender replaces (null: removes) a message's buttons. */
export const EditButtonsBody = Type.Object(
  // One `type` list, not anyOf: the server coerces types, and under anyOf one branch's coercion
  // (null → [null], [[b]] → [b]) would spoil the other's; with a list nothing is coerced when one fits.
  { buttons: Type.Unsafe<ButtonInput[][] | null>({ type: ['array', 'null'], items: Type.Array(ButtonInput), description: 'rows of buttons; null removes them' }) },
  { additionalProperties: false },
);
export type EditButtonsBody = Static<typeof EditButtonsBody>;

export const AnswerCallbackBody = Type.Object(
  {
    text: Type.Optional(Type.String({ maxLength: 200 })),
    alert: Type.Optional(Type.Boolean()),
    url: Type.Optional(Type.String({ maxLength: 2048, description: 'https only' })),
  },
  { additionalProperties: false },
);
export type AnswerCallbackBody = Static<typeof AnswerCallbackBody>;

export const PollVotersQuery = Type.Object(
  {
    option: Type.Integer({ minimum: 0 }),
    after: Type.Optional(Type.String({ maxLength: 128, description: 'the `next` of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);
export const PollVoters = Type.Object({
  voters: Type.Array(Type.Object({ account_id: Type.String(), handle: Type.String(), voted_at: Millis })),
  next: Type.Union([Type.String(), Type.Null()]),
});
export type PollVoters = Static<typeof PollVoters>;

/** A form's results for its sender: per question an aggregate, and every submission. */
export const FormResults = Type.Object({
  message_id: Type.String(),
  title: Type.String(),
  closed: Type.Boolean(),
  submissions: Type.Integer({ minimum: 0 }),
  questions: Type.Array(
    Type.Object({
      id: Type.String(),
      type: FormQuestionType,
      label: Type.String(),
      answered: Type.Integer({ minimum: 0 }),
      counts: Type.Union([Type.Array(Type.Integer({ minimum: 0 })), Type.Null()], {
        description: 'single/multiple: per option; rating: per value 1–5; nps: per value 0–10',
      }),
      average: Type.Union([Type.Number(), Type.Null()], { description: 'rating and nps' }),
      nps: Type.Union([Type.Number(), Type.Null()], { description: 'nps: % promoters (9–10) − % detractors (0–6)' }),
    }),
  ),
  responses: Type.Array(
    Type.Object({
      account_id: Type.String(),
      handle: Type.String(),
      submitted_at: Millis,
      edited_at: Type.Union([Millis, Type.Null()]),
      answers: FormAnswers,
    }),
  ),
});
export type FormResults = Static<typeof FormResults>;
