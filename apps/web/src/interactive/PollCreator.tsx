/**
 * Writing a poll: a question, 2–12 options, anonymous or public, one or several answers, or a quiz
 * with its right answer and an explanation, and an optional closing time. The server checks the
 * same limits and says which one a poll broke.
 */
import type { Conversation } from '@mmd/sdk';
import { type FormEvent, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { CloseIcon } from '../icons.tsx';
import { useStoreRef } from '../messenger/context.ts';
import { Dialog } from '../messenger/Dialog.tsx';
import { sendPoll } from './api.ts';
import type { PollInput } from './types.ts';
import { ErrorAlert } from '../error-alert.tsx';

const MIN_OPTIONS = 2;
const MAX_OPTIONS = 12;

/** "2026-12-05T10:30" in local time, as a datetime-local input reads and writes. */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export function PollCreator({ conversation, onClose }: { conversation: Conversation; onClose: () => void }) {
  const store = useStoreRef();
  const [question, setQuestion] = useState('');
  const [options, setOptions] = useState<{ key: number; text: string }[]>([
    { key: 1, text: '' },
    { key: 2, text: '' },
  ]);
  const nextKey = useRef(3);
  const [anonymous, setAnonymous] = useState(true);
  const [multiple, setMultiple] = useState(false);
  const [quiz, setQuiz] = useState(false);
  const [correct, setCorrect] = useState<number | null>(null);
  const [explanation, setExplanation] = useState('');
  const [closes, setCloses] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const list = useRef<HTMLOListElement>(null);

  const addOption = () => {
    if (options.length >= MAX_OPTIONS) return;
    const key = nextKey.current++;
    setOptions((o) => [...o, { key, text: '' }]);
    requestAnimationFrame(() => list.current?.querySelector<HTMLInputElement>(`#poll-option-${key}`)?.focus());
  };
  const removeOption = (key: number) => {
    const at = options.findIndex((o) => o.key === key);
    setOptions((o) => o.filter((x) => x.key !== key));
    if (correct !== null && at === correct) setCorrect(null);
    else if (correct !== null && at < correct) setCorrect(correct - 1);
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const texts = options.map((o) => o.text.trim());
    if (!question.trim()) return setError('Write the question.');
    if (texts.filter(Boolean).length < MIN_OPTIONS || texts.some((t) => !t)) return setError('Fill in every option (at least two), or remove the empty ones.');
    if (new Set(texts).size !== texts.length) return setError('Two options say the same thing.');
    if (quiz && correct === null) return setError('Pick the right answer for the quiz.');
    let closesAt: number | undefined;
    if (closes) {
      closesAt = new Date(closes).getTime();
      if (!Number.isFinite(closesAt) || closesAt <= Date.now()) return setError('The closing time must be in the future.');
    }
    const poll: PollInput = { question: question.trim(), options: texts, anonymous, multiple: quiz ? false : multiple };
    if (quiz && correct !== null) poll.quiz = explanation.trim() ? { correct, explanation: explanation.trim() } : { correct };
    if (closesAt) poll.closes_at = closesAt;
    setBusy(true);
    try {
      store.upsertMessage(await sendPoll(store.client, conversation.id, poll));
      onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="New poll" onClose={onClose} wide className="sheet">
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="poll-question">Question</label>
          <input id="poll-question" maxLength={300} value={question} onChange={(e) => setQuestion(e.target.value)} />
        </div>
        <fieldset className="poll-options-field">
          <legend>Options</legend>
          <ol className="poll-options-edit" ref={list}>
            {options.map((o, i) => (
              <li key={o.key} className="option-edit">
                {quiz && (
                  <input
                    type="radio"
                    name="poll-correct"
                    checked={correct === i}
                    onChange={() => setCorrect(i)}
                    aria-label={`Option ${i + 1} is the right answer`}
                  />
                )}
                <input
                  id={`poll-option-${o.key}`}
                  maxLength={100}
                  aria-label={`Option ${i + 1}`}
                  value={o.text}
                  onChange={(e) => setOptions((all) => all.map((x) => (x.key === o.key ? { ...x, text: e.target.value } : x)))}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && i === options.length - 1 && o.text.trim()) {
                      e.preventDefault();
                      addOption();
                    }
                  }}
                />
                {options.length > MIN_OPTIONS && (
                  <button type="button" className="icon" aria-label={`Remove option ${i + 1}`} onClick={() => removeOption(o.key)}>
                    <CloseIcon />
                  </button>
                )}
              </li>
            ))}
          </ol>
          {options.length < MAX_OPTIONS ? (
            <button type="button" className="link add-option" onClick={addOption}>
              Add an option
            </button>
          ) : (
            <p className="hint">{MAX_OPTIONS} options at most.</p>
          )}
        </fieldset>
        <fieldset className="checks">
          <legend className="label">Settings</legend>
          <label>
            <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.target.checked)} /> Anonymous (nobody sees who voted for what)
          </label>
          <label>
            <input type="checkbox" checked={multiple && !quiz} disabled={quiz} onChange={(e) => setMultiple(e.target.checked)} /> Several answers allowed
          </label>
          <label>
            <input type="checkbox" checked={quiz} onChange={(e) => setQuiz(e.target.checked)} /> Quiz (one right answer)
          </label>
        </fieldset>
        {quiz && (
          <div className="field">
            <p className="hint">{correct === null ? 'Tick the right answer beside its option.' : `Right answer: option ${correct + 1}.`}</p>
            <label htmlFor="poll-explanation">Explanation (shown after answering)</label>
            <input id="poll-explanation" maxLength={200} value={explanation} onChange={(e) => setExplanation(e.target.value)} />
          </div>
        )}
        <div className="field">
          <label htmlFor="poll-closes">Closes at (optional)</label>
          <input id="poll-closes" type="datetime-local" min={localInput(Date.now())} value={closes} onChange={(e) => setCloses(e.target.value)} />
        </div>
        <ErrorAlert error={error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Sending…' : 'Send poll'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
