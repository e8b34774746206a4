/**
 * What an API key with `updates:read` but not `messages:read` sees of the event stream: that
 * something happened and where (ids, sequence numbers, senders, times), never what was said or
 * shown. The event keeps its shape, so clients parse it as usual; `content_withheld: true` tells
 * them to fetch the content with a key that may read it.
 */
import type { Principal } from '../accounts/index.ts';
import type { StoredEvent } from './event-log.ts';

const INTERACTIVE_FIELDS = ['buttons', 'quick_replies', 'list', 'cards', 'poll', 'form'] as const;

/** True when the caller may read message content carried by events. */
export function readsContent(principal: Principal): boolean {
  return principal.scopes.has('messages:read');
}

/** The payload JSON of `event` with its content removed, or the payload itself when it carries none. */
export function withheldPayload(event: StoredEvent): string {
  switch (event.type) {
    case 'message.created':
    case 'message.edited': {
      const m = JSON.parse(event.payload) as Record<string, unknown>;
      return JSON.stringify({
        ...m,
        text: null,
        reply_to: null,
        forward: null,
        reactions: [],
        media: [],
        // Interactive content (buttons, polls, forms…) is content too.
        ...Object.fromEntries(INTERACTIVE_FIELDS.filter((k) => k in m).map((k) => [k, null])),
        content_withheld: true,
      });
    }
    case 'reaction.changed': {
      const r = JSON.parse(event.payload) as Record<string, unknown>;
      return JSON.stringify({
        message_id: r.message_id,
        account_id: r.account_id,
        action: r.action,
        content_withheld: true,
      });
    }
    case 'media.updated': {
      // The owner's own item: its blurred placeholder and file name are content too.
      const {
        placeholder: _placeholder,
        filename: _filename,
        ...rest
      } = JSON.parse(event.payload) as Record<string, unknown>;
      return JSON.stringify({ ...rest, content_withheld: true });
    }
    // What people chose, typed or were told: content. Who and where stays.
    case 'draft.updated':
    case 'callback.query':
    case 'callback.answered':
    case 'list.selected':
    case 'poll.answer':
    case 'form.submitted': {
      const { data: _data, text: _text, url: _url, title: _title, answers: _answers, options: _options, ...rest } = JSON.parse(event.payload) as Record<string, unknown>;
      return JSON.stringify({ ...rest, content_withheld: true });
    }
    // The team inbox: what the team noted (inbox.updated carries no content).
    case 'inbox.note_added': {
      const { note, ...rest } = JSON.parse(event.payload) as { note: Record<string, unknown> };
      return JSON.stringify({ ...rest, note: { ...note, text: null }, content_withheld: true });
    }
    default:
      return event.payload;
  }
}
