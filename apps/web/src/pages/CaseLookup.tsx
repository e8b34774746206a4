/**
 * Following a protection case by its reference. The submitter sees the case's state and dates,
 * nothing about what its hashes matched (that would tell anyone with a hash whether copies are
 * here). The view re-reads the case while it can still change: often while it is first checked,
 * then now and then while it waits for a moderator.
 */
import type { CaseStatus, ProtectCase } from '@mmd/sdk';
import { type FormEvent, useEffect, useState } from 'react';
import { anonymousClient, errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';

const STATUS_TEXT: Record<CaseStatus, string> = {
  received: 'Received: your fingerprints are stored and being checked',
  under_review:
    'Under review: anything matching your fingerprints is held for our moderators; nothing is removed until they confirm',
  action_taken:
    'Action taken: a moderator confirmed your case; matching copies were removed and new ones are blocked',
  closed: 'Closed: a moderator reviewed your case and took no action',
};

/** How often to re-read a case in each state (ms); decided cases no longer change. */
const POLL_MS: Record<CaseStatus, number | null> = {
  received: 2000,
  under_review: 15000,
  action_taken: null,
  closed: null,
};

export function CaseFacts({ found }: { found: ProtectCase }) {
  return (
    <dl className="facts">
      <dt>Status</dt>
      <dd data-testid="case-status" data-status={found.status}>
        {STATUS_TEXT[found.status]}
      </dd>
      <dt>Submitted</dt>
      <dd>{new Date(found.submitted_at).toLocaleString()}</dd>
      <dt>Last change</dt>
      <dd>{new Date(found.updated_at).toLocaleString()}</dd>
    </dl>
  );
}

/** Re-reads a case while its state can still change. */
export function useLiveCase(initial: ProtectCase | null): ProtectCase | null {
  const [current, setCurrent] = useState(initial);
  useEffect(() => setCurrent(initial), [initial]);
  const reference = current?.reference;
  const every = current ? POLL_MS[current.status] : null;
  useEffect(() => {
    if (!reference || every === null) return;
    let live = true;
    // A chain of timeouts, not an interval: a slow answer never overlaps the next question, and
    // each answer (whatever its state) schedules the next look at the pace its state needs.
    let timer: ReturnType<typeof setTimeout>;
    const look = () => {
      anonymousClient
        .protectStatus(reference)
        .then((found) => {
          // A poll answered after another case was looked up must not replace it.
          if (live && found.reference === reference) setCurrent(found);
        })
        .catch(() => {})
        .finally(() => {
          if (live) timer = setTimeout(look, every);
        });
    };
    timer = setTimeout(look, every);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [reference, every]);
  return current;
}

export function CaseLookup() {
  const [reference, setReference] = useState('');
  const [found, setFound] = useState<ProtectCase | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const live = useLiveCase(found);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFound(null);
    try {
      setFound(await anonymousClient.protectStatus(reference.trim().toUpperCase()));
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(
        status === 404 || status === 400
          ? 'No case has that reference. Check it and try again.'
          : errorText(err),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card case-lookup" aria-labelledby="case-title">
      <h2 id="case-title">Follow a case</h2>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="case-reference">Your case reference</label>
          <input
            id="case-reference"
            required
            autoComplete="off"
            spellCheck={false}
            value={reference}
            onChange={(e) => setReference(e.target.value)}
          />
        </div>
        <button type="submit" disabled={busy || !reference.trim()}>
          {busy ? 'Looking…' : 'Check status'}
        </button>
      </form>
      <div aria-live="polite">
        <ErrorAlert error={error} />
        {live && <CaseFacts found={live} />}
      </div>
    </section>
  );
}
