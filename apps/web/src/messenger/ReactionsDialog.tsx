/** Who reacted to a message, per emoji. */
import type { Message, ReactionDetails } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';

export function ReactionsDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const store = useStore();
  const [details, setDetails] = useState<ReactionDetails | null>(null);
  const [error, setError] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: read again when the counts change
  useEffect(() => {
    store.client
      .reactionDetails(message.id)
      .then(setDetails)
      .catch((err: unknown) => setError(errorText(err)));
  }, [store, message.id, message.reactions]);
  return (
    <Dialog title="Reactions" onClose={onClose}>
      <ErrorAlert error={error} />
      {!details && !error && <p>Loading…</p>}
      {details?.reactions.length === 0 && <p>No reactions yet.</p>}
      {details?.reactions.map((r) => (
        <section key={r.emoji} className="reaction-detail" aria-label={`${r.emoji}, ${r.count}`}>
          <h3>
            {r.emoji} <span className="hint">{r.count}</span>
          </h3>
          <ul className="pick-list static">
            {r.accounts.map((a) => (
              <li key={a.account_id}>
                <span>{a.account_id === store.meId ? 'You' : `@${a.handle}`}</span>
              </li>
            ))}
            {r.count > r.accounts.length && <li className="hint">and {r.count - r.accounts.length} more</li>}
          </ul>
        </section>
      ))}
    </Dialog>
  );
}
