/**
 * Message search results: across every chat (in the conversation list) or within one (in a
 * chat's header). Matched words are marked with <mark> around text React escapes — the server's
 * highlights are offsets, never HTML. Picking a result opens its chat at that message.
 */
import type { SearchReply, SearchResult, SearchType } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { navigate } from '../router.tsx';
import { useStore } from './context.ts';
import { conversationTitle, listTime, messagePreview } from './format.ts';

export const SEARCH_TYPES: { value: SearchType | ''; label: string }[] = [
  { value: '', label: 'All messages' },
  { value: 'photo', label: 'Photos' },
  { value: 'video', label: 'Videos' },
  { value: 'link', label: 'Links' },
  { value: 'document', label: 'Documents' },
  { value: 'voice', label: 'Voice' },
];

/** Characters of context shown before the first match in a long message. */
const LEAD = 40;
const SNIPPET = 160;

/** The text with its highlights as <mark>, cut to a snippet around the first one. */
export function Highlighted({ text, highlights }: { text: string; highlights: SearchResult['highlights'] }) {
  const first = highlights[0]?.start ?? 0;
  let from = first > LEAD ? first - LEAD : 0;
  // Never cut a surrogate pair in two.
  if (from > 0 && /[\uDC00-\uDFFF]/.test(text[from] ?? '')) from -= 1;
  const to = Math.min(text.length, from + SNIPPET);
  const parts: { text: string; mark: boolean; at: number }[] = [];
  let at = from;
  for (const h of highlights) {
    if (h.end <= at || h.start >= to) continue;
    const start = Math.max(h.start, at);
    if (start > at) parts.push({ text: text.slice(at, start), mark: false, at });
    parts.push({ text: text.slice(start, Math.min(h.end, to)), mark: true, at: start });
    at = Math.min(h.end, to);
  }
  if (at < to) parts.push({ text: text.slice(at, to), mark: false, at });
  return (
    <>
      {from > 0 && '…'}
      {parts.map((p) => (p.mark ? <mark key={p.at}>{p.text}</mark> : <span key={p.at}>{p.text}</span>))}
      {to < text.length && '…'}
    </>
  );
}

/** Searches as the person types (after a pause); `conversationId` keeps it to one chat; `from:@handle` in the text, to one sender. */
export function MessageSearchResults(props: { q: string; type: SearchType | ''; conversationId?: string; onPicked?: () => void }) {
  const { q, type, conversationId, onPicked } = props;
  const store = useStore();
  const [reply, setReply] = useState<SearchReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  // "from:@ann" (or "from:ann") anywhere in the box keeps ann's messages; the rest are the words.
  const fromMatch = /(?:^|\s)from:@?(\S+)/i.exec(q);
  const from = fromMatch?.[1];
  const words = (fromMatch ? q.replace(fromMatch[0], ' ') : q).trim();
  const active = words !== '' || type !== '' || from !== undefined;

  useEffect(() => {
    if (!active) {
      setReply(null);
      setError(null);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      setLoading(true);
      store.client
        .search({ q: words || undefined, type: type || undefined, from, conversationId, limit: 20 })
        .then(
          (r) => {
            if (cancelled) return;
            setReply(r);
            setError(null);
          },
          (err: unknown) => {
            if (cancelled) return;
            setReply(null);
            setError(errorText(err));
          },
        )
        .finally(() => {
          if (!cancelled) setLoading(false);
        });
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [store, words, type, from, conversationId, active]);

  if (!active) return null;

  const more = async () => {
    if (!reply?.next_cursor) return;
    try {
      const next = await store.client.search({ q: words || undefined, type: type || undefined, from, conversationId, limit: 20, cursor: reply.next_cursor });
      setReply({ results: [...reply.results, ...next.results], next_cursor: next.next_cursor });
    } catch (err) {
      setError(errorText(err));
    }
  };

  /** "Book club · @ann", "@ann" (a direct chat with ann), "Book club · You"; the chat's name only across chats. */
  const whereAndWho = (r: SearchResult, conversation: ReturnType<typeof store.conversation>) => {
    const who = r.message.sender_id === store.meId ? 'You' : `@${r.message.sender_handle}`;
    if (conversationId || !conversation) return who;
    if (conversation.kind === 'direct' && who !== 'You') return who;
    return `${conversationTitle(conversation)} · ${who}`;
  };

  const pick = (r: SearchResult) => {
    navigate(`/chats/${encodeURIComponent(r.conversation_id)}`);
    void store.revealMessage(r.conversation_id, r.message.id, r.message.seq);
    onPicked?.();
  };

  return (
    <section className="search-results" aria-label={conversationId ? 'Messages found in this chat' : 'Messages found'} aria-busy={loading}>
      {!conversationId && <h2 className="search-results-head">Messages</h2>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {reply && reply.results.length === 0 && <p className="pane-note">No messages found.</p>}
      {!reply && !error && <p className="pane-note">Searching…</p>}
      {reply && reply.results.length > 0 && (
        <ul className="search-result-list">
          {reply.results.map((r) => {
            const conversation = store.conversation(r.conversation_id);
            return (
              <li key={r.message.id}>
                <button type="button" className="search-result" onClick={() => pick(r)}>
                  <span className="search-result-top">
                    <span className="search-result-where">{whereAndWho(r, conversation)}</span>
                    <time dateTime={new Date(r.message.created_at).toISOString()}>{listTime(r.message.created_at)}</time>
                  </span>
                  <span className="search-result-text">{r.message.text ? <Highlighted text={r.message.text} highlights={r.highlights} /> : messagePreview(r.message)}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {reply?.next_cursor && (
        <button type="button" className="search-more" onClick={() => void more()}>
          More results
        </button>
      )}
    </section>
  );
}
