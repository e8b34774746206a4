/**
 * A native <dialog> opened as a modal for as long as the component is mounted: it traps focus,
 * closes on Escape (calling the latest `onClose`), and hands focus back to whatever opened it.
 */
import { type RefObject, useEffect, useRef } from 'react';

export function useModal(ref: RefObject<HTMLDialogElement | null>, onClose: () => void) {
  // Callers pass a fresh function each render; the dialog opens once and calls the latest one.
  const latest = useRef(onClose);
  latest.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    // `close` is dispatched later than close() is called: a stale one (React's StrictMode closes and
    // reopens once in development) finds the dialog open again and must not end it.
    const closed = () => {
      if (!dialog.open) latest.current();
    };
    dialog.addEventListener('close', closed);
    return () => {
      dialog.removeEventListener('close', closed);
      if (dialog.open) dialog.close();
      opener?.focus?.();
    };
  }, [ref]);
}
