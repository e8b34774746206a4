/** One message: who sent it, what it replies to or forwards, its media and text, reactions, ticks and actions. */
import { ClockIcon, ForwardIcon, MoreIcon, ReplyIcon, StarIcon } from '../icons.tsx';
import type { Conversation, Message } from '@mmd/sdk';
import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { hasInteractive, Interactive, SenderLabels } from '../interactive/Interactive.tsx';
import { MediaAlbum } from '../media/MediaAlbum.tsx';
import type { MessageAction } from './ChatView.tsx';
import { useStore, useStoreRef } from './context.ts';
import { clock, fullDate, mediaLabel, messagePreview } from './format.ts';
import type { OutgoingMessage } from './outbox.ts';
import { useBusinessProfiles } from './business-profiles.tsx';
import { usePeople } from './people.ts';
import { RichText } from './RichText.tsx';
import { LinkPreviewCard } from './LinkPreviewCard.tsx';
import { EmojiPicker } from './EmojiPicker.tsx';
import { ReactionsDialog } from './ReactionsDialog.tsx';
import { useTouchGestures } from './touch-gestures.ts';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

const TICK_LABEL = { sent: 'Sent', delivered: 'Delivered', read: 'Read' } as const;

function Ticks({ state }: { state: 'sending' | 'sent' | 'delivered' | 'read' }) {
  if (state === 'sending')
    return (
      <span className="ticks sending" role="img" aria-label="Sending">
        <ClockIcon />
      </span>
    );
  return (
    <span className={`ticks ${state}`} role="img" aria-label={TICK_LABEL[state]} title={TICK_LABEL[state]}>
      {state === 'sent' ? '✓' : '✓✓'}
    </span>
  );
}

function Quote({ message, onJump }: { message: Message | undefined; onJump?: () => void }) {
  if (!message)
    return (
      <div className="quote">
        <span className="quote-text">Reply to an earlier message</span>
      </div>
    );
  return (
    <button type="button" className="quote" onClick={onJump} title="Show the message this replies to">
      <span className="quote-sender">
        <span className="visually-hidden">Reply to </span>@{message.sender_handle}
      </span>
      <span className="quote-text">{messagePreview(message)}</span>
    </button>
  );
}

export interface MessageBubbleProps {
  message: Message;
  kind: Conversation['kind'];
  myRole: Conversation['my_role'];
  replied: Message | undefined;
  onAction: (action: MessageAction, message: Message) => void;
  /** For my messages: the receipt state to show as ticks. */
  tick: 'sent' | 'delivered' | 'read' | null;
  /** The emoji I reacted with, joined by spaces (a string, so unchanged bubbles skip rendering). */
  myReactions: string;
  /** Pinned at the top of the chat; starred by me. */
  pinned: boolean;
  starred: boolean;
  /** A channel's name, shown as the author of its posts. */
  title?: string | null;
}

/**
 * One message. Memoised: a chat re-renders on every store change (typing, receipts, a new
 * message), and only bubbles whose own props changed render again.
 */
export const MessageBubble = memo(function MessageBubble(props: MessageBubbleProps) {
  const { message: m, kind, myRole, replied, onAction, tick } = props;
  const store = useStoreRef();
  const mine = m.sender_id === store.meId;
  const mentionsMe = !m.deleted && m.mentions.some((x) => x.account_id === store.meId);
  const conversation = { kind, my_role: myRole };
  const reactedWith = new Set(props.myReactions.split(' ').filter(Boolean));
  const [menu, setMenu] = useState(false);
  const [picker, setPicker] = useState(false);
  const [whoReacted, setWhoReacted] = useState(false);
  // A business's message a person on its team wrote: "Business · Agent".
  const agent = m.agent && m.sender_kind === 'business' ? m.agent : undefined;
  // A re-upload or a copy of a picture that travels is labelled as its forwards are (spread, counted per picture).
  const passedOn = m.spread?.label === 'forwarded_many_times' || m.forward?.label === 'forwarded_many_times' ? 'forwarded_many_times' : m.spread?.label || m.forward ? 'forwarded' : null;
  const agentBusiness = useBusinessProfiles(store.client, [agent ? m.sender_id : undefined]).get(m.sender_id);
  // In groups each sender shows their display name beside the handle.
  const sender = usePeople([!mine && conversation.kind === 'group' ? m.sender_id : undefined]).get(m.sender_id);
  const canPost = conversation.kind !== 'channel' || conversation.my_role === 'owner' || conversation.my_role === 'admin';
  // A channel's posts are the channel's: none is "mine", and any of its admins edits or deletes them.
  const channelPost = m.sender_kind === 'channel';
  const authored = mine || (channelPost && canPost);
  // Only a delivered message can be replied to, forwarded or reacted to: one that failed (refused
  // or blocked) or waits for its media does not exist for anyone else, and the server says 404.
  const delivered = m.status === 'sent';
  // On a phone: press and hold for the actions, swipe right to reply.
  const gestures = useTouchGestures({
    onLongPress: () => setMenu(true),
    onSwipeReply: delivered && canPost ? () => onAction('reply', m) : undefined,
  });
  const jump = () => {
    const el = document.getElementById(`message-${replied?.id}`);
    el?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    el?.focus();
  };

  if (m.deleted) {
    return (
      <div id={`message-${m.id}`} className={`bubble-row${mine ? ' mine' : ''}`} data-message-id={m.id}>
        <div className="bubble deleted">
          <span>{m.removed ? '🚫 Removed by moderators' : '🚫 This message was deleted'}</span>
          <span className="meta">
            <time dateTime={new Date(m.created_at).toISOString()}>{clock(m.created_at)}</time>
          </span>
        </div>
      </div>
    );
  }

  return (
    <div id={`message-${m.id}`} className={`bubble-row${mine ? ' mine' : ''}`} data-message-id={m.id} tabIndex={-1} {...gestures}>
      <span className="swipe-reply-hint" aria-hidden="true">
        <ReplyIcon />
      </span>
      <article
        className={`bubble${m.media.length ? ' has-media' : ''}${hasInteractive(m) ? ' has-interactive' : ''}${m.status === 'failed' ? ' failed' : ''}${mentionsMe ? ' mentions-me' : ''}`}
        aria-label={`${mine ? 'You' : channelPost ? (props.title ?? `@${m.sender_handle}`) : `@${m.sender_handle}`}, ${clock(m.created_at)}${mentionsMe ? ', mentions you' : ''}`}
      >
        {channelPost && (
          <span className="sender channel-sender">
            {props.title ?? `@${m.sender_handle}`}
          </span>
        )}
        {!mine && !channelPost && conversation.kind !== 'direct' && !agent && (
          <span className="sender">
            {sender?.display_name && <span className="display-name">{sender.display_name} </span>}
            @{m.sender_handle}
            <SenderLabels message={m} />
          </span>
        )}
        {agent && (
          <span className="sender agent-sender">
            {agentBusiness?.display_name ?? `@${m.sender_handle}`} · {agent.handle}
          </span>
        )}
        {passedOn && (
          <span className="forwarded" title={m.spread ? `passed on ${m.spread.hops} times, counting re-uploads and copies` : undefined}>
            <ForwardIcon /> {passedOn === 'forwarded_many_times' ? 'Forwarded many times' : 'Forwarded'}
          </span>
        )}
        {m.spread?.label === 'spreading_fast' && <span className="forwarded spreading-fast">⚡ Spreading fast</span>}
        {m.reply_to && <Quote message={replied} onJump={jump} />}
        {m.media.length > 0 && <MediaAlbum media={m.media} />}
        {m.text && <RichText text={m.text} mentions={m.mentions} meId={store.meId} />}
        {m.link_preview && <LinkPreviewCard preview={m.link_preview} onRemove={mine ? () => void store.removeLinkPreview(m) : undefined} />}
        <Interactive message={m} mine={mine} />
        <span className="meta">
          {(mine || conversation.kind === 'direct') && <SenderLabels message={m} />}
          {m.status === 'pending' && m.spread?.held && <span className="pending-note">Held for review: it goes out if a moderator clears it · </span>}
          {m.status === 'pending' && !m.spread?.held && <span className="pending-note">Processing {mediaLabel(m)?.toLowerCase() ?? 'media'}… · </span>}
          {m.status === 'failed' && <span className="failed-note">Not delivered · </span>}
          {props.starred && (
            <span className="starred-mark" title="Starred">
              <StarIcon size={11} />
              <span className="visually-hidden">Starred · </span>
            </span>
          )}
          {m.signature && <span className="signature">{m.signature} · </span>}
          {m.views !== undefined && (
            <span className="views" title={`${m.views.toLocaleString()} ${m.views === 1 ? 'view' : 'views'}`}>
              <span aria-hidden="true">👁 </span>
              {m.views.toLocaleString()}
              <span className="visually-hidden"> {m.views === 1 ? 'view' : 'views'}</span> ·{' '}
            </span>
          )}
          {m.edited_at && <span>edited · </span>}
          <time dateTime={new Date(m.created_at).toISOString()} title={fullDate(m.created_at)}>
            {clock(m.created_at)}
          </time>
          {mine && m.status === 'sent' && tick && <Ticks state={tick} />}
        </span>
        {m.reactions.length > 0 && (
          <div className="reactions">
            {m.reactions.map((r) => {
              const reacted = reactedWith.has(r.emoji);
              return (
                <button
                  key={r.emoji}
                  type="button"
                  className={`reaction${reacted ? ' mine' : ''}`}
                  aria-pressed={reacted}
                  aria-label={`${r.emoji} ${r.count}${reacted ? ', including you' : ''}`}
                  onClick={() => void store.toggleReaction(m, r.emoji)}
                >
                  {r.emoji} {r.count}
                </button>
              );
            })}
            {(conversation.kind !== 'channel' || myRole === 'owner' || myRole === 'admin') && (
              <button type="button" className="reaction who-reacted" aria-label="Who reacted" title="Who reacted" onClick={() => setWhoReacted(true)}>
                ⋯
              </button>
            )}
          </div>
        )}
      </article>
      <div className="actions-anchor">
        <button type="button" className="icon actions-button" aria-label="Message actions" aria-haspopup="menu" aria-expanded={menu} onClick={() => setMenu((v) => !v)}>
          <MoreIcon />
        </button>
        {menu && (
          <ActionsMenu
            onClose={() => setMenu(false)}
            items={[
              delivered && canPost && { label: 'Reply', run: () => onAction('reply', m) },
              delivered && { label: 'Forward', run: () => onAction('forward', m) },
              m.text && { label: 'Copy text', run: () => void navigator.clipboard?.writeText(m.text ?? '') },
              delivered && (conversation.kind === 'direct' || myRole === 'owner' || myRole === 'admin') && { label: props.pinned ? 'Unpin' : 'Pin', run: () => void store.togglePin(m) },
              delivered && { label: props.starred ? 'Unstar' : 'Star', run: () => void store.toggleStar(m) },
              authored && !m.forward && (m.media.length > 0 || m.text) && { label: m.media.length === 0 ? 'Edit' : m.text ? 'Edit caption' : 'Add a caption', run: () => onAction('edit', m) },
              mine && conversation.kind !== 'channel' && { label: 'Message info', run: () => onAction('info', m) },
              { label: 'Delete for me', run: () => onAction('delete-for-me', m) },
              authored && { label: 'Delete for everyone', run: () => onAction('delete', m) },
              !authored && { label: 'Report', run: () => onAction('report', m) },
            ]}
            reactions={delivered && (canPost || conversation.kind === 'channel') ? (emoji) => void store.toggleReaction(m, emoji) : undefined}
            onMoreReactions={() => setPicker(true)}
          />
        )}
        {picker && (
          <EmojiPicker
            label="React with any emoji"
            onPick={(emoji) => {
              setPicker(false);
              if (!reactedWith.has(emoji)) void store.toggleReaction(m, emoji);
              (document.getElementById(`message-${m.id}`)?.querySelector('.actions-button') as HTMLElement | null)?.focus();
            }}
            onClose={() => {
              setPicker(false);
              (document.getElementById(`message-${m.id}`)?.querySelector('.actions-button') as HTMLElement | null)?.focus();
            }}
          />
        )}
        {whoReacted && <ReactionsDialog message={m} onClose={() => setWhoReacted(false)} />}
      </div>
    </div>
  );
});

/** A small menu of actions beside its `.actions-button` (messages, and the chat's own menu). */
export function ActionsMenu(props: { items: (false | null | undefined | '' | { label: string; run: () => void })[]; reactions?: (emoji: string) => void; onMoreReactions?: () => void; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  // The store re-renders often; the menu focuses its first item once, and closes with the latest callback.
  const latestClose = useRef(props.onClose);
  latestClose.current = props.onClose;
  const onClose = () => latestClose.current();
  // Keep the whole menu on screen: it opens beside its button, which on a phone may sit near either
  // edge (a wide message of mine puts it far left; someone else's, far right). Shift it sideways
  // into the viewport, and open it upwards when the message list would cut its bottom off.
  useLayoutEffect(() => {
    const menu = ref.current;
    if (!menu) return;
    const margin = 8;
    const box = menu.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    let dx = 0;
    if (box.right > width - margin) dx = width - margin - box.right;
    if (box.left + dx < margin) dx = margin - box.left;
    let dy = 0;
    const frame = menu.closest('.messages')?.getBoundingClientRect() ?? { top: 0, bottom: window.innerHeight };
    const anchor = menu.parentElement?.getBoundingClientRect();
    const fitsAbove = anchor && anchor.top - box.height - margin >= frame.top;
    if (box.bottom > frame.bottom - margin && fitsAbove) menu.classList.add('above');
    else if (box.bottom > frame.bottom - margin) {
      // Fits neither below nor above its button (a message mid-screen on a phone): move it up
      // until its bottom is inside the list, and let it scroll if the list is shorter than it.
      const room = frame.bottom - frame.top - 2 * margin;
      if (box.height > room) {
        menu.style.maxHeight = `${Math.floor(room)}px`;
        menu.style.overflowY = 'auto';
      }
      dy = frame.bottom - margin - (box.top + Math.min(box.height, room));
    }
    if (dx || dy) menu.style.transform = `translate(${Math.round(dx)}px, ${Math.round(dy)}px)`;
  }, []);
  useEffect(() => {
    const menu = ref.current;
    menu?.querySelector<HTMLButtonElement>('button')?.focus();
    const outside = (event: PointerEvent) => {
      if (menu && !menu.contains(event.target as Node) && !(event.target as Element).closest?.('.actions-button')) latestClose.current();
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, []);
  const items = props.items.filter((i): i is { label: string; run: () => void } => Boolean(i));
  const focusOpener = () => (ref.current?.parentElement?.querySelector('.actions-button') as HTMLElement | null)?.focus();
  const pick = (run: () => void) => {
    // Focus goes back to the button before the menu goes, not to the page: a dialog that `run` opens
    // then hands it back there on closing, and the composer takes it for a reply or an edit.
    focusOpener();
    onClose();
    run();
  };
  return (
    <div
      ref={ref}
      className="actions-menu"
      role="menu"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          onClose();
          focusOpener();
          return;
        }
        if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
        event.preventDefault();
        const buttons = [...(ref.current?.querySelectorAll<HTMLButtonElement>('button') ?? [])];
        const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
        buttons[(at + (event.key === 'ArrowDown' ? 1 : -1) + buttons.length) % buttons.length]?.focus();
      }}
    >
      {props.reactions && (
        <fieldset className="quick-reactions">
          <legend className="visually-hidden">React</legend>
          {QUICK_REACTIONS.map((emoji) => (
            <button key={emoji} type="button" role="menuitem" aria-label={`React ${emoji}`} onClick={() => pick(() => props.reactions?.(emoji))}>
              {emoji}
            </button>
          ))}
          {props.onMoreReactions && (
            <button type="button" role="menuitem" aria-label="More reactions" title="More reactions" onClick={() => pick(() => props.onMoreReactions?.())}>
              ➕
            </button>
          )}
        </fieldset>
      )}
      {items.map((item) => (
        <button key={item.label} type="button" role="menuitem" onClick={() => pick(item.run)}>
          {item.label}
        </button>
      ))}
    </div>
  );
}

/** A message on its way: shown at once, with a retry when the server refused it. */
export function OutgoingBubble({ item, replied }: { item: OutgoingMessage; replied: Message | undefined }) {
  const store = useStore();
  return (
    <div className="bubble-row mine" data-outgoing={item.key}>
      <article className="bubble outgoing" aria-label="You, sending">
        {item.forward_of && (
          <span className="forwarded">
            <ForwardIcon /> Forwarded
          </span>
        )}
        {item.reply_to && <Quote message={replied} />}
        {item.media && item.media.length > 0 && <p className="pending-note">{item.media.length === 1 ? 'Attachment' : `${item.media.length} attachments`}</p>}
        {item.text && <RichText text={item.text} />}
        <span className="meta">
          {item.state === 'waiting' && <span>Waiting for the network · </span>}
          <time dateTime={new Date(item.created_at).toISOString()}>{clock(item.created_at)}</time>
          {item.state !== 'failed' && <Ticks state="sending" />}
        </span>
        {item.state === 'failed' && item.needs_confirm && (
          <div className="outgoing-failed" role="alert">
            <span>This is spreading fast. Share it anyway?</span>
            <button type="button" onClick={() => store.outbox.retry(item.key, { confirmSpread: true })}>
              Share anyway
            </button>
            <button type="button" onClick={() => store.outbox.discard(item.key)}>
              Don't share
            </button>
          </div>
        )}
        {item.state === 'failed' && !item.needs_confirm && (
          <div className="outgoing-failed" role="alert">
            <span>Not sent: {item.error}</span>
            <button type="button" onClick={() => store.outbox.retry(item.key)}>
              Retry
            </button>
            <button type="button" onClick={() => store.outbox.discard(item.key)}>
              Discard
            </button>
          </div>
        )}
      </article>
    </div>
  );
}
