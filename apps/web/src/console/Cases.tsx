/**
 * Protection cases: hashes someone sent from /protect, with what they matched here — uploads held
 * before delivery and copies already shared — shown blurred (revealing one is audited, one at a
 * time). Nothing a case matched is removed until a moderator confirms it: confirm takes every
 * item down and blocks the case's hashes; reject retires the hashes and releases what was held.
 */
import type { CaseDecisionReply, CaseDetail, CaseStatus } from '@mmd/sdk';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import { formatAgo, formatTime, plural } from './format.ts';
import { MediaPreview } from './Reviews.tsx';
import { usePolling } from './use-polling.ts';
import { NoteField } from './NoteField.tsx';
import { ErrorAlert } from '../error-alert.tsx';
import { OutcomeBanner } from './OutcomeBanner.tsx';
import { StatusFilter } from './StatusFilter.tsx';

const FILTERS: { status: CaseStatus; label: string }[] = [
  { status: 'under_review', label: 'Waiting for a decision' },
  { status: 'action_taken', label: 'Confirmed' },
  { status: 'closed', label: 'Rejected' },
];
const SOURCE_LABELS = { screening: 'New upload, held', sweep: 'Already shared, still visible' } as const;

interface Revealed {
  reviewId: string;
  mediaId: string;
  url: string;
}

export function Cases() {
  const { client } = useSession();
  const [status, setStatus] = useState<CaseStatus>('under_review');
  const [cases, setCases] = useState<CaseDetail[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<{ reference: string; reply: CaseDecisionReply } | null>(null);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [revealing, setRevealing] = useState<string | null>(null);
  const revealedUrl = useRef<string | null>(null);

  const statusNow = useRef(status);
  statusNow.current = status;
  const load = useCallback(async () => {
    try {
      const page = await client.cases({ status, limit: 50 });
      if (statusNow.current !== status) return;
      setCases(page.cases);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client, status]);
  const refresh = usePolling(load, 5000, status);

  const hide = useCallback(() => {
    if (revealedUrl.current) URL.revokeObjectURL(revealedUrl.current);
    revealedUrl.current = null;
    setRevealed(null);
  }, []);
  useEffect(() => hide, [hide]);

  async function reveal(reviewId: string, mediaId: string) {
    hide();
    setRevealing(`${reviewId}/${mediaId}`);
    try {
      const bytes = await client.revealMedia(reviewId, mediaId);
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/jpeg' }));
      revealedUrl.current = url;
      setRevealed({ reviewId, mediaId, url });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setRevealing(null);
    }
  }

  return (
    <section aria-labelledby="cases-title">
      <div className="console-section-head">
        <h2 id="cases-title">Protection cases</h2>
        <p className="hint">
          Hashes people sent from /protect, without an account. What they match is held, not removed, until
          you decide. Previews are blurred; revealing one is recorded in the audit log.
        </p>
      </div>
      <div aria-live="polite" className="console-live">
        {outcome && (
          <OutcomeBanner
            title={
              outcome.reply.case.status === 'action_taken'
                ? `Case confirmed: ${plural(outcome.reply.takedown?.media_removed ?? 0, 'copy', 'copies')} removed, its hashes now block`
                : `Case rejected: ${plural(outcome.reply.released, 'held item')} released`
            }
            onClose={() => setOutcome(null)}
          />
        )}
      </div>
      <StatusFilter
        value={status}
        options={FILTERS}
        onChange={(next) => {
          hide();
          setCases(null);
          setStatus(next);
        }}
      />
      <p className="hint queue-count" aria-live="polite">
        {cases === null
          ? 'Loading…'
          : cases.length === 0
            ? status === 'under_review'
              ? 'No case has matched anything here. New matches appear on their own.'
              : 'None.'
            : plural(cases.length, 'case')}
      </p>
      <ErrorAlert error={error} />
      {cases && cases.length > 0 && (
        <ul className="review-list">
          {cases.map((c) => (
            <li key={c.reference}>
              <CaseCard
                found={c}
                revealed={revealed}
                revealing={revealing}
                onReveal={reveal}
                onHide={hide}
                onDecided={async (reply) => {
                  hide();
                  setOutcome({ reference: c.reference, reply });
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

interface CardProps {
  found: CaseDetail;
  revealed: Revealed | null;
  revealing: string | null;
  onReveal: (reviewId: string, mediaId: string) => void;
  onHide: () => void;
  onDecided: (reply: CaseDecisionReply) => Promise<void>;
}

function CaseCard({ found, revealed, revealing, onReveal, onHide, onDecided }: CardProps) {
  const { client } = useSession();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState<'confirm' | 'reject' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const open = found.status === 'received' || found.status === 'under_review';

  async function decide(action: 'confirm' | 'reject') {
    setBusy(action);
    setError(null);
    try {
      await onDecided(
        await client.decideCase(found.reference, { action, ...(note.trim() ? { note: note.trim() } : {}) }),
      );
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <article className="review" aria-labelledby={titleId} data-case={found.reference}>
      <header className="review-head">
        <h3 id={titleId}>Case {found.reference}</h3>
        <ul className="tags" aria-label="About this case">
          <li className="tag">{plural(found.images, 'image')}</li>
          {found.videos > 0 && <li className="tag">{plural(found.videos, 'video')}</li>}
          <li className="tag tag-reason">{plural(found.item_count, 'match', 'matches')}</li>
        </ul>
        <p className="hint">
          Sent{' '}
          <time dateTime={new Date(found.submitted_at).toISOString()}>{formatAgo(found.submitted_at)}</time>
        </p>
      </header>
      {found.items.length > 0 && (
        <ul className="previews" aria-label="What it matched">
          {found.items.map((item, i) => (
            <li key={item.media_id}>
              {item.review_id ? (
                <MediaPreview
                  reviewId={item.review_id}
                  item={{ id: item.media_id, kind: item.kind, status: item.status, preview: item.preview }}
                  index={i + 1}
                  revealedUrl={revealed?.mediaId === item.media_id ? revealed.url : null}
                  revealing={revealing === `${item.review_id}/${item.media_id}`}
                  onReveal={() => onReveal(item.review_id!, item.media_id)}
                  onHide={onHide}
                />
              ) : (
                <p className="hint">No preview ({item.status})</p>
              )}
              <p className="hint">
                {SOURCE_LABELS[item.source]}
                {item.auto_action ? ' · removed automatically (a trusted bank matched it too)' : ''}
              </p>
            </li>
          ))}
        </ul>
      )}
      {open ? (
        <div className="review-actions">
          <NoteField value={note} onChange={setNote} />
          <div className="decision-buttons">
            <button
              type="button"
              className="danger"
              disabled={busy !== null}
              onClick={() => decide('confirm')}
            >
              {busy === 'confirm' ? 'Confirming…' : 'Confirm: take down and block'}
            </button>
            <button type="button" disabled={busy !== null} onClick={() => decide('reject')}>
              {busy === 'reject' ? 'Rejecting…' : 'Reject: release what it held'}
            </button>
          </div>
          <ErrorAlert error={error} />
        </div>
      ) : (
        <p className="decided">
          {found.status === 'action_taken' ? 'Confirmed' : 'Rejected'}
          {found.decided_at !== null && (
            <>
              {' '}
              <time dateTime={new Date(found.decided_at).toISOString()} title={formatTime(found.decided_at)}>
                {formatAgo(found.decided_at)}
              </time>
            </>
          )}
          {found.note ? `: ${found.note}` : '.'}
        </p>
      )}
    </article>
  );
}
