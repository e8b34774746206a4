/**
 * The interactive parts of a message as the web app reads them (SPEC-10: buttons, quick replies,
 * lists, cards, polls, forms). Kept here, narrowed from the message, so the widgets compile against
 * one small shape whatever else the message carries.
 */
import type { Button, Card, Form, FormQuestion, List, Message, Poll, QuickReplies } from '@mmd/sdk';

export type ButtonView = Button;
export type QuickRepliesView = QuickReplies;
export type ListView = List;
export type CardView = Card;
export type PollView = Poll;
export type QuestionView = FormQuestion;
export type QuestionType = FormQuestion['type'];
export type Answer = string | number | number[];
export type FormView = Form;

/** What a message may carry besides text and media; every field absent or null when unused. */
export interface InteractiveParts {
  buttons?: ButtonView[][] | null;
  quick_replies?: QuickRepliesView | null;
  list?: ListView | null;
  cards?: CardView[] | null;
  poll?: PollView | null;
  form?: FormView | null;
  /** The sender's account kind, when the server says it. */
  sender_kind?: 'person' | 'bot' | 'business' | null;
  /** Written by automation (a rule or the assistant), not typed by a person. */
  automated?: boolean | null;
}

/** A message with its interactive parts readable. */
export function parts(m: Message): InteractiveParts {
  return m as unknown as InteractiveParts;
}

export type { InteractionReply as InteractionAnswer } from '@mmd/sdk';

export type Interaction =
  | { kind: 'button'; id: string }
  | { kind: 'list'; row_id: string }
  | { kind: 'poll'; options: number[] }
  | { kind: 'form'; answers: Record<string, Answer> };

export type { PollInput } from '@mmd/sdk';

export interface BotCommand {
  command: string;
  description: string;
}
