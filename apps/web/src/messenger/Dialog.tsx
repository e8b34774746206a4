/**
 * A modal dialog on the native <dialog> element: it traps focus, closes on Escape and hands focus
 * back to whatever opened it.
 */
import { type ReactNode, useRef } from 'react';
import { CloseIcon } from '../icons.tsx';
import { useModal } from '../use-modal.ts';

export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  /** Extra class: `sheet` slides up from the bottom on a phone. */
  className?: string;
  /** `alertdialog` for a message the person must read and dismiss. */
  role?: 'alertdialog';
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useModal(ref, props.onClose);
  const titleId = `dialog-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} className={`dialog${props.wide ? ' wide' : ''}${props.className ? ` ${props.className}` : ''}`} aria-labelledby={titleId} role={props.role}>
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
