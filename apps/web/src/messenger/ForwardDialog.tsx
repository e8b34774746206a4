/** Forward a message to another conversation; the copy is labelled "Forwarded". */
import type { Message } from '@mmd/sdk';
import { useState } from 'react';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';
import { conversationTitle } from './format.ts';

export function ForwardDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const store = useStore();
  const [filter, setFilter] = useState('');
  const [busy, setBusy] = useState(false);
  const needle = filter.trim().toLowerCase();
  const targets = (store.conversations ?? []).filter(
    (c) =>
      c.my_role !== null &&
      (c.kind !== 'channel' || c.my_role !== 'member') &&
      (!needle || conversationTitle(c).toLowerCase().includes(needle)),
  );
  return (
    <Dialog title="Forward to…" onClose={onClose}>
      <div className="field">
        <label htmlFor="forward-filter">Search</label>
        <input id="forward-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      {targets.length === 0 ? (
        <p className="pane-note">No conversation to forward to.</p>
      ) : (
        <ul className="pick-list">
          {targets.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                disabled={busy}
                onClick={async () => {
                  setBusy(true);
                  await store.forward(message, c, conversationTitle(c));
                  onClose();
                }}
              >
                {conversationTitle(c)}
              </button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
