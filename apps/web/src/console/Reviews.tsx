/**
 * The review queue: reported messages and held uploads, newest first, in three tabs (open,
 * escalated, closed), refreshed every few seconds so new reports appear on their own. Media is
 * shown strongly blurred; "Reveal" fetches the real preview (the server audits every reveal) and
 * only one item is ever revealed at a time. Take down, dismiss and escalate are one click each,
 * and a takedown's figures are announced when it finishes.
 */
import type { DecisionReply, Review } from '@mmd/sdk';
import { type KeyboardEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import {
  CATEGORY_LABELS,
  REASON_LABELS,
  conversationKindLabel,
  formatAgo,
  formatDuration,
  formatTime,
  plural,
} from './format.ts';
import { usePolling } from './use-polling.ts';
import { NoteField } from './NoteField.tsx';
import { ErrorAlert } from '../error-alert.tsx';
import { ProvenanceLabels } from '../media/ProvenanceLabels.tsx';
import { OutcomeBanner } from './OutcomeBanner.tsx';

type QueueStatus = Review['status'];
const TABS: { status: QueueStatus; label: string }[] = [
  { status: 'open', label: 'Open' },
  { status: 'escalated', label: 'Escalated' },
  { status: 'closed', label: 'Closed' },
];
const POLL_MS = 3000;

interface Revealed {
  reviewId: string;
  mediaId: string;
  url: string;
}

interface Outcome {
  reviewId: string;
  reply: DecisionReply;
  action: 'takedown' | 'dismiss' | 'escalate';
}

export function Reviews() {
  const { client, me } = useSession();
  const [status, setStatus] = useState<QueueStatus>('open');
  const [reviews, setReviews] = useState<Review[] | null>(null);
  const [older, setOlder] = useState<Review[]>([]);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [revealing, setRevealing] = useState<string | null>(null);
  const [revealError, setRevealError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const revealedUrl = useRef<string | null>(null);
  const revealSeq = useRef(0);
  const tabIds = useId();

  // A poll that was in flight when the tab changed must not fill the new tab with the old list.
  const statusNow = useRef(status);
  statusNow.current = status;
  const load = useCallback(async () => {
    try {
      const page = await client.reviews({ status, limit: 50 });
      if (statusNow.current !== status) return;
      setReviews(page.reviews);
      setNextBefore((current) => (older.length > 0 ? current : page.next_before));
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client, status, older.length]);
  const refresh = usePolling(load, POLL_MS, status);

  const hide = useCallback(() => {
    revealSeq.current++;
    if (revealedUrl.current) URL.revokeObjectURL(revealedUrl.current);
    revealedUrl.current = null;
    setRevealed(null);
    setRevealing(null);
  }, []);
  useEffect(() => hide, [hide]);

  async function reveal(reviewId: string, mediaId: string) {
    // Revealing one item hides the one shown before, even while this one loads.
    hide();
    const seq = revealSeq.current;
    setRevealing(`${reviewId}/${mediaId}`);
    setRevealError(null);
    try {
      const bytes = await client.revealMedia(reviewId, mediaId);
      if (seq !== revealSeq.current) return;
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/jpeg' }));
      revealedUrl.current = url;
      setRevealed({ reviewId, mediaId, url });
    } catch (err) {
      if (seq === revealSeq.current) setRevealError(errorText(err));
    } finally {
      if (seq === revealSeq.current) setRevealing(null);
    }
  }

  function switchTo(next: QueueStatus) {
    if (next === status) return;
    hide();
    setStatus(next);
    setReviews(null);
    setOlder([]);
    setNextBefore(null);
  }

  function onTabKey(event: KeyboardEvent<HTMLButtonElement>, index: number) {
    const keys: Record<string, number> = {
      ArrowRight: (index + 1) % TABS.length,
      ArrowLeft: (index + TABS.length - 1) % TABS.length,
      Home: 0,
      End: TABS.length - 1,
    };
    const target = keys[event.key];
    if (target === undefined) return;
    event.preventDefault();
    switchTo(TABS[target]!.status);
    document.getElementById(`${tabIds}-${TABS[target]!.status}`)?.focus();
  }

  async function loadOlder() {
    if (nextBefore === null) return;
    try {
      const page = await client.reviews({ status, limit: 50, before: nextBefore });
      setOlder((list) => [...list, ...page.reviews]);
      setNextBefore(page.next_before);
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function decided(review: Review, action: Outcome['action'], reply: DecisionReply) {
    if (revealed?.reviewId === review.id) hide();
    setOutcome({ reviewId: review.id, reply, action });
    await refresh();
  }

  const shown = reviews ? [...reviews, ...older.filter((o) => !reviews.some((r) => r.id === o.id))] : null;

  return (
    <section aria-labelledby="reviews-title">
      <div className="console-section-head">
        <h2 id="reviews-title">Review queue</h2>
        <p className="hint">Previews are blurred. Revealing one is recorded in the audit log.</p>
      </div>

      <div aria-live="polite" className="console-live">
        {outcome && <OutcomeNote outcome={outcome} onDismiss={() => setOutcome(null)} />}
      </div>

      <div role="tablist" aria-label="Reviews by status" className="queue-tabs">
        {TABS.map((tab, index) => (
          <button
            key={tab.status}
            id={`${tabIds}-${tab.status}`}
            type="button"
            role="tab"
            aria-selected={tab.status === status}
            aria-controls={`${tabIds}-panel`}
            tabIndex={tab.status === status ? 0 : -1}
            onClick={() => switchTo(tab.status)}
            onKeyDown={(e) => onTabKey(e, index)}
          >
            {tab.label}
          </button>
        ))}
      </div>

      <div
        id={`${tabIds}-panel`}
        role="tabpanel"
        aria-labelledby={`${tabIds}-${status}`}
        className="queue-panel"
      >
        <p className="hint queue-count" aria-live="polite">
          {shown === null
            ? 'Loading…'
            : shown.length === 0
              ? status === 'open'
                ? 'Nothing to review. New reports appear here on their own.'
                : `No ${status} reviews.`
              : `${plural(shown.length, `${status} review`)}${nextBefore !== null ? ' shown' : ''}`}
        </p>
        <ErrorAlert error={error} />
        {revealError && (
          <p className="error" role="alert">
            Could not reveal: {revealError}
          </p>
        )}
        {shown && shown.length > 0 && (
          <ul className="review-list">
            {shown.map((review) => (
              <li key={review.id}>
                <ReviewCard
                  review={review}
                  isAdmin={me.role === 'admin'}
                  myId={me.id}
                  revealed={revealed?.reviewId === review.id ? revealed : null}
                  revealing={revealing}
                  onReveal={(mediaId) => reveal(review.id, mediaId)}
                  onHide={hide}
                  onDecided={(action, reply) => decided(review, action, reply)}
                />
              </li>
            ))}
          </ul>
        )}
        {nextBefore !== null && (
          <button type="button" onClick={loadOlder}>
            Show older reviews
          </button>
        )}
      </div>
    </section>
  );
}

function OutcomeNote({ outcome, onDismiss }: { outcome: Outcome; onDismiss: () => void }) {
  const { reply, action } = outcome;
  const t = reply.takedown;
  return (
    <OutcomeBanner
      className={action}
      title={action === 'takedown' ? 'Taken down everywhere' : action === 'dismiss' ? 'Dismissed: no action taken' : 'Escalated to an admin'}
      onClose={onDismiss}
    >
      {t && (
        <dl className="figures" aria-label="Takedown result">
          <div>
            <dt>Copies found</dt>
            <dd>{t.copies.length}</dd>
          </div>
          <div>
            <dt>Copies removed</dt>
            <dd>{t.media_removed}</dd>
          </div>
          <div>
            <dt>Messages removed</dt>
            <dd>{t.messages_removed}</dd>
          </div>
          <div>
            <dt>Conversations</dt>
            <dd>{t.conversations}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(t.duration_ms)}</dd>
          </div>
        </dl>
      )}
      {t && (
        <p className="hint">
          Its hashes joined the bank, so new uploads of it are refused. Reporters have been told.
        </p>
      )}
    </OutcomeBanner>
  );
}

interface CardProps {
  review: Review;
  isAdmin: boolean;
  myId: string;
  revealed: Revealed | null;
  revealing: string | null;
  onReveal: (mediaId: string) => void;
  onHide: () => void;
  onDecided: (action: Outcome['action'], reply: DecisionReply) => Promise<void>;
}

function ReviewCard({ review, isAdmin, myId, revealed, revealing, onReveal, onHide, onDecided }: CardProps) {
  const { client } = useSession();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState<Outcome['action'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const m = review.message;

  async function decide(action: Outcome['action']) {
    setBusy(action);
    setError(null);
    try {
      const reply = await client.decideReview(review.id, {
        action,
        ...(note.trim() ? { note: note.trim() } : {}),
      });
      await onDecided(action, reply);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  const title =
    review.kind === 'hold'
      ? `Held upload${review.bank ? ` · matched “${review.bank.name}”` : ''}`
      : `Reported ${m ? conversationKindLabel(m.conversation_kind).toLowerCase() : ''} message`;
  const reasons =
    review.reasons.length > 0
      ? review.reasons.map((r) => `${REASON_LABELS[r.reason]}${r.count > 1 ? ` ×${r.count}` : ''}`)
      : [
          review.bank
            ? CATEGORY_LABELS[review.bank.category]
            : (REASON_LABELS[review.reason as keyof typeof REASON_LABELS] ?? review.reason),
        ];
  const canDecide = review.status === 'open' || (review.status === 'escalated' && isAdmin);

  return (
    <article className={`review ${review.status}`} aria-labelledby={titleId}>
      <header className="review-head">
        <h3 id={titleId}>{title}</h3>
        <ul className="tags" aria-label="Reasons">
          {reasons.map((r) => (
            <li key={r} className="tag tag-reason">
              {r}
            </li>
          ))}
          {review.kind === 'report' && <li className="tag">{plural(review.report_count, 'report')}</li>}
          {review.status === 'escalated' && <li className="tag tag-warn">Escalated</li>}
        </ul>
        <p className="hint">
          Queued{' '}
          <time dateTime={new Date(review.created_at).toISOString()}>{formatAgo(review.created_at)}</time>
        </p>
      </header>

      <div className="review-body">
        {review.media.length > 0 && (
          <ul className="previews" aria-label="Media">
            {review.media.map((item, i) => (
              <li key={item.id}>
                <MediaPreview
                  reviewId={review.id}
                  item={item}
                  index={i + 1}
                  revealedUrl={revealed?.mediaId === item.id ? revealed.url : null}
                  revealing={revealing === `${review.id}/${item.id}`}
                  onReveal={() => onReveal(item.id)}
                  onHide={onHide}
                />
                {item.provenance && <ProvenanceLabels labels={item.provenance.labels} />}
              </li>
            ))}
          </ul>
        )}
        <div className="review-context">
          {m ? (
            <dl className="facts-grid">
              <div>
                <dt>Sender</dt>
                <dd>@{m.sender_handle}</dd>
              </div>
              <div>
                <dt>Where</dt>
                <dd>{conversationKindLabel(m.conversation_kind)}</dd>
              </div>
              <div>
                <dt>Sent</dt>
                <dd>
                  <time dateTime={new Date(m.created_at).toISOString()}>{formatTime(m.created_at)}</time>
                </dd>
              </div>
              <div className="facts-wide">
                <dt>Message</dt>
                <dd className="message-text">
                  {m.deleted ? <em>Deleted</em> : m.text ? m.text : <em>No text</em>}
                </dd>
              </div>
            </dl>
          ) : (
            <p className="hint">An upload held before delivery; no message has carried it yet.</p>
          )}
          {review.notes.length > 0 && (
            <div className="notes">
              <h4>Reporters’ notes</h4>
              <ul>
                {review.notes.map((n, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: notes have no id and never reorder
                  <li key={i}>
                    <q>{n}</q>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      </div>

      {review.status === 'closed' ? (
        <p className="decided">
          {review.outcome === 'takedown' ? 'Taken down' : 'Dismissed'}
          {review.decided_at !== null && ` ${formatAgo(review.decided_at)}`}
          {review.decided_by && (review.decided_by === myId ? ' by you' : '')}.
        </p>
      ) : (
        <div className="review-actions">
          {canDecide ? (
            <>
              <NoteField value={note} onChange={setNote} />
              <div className="decision-buttons">
                <button
                  type="button"
                  className="danger"
                  disabled={busy !== null}
                  onClick={() => decide('takedown')}
                >
                  {busy === 'takedown' ? 'Taking down…' : 'Take down'}
                </button>
                <button type="button" disabled={busy !== null} onClick={() => decide('dismiss')}>
                  {busy === 'dismiss' ? 'Dismissing…' : 'Dismiss'}
                </button>
                {review.status === 'open' && (
                  <button type="button" disabled={busy !== null} onClick={() => decide('escalate')}>
                    {busy === 'escalate' ? 'Escalating…' : 'Escalate'}
                  </button>
                )}
              </div>
            </>
          ) : (
            <p className="hint">Escalated reviews are decided by an admin.</p>
          )}
          <ErrorAlert error={error} />
        </div>
      )}
    </article>
  );
}

interface PreviewProps {
  reviewId: string;
  item: Review['media'][number];
  index: number;
  revealedUrl: string | null;
  revealing: boolean;
  onReveal: () => void;
  onHide: () => void;
}

/** One item: its blurred preview (fetched once), or the real one while revealed. */
export function MediaPreview({
  reviewId,
  item,
  index,
  revealedUrl,
  revealing,
  onReveal,
  onHide,
}: PreviewProps) {
  const { client } = useSession();
  const [blurred, setBlurred] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const hasPreview = item.preview !== null;

  useEffect(() => {
    if (!hasPreview) return;
    let url: string | null = null;
    let live = true;
    client.reviewPreview(reviewId, item.id).then(
      (bytes) => {
        if (!live) return;
        url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/jpeg' }));
        setBlurred(url);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [client, reviewId, item.id, hasPreview]);

  const kind = item.kind ?? 'file';
  const what = `${kind} ${index}`;
  const shown = revealedUrl ?? blurred;
  return (
    <figure className={`preview${revealedUrl ? ' revealed' : ''}`}>
      <div className="preview-frame">
        {shown ? (
          <img src={shown} alt={revealedUrl ? `Revealed preview of ${what}` : `Blurred preview of ${what}`} />
        ) : (
          <span className="preview-empty">
            {!hasPreview ? `No preview (${item.status})` : failed ? 'Preview unavailable' : 'Loading…'}
          </span>
        )}
        {revealedUrl && <span className="preview-badge">Revealed · audited</span>}
      </div>
      <figcaption>
        <span className="hint preview-meta">
          {kind}
          {item.width && item.height ? ` · ${item.width}×${item.height}` : ''}
          {item.status !== 'ready' ? ` · ${item.status}` : ''}
        </span>
        {hasPreview &&
          (revealedUrl ? (
            <button type="button" onClick={onHide} aria-label={`Hide ${what}`}>
              Hide
            </button>
          ) : (
            <button type="button" onClick={onReveal} disabled={revealing} aria-label={`Reveal ${what}`}>
              {revealing ? 'Revealing…' : 'Reveal'}
            </button>
          ))}
      </figcaption>
    </figure>
  );
}
