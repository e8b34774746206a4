/**
 * Takedowns, newest first, with live progress: while one runs (started here, from the review
 * queue, or by another moderator) the list refreshes every second and shows copies found and
 * removed as the server records them. A form takes content down by message id, media id or pasted
 * hashes, with a reason for the record.
 */
import type { Bank, SharedCase, Takedown, TakedownRecord } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useId, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import { STAGE_LABELS, formatAgo, formatDuration, formatTime, plural } from './format.ts';
import { usePolling } from './use-polling.ts';
import { ErrorAlert } from '../error-alert.tsx';

const FAST_MS = 1000;
const SLOW_MS = 5000;

export function Takedowns() {
  const { client } = useSession();
  const [records, setRecords] = useState<TakedownRecord[] | null>(null);
  // Takedowns shared with peer platforms, by takedown id, with each peer's outcome.
  const [shared, setShared] = useState<Map<string, SharedCase>>(new Map());
  const [older, setOlder] = useState<TakedownRecord[]>([]);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const load = useCallback(async () => {
    try {
      const [page, cases] = await Promise.all([client.takedowns({ limit: 20 }), client.sharedCases({ limit: 50 }).catch(() => ({ cases: [] as SharedCase[] }))]);
      setRecords(page.takedowns);
      setShared(new Map(cases.cases.flatMap((c) => (c.takedown_id ? [[c.takedown_id, c] as const] : []))));
      setNextBefore((current) => (older.length > 0 ? current : page.next_before));
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client, older.length]);
  const running = (records ?? []).some((r) => r.status === 'running');
  const refresh = usePolling(load, running || submitting ? FAST_MS : SLOW_MS);

  async function loadOlder() {
    if (nextBefore === null) return;
    try {
      const page = await client.takedowns({ limit: 20, before: nextBefore });
      setOlder((list) => [...list, ...page.takedowns]);
      setNextBefore(page.next_before);
    } catch (err) {
      setError(errorText(err));
    }
  }

  const shown = records ? [...records, ...older.filter((o) => !records.some((r) => r.id === o.id))] : null;

  return (
    <section aria-labelledby="takedowns-title">
      <div className="console-section-head">
        <h2 id="takedowns-title">Takedowns</h2>
        <p className="hint">
          A takedown removes the item, its exact copies and near-duplicates from every conversation, and banks
          its hashes so it cannot come back.
        </p>
      </div>
      <div className="takedowns-layout">
        <div>
          <p className="hint" aria-live="polite">
            {shown === null
              ? 'Loading…'
              : running
                ? 'A takedown is running; figures update live.'
                : shown.length === 0
                  ? 'No takedowns yet.'
                  : ''}
          </p>
          <ErrorAlert error={error} />
          {shown && shown.length > 0 && (
            <ul className="takedown-list">
              {shown.map((record) => (
                <li key={record.id}>
                  <TakedownCard record={record} shared={shared.get(record.id)} refresh={refresh} />
                </li>
              ))}
            </ul>
          )}
          {nextBefore !== null && (
            <button type="button" onClick={loadOlder}>
              Show older takedowns
            </button>
          )}
        </div>
        <aside className="card" aria-labelledby="manual-title">
          <h3 id="manual-title">Take something down</h3>
          <ManualTakedown
            onStart={() => setSubmitting(true)}
            onEnd={() => setSubmitting(false)}
            refresh={refresh}
          />
        </aside>
      </div>
    </section>
  );
}

const OUTCOME_LABELS: Record<string, string> = {
  pending: 'Not delivered yet',
  sent: 'Delivered',
  received: 'Received',
  under_review: 'Under review',
  removed: 'Removed',
  blocked: 'Blocked',
  dismissed: 'Dismissed',
};

/** Where a takedown went beyond this instance: each peer platform's latest answer, and withdrawing it. */
function SharedWithPeers({ shared, refresh }: { shared: SharedCase; refresh: () => Promise<void> }) {
  const { client } = useSession();
  const [error, setError] = useState<string | null>(null);
  async function withdraw() {
    if (!window.confirm('Withdraw this case from every peer platform? They release what it held.')) return;
    try {
      await client.retractShared(shared.id);
      await refresh();
    } catch (err) {
      setError(errorText(err));
    }
  }
  return (
    <div className="shared-peers">
      <h4>{shared.status === 'retracted' ? 'Withdrawn from peer platforms' : 'Shared with peer platforms'}</h4>
      <ul>
        {shared.peers.map((p) => (
          <li key={p.peer_id}>
            {p.peer_name}: {OUTCOME_LABELS[p.outcome ?? 'pending'] ?? p.outcome}
            {p.copies > 0 ? ` (${plural(p.copies, 'copy', 'copies')})` : ''}
          </li>
        ))}
      </ul>
      <ErrorAlert error={error} />
      {shared.status === 'shared' && (
        <button type="button" onClick={withdraw}>
          Withdraw from peers
        </button>
      )}
    </div>
  );
}

function TakedownCard({ record, shared, refresh }: { record: TakedownRecord; shared: SharedCase | undefined; refresh: () => Promise<void> }) {
  const titleId = useId();
  const statusLabel =
    record.status === 'running' ? STAGE_LABELS[record.stage] : record.status === 'done' ? 'Done' : 'Failed';
  return (
    <article
      className={`takedown card ${record.status}`}
      aria-labelledby={titleId}
      aria-busy={record.status === 'running'}
    >
      <header className="takedown-head">
        <h3 id={titleId}>{record.reason}</h3>
        <span className={`tag status-${record.status}`}>{statusLabel}</span>
      </header>
      <p className="hint">
        <time dateTime={new Date(record.started_at).toISOString()} title={formatTime(record.started_at)}>
          {formatAgo(record.started_at)}
        </time>
        {record.actor_handle ? ` by @${record.actor_handle}` : record.actor_id ? '' : ' by MMD'}
        {record.review_id ? ' · from a review' : ''}
        {record.bank_name ? ` · hashes into “${record.bank_name}”` : ''}
      </p>
      {record.status === 'running' && (
        <div className="progress-line">
          <label htmlFor={`${titleId}-progress`}>
            {record.copies_found === null
              ? 'Finding copies…'
              : `Removing: ${record.media_removed} of ${plural(record.copies_found, 'copy', 'copies')}`}
          </label>
          <progress
            id={`${titleId}-progress`}
            max={record.copies_found ?? undefined}
            value={record.copies_found === null ? undefined : record.media_removed}
          />
        </div>
      )}
      <dl className="figures">
        <div>
          <dt>Copies found</dt>
          <dd>{record.copies_found ?? '…'}</dd>
        </div>
        <div>
          <dt>Copies removed</dt>
          <dd>{record.media_removed}</dd>
        </div>
        <div>
          <dt>Messages removed</dt>
          <dd>{record.messages_removed}</dd>
        </div>
        <div>
          <dt>Conversations</dt>
          <dd>{record.conversations}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{record.duration_ms === null ? '…' : formatDuration(record.duration_ms)}</dd>
        </div>
      </dl>
      {record.error && <p className="error">{record.error}</p>}
      {shared && <SharedWithPeers shared={shared} refresh={refresh} />}
    </article>
  );
}

type Target = 'message' | 'media' | 'hashes';
type HashType = 'pdq' | 'sha256' | 'md5';

function ManualTakedown({
  onStart,
  onEnd,
  refresh,
}: {
  onStart: () => void;
  onEnd: () => void;
  refresh: () => Promise<void>;
}) {
  const { client } = useSession();
  const [target, setTarget] = useState<Target>('message');
  const [value, setValue] = useState('');
  const [hashType, setHashType] = useState<HashType>('pdq');
  const [bankId, setBankId] = useState('');
  const [reason, setReason] = useState('');
  const [banks, setBanks] = useState<Bank[]>([]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Takedown | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  useEffect(() => {
    client.banks().then(setBanks, () => {});
  }, [client]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setResult(null);
    const trimmed = value.trim();
    const body = {
      reason: reason.trim(),
      ...(bankId ? { bank_id: bankId } : {}),
      ...(target === 'message' ? { message_id: trimmed } : {}),
      ...(target === 'media' ? { media_id: trimmed } : {}),
      ...(target === 'hashes'
        ? {
            hashes: trimmed
              .split(/[\s,]+/)
              .filter(Boolean)
              .map((h) => ({ type: hashType, value: h })),
          }
        : {}),
    };
    setBusy(true);
    onStart();
    // The reply comes when the takedown is over; meanwhile the list (polling fast) shows its progress.
    try {
      setResult(await client.takedown(body));
      setValue('');
      setReason('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
      onEnd();
      await refresh();
    }
  }

  const what = target === 'message' ? 'Message id' : target === 'media' ? 'Media id' : 'Hashes, one per line';
  return (
    <form onSubmit={submit}>
      <fieldset className="choice">
        <legend>Take down by</legend>
        {(['message', 'media', 'hashes'] as const).map((t) => (
          <label key={t} className="inline">
            <input
              type="radio"
              name={`${id}-target`}
              value={t}
              checked={target === t}
              onChange={() => setTarget(t)}
            />
            {t === 'message' ? 'Message id' : t === 'media' ? 'Media id' : 'Pasted hashes'}
          </label>
        ))}
      </fieldset>
      {target === 'hashes' && (
        <div className="field">
          <label htmlFor={`${id}-type`}>Hash type</label>
          <select
            id={`${id}-type`}
            value={hashType}
            onChange={(e) => setHashType(e.target.value as HashType)}
          >
            <option value="pdq">PDQ</option>
            <option value="sha256">SHA-256</option>
            <option value="md5">MD5</option>
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-value`}>{what}</label>
        {target === 'hashes' ? (
          <textarea
            id={`${id}-value`}
            className="mono"
            rows={3}
            required
            spellCheck={false}
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        ) : (
          <input
            id={`${id}-value`}
            className="mono"
            required
            maxLength={64}
            spellCheck={false}
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        )}
      </div>
      <div className="field">
        <label htmlFor={`${id}-bank`}>Bank for the hashes</label>
        <select id={`${id}-bank`} value={bankId} onChange={(e) => setBankId(e.target.value)}>
          <option value="">MMD’s takedown bank</option>
          {banks
            .filter((b) => b.system === null)
            .map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-reason`}>Reason (for the record)</label>
        <input
          id={`${id}-reason`}
          required
          maxLength={1000}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </div>
      <ErrorAlert error={error} />
      <button type="submit" className="primary danger" disabled={busy}>
        {busy ? 'Taking down…' : 'Take down everywhere'}
      </button>
      <p className="hint" aria-live="polite">
        {result &&
          `Done: ${plural(result.copies.length, 'copy', 'copies')} found, ${result.media_removed} removed, ${plural(
            result.messages_removed,
            'message',
          )} in ${plural(result.conversations, 'conversation')}, in ${formatDuration(result.duration_ms)}.${
            result.queued_for_review > 0
              ? ` ${result.queued_for_review} found only as crops: queued for review, not removed.`
              : ''
          }`}
      </p>
    </form>
  );
}
