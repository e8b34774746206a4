/** My starred messages, newest star first; picking one opens it in its chat. */
import type { Message } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { navigate } from '../router.tsx';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';
import { listTime, messagePreview } from './format.ts';

export function StarredDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [items, setItems] = useState<{ message: Message; starred_at: number }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    store.client
      .starred()
      .then(setItems)
      .catch((err: unknown) => setError(errorText(err)));
  }, [store]);
  return (
    <Dialog title="Starred messages" onClose={onClose}>
      {error && <p className="error">{error}</p>}
      {!items && !error && <p>Loading…</p>}
      {items?.length === 0 && <p>No starred messages yet. Star one from its menu to find it here.</p>}
      {items && items.length > 0 && (
        <ul className="starred-list">
          {items.map(({ message }) => (
            <li key={message.id}>
              <button
                type="button"
                className="starred-item"
                onClick={() => {
                  onClose();
                  navigate(`/chats/${encodeURIComponent(message.conversation_id)}`);
                  void store.revealMessage(message.conversation_id, message.id, message.seq);
                }}
              >
                <span className="starred-from">@{message.sender_handle}</span>
                <span className="starred-text">{messagePreview(message)}</span>
                <time dateTime={new Date(message.created_at).toISOString()}>{listTime(message.created_at)}</time>
              </button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
