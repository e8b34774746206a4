/** One open conversation: its header, the message history and the composer. */
import { BackIcon, CloseIcon, GroupIcon, SearchIcon } from '../icons.tsx';
import type { Message } from '@mmd/sdk';
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { Link } from '../router.tsx';
import { Avatar } from './Avatar.tsx';
import { Composer } from './Composer.tsx';
import { useConfirm } from './Confirm.tsx';
import { ConnectionStatus } from './ConnectionStatus.tsx';
import { useStore } from './context.ts';
import { conversationSubtitle, conversationTitle, typingText } from './format.ts';
import { ForwardDialog } from './ForwardDialog.tsx';
import { InfoDialog } from './InfoDialog.tsx';
import { MembersDialog } from './MembersDialog.tsx';
import { MessageList } from './MessageList.tsx';
import { BlockButton } from './Privacy.tsx';
import { ChatMenu } from './ChatMenu.tsx';
import { PinnedBar } from './PinnedBar.tsx';
import { AutomationSwitch } from '../bots/AutomationSwitch.tsx';
import { ReportDialog } from './ReportDialog.tsx';
import { VerifiedMark, useBusinessProfiles } from './business-profiles.tsx';
import { usePeople } from './people.ts';
import { presenceText, usePresence } from './presence.ts';
import { MessageSearchResults, SEARCH_TYPES } from './MessageSearch.tsx';
import type { SearchType } from '@mmd/sdk';

export type MessageAction = 'reply' | 'edit' | 'forward' | 'report' | 'info' | 'delete' | 'delete-for-me';

export function ChatView({ conversationId }: { conversationId: string }) {
  const store = useStore();
  const conversation = store.conversation(conversationId);
  const chat = store.chat(conversationId);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [dialog, setDialog] = useState<{ kind: 'forward' | 'report' | 'info'; message: Message } | { kind: 'members' } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [confirmDialog, ask] = useConfirm();
  // Files dragged onto the chat go to the composer, as the attach button's do.
  const [dragging, setDragging] = useState(false);
  const [dropped, setDropped] = useState<File[] | null>(null);
  // Search within this chat: open or not, its words and type.
  const [searching, setSearching] = useState(false);
  const [searchText, setSearchText] = useState('');
  const [searchType, setSearchType] = useState<SearchType | ''>('');
  const businesses = useBusinessProfiles(store.client, [conversation?.kind === 'direct' ? conversation.peer?.account_id : undefined]);
  const people = usePeople([conversation?.kind === 'direct' ? conversation.peer?.account_id : undefined]);
  const peerPresence = presenceText(usePresence(conversation?.kind === 'direct' ? conversation.peer?.account_id : undefined));

  useEffect(() => {
    void store.openChat(conversationId);
    heading.current?.focus();
    const onVisible = () => store.markReadSoon(conversationId);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      if (store.openChatId === conversationId) store.openChatId = null;
    };
  }, [store, conversationId]);

  // A channel's posts on screen count as seen (each subscriber once per post, on the server).
  const loaded = chat?.messages.length ?? 0;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the number of loaded posts is the trigger
  useEffect(() => {
    store.countViews(conversationId);
  }, [store, conversationId, loaded]);

  // Stable across renders, so memoised message bubbles do not re-render for its sake.
  const onAction = useCallback(
    (action: MessageAction, message: Message) => {
      if (action === 'reply') {
        setEditing(null);
        setReplyTo(message);
      } else if (action === 'edit') {
        setReplyTo(null);
        setEditing(message);
      } else if (action === 'delete') {
        void ask({ title: 'Delete this message for everyone?', confirm: 'Delete' }).then((ok) => {
          if (ok) store.client.deleteMessage(message.id).catch((err: unknown) => store.notify(errorText(err)));
        });
      } else if (action === 'delete-for-me') {
        void ask({ title: 'Delete this message for you?', detail: 'It disappears on all your devices. The others still see it.', confirm: 'Delete for me' }).then((ok) => {
          if (ok) void store.deleteForMe(message);
        });
      } else setDialog({ kind: action, message });
    },
    [store, ask],
  );

  if (!conversation) {
    return (
      <div className="chat-empty">
        {store.conversations === null || chat?.loading ? (
          <p>Loading…</p>
        ) : (
          <p>
            This conversation is not available. <Link href="/">Back to chats</Link>
          </p>
        )}
      </div>
    );
  }

  // A direct chat with a bot or a business says so in its header, from the messages it sent; a
  // business shows its display name and the operator's verified mark.
  const peerId = conversation.kind === 'direct' ? conversation.peer?.account_id : undefined;
  const peerBusiness = peerId ? businesses.get(peerId) : undefined;
  const peer = peerId ? people.get(peerId) : undefined;
  const title = peerBusiness?.display_name ?? peer?.display_name ?? conversationTitle(conversation);
  const peerKind = peerBusiness ? 'business' : peerId ? chat?.messages.findLast((m) => m.sender_id === peerId && m.sender_kind)?.sender_kind : undefined;
  const typers = store.typers(conversationId);

  // Up arrow in an empty composer: my newest message I may still edit (text only, not forwarded).
  const editLast = () => {
    const last = chat?.messages.findLast((m) => m.sender_id === store.meId && !m.deleted && m.status === 'sent' && m.text && m.media.length === 0 && !m.forward);
    if (!last) return false;
    setReplyTo(null);
    setEditing(last);
    return true;
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a drop target for dragged files; the attach button is the keyboard's way
    <div
      className={`chat${dragging ? ' dropping' : ''}`}
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={(e) => {
        if (!e.dataTransfer.files.length) return;
        e.preventDefault();
        setDragging(false);
        setDropped([...e.dataTransfer.files]);
      }}
    >
      <header className="chat-head">
        <Link href="/" className="back" aria-label="Back to chats">
          <BackIcon />
        </Link>
        <Avatar name={title} size={36} photo={peer?.photo} />
        <div className="chat-head-text">
          <h2 ref={heading} tabIndex={-1}>
            {title}
            {peerBusiness?.verified && <VerifiedMark />}
            {peerKind && <span className={`bot-badge${peerKind === 'business' ? ' business' : ''}`}>{peerKind}</span>}
          </h2>
          <p aria-live="polite">
            {typers.length > 0 ? (
              <span className="typing">{typingText(typers)}</span>
            ) : peerBusiness ? (
              `Business · @${peerBusiness.handle}`
            ) : peerPresence ? (
              <span className="presence">{peerPresence}</span>
            ) : (
              conversationSubtitle(conversation)
            )}
            {typers.length === 0 && conversation.my_role && conversation.my_role !== 'member' && conversation.kind !== 'direct' && ` · you are ${conversation.my_role === 'owner' ? 'the owner' : 'an admin'}`}
          </p>
        </div>
        <button type="button" className="icon chat-search-button" aria-label="Search in this chat" aria-expanded={searching} onClick={() => setSearching((v) => !v)}>
          <SearchIcon />
        </button>
        {conversation.kind === 'direct' && <AutomationSwitch conversationId={conversationId} lastSeq={conversation.last_seq} />}
        {conversation.kind === 'direct' && conversation.peer && <BlockButton handle={conversation.peer.handle} />}
        {conversation.kind !== 'direct' && (
          <button type="button" className="members-button" onClick={() => setDialog({ kind: 'members' })}>
            <GroupIcon size={20} />
            <span className="members-button-label">{conversation.kind === 'channel' ? 'Subscribers' : 'Members'}</span>
          </button>
        )}
        <ChatMenu conversation={conversation} />
      </header>
      {searching && (
        <div className="chat-search">
          <search className="chat-search-bar">
            <label htmlFor="chat-search-input" className="visually-hidden">
              Search in this chat
            </label>
            <input
              id="chat-search-input"
              type="search"
              placeholder="Search in this chat"
              // biome-ignore lint/a11y/noAutofocus: opening search is asking to type
              autoFocus
              value={searchText}
              onChange={(e) => setSearchText(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Escape') setSearching(false);
              }}
            />
            <label htmlFor="chat-search-type" className="visually-hidden">
              Messages in this chat of type
            </label>
            <select id="chat-search-type" value={searchType} onChange={(e) => setSearchType(e.target.value as SearchType | '')}>
              {SEARCH_TYPES.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
            <button type="button" className="icon" aria-label="Close search" onClick={() => setSearching(false)}>
              <CloseIcon />
            </button>
          </search>
          <MessageSearchResults q={searchText} type={searchType} conversationId={conversationId} onPicked={() => setSearching(false)} />
        </div>
      )}
      <ConnectionStatus inChat />
      <PinnedBar conversationId={conversationId} />
      <MessageList conversation={conversation} chat={chat} onAction={onAction} />
      <Composer
        conversation={conversation}
        replyTo={replyTo}
        editing={editing}
        onDone={() => {
          setReplyTo(null);
          setEditing(null);
        }}
        onEditLast={editLast}
        dropped={dropped}
        onDroppedTaken={() => setDropped(null)}
      />
      {dragging && (
        <div className="drop-hint" aria-hidden="true">
          Drop files to send them here
        </div>
      )}
      {dialog?.kind === 'forward' && <ForwardDialog message={dialog.message} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'report' && <ReportDialog message={dialog.message} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'info' && <InfoDialog message={dialog.message} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'members' && <MembersDialog conversation={conversation} onClose={() => setDialog(null)} />}
      {confirmDialog}
    </div>
  );
}
