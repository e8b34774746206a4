/**
 * The messenger: the conversation list beside the open chat on a desktop, one at a time on a
 * phone (the URL says which chat is open, so back and reload work).
 */
import { useEffect, useMemo } from 'react';
import { savedToken } from '../api.ts';
import { CloseIcon } from '../icons.tsx';
import { enablePush, notificationPrefs, pushSupported, setBadge } from '../notifications.ts';
import { useSession } from '../session.tsx';
import { ChatView } from './ChatView.tsx';
import { ConversationList } from './ConversationList.tsx';
import { StoreContext, useStore } from './context.ts';
import './messenger.css';
import { MessengerStore } from './store.ts';

export function Messenger({ chatId }: { chatId: string | null }) {
  const { client, me, signOut } = useSession();
  const store = useMemo(() => new MessengerStore(client, me.id, () => signOut()), [client, me.id, signOut]);
  useEffect(() => {
    void store.start();
    return () => store.stop();
  }, [store]);
  useEffect(() => {
    // Pushes were turned on here before: keep this device's subscription registered (the browser
    // may have rotated it) and the session where the service worker finds it.
    const token = savedToken();
    if (token && notificationPrefs().enabled && pushSupported() && Notification.permission === 'granted') enablePush(client, token, notificationPrefs().previews).catch(() => {});
  }, [client]);
  return (
    <StoreContext.Provider value={store}>
      <div className={`messenger${chatId ? ' chat-open' : ''}`}>
        <ConversationList activeId={chatId} />
        <section className="chat-pane" aria-label="Chat">
          {chatId ? (
            <ChatView key={chatId} conversationId={chatId} />
          ) : (
            <div className="chat-empty">
              <p>Pick a conversation, or start a new one.</p>
            </div>
          )}
        </section>
        <Notices />
        <UnreadTitle />
      </div>
    </StoreContext.Provider>
  );
}

/** "(3) Messages · MMD": unread messages show in the tab while the person is elsewhere. */
function UnreadTitle() {
  const store = useStore();
  const total = (store.conversations ?? []).reduce((sum, c) => sum + c.unread_count, 0);
  useEffect(() => {
    document.title = `${total > 0 ? `(${total}) ` : ''}Messages · MMD`;
    setBadge(total);
  }, [total]);
  return null;
}

function Notices() {
  const store = useStore();
  return (
    <div className="notices" role="status" aria-live="polite">
      {store.notices.map((n) => (
        <div key={n.id} className="notice">
          <span>{n.text}</span>
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => store.dismiss(n.id)}>
            <CloseIcon />
          </button>
        </div>
      ))}
    </div>
  );
}
