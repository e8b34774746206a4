/**
 * A modal dialog on the native <dialog> element: it traps focus, closes on Escape and hands focus
 * back to whatever opened it.
 */
import { CloseIcon } from '../icons.tsx';
import { type ReactNode, useEffect, useRef } from 'react';

export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  // Callers pass a fresh function each render; the dialog opens once and calls the latest one.
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    // StrictMode opens, closes and reopens in development: a stale close event must not end the reopened dialog.
    const closed = () => {
      if (!dialog.open) onClose.current();
    };
    dialog.addEventListener('close', closed);
    return () => {
      dialog.removeEventListener('close', closed);
      if (dialog.open) dialog.close();
      opener?.focus?.();
    };
  }, []);
  const titleId = `dialog-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} className={`dialog${props.wide ? ' wide' : ''}`} aria-labelledby={titleId}>
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="icon" aria-label="Close" onClick={() => ref.current?.close()}>
          <CloseIcon />
        </button>
      </div>
      {props.children}
    </dialog>
  );
}
