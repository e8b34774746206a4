/** Every conversation, most recent first, with unread counts and the last message, kept live. */
import { BackIcon, ChannelIcon, GroupIcon, MutedIcon, PinIcon, StarIcon } from '../icons.tsx';
import { StarredDialog } from './StarredDialog.tsx';
import { type Conversation, type Message, type ProfilePhoto, isMuted } from '@mmd/sdk';
import { useState } from 'react';
import { Link } from '../router.tsx';
import { Avatar } from './Avatar.tsx';
import { useStore } from './context.ts';
import { conversationTitle, listTime, messagePreview, typingText } from './format.ts';
import { ConnectionStatus } from './ConnectionStatus.tsx';
import { NewChatDialog } from './NewChatDialog.tsx';
import { NoticesButton } from './Notices.tsx';
import { Invitations } from './Privacy.tsx';
import { VerifiedMark, useBusinessProfiles } from './business-profiles.tsx';
import { usePeople } from './people.ts';
import { MessageSearchResults, SEARCH_TYPES } from './MessageSearch.tsx';
import type { SearchType } from '@mmd/sdk';


export function ConversationList({ activeId }: { activeId: string | null }) {
  const store = useStore();
  const [filter, setFilter] = useState('');
  // What the messages found must carry (photos, links, …); '' for any message.
  const [type, setType] = useState<SearchType | ''>('');
  const [creating, setCreating] = useState(false);
  const [starredOpen, setStarredOpen] = useState(false);
  const list = store.conversations;
  const needle = filter.trim().toLowerCase();
  // A business shows its display name and verified mark.
  const businesses = useBusinessProfiles(store.client, (list ?? []).map((c) => (c.kind === 'direct' ? c.peer?.account_id : undefined)));
  // A person shows their display name and photo (people.tsx); the handle when they have none.
  const people = usePeople((list ?? []).map((c) => (c.kind === 'direct' ? c.peer?.account_id : undefined)));
  const titleOf = (c: NonNullable<typeof list>[number]) =>
    (c.kind === 'direct' && c.peer && (businesses.get(c.peer.account_id)?.display_name || people.get(c.peer.account_id)?.display_name)) || conversationTitle(c);
  const searching = needle !== '' || type !== '';
  const shown = list?.filter((c) => !needle || titleOf(c).toLowerCase().includes(needle) || conversationTitle(c).toLowerCase().includes(needle)) ?? null;
  // Archived chats wait under "Archived"; a search by name looks everywhere.
  const [archivedView, setArchivedView] = useState(false);
  const archived = (list ?? []).filter((c) => c.settings?.archived);
  const visible = needle ? shown : (shown?.filter((c) => Boolean(c.settings?.archived) === archivedView) ?? null);

  return (
    <nav className="chat-list-pane" aria-label="Conversations">
      <div className="pane-head">
        <h1>Chats</h1>
        <NoticesButton />
        <button type="button" className="icon" aria-label="Starred messages" title="Starred messages" onClick={() => setStarredOpen(true)}>
          <StarIcon size={20} />
        </button>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New chat
        </button>
      </div>
      <ConnectionStatus />
      <Invitations />
      <search className="search">
        <label htmlFor="chat-filter" className="visually-hidden">
          Search conversations and messages
        </label>
        <input
          id="chat-filter"
          type="search"
          placeholder="Search"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <label htmlFor="search-type" className="visually-hidden">
          Messages of type
        </label>
        <select id="search-type" value={type} onChange={(e) => setType(e.target.value as SearchType | '')}>
          {SEARCH_TYPES.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
      </search>
      {store.loadError && (
        <p className="error" role="alert">
          {store.loadError}
        </p>
      )}
      {shown === null && !store.loadError && <p className="pane-note">Loading…</p>}
      <div className={searching ? 'search-scroll' : 'list-scroll'}>
      {visible && visible.length === 0 && !type && !archivedView && (
        <p className="pane-note">{needle ? 'No conversation matches.' : 'No conversations yet. Start one with “New chat”.'}</p>
      )}
      {archivedView && !needle && !type && (
        <div className="archived-head">
          <button type="button" className="icon" aria-label="Back to chats" onClick={() => setArchivedView(false)}>
            <BackIcon />
          </button>
          <h2>Archived</h2>
        </div>
      )}
      {!archivedView && !needle && !type && archived.length > 0 && (
        <button type="button" className="archived-entry" onClick={() => setArchivedView(true)}>
          <span>Archived</span>
          <span className="archived-count">{archived.length}</span>
        </button>
      )}
      {visible && visible.length > 0 && !type && (
        <ul className="chat-list" aria-label={archivedView && !needle ? 'Archived chats' : undefined}>
          {visible.map((c) => (
            <ChatRow key={c.id} c={c} title={titleOf(c)} verified={c.kind === 'direct' && c.peer ? businesses.get(c.peer.account_id)?.verified === true : false} active={c.id === activeId} photo={c.kind === 'direct' && c.peer ? people.get(c.peer.account_id)?.photo : null} />
          ))}
        </ul>
      )}
      {searching && <MessageSearchResults q={filter} type={type} />}
      </div>
      {creating && <NewChatDialog onClose={() => setCreating(false)} />}
      {starredOpen && <StarredDialog onClose={() => setStarredOpen(false)} />}
    </nav>
  );
}

/** One chat in the list: title, newest message or who is typing, time, unread count or mark, muted and pinned. */
function ChatRow({ c, title, verified, active, photo }: { c: Conversation; title: string; verified: boolean; active: boolean; photo: ProfilePhoto | null | undefined }) {
  const store = useStore();
  const last = c.last_message as Message | null | undefined;
  const mine = last && last.sender_id === store.meId;
  const preview = messagePreview(last);
  const typers = store.typers(c.id);
  const who = last && !mine && c.kind === 'group' ? `@${last.sender_handle}: ` : mine ? 'You: ' : '';
  const muted = isMuted(c.settings, Date.now());
  const pinned = c.settings?.pinned_at != null;
  const markedUnread = c.settings?.marked_unread === true && c.unread_count === 0;
  return (
    <li>
      <Link href={`/chats/${encodeURIComponent(c.id)}`} className={`chat-link${active ? ' active' : ''}`} aria-current={active ? 'page' : undefined}>
        <Avatar name={title} photo={photo} />
        <span className="chat-link-body">
          <span className="chat-link-top">
            <span className="chat-link-title">
              {c.kind === 'channel' && <ChannelIcon />}
              {c.kind === 'group' && <GroupIcon />}
              {title}
              {verified && <VerifiedMark />}
              <span className="visually-hidden">
                {c.kind === 'direct' ? '' : `, ${c.kind}`}
                {c.unread_count > 0 ? `, ${c.unread_count} unread` : ''}
                {c.unread_mentions > 0 ? `, ${c.unread_mentions === 1 ? 'mentions you' : `mentions you ${c.unread_mentions} times`}` : ''}
                {markedUnread ? ', marked unread' : ''}
                {muted ? ', muted' : ''}
                {pinned ? ', pinned' : ''}
              </span>
            </span>
            {last && <time dateTime={new Date(last.created_at).toISOString()}>{listTime(last.created_at)}</time>}
          </span>
          <span className="chat-link-bottom">
            {typers.length > 0 ? (
              <span className="chat-link-preview typing">{c.kind === 'direct' ? 'typing…' : typingText(typers)}</span>
            ) : (
              <span className="chat-link-preview">
                {who}
                {preview}
              </span>
            )}
            <span className="chat-link-marks">
              {muted && (
                <span className="chat-mark" data-mark="muted" title="Muted">
                  <MutedIcon />
                </span>
              )}
              {pinned && (
                <span className="chat-mark" data-mark="pinned" title="Pinned">
                  <PinIcon />
                </span>
              )}
              {c.unread_mentions > 0 && (
                <span className="badge mention-badge" data-mark="mentioned" title="You were mentioned" aria-hidden="true">
                  @
                </span>
              )}
              {c.unread_count > 0 && (
                <span className={`badge${muted ? ' quiet' : ''}`} aria-hidden="true">
                  {c.unread_count > 999 ? '999+' : c.unread_count}
                </span>
              )}
              {markedUnread && <span className="unread-dot" data-mark="unread" aria-hidden="true" />}
            </span>
          </span>
        </span>
      </Link>
    </li>
  );
}
