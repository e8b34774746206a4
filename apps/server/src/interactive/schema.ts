/**
 * The tables the interactive capability owns (Kysely types). Times are Unix milliseconds.
 *
 * The content of an interactive message (its buttons, list, cards, poll or form as sent, with
 * ids assigned) is one JSON row beside the message. Votes are rows of their own, and each poll
 * keeps per-option counters, so a vote touches a few small rows and the live update is a small
 * `poll.updated` event, never the whole message.
 */

export interface InteractiveContentsTable {
  message_id: string;
  conversation_id: string;
  sender_id: string;
  /** The message's main kind, for `?type=` on history: poll | form | list | cards | buttons | quick_replies. */
  type: string;
  /** 1 when the message carries buttons (alone or beside a poll or cards). */
  has_buttons: number;
  /** 1 when the message carries quick replies (or removes them). */
  has_quick_replies: number;
  /** The normalised content (StoredContent in content.ts), JSON. */
  content: string;
  closes_at: number | null;
  closed_at: number | null;
  /** Polls: people with a vote; forms: submissions. */
  responders: number;
  created_at: number;
  /** Touched by every vote or submission: in PostgreSQL it locks the row, so one account's concurrent votes queue. */
  updated_at: number;
}

export interface PollTalliesTable {
  message_id: string;
  option_index: number;
  votes: number;
}

export interface PollVotesTable {
  message_id: string;
  account_id: string;
  option_index: number;
  voted_at: number;
}

export interface FormSubmissionsTable {
  message_id: string;
  account_id: string;
  /** Answers by question id, JSON. */
  answers: string;
  submitted_at: number;
  edited_at: number | null;
}

export interface CallbackQueriesTable {
  id: string;
  message_id: string;
  conversation_id: string;
  /** The message's sender: the only account that may answer. */
  bot_id: string;
  from_id: string;
  button_id: string;
  data: string;
  created_at: number;
  answered_at: number | null;
  /** The answer as JSON ({text, alert, url?}). */
  answer: string | null;
}

export interface InteractiveTables {
  interactive_contents: InteractiveContentsTable;
  poll_tallies: PollTalliesTable;
  poll_votes: PollVotesTable;
  form_submissions: FormSubmissionsTable;
  callback_queries: CallbackQueriesTable;
}
