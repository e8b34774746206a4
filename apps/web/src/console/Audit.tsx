/**
 * The safety audit log: every decision, reveal, bank change, screening verdict and takedown, newest
 * first, filtered by action, actor (account id or @handle) and time range, and paged back with the
 * server's next_before cursor.
 */
import type { AuditAction, AuditEntry } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import { AUDIT_ACTION_LABELS, auditSummary, formatTime, fromLocalInput } from './format.ts';
import { ErrorAlert } from '../error-alert.tsx';

const PAGE = 50;

interface Filters {
  action?: string;
  actor?: string;
  since?: number;
  until?: number;
}

export function Audit() {
  const { client } = useSession();
  const [filters, setFilters] = useState<Filters>({});
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const id = useId();

  // Only the newest request's answer is shown: changing the filters mid-request drops the old one.
  const requestSeq = useRef(0);
  const load = useCallback(
    async (f: Filters, before?: number) => {
      const seq = ++requestSeq.current;
      setLoading(true);
      setError(null);
      try {
        const page = await client.audit({ ...f, limit: PAGE, ...(before ? { before } : {}) });
        if (seq !== requestSeq.current) return;
        setEntries((list) => (before && list ? [...list, ...page.entries] : page.entries));
        setNextBefore(page.next_before);
      } catch (err) {
        if (seq === requestSeq.current) setError(errorText(err));
      } finally {
        if (seq === requestSeq.current) setLoading(false);
      }
    },
    [client],
  );

  useEffect(() => {
    void load(filters);
  }, [load, filters]);

  function apply(event: FormEvent) {
    event.preventDefault();
    const s = fromLocalInput(since);
    const u = fromLocalInput(until);
    setFilters({
      ...(action ? { action } : {}),
      ...(actor.trim() ? { actor: actor.trim() } : {}),
      ...(s !== undefined ? { since: s } : {}),
      // "Until 14:30" includes the whole of that minute.
      ...(u !== undefined ? { until: u + 59_999 } : {}),
    });
  }

  function clear() {
    setAction('');
    setActor('');
    setSince('');
    setUntil('');
    setFilters({});
  }

  const filtered = Object.keys(filters).length > 0;
  return (
    <section aria-labelledby="audit-title">
      <div className="console-section-head">
        <h2 id="audit-title">Audit log</h2>
        <p className="hint">Every safety decision, who made it and when. Entries are never changed.</p>
      </div>
      <form className="audit-filters card" onSubmit={apply} aria-label="Filter the audit log">
        <div className="field">
          <label htmlFor={`${id}-action`}>Action</label>
          <select id={`${id}-action`} value={action} onChange={(e) => setAction(e.target.value)}>
            <option value="">Any action</option>
            {Object.entries(AUDIT_ACTION_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-actor`}>Actor</label>
          <input
            id={`${id}-actor`}
            placeholder="@handle or account id"
            maxLength={64}
            autoComplete="off"
            value={actor}
            onChange={(e) => setActor(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-since`}>From</label>
          <input
            id={`${id}-since`}
            type="datetime-local"
            value={since}
            onChange={(e) => setSince(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-until`}>Until</label>
          <input
            id={`${id}-until`}
            type="datetime-local"
            value={until}
            onChange={(e) => setUntil(e.target.value)}
          />
        </div>
        <div className="filter-buttons">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button type="button" onClick={clear} disabled={!filtered && !action && !actor && !since && !until}>
            Clear
          </button>
        </div>
      </form>

      <p className="hint" aria-live="polite">
        {entries === null || loading
          ? 'Loading…'
          : entries.length === 0
            ? filtered
              ? 'No entries match these filters.'
              : 'Nothing recorded yet.'
            : `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}${nextBefore !== null ? ' shown' : ''}${filtered ? ' matching the filters' : ''}.`}
      </p>
      <ErrorAlert error={error} />
      {entries && entries.length > 0 && (
        <div className="table-wrap">
          <table className="audit-table">
            <caption className="visually-hidden">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Subject</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td data-label="When">
                    <time dateTime={new Date(e.at).toISOString()}>{formatTime(e.at)}</time>
                  </td>
                  <td data-label="Action">
                    <span className="tag">{AUDIT_ACTION_LABELS[e.action as AuditAction] ?? e.action}</span>
                  </td>
                  <td data-label="Actor">
                    {e.actor_handle ? `@${e.actor_handle}` : e.actor_id ? e.actor_id : 'MMD'}
                  </td>
                  <td data-label="Subject" className="mono small">
                    {e.subject_type ? `${e.subject_type} ${e.subject_id ?? ''}` : '—'}
                  </td>
                  <td data-label="Details" className="small">
                    <Detail detail={e.detail} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {nextBefore !== null && (
        <button type="button" disabled={loading} onClick={() => load(filters, nextBefore)}>
          Show older entries
        </button>
      )}
    </section>
  );
}

/** The first few facts in one line; everything on request. */
function Detail({ detail }: { detail: Record<string, unknown> }) {
  if (Object.keys(detail).length === 0) return <span className="hint">—</span>;
  const summary = auditSummary(detail);
  return (
    <details className="detail">
      <summary>{summary || 'Details'}</summary>
      <pre>{JSON.stringify(detail, null, 2)}</pre>
    </details>
  );
}
