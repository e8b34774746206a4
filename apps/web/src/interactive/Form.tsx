/**
 * A form (a short survey) in a message: a card with its title and a button that opens it in a
 * dialog — short text, one or several choices, a 1–5 rating, a 0–10 NPS scale, a date. One
 * submission per person, which they may edit until the form closes. The sender sees the
 * submissions, the aggregate results and a CSV export.
 */
import type { FormResults, Message } from '@mmd/sdk';
import { type FormEvent, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { useStoreRef } from '../messenger/context.ts';
import { Dialog } from '../messenger/Dialog.tsx';
import { fullDate } from '../messenger/format.ts';
import { closeInteractive, formResults, formResultsCsv } from './api.ts';
import type { Answer, FormView, QuestionView } from './types.ts';
import { ErrorAlert } from '../error-alert.tsx';

export function FormCard({ message, form, mine }: { message: Message; form: FormView; mine: boolean }) {
  const [open, setOpen] = useState<'fill' | 'results' | null>(null);
  const store = useStoreRef();
  const [error, setError] = useState<string | null>(null);
  const closed = form.closed || (form.closes_at != null && form.closes_at <= Date.now());
  const delivered = message.status === 'sent' && !message.deleted;
  const answered = form.my_answers !== null;
  const count = form.questions.length;
  return (
    <div className={`ic-form${closed ? ' closed' : ''}`}>
      <p className="poll-kind">Form · {count === 1 ? '1 question' : `${count} questions`}</p>
      <p className="poll-question">{form.title}</p>
      <p className="hint">
        {closed ? 'Closed' : answered ? 'You answered. You can change your answers until it closes.' : form.closes_at ? `Open until ${fullDate(form.closes_at)}` : 'Open'}
        {mine && ` · ${form.submissions === 1 ? '1 submission' : `${form.submissions} submissions`}`}
      </p>
      <div className="button-row">
        {!mine && delivered && (
          <button type="button" className="ib" aria-haspopup="dialog" disabled={closed && !answered} onClick={() => setOpen('fill')}>
            {closed ? 'See my answers' : answered ? 'Edit my answers' : 'Fill in'}
          </button>
        )}
        {mine && (
          <button type="button" className="ib" aria-haspopup="dialog" onClick={() => setOpen('results')}>
            Results
          </button>
        )}
        {mine && !closed && delivered && (
          <button
            type="button"
            className="ib"
            onClick={() => {
              setError(null);
              closeInteractive(store.client, message.id)
                .then((reply) => store.applyReply(message, reply))
                .catch((err: unknown) => setError(errorText(err)));
            }}
          >
            Close form
          </button>
        )}
      </div>
      <ErrorAlert error={error} />
      {open === 'fill' && <FormDialog message={message} form={form} readOnly={closed} onClose={() => setOpen(null)} />}
      {open === 'results' && <ResultsDialog message={message} form={form} onClose={() => setOpen(null)} />}
    </div>
  );
}

type Draft = Record<string, Answer | undefined>;

function missing(value: Answer | undefined): boolean {
  if (value === undefined || value === '') return true;
  return Array.isArray(value) && value.length === 0;
}

function FormDialog({ message, form, readOnly, onClose }: { message: Message; form: FormView; readOnly: boolean; onClose: () => void }) {
  const store = useStoreRef();
  const [draft, setDraft] = useState<Draft>(() => ({ ...(form.my_answers ?? {}) }));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<Set<string>>(new Set());
  const set = (id: string, value: Answer | undefined) => {
    setDraft((d) => ({ ...d, [id]: value }));
    setInvalid((s) => {
      if (!s.has(id)) return s;
      const next = new Set(s);
      next.delete(id);
      return next;
    });
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const empty = form.questions.filter((q) => q.required && missing(draft[q.id])).map((q) => q.id);
    if (empty.length) {
      setInvalid(new Set(empty));
      setError(empty.length === 1 ? 'Answer the question marked required.' : `Answer the ${empty.length} questions marked required.`);
      document.getElementById(`q-${message.id}-${empty[0]}`)?.focus();
      return;
    }
    const answers: Record<string, Answer> = {};
    for (const q of form.questions) {
      const value = draft[q.id];
      if (!missing(value)) answers[q.id] = typeof value === 'string' && q.type === 'text' ? value.trim() : (value as Answer);
    }
    setBusy(true);
    setError(null);
    try {
      await store.interact(message, { kind: 'form', answers });
      store.notify(form.my_answers ? 'Your answers were updated.' : 'Your answers were sent.');
      onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={form.title} onClose={onClose} wide className="sheet">
      <form className="ic-form-fields" onSubmit={submit} noValidate>
        <fieldset disabled={readOnly || busy}>
          <legend className="visually-hidden">{form.title}</legend>
          {form.questions.map((q) => (
            <Question key={q.id} messageId={message.id} question={q} value={draft[q.id]} invalid={invalid.has(q.id)} onChange={(v) => set(q.id, v)} />
          ))}
        </fieldset>
        <ErrorAlert error={error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            {readOnly ? 'Close' : 'Cancel'}
          </button>
          {!readOnly && (
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Sending…' : form.my_answers ? 'Save my answers' : (form.submit_label ?? 'Send')}
            </button>
          )}
        </div>
      </form>
    </Dialog>
  );
}

function Question(props: { messageId: string; question: QuestionView; value: Answer | undefined; invalid: boolean; onChange: (v: Answer | undefined) => void }) {
  const { question: q, value, invalid, onChange } = props;
  const id = `q-${props.messageId}-${q.id}`;
  const required = q.required ? (
    <span className="required">
      {' '}
      <span aria-hidden="true">*</span>
      <span className="visually-hidden">(required)</span>
    </span>
  ) : null;
  const describedBy = invalid ? `${id}-error` : undefined;
  const problem = invalid && (
    <p id={`${id}-error`} className="error">
      This question needs an answer.
    </p>
  );

  if (q.type === 'text' || q.type === 'date') {
    return (
      <div className="field">
        <label htmlFor={id}>
          {q.label}
          {required}
        </label>
        {q.type === 'text' ? (
          <textarea id={id} className="ic-text" maxLength={1000} rows={3} value={typeof value === 'string' ? value : ''} aria-invalid={invalid || undefined} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input id={id} type="date" value={typeof value === 'string' ? value : ''} aria-invalid={invalid || undefined} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value || undefined)} />
        )}
        {problem}
      </div>
    );
  }

  // Choices, ratings and scales: a group of radios or checkboxes under the question as legend.
  const choices: { value: number; label: string }[] =
    q.type === 'rating'
      ? [1, 2, 3, 4, 5].map((n) => ({ value: n, label: String(n) }))
      : q.type === 'nps'
        ? Array.from({ length: 11 }, (_, n) => ({ value: n, label: String(n) }))
        : (q.options ?? []).map((label, i) => ({ value: i, label }));
  const multiple = q.type === 'multiple';
  const picked = Array.isArray(value) ? value : typeof value === 'number' ? [value] : [];
  const scale = q.type === 'rating' || q.type === 'nps';
  return (
    <fieldset className={`field question ${q.type}`} aria-invalid={invalid || undefined} aria-describedby={describedBy}>
      <legend id={id} tabIndex={-1}>
        {q.label}
        {required}
      </legend>
      {scale && (
        <p className="hint scale-ends" aria-hidden="true">
          <span>{q.type === 'nps' ? 'Not at all likely' : 'Poor'}</span>
          <span>{q.type === 'nps' ? 'Extremely likely' : 'Excellent'}</span>
        </p>
      )}
      <div className={scale ? 'scale' : 'choices'}>
        {choices.map((c) => (
          <label key={c.value} className={scale ? 'scale-choice' : 'choice'}>
            <input
              type={multiple ? 'checkbox' : 'radio'}
              name={id}
              value={c.value}
              checked={picked.includes(c.value)}
              onChange={(e) => {
                if (!multiple) onChange(c.value);
                else onChange(e.target.checked ? [...picked, c.value].sort((a, b) => a - b) : picked.filter((x) => x !== c.value));
              }}
            />
            <span className={scale ? 'scale-face' : undefined}>
              {q.type === 'rating' ? (
                <>
                  <span aria-hidden="true">{'★'.repeat(c.value)}</span>
                  <span className="visually-hidden">{c.value === 1 ? '1 star' : `${c.value} stars`}</span>
                </>
              ) : (
                c.label
              )}
            </span>
          </label>
        ))}
      </div>
      {problem}
    </fieldset>
  );
}

/** The sender's view: how many answered, per question counts or texts, and the CSV. */
function ResultsDialog({ message, form, onClose }: { message: Message; form: FormView; onClose: () => void }) {
  const store = useStoreRef();
  const [results, setResults] = useState<FormResults | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [csv, setCsv] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    formResults(store.client, message.id)
      .then((r) => live && setResults(r))
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [store, message.id]);
  useEffect(() => () => {
    if (csv) URL.revokeObjectURL(csv);
  }, [csv]);
  const download = async () => {
    try {
      const text = await formResultsCsv(store.client, message.id);
      const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
      setCsv(url);
      const a = document.createElement('a');
      a.href = url;
      a.download = `${form.title.replace(/[^\w-]+/g, '-').slice(0, 40) || 'form'}.csv`;
      a.click();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const byId = new Map((results?.questions ?? []).map((q) => [q.id, q]));
  const submissions = results?.submissions ?? form.submissions;
  return (
    <Dialog title={`Results: ${form.title}`} onClose={onClose} wide>
      <p>
        {submissions === 1 ? '1 submission' : `${submissions} submissions`}
        {results?.closed ? ' · closed' : ''}
      </p>
      <ErrorAlert error={error} />
      {!results && !error && <p className="hint">Loading…</p>}
      {results &&
        form.questions.map((q) => {
          const r = byId.get(q.id);
          const labels = q.type === 'rating' ? ['1 ★', '2 ★', '3 ★', '4 ★', '5 ★'] : q.type === 'nps' ? Array.from({ length: 11 }, (_, i) => String(i)) : (q.options ?? []);
          // Free answers (texts, dates) are listed from the submissions, newest first.
          const free = q.type === 'text' || q.type === 'date' ? results.responses.flatMap((s) => (typeof s.answers[q.id] === 'string' ? [{ handle: s.handle, text: s.answers[q.id] as string }] : [])) : [];
          return (
            <section key={q.id} className="form-result" aria-label={q.label}>
              <h3>{q.label}</h3>
              <p className="hint">
                {r ? `${r.answered} answered` : ''}
                {typeof r?.average === 'number' ? ` · average ${r.average.toFixed(1)}` : ''}
                {typeof r?.nps === 'number' ? ` · NPS ${Math.round(r.nps)}` : ''}
              </p>
              {r?.counts && (
                <ul className="poll-results">
                  {r.counts.map((n, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: counts follow the options' order
                    <li key={i} className="poll-result">
                      <div className="poll-row">
                        <span className="poll-line">
                          <span className="poll-text">{labels[i] ?? String(i)}</span>
                          <span className="poll-pct">{n}</span>
                        </span>
                        <span className="poll-bar" aria-hidden="true">
                          <span className="poll-fill" style={{ width: `${submissions ? Math.round((n / submissions) * 100) : 0}%` }} />
                        </span>
                      </div>
                    </li>
                  ))}
                </ul>
              )}
              {free.length > 0 && (
                <ul className="form-texts">
                  {free.slice(0, 100).map((f, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: answers may repeat; the list never reorders
                    <li key={i}>
                      <span className="hint">@{f.handle}:</span> {f.text}
                    </li>
                  ))}
                </ul>
              )}
            </section>
          );
        })}
      <div className="dialog-actions">
        <button type="button" onClick={() => void download()}>
          Download CSV
        </button>
      </div>
    </Dialog>
  );
}
