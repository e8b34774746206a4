/**
 * "@" in a group's composer: the members whose handle or display name starts with what follows
 * it, in a list the text field drives (arrow keys, Enter or Tab to pick, Escape to close) through
 * aria-activedescendant, as the "/" command list does. Picking writes "@handle ". Members are
 * read once per chat (the first 500: the members endpoint's largest page).
 */
import type { Conversation, Member } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { useStore } from './context.ts';
import { usePeople } from './people.ts';

const MAX_SUGGESTIONS = 8;
/** "@" then the start of a handle, just before the caret, where a mention may begin. */
const TYPED_MENTION = /(^|[^A-Za-z0-9_@./])@([A-Za-z0-9_]{0,32})$/;

/** What is being typed after an "@" just before the caret: its start in the text and the query. */
export function typedMention(text: string, caret: number): { start: number; query: string } | null {
  const match = TYPED_MENTION.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: match.index + match[1]!.length, query: match[2]! };
}

/** The current members of a group (none elsewhere), read when the chat opens. */
function useGroupMembers(conversation: Conversation): Member[] {
  const store = useStore();
  const [members, setMembers] = useState<Member[]>([]);
  const isGroup = conversation.kind === 'group';
  // Read again when the membership changes (someone joined or left).
  const count = conversation.member_count;
  // biome-ignore lint/correctness/useExhaustiveDependencies: count is the trigger, not an input
  useEffect(() => {
    if (!isGroup) return;
    let live = true;
    store.client
      .members(conversation.id, { limit: 500 })
      .then((page) => {
        if (live) setMembers(page.members);
      })
      .catch(() => {
        // No suggestions then; typing the handle still mentions.
      });
    return () => {
      live = false;
    };
  }, [store, conversation.id, isGroup, count]);
  return isGroup ? members : [];
}

export interface MentionSuggestions {
  /** The members offered now (empty: no list). */
  matches: Member[];
  active: Member | undefined;
  listId: string;
  optionId: (m: Member) => string;
  /** Text and caret after picking `m`. */
  pick: (m: Member) => { text: string; caret: number };
  move: (delta: 1 | -1) => void;
  dismiss: () => void;
  names: Map<string, string>;
}

/** The suggestions for the text and caret of a group's composer. */
export function useMentionSuggestions(conversation: Conversation, text: string, caret: number): MentionSuggestions {
  const store = useStore();
  const members = useGroupMembers(conversation);
  const people = usePeople(members.map((m) => m.account_id));
  const [at, setAt] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const typed = typedMention(text, caret);
  const names = new Map<string, string>();
  for (const m of members) {
    const name = people.get(m.account_id)?.display_name;
    if (name) names.set(m.account_id, name);
  }
  let matches: Member[] = [];
  if (typed && typed.start !== dismissedAt) {
    const q = typed.query.toLowerCase();
    matches = members
      .filter((m) => m.account_id !== store.meId)
      .filter((m) => m.handle.toLowerCase().startsWith(q) || (names.get(m.account_id) ?? '').toLowerCase().split(/\s+/).some((w) => w.startsWith(q)))
      .slice(0, MAX_SUGGESTIONS);
  }
  // A new query starts at the top of the list.
  const key = typed ? `${typed.start}:${typed.query}` : '';
  const [seenKey, setSeenKey] = useState(key);
  if (seenKey !== key) {
    setSeenKey(key);
    setAt(0);
    if (dismissedAt !== null && typed?.start !== dismissedAt) setDismissedAt(null);
  }
  const active = matches.length > 0 ? matches[Math.min(at, matches.length - 1)] : undefined;
  const listId = `mentions-${conversation.id}`;
  return {
    matches,
    active,
    listId,
    optionId: (m) => `${listId}-${m.account_id}`,
    pick: (m) => {
      const start = typed?.start ?? caret;
      const before = `${text.slice(0, start)}@${m.handle} `;
      const rest = text.slice(caret).replace(/^ /, '');
      return { text: before + rest, caret: before.length };
    },
    move: (delta) => setAt((now) => (Math.min(now, matches.length - 1) + delta + matches.length) % matches.length),
    dismiss: () => setDismissedAt(typed?.start ?? null),
    names,
  };
}

/** The list under the composer: a listbox the text field drives; a click picks too. */
export function MentionList({ suggestions, onPick }: { suggestions: MentionSuggestions; onPick: (m: Member) => void }) {
  const { matches, active, listId, optionId, names } = suggestions;
  if (matches.length === 0) return null;
  return (
    <div className="command-menu mention-menu" id={listId} role="listbox" aria-label="Members to mention">
      {matches.map((m) => (
        // The text field keeps focus and drives the list by arrow keys (aria-activedescendant).
        // biome-ignore lint/a11y/useKeyWithClickEvents: see above
        <div
          key={m.account_id}
          id={optionId(m)}
          className="command-option"
          role="option"
          tabIndex={-1}
          aria-selected={m === active}
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => onPick(m)}
        >
          <span className="command">@{m.handle}</span>
          {names.get(m.account_id) && <span className="description">{names.get(m.account_id)}</span>}
        </div>
      ))}
    </div>
  );
}
