/**
 * A list message: one button that opens a sheet of sections and rows (a bottom sheet on a phone, a
 * dialog on a desktop). Picking a row sends its title as my message, replying to the list, and
 * tells the sender which row it was.
 */
import type { Message } from '@mmd/sdk';
import { useState } from 'react';
import { errorText } from '../api.ts';
import { useStoreRef } from '../messenger/context.ts';
import { Dialog } from '../messenger/Dialog.tsx';
import type { ListView } from './types.ts';
import { ErrorAlert } from '../error-alert.tsx';

export function ListButton({ message, list }: { message: Message; list: ListView }) {
  const [open, setOpen] = useState(false);
  const delivered = message.status === 'sent' && !message.deleted;
  return (
    <div className="button-rows">
      <div className="button-row">
        <button type="button" className="ib list" aria-haspopup="dialog" disabled={!delivered} onClick={() => setOpen(true)}>
          <span aria-hidden="true">☰ </span>
          <span className="ib-text">{list.button}</span>
        </button>
      </div>
      {open && <ListSheet message={message} list={list} onClose={() => setOpen(false)} />}
    </div>
  );
}

function ListSheet({ message, list, onClose }: { message: Message; list: ListView; onClose: () => void }) {
  const store = useStoreRef();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pick = async (rowId: string) => {
    if (busy) return;
    setBusy(rowId);
    setError(null);
    try {
      await store.interact(message, { kind: 'list', row_id: rowId });
      onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };
  return (
    <Dialog title={list.button} onClose={onClose} className="sheet">
      <div className="list-sections">
        {list.sections.map((section, s) => {
          const headingId = `list-${message.id}-${s}`;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: sections never reorder
            <section key={s} aria-labelledby={section.title ? headingId : undefined}>
              {section.title && (
                <h3 id={headingId} className="list-section-title">
                  {section.title}
                </h3>
              )}
              <ul className="list-rows">
                {section.rows.map((row) => (
                  <li key={row.id} className="list-item">
                    <button type="button" className="list-row" aria-busy={busy === row.id || undefined} disabled={busy !== null} onClick={() => void pick(row.id)}>
                      <span className="list-row-title">{row.title}</span>
                      {row.description && <span className="list-row-description">{row.description}</span>}
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          );
        })}
      </div>
      <ErrorAlert error={error} />
    </Dialog>
  );
}
