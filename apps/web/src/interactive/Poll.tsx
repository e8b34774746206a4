/**
 * A poll or quiz in a message. Before voting: the options (a tap votes; with several answers,
 * tick them and press Vote). After voting, or once closed: live bars (counts arrive as small
 * `poll.updated` events, never the whole message), my choice ticked, and, for a quiz, the right
 * answer and its explanation. Votes change with a tap and can be taken back; public polls show
 * who voted; the sender closes theirs.
 */
import type { Message } from '@mmd/sdk';
import { type FormEvent, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { useStoreRef } from '../messenger/context.ts';
import { Dialog } from '../messenger/Dialog.tsx';
import { fullDate } from '../messenger/format.ts';
import { closeInteractive, pollVoters, type Voter } from './api.ts';
import type { PollView } from './types.ts';
import { ErrorAlert } from '../error-alert.tsx';

function percent(votes: number, voters: number): number {
  return voters > 0 ? Math.round((votes / voters) * 100) : 0;
}

function votesText(n: number): string {
  return n === 1 ? '1 vote' : `${n.toLocaleString()} votes`;
}

export function PollCard({ message, poll, mine }: { message: Message; poll: PollView; mine: boolean }) {
  const store = useStoreRef();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ticked, setTicked] = useState<number[]>(poll.my_votes);
  const [changing, setChanging] = useState(false);
  const [showVoters, setShowVoters] = useState(false);
  // A closing time that has passed closes the poll here too, before the server's event arrives.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!poll.closes_at || poll.closed) return;
    const wait = poll.closes_at - Date.now();
    if (wait <= 0) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.min(wait + 50, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [poll.closes_at, poll.closed]);
  const closed = poll.closed || (poll.closes_at !== null && poll.closes_at <= now);
  const voted = poll.my_votes.length > 0;
  const delivered = message.status === 'sent' && !message.deleted;
  const canVote = delivered && !closed && (!voted || (!poll.quiz && (changing || !poll.multiple)));
  const showResults = (voted || closed) && !changing;
  const questionId = `poll-${message.id}`;

  const vote = async (options: number[]) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await store.interact(message, { kind: 'poll', options });
      setChanging(false);
      setTicked(options);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const close = async () => {
    setBusy(true);
    setError(null);
    try {
      store.applyReply(message, await closeInteractive(store.client, message.id));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const kind = [
    poll.quiz ? 'Quiz' : poll.anonymous ? 'Anonymous poll' : 'Public poll',
    poll.quiz && !poll.anonymous ? 'public' : null,
    poll.multiple ? 'several answers' : null,
  ]
    .filter(Boolean)
    .join(' · ');

  return (
    <div className={`ic-poll${closed ? ' closed' : ''}`}>
      <p className="poll-kind">{kind}</p>
      <p className="poll-question" id={questionId}>
        {poll.question}
      </p>
      {showResults ? (
        <ul className="poll-results" aria-label="Results">
          {poll.options.map((option, i) => {
            const pct = percent(option.votes, poll.voters);
            const chosen = poll.my_votes.includes(i);
            const correct = poll.quiz?.correct === i;
            const wrong = poll.quiz !== null && poll.quiz.correct !== null && chosen && !correct;
            const content = (
              <>
                <span className="poll-line">
                  <span className="poll-mark" aria-hidden="true">
                    {correct ? '✓' : wrong ? '✗' : chosen ? '●' : ''}
                  </span>
                  <span className="poll-text">{option.text}</span>
                  <span className="poll-pct">{pct}%</span>
                </span>
                <span className="poll-bar" aria-hidden="true">
                  <span className="poll-fill" style={{ width: `${pct}%` }} />
                </span>
                <span className="visually-hidden">
                  , {votesText(option.votes)}
                  {chosen ? ', your vote' : ''}
                  {correct ? ', the right answer' : ''}
                </span>
              </>
            );
            const rowClass = `poll-result${chosen ? ' chosen' : ''}${correct ? ' correct' : ''}${wrong ? ' wrong' : ''}`;
            // One answer, still open, not a quiz: a tap on another row moves my vote there.
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: options never reorder; their index is their identity
              <li key={i} className={rowClass}>
                {!closed && delivered && !poll.quiz && !poll.multiple ? (
                  <button type="button" className="poll-row" aria-pressed={chosen} disabled={busy} onClick={() => !chosen && void vote([i])}>
                    {content}
                  </button>
                ) : (
                  <div className="poll-row">{content}</div>
                )}
              </li>
            );
          })}
        </ul>
      ) : poll.multiple ? (
        <form
          className="poll-choices"
          onSubmit={(event: FormEvent) => {
            event.preventDefault();
            if (ticked.length) void vote(ticked);
          }}
        >
          <fieldset disabled={!canVote || busy}>
            <legend className="visually-hidden">{poll.question}</legend>
            {poll.options.map((option, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: options never reorder
              <label key={i} className="poll-choice">
                <input
                  type="checkbox"
                  checked={ticked.includes(i)}
                  onChange={(e) => setTicked((now) => (e.target.checked ? [...now, i].sort((a, b) => a - b) : now.filter((x) => x !== i)))}
                />
                <span>{option.text}</span>
              </label>
            ))}
          </fieldset>
          <button type="submit" className="poll-vote" disabled={!canVote || busy || ticked.length === 0}>
            Vote
          </button>
        </form>
      ) : (
        <ul className="poll-choices">
          {poll.options.map((option, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: options never reorder
            <li key={i}>
              <button type="button" className="poll-option" disabled={!canVote || busy} onClick={() => void vote([i])}>
                {option.text}
              </button>
            </li>
          ))}
        </ul>
      )}
      {poll.quiz?.explanation && voted && showResults && (
        <p className="poll-explanation" role="note">
          <span aria-hidden="true">💡 </span>
          {poll.quiz.explanation}
        </p>
      )}
      <ErrorAlert error={error} />
      <div className="poll-footer">
        <span className="poll-voters">
          {poll.voters === 1 ? '1 voter' : `${poll.voters.toLocaleString()} voters`}
          {closed ? ' · Closed' : poll.closes_at ? ` · closes ${fullDate(poll.closes_at)}` : ''}
        </span>
        {!poll.anonymous && poll.voters > 0 && (
          <button type="button" className="link" onClick={() => setShowVoters(true)}>
            View votes
          </button>
        )}
        {voted && !closed && !poll.quiz && delivered && (
          <>
            {poll.multiple && (
              <button
                type="button"
                className="link"
                onClick={() => {
                  setTicked(poll.my_votes);
                  setChanging((v) => !v);
                }}
              >
                {changing ? 'Keep my vote' : 'Change vote'}
              </button>
            )}
            <button type="button" className="link" disabled={busy} onClick={() => void vote([])}>
              Retract vote
            </button>
          </>
        )}
        {mine && !closed && delivered && (
          <button type="button" className="link" disabled={busy} onClick={() => void close()}>
            Close poll
          </button>
        )}
      </div>
      {showVoters && <VotersDialog message={message} poll={poll} onClose={() => setShowVoters(false)} />}
    </div>
  );
}

/** Who chose what, in a public poll. */
function VotersDialog({ message, poll, onClose }: { message: Message; poll: PollView; onClose: () => void }) {
  const store = useStoreRef();
  const [voters, setVoters] = useState<(Voter[] | null)[]>(() => poll.options.map(() => null));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    poll.options.forEach((option, i) => {
      if (option.votes === 0) {
        setVoters((now) => now.map((v, j) => (j === i ? [] : v)));
        return;
      }
      pollVoters(store.client, message.id, i)
        .then((list) => live && setVoters((now) => now.map((v, j) => (j === i ? list : v))))
        .catch((err: unknown) => live && setError(errorText(err)));
    });
    return () => {
      live = false;
    };
  }, [store, message.id, poll.options]);
  return (
    <Dialog title="Votes" onClose={onClose}>
      <p className="hint">{poll.question}</p>
      <ErrorAlert error={error} />
      <div className="voters">
        {poll.options.map((option, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: options never reorder
          <section key={i} aria-label={option.text}>
            <h3>
              {option.text} <span className="hint">· {votesText(option.votes)}</span>
            </h3>
            {voters[i] === null ? (
              <p className="hint">Loading…</p>
            ) : voters[i]!.length === 0 ? (
              <p className="hint">Nobody yet</p>
            ) : (
              <ul>
                {voters[i]!.map((v) => (
                  <li key={v.account_id}>@{v.handle}</li>
                ))}
              </ul>
            )}
          </section>
        ))}
      </div>
    </Dialog>
  );
}
