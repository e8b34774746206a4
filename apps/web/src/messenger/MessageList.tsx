/**
 * The history of one chat, oldest at the top. Scrolling near the top loads older messages and keeps
 * what was on screen in place; new messages scroll into view when the reader was already at the
 * bottom (or sent them). Media reserve their size before loading, so nothing jumps.
 */
import type { Conversation, Message } from '@mmd/sdk';
import { Fragment, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { MessageAction } from './ChatView.tsx';
import { useStore } from './context.ts';
import { dayHeading } from './format.ts';
import { MessageBubble, OutgoingBubble } from './MessageBubble.tsx';
import type { ChatState } from './store.ts';

export function MessageList(props: { conversation: Conversation; chat: ChatState | undefined; onAction: (action: MessageAction, message: Message) => void }) {
  const { conversation, chat, onAction } = props;
  const store = useStore();
  const scroller = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const messages = chat?.messages ?? [];
  const outgoing = store.outbox.forConversation(conversation.id);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const pinnedIds = new Set((store.pins.get(conversation.id) ?? []).map((p) => p.message.id));

  // Messages from others that arrived below while the reader was scrolled up: a pill counts them,
  // and a divider marks where they start (also where the unread ones started when the chat opened).
  const [unseen, setUnseen] = useState(0);
  const [dividerAt, setDividerAt] = useState<string | null>(null);
  const [readAtOpen] = useState(conversation.read_seq);

  // Remember where we were before each render, to restore it after.
  const before = useRef({ first: '', last: '', lastSeq: 0, height: 0, top: 0, atBottom: true, count: 0 });
  const snapshot = () => {
    const el = scroller.current;
    if (!el) return;
    before.current = {
      first: messages[0]?.id ?? '',
      last: messages.at(-1)?.id ?? '',
      lastSeq: messages.at(-1)?.seq ?? 0,
      height: el.scrollHeight,
      top: el.scrollTop,
      atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < 80,
      count: outgoing.length,
    };
  };
  const onScroll = () => {
    snapshot();
    if (unseen > 0 && before.current.atBottom) setUnseen(0);
  };
  const toBottom = () => {
    const el = scroller.current;
    el?.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    setUnseen(0);
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const was = before.current;
    // Where the reader is now, not where the last scroll event said: a message can arrive after the
    // list has moved but before its scroll event is delivered (a busy or throttled tab).
    if (was.last) was.atBottom = was.height - el.scrollTop - el.clientHeight < 80;
    const first = messages[0]?.id ?? '';
    const last = messages.at(-1)?.id ?? '';
    if (!was.last && last && !dividerAt) {
      // The first page is here: mark where what was unread when the chat opened begins.
      const firstUnread = messages.find((m) => m.seq > readAtOpen && m.sender_id !== store.meId);
      if (firstUnread) setDividerAt(firstUnread.id);
    }
    if (was.first && first !== was.first && last === was.last) {
      // Older messages were added above: keep the same message under the reader's eyes.
      el.scrollTop = was.top + (el.scrollHeight - was.height);
    } else if (!was.last || was.atBottom || (last !== was.last && messages.at(-1)?.sender_id === store.meId) || outgoing.length > was.count) {
      el.scrollTop = el.scrollHeight;
    } else if (last !== was.last) {
      // Scrolled up, and someone wrote: stay put, and say so.
      const fresh = messages.filter((m) => m.seq > was.lastSeq && m.sender_id !== store.meId && !m.deleted);
      if (fresh.length > 0) {
        // The divider moves to the first of these, unless earlier ones are still unseen.
        if (unseen === 0) setDividerAt(fresh[0]!.id);
        setUnseen((n) => n + fresh.length);
      }
    }
    snapshot();
  });

  // A search result to show: once it is here, scroll to it, focus it and mark it for a moment.
  const focus = store.focus?.conversationId === conversation.id ? store.focus.messageId : null;
  const focusReady = focus !== null && byId.has(focus);
  useEffect(() => {
    if (!focus || !focusReady) return;
    const el = document.getElementById(`message-${focus}`);
    if (!el) return;
    el.scrollIntoView({ block: 'center' });
    el.focus({ preventScroll: true });
    el.classList.add('found');
    store.focused(focus);
    snapshot();
    // Not cleared with the effect: the next render (focus forgotten) must not cut the mark short.
    setTimeout(() => el.classList.remove('found'), 4000);
  });

  // Mentions of me the @ button offers: each one that comes into view is seen, and leaves the count.
  const mentionJumps = store.mentionsToJump(conversation.id);
  const mentionKey = mentionJumps.map((m) => m.message_id).join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: observe again as pages load (new bubbles to watch)
  useEffect(() => {
    const root = scroller.current;
    if (!root || !mentionKey) return;
    const observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const id = (e.target as HTMLElement).dataset.messageId;
          if (e.isIntersecting && id) store.mentionSeen(conversation.id, id);
        }
      },
      { root, threshold: 0.6 },
    );
    for (const id of mentionKey.split(',')) {
      const el = document.getElementById(`message-${id}`);
      if (el) observer.observe(el);
    }
    return () => observer.disconnect();
  }, [store, conversation.id, mentionKey, messages.length]);

  // Load older messages when the top comes into view.
  useEffect(() => {
    const sentinel = top.current;
    const root = scroller.current;
    if (!sentinel || !root) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void store.loadOlder(conversation.id);
      },
      { root, rootMargin: '400px 0px 0px 0px' },
    );
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [store, conversation.id]);

  let lastDay = '';
  return (
    <div className="messages-frame">
      {/* A scrolling region must take focus so keyboard users can scroll it (arrow keys, Page Up). */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: see above */}
      <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-label="Messages" aria-busy={chat?.loading ?? true} tabIndex={0}>
        <div ref={top} className="history-top">
          {chat?.loading && <p className="pane-note">Loading messages…</p>}
          {chat && !chat.loading && !chat.hasMoreBefore && messages.length > 0 && <p className="pane-note">Beginning of the conversation</p>}
          {chat?.error && (
            <p className="error" role="alert">
              {chat.error}
            </p>
          )}
        </div>
        {chat && !chat.loading && messages.length === 0 && outgoing.length === 0 && <p className="pane-note">No messages yet. Say hello!</p>}
        {messages.map((m) => {
          const day = dayHeading(m.created_at);
          const heading = day !== lastDay;
          lastDay = day;
          return (
            <Fragment key={m.id}>
              {m.id === dividerAt && (
                <div className="unread-divider">
                  <span>New messages</span>
                </div>
              )}
              {heading && (
                <div className="day">
                  <span>{day}</span>
                </div>
              )}
              <MessageBubble
                message={m}
                kind={conversation.kind}
                myRole={conversation.my_role}
                title={conversation.kind === 'channel' ? conversation.title : undefined}
                replied={m.reply_to ? (byId.get(m.reply_to) ?? store.original(m.reply_to)) : undefined}
                onAction={onAction}
                tick={m.sender_id === store.meId && conversation.kind !== 'channel' ? store.tick(conversation, m) : null}
                myReactions={m.reactions.filter((r) => store.hasReacted(m.id, r.emoji)).map((r) => r.emoji).join(' ')}
                pinned={pinnedIds.has(m.id)}
                starred={store.starred?.has(m.id) ?? false}
              />
            </Fragment>
          );
        })}
        {outgoing.map((o) => (
          <OutgoingBubble key={o.key} item={o} replied={o.reply_to ? byId.get(o.reply_to) : undefined} />
        ))}
      </div>
      {mentionJumps.length > 0 && (
        <button
          type="button"
          className="mention-jump"
          aria-label={mentionJumps.length === 1 ? 'Go to the mention of you' : `Go to the next mention of you, ${mentionJumps.length} unread`}
          title="Go to the next mention of you"
          onClick={() => void store.jumpToMention(conversation.id)}
        >
          <span aria-hidden="true">@</span>
          <span className="mention-jump-count" aria-hidden="true">
            {mentionJumps.length}
          </span>
        </button>
      )}
      {unseen > 0 && (
        <button type="button" className="new-messages-pill" onClick={toBottom}>
          {unseen === 1 ? '1 new message' : `${unseen} new messages`} ↓
        </button>
      )}
    </div>
  );
}
