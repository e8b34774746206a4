/**
 * Following a protection case by its reference: the status, when it was last checked and how many
 * copies were removed. The result screen refreshes itself while the first check runs.
 */
import type { ProtectCase } from '@mmd/sdk';
import { type FormEvent, useEffect, useState } from 'react';
import { anonymousClient, errorText } from '../api.ts';

export function CaseFacts({ found }: { found: ProtectCase }) {
  return (
    <dl className="facts">
      <dt>Status</dt>
      <dd>{found.status === 'active' ? 'Active: copies are removed and new uploads are blocked' : 'Checking for copies already shared here'}</dd>
      <dt>Submitted</dt>
      <dd>{new Date(found.submitted_at).toLocaleString()}</dd>
      <dt>Last checked</dt>
      <dd>{found.last_checked_at ? new Date(found.last_checked_at).toLocaleString() : 'Not yet'}</dd>
      <dt>Copies removed so far</dt>
      <dd data-testid="copies-removed">{found.copies_removed}</dd>
    </dl>
  );
}

/** Re-reads a case every few seconds while it is still being checked. */
export function useLiveCase(initial: ProtectCase | null): ProtectCase | null {
  const [current, setCurrent] = useState(initial);
  useEffect(() => setCurrent(initial), [initial]);
  const reference = current?.reference;
  const checking = current?.status === 'checking';
  useEffect(() => {
    if (!reference || !checking) return;
    let live = true;
    const timer = setInterval(() => {
      anonymousClient
        .protectStatus(reference)
        // A poll answered after another case was looked up must not replace it.
        .then((found) => live && setCurrent(found))
        .catch(() => {});
    }, 3000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [reference, checking]);
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
      setFound(await anonymousClient.protectStatus(reference.trim()));
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(status === 404 || status === 400 ? 'No case has that reference. Check it and try again.' : errorText(err));
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
          <input id="case-reference" required autoComplete="off" spellCheck={false} value={reference} onChange={(e) => setReference(e.target.value)} />
        </div>
        <button type="submit" disabled={busy || !reference.trim()}>
          {busy ? 'Looking…' : 'Check status'}
        </button>
      </form>
      <div aria-live="polite">
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {live && <CaseFacts found={live} />}
      </div>
    </section>
  );
}
