/**
 * Removal requests (the right to be forgotten): people asked for every copy of media they appear
 * in to be removed, by hashes their browser computed. Anyone can claim to be in any picture, so
 * nothing is removed until a moderator decides here, with reasons the requester sees: remove takes
 * down every copy the hashes match (and blocks them), decline removes nothing.
 */
import type { ErasureDetail, ErasureStatus } from '@mmd/sdk';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { useSession } from '../session.tsx';
import { formatAgo, plural } from './format.ts';
import { usePolling } from './use-polling.ts';
import { OutcomeBanner } from './OutcomeBanner.tsx';
import { StatusFilter } from './StatusFilter.tsx';

const FILTERS: { status: ErasureStatus; label: string }[] = [
  { status: 'pending', label: 'Waiting for a decision' },
  { status: 'removed', label: 'Removed' },
  { status: 'declined', label: 'Declined' },
];

export function Erasure() {
  const { client } = useSession();
  const [status, setStatus] = useState<ErasureStatus>('pending');
  const [requests, setRequests] = useState<ErasureDetail[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const statusNow = useRef(status);
  statusNow.current = status;

  const load = useCallback(async () => {
    try {
      const list = await client.erasureQueue({ status, limit: 50 });
      if (statusNow.current !== status) return;
      setRequests(list);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client, status]);
  const refresh = usePolling(load, 5000, status);

  return (
    <section aria-labelledby="erasure-title">
      <div className="console-section-head">
        <h2 id="erasure-title">Removal requests</h2>
        <p className="hint">
          People asking for every copy of media they appear in to be removed, by fingerprints alone. Anyone can
          claim to be in any picture: look at what it matches, then decide. Your reasons are shown to the
          requester and kept in the audit log.
        </p>
      </div>
      <div aria-live="polite" className="console-live">
        {outcome && (
          <OutcomeBanner title={outcome} onClose={() => setOutcome(null)} />
        )}
      </div>
      <StatusFilter
        value={status}
        options={FILTERS}
        onChange={(next) => {
          setRequests(null);
          setStatus(next);
        }}
      />
      <p className="hint queue-count" aria-live="polite">
        {requests === null ? 'Loading…' : requests.length === 0 ? 'None.' : plural(requests.length, 'request')}
      </p>
      <ErrorAlert error={error} />
      {requests && requests.length > 0 && (
        <ul className="review-list">
          {requests.map((r) => (
            <li key={r.id}>
              <ErasureCard
                found={r}
                onDecided={async (done) => {
                  setOutcome(
                    done.status === 'removed'
                      ? `Request ${done.id}: ${plural(done.copies_removed, 'copy', 'copies')} removed`
                      : `Request ${done.id} declined`,
                  );
                  await refresh();
                }}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ErasureCard({ found, onDecided }: { found: ErasureDetail; onDecided: (done: ErasureDetail) => Promise<void> }) {
  const { client } = useSession();
  const [reasons, setReasons] = useState('');
  const [busy, setBusy] = useState<'remove' | 'decline' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const reasonsId = useId();

  async function decide(action: 'remove' | 'decline') {
    if (!reasons.trim()) {
      setError('Write the reasons for your decision: the requester sees them.');
      return;
    }
    setBusy(action);
    setError(null);
    try {
      await onDecided(await client.decideErasure(found.id, { action, reasons: reasons.trim() }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <article className="review" aria-labelledby={titleId} data-erasure={found.id}>
      <header className="review-head">
        <h3 id={titleId}>Request {found.id}</h3>
        <ul className="tags" aria-label="About this request">
          <li className="tag">{found.requester === 'account' ? 'Signed-in person' : 'Protection case holder'}</li>
          <li className="tag">{plural(found.images, 'image')}</li>
          {found.videos > 0 && <li className="tag">{plural(found.videos, 'video')}</li>}
          {found.status === 'pending' && (
            <li className="tag tag-reason" data-testid="erasure-matching">
              {plural(found.matching.length, 'matching item')} here now
            </li>
          )}
        </ul>
        <p className="hint">
          Sent <time dateTime={new Date(found.submitted_at).toISOString()}>{formatAgo(found.submitted_at)}</time>
        </p>
        {found.note && <p className="erasure-note">“{found.note}”</p>}
      </header>
      {found.status === 'pending' && found.matching.length > 0 && (
        <ul className="previews" aria-label="What it matches here">
          {found.matching.slice(0, 12).map((mediaId, i) => (
            <li key={mediaId}>
              <BlurredMatch requestId={found.id} mediaId={mediaId} index={i + 1} />
            </li>
          ))}
        </ul>
      )}
      {found.status === 'pending' ? (
        <div className="review-actions">
          <div className="note-field">
            <label htmlFor={reasonsId}>Reasons (shown to the requester)</label>
            <textarea id={reasonsId} rows={2} maxLength={2000} value={reasons} onChange={(e) => setReasons(e.target.value)} />
          </div>
          <div className="decision-buttons">
            <button type="button" className="danger" disabled={busy !== null} onClick={() => decide('remove')}>
              {busy === 'remove' ? 'Removing…' : 'Remove every copy'}
            </button>
            <button type="button" disabled={busy !== null} onClick={() => decide('decline')}>
              {busy === 'decline' ? 'Declining…' : 'Decline'}
            </button>
          </div>
          <ErrorAlert error={error} />
        </div>
      ) : (
        <p className="decided">
          {found.status === 'removed' ? `Removed (${plural(found.copies_removed, 'copy', 'copies')})` : 'Declined'}
          {found.reasons ? `: ${found.reasons}` : '.'}
        </p>
      )}
    </article>
  );
}

/** A strongly blurred preview of an item the request matches (fetched with the moderator's token). */
function BlurredMatch({ requestId, mediaId, index }: { requestId: string; mediaId: string; index: number }) {
  const { client } = useSession();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let made: string | null = null;
    let live = true;
    client.erasurePreview(requestId, mediaId).then(
      (bytes) => {
        if (!live) return;
        made = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/jpeg' }));
        setUrl(made);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [client, requestId, mediaId]);
  return (
    <figure className="preview">
      <div className="preview-frame">
        {url ? <img src={url} alt={`Blurred preview of match ${index}`} /> : <p className="hint">{failed ? 'No preview' : 'Loading…'}</p>}
      </div>
    </figure>
  );
}
