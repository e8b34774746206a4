/** Who has received and read one of my messages. */
import type { Message, Receipts } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';
import { fullDate } from './format.ts';
import { ErrorAlert } from '../error-alert.tsx';

const STATUS = { sent: 'Sent', delivered: 'Delivered', read: 'Read' } as const;

export function InfoDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const store = useStore();
  const [receipts, setReceipts] = useState<Receipts | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    store.client
      .receipts(message.id)
      .then(setReceipts)
      .catch((err: unknown) => setError(errorText(err)));
  }, [store, message.id]);
  return (
    <Dialog title="Message info" onClose={onClose}>
      <p className="hint">Sent {fullDate(message.created_at)}</p>
      <ErrorAlert error={error} />
      {!receipts && !error && <p>Loading…</p>}
      {receipts && (
        <>
          <p>
            Delivered to {receipts.delivered} of {receipts.recipients} · read by {receipts.read}
          </p>
          {receipts.per_recipient && (
            <ul className="pick-list static">
              {receipts.per_recipient.map((r) => (
                <li key={r.account_id}>
                  <span>@{r.handle}</span>
                  <span className={`receipt-status ${r.status}`}>{STATUS[r.status]}</span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Dialog>
  );
}
