/**
 * The app's own yes/no question, instead of window.confirm(): a native prompt blocks the whole
 * page (live updates included), cannot be styled or read like the rest of the app, and looks like a
 * browser warning rather than the app asking.
 */
import { type ReactNode, useCallback, useRef, useState } from 'react';
import { Dialog } from './Dialog.tsx';

export interface Question {
  /** The question itself, also the dialog's name: "Delete this message for everyone?" */
  title: string;
  detail?: string;
  /** The button that says yes, named for what it does: "Delete". */
  confirm: string;
}

/** A dialog to render, and `ask(question)`, which opens it and resolves true (confirmed) or false. */
export function useConfirm(): [ReactNode, (question: Question) => Promise<boolean>] {
  const [pending, setPending] = useState<(Question & { resolve: (ok: boolean) => void }) | null>(null);
  const ask = useCallback((question: Question) => new Promise<boolean>((resolve) => setPending({ ...question, resolve })), []);
  const element = pending && (
    <ConfirmDialog
      question={pending}
      onAnswer={(ok) => {
        pending.resolve(ok);
        setPending(null);
      }}
    />
  );
  return [element, ask];
}

function ConfirmDialog({ question, onAnswer }: { question: Question; onAnswer: (ok: boolean) => void }) {
  // Escape, the close button and Cancel all answer no; whichever comes first counts.
  const answered = useRef(false);
  const answer = (ok: boolean) => {
    if (answered.current) return;
    answered.current = true;
    onAnswer(ok);
  };
  return (
    <Dialog title={question.title} onClose={() => answer(false)}>
      {question.detail && <p>{question.detail}</p>}
      <div className="dialog-actions">
        <button type="button" onClick={() => answer(false)}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => answer(true)}>
          {question.confirm}
        </button>
      </div>
    </Dialog>
  );
}
