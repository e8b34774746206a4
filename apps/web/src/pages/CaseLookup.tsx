/**
 * Following a protection case. By its reference alone: the case's state and dates, nothing about
 * what its hashes matched (that would tell anyone with a hash whether copies are here). With its
 * key too, the case page: each connected platform it was shared with and that platform's answer
 * (re-read every few seconds while one can still change), sharing it, withdrawing it everywhere,
 * and asking for every copy here to be removed (hashes computed on this device; a moderator decides).
 */
import type { CaseStatus, CaseView, ErasureBody, ErasureRequest, PlatformStatus, ProtectCase } from '@mmd/sdk';
import { type ChangeEvent, type FormEvent, useCallback, useContext, useEffect, useId, useState } from 'react';
import { SessionContext } from '../session.tsx';
import { anonymousClient, errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { type ImageHashes, MIN_QUALITY, hashImageFile } from '../hashing.ts';

const STATUS_TEXT: Record<CaseStatus, string> = {
  received: 'Received: your fingerprints are stored and being checked',
  under_review:
    'Under review: anything matching your fingerprints is held for our moderators; nothing is removed until they confirm',
  action_taken:
    'Action taken: a moderator confirmed your case; matching copies were removed and new ones are blocked',
  closed: 'Closed: a moderator reviewed your case and took no action',
  withdrawn: 'Withdrawn: you withdrew this case; its fingerprints were deleted and nothing is held for it',
};

/** How often to re-read a case in each state (ms); decided cases no longer change. */
const POLL_MS: Record<CaseStatus, number | null> = {
  received: 2000,
  under_review: 15000,
  action_taken: null,
  closed: null,
  withdrawn: null,
};

const PLATFORM_TEXT: Record<PlatformStatus['status'], (copies: number) => string> = {
  pending: () => 'Sending…',
  sent: () => 'Delivered, no answer yet',
  received: () => 'Received',
  under_review: () => 'Under review by their moderators',
  removed: (n) => `Removed ${n} ${n === 1 ? 'copy' : 'copies'}`,
  blocked: () => 'Blocked: new uploads of it are refused there',
  dismissed: () => 'Reviewed, no action taken',
  withdrawn: () => 'Withdrawn: told to release what it held',
};
/** The case page re-reads itself this often while an answer can still change. */
const PAGE_POLL_MS = 3000;
const FINAL_PLATFORM = new Set<PlatformStatus['status']>(['removed', 'blocked', 'dismissed', 'withdrawn']);

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

/** Whether anything on the page can still change without the person doing something. */
function changing(view: CaseView): boolean {
  if (view.case.status === 'received' || view.case.status === 'under_review') return true;
  if (view.erasure_requests.some((r) => r.status === 'pending')) return true;
  return view.platforms.some((p) => !FINAL_PLATFORM.has(p.status));
}

/** The case page: reference + key. */
export function CasePage({ reference, secret, initial }: { reference: string; secret: string; initial?: CaseView }) {
  const [view, setView] = useState<CaseView | null>(initial ?? null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'share' | 'withdraw' | null>(null);
  const [confirmWithdraw, setConfirmWithdraw] = useState(false);
  const platformsTitle = useId();
  const withdrawTitle = useId();
  const withdrawConfirm = useId();

  const load = useCallback(async () => {
    const found = await anonymousClient.caseView(reference, secret);
    setView(found);
    return found;
  }, [reference, secret]);

  // Re-read while an answer can still come (a chain of timeouts: answers never overlap); stop
  // once everything on the page is final.
  const settled = view !== null && !changing(view);
  const first = view === null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `first` only sets the first delay
  useEffect(() => {
    if (settled) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const look = () => {
      load()
        .catch((err: unknown) => {
          if (live) setError(errorText(err));
        })
        .finally(() => {
          if (live) timer = setTimeout(look, PAGE_POLL_MS);
        });
    };
    timer = setTimeout(look, first ? 0 : PAGE_POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [load, settled]);

  async function act(action: 'share' | 'withdraw') {
    setBusy(action);
    setError(null);
    try {
      setView(action === 'share' ? await anonymousClient.shareCase(reference, secret) : await anonymousClient.withdrawCase(reference, secret));
      setConfirmWithdraw(false);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  if (!view) return <p className="status">{error ? <ErrorAlert error={error} /> : 'Opening your case…'}</p>;
  const withdrawn = view.case.status === 'withdrawn' || view.platforms.some((p) => p.status === 'withdrawn');
  const canShare = !view.shared && view.case.status !== 'withdrawn' && view.case.status !== 'closed';

  return (
    <div className="case-page" data-testid="case-page">
      <CaseFacts found={view.case} />
      <section aria-labelledby={platformsTitle}>
        <h3 id={platformsTitle}>Other platforms</h3>
        {view.shared ? (
          view.platforms.length === 0 ? (
            <p className="hint">Shared. No connected platform takes cases like yours yet.</p>
          ) : (
            <ul className="platforms" aria-label="What each platform did">
              {view.platforms.map((p, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: two platforms may share a name
                <li key={`${p.platform}-${i}`} data-testid="platform-status" data-platform={p.platform} data-status={p.status}>
                  <strong>{p.platform}</strong>: {PLATFORM_TEXT[p.status](p.copies)}
                </li>
              ))}
            </ul>
          )
        ) : (
          <p className="hint">
            Not shared. Sharing sends only your fingerprints, under a code that does not identify you or this case,
            to the platforms this server is connected to; each holds or removes copies by its own rules.
          </p>
        )}
        {canShare && (
          <button type="button" disabled={busy !== null} onClick={() => act('share')}>
            {busy === 'share' ? 'Sharing…' : 'Share with connected platforms'}
          </button>
        )}
      </section>
      {!withdrawn && (
        <section aria-labelledby={withdrawTitle}>
          <h3 id={withdrawTitle}>Withdraw</h3>
          {confirmWithdraw ? (
            <div role="alertdialog" aria-labelledby={withdrawConfirm}>
              <p id={withdrawConfirm}>
                Withdraw this case here{view.shared ? ' and on every platform it was shared with' : ''}? Its fingerprints are
                deleted and anything held for it is released.
              </p>
              <button type="button" className="danger" disabled={busy !== null} onClick={() => act('withdraw')}>
                {busy === 'withdraw' ? 'Withdrawing…' : 'Yes, withdraw it'}
              </button>{' '}
              <button type="button" onClick={() => setConfirmWithdraw(false)}>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" onClick={() => setConfirmWithdraw(true)}>
              Withdraw this case
            </button>
          )}
        </section>
      )}
      <ErasureSection
        requests={view.erasure_requests}
        send={(body) => anonymousClient.requestErasure({ ...body, case: { reference, secret } })}
        onSent={() => void load()}
      />
      <ErrorAlert error={error} />
    </div>
  );
}

const ERASURE_TEXT = { pending: 'Waiting for a moderator', removed: 'Copies removed', declined: 'Declined' } as const;

/** Asking for every copy of media you appear in to be removed here; a moderator decides, with reasons. */
function ErasureSection({
  requests,
  send: sendRequest,
  onSent,
}: {
  requests: ErasureRequest[];
  send: (body: Pick<ErasureBody, 'images' | 'note'>) => Promise<ErasureRequest>;
  onSent: () => void;
}) {
  const [images, setImages] = useState<ImageHashes[]>([]);
  const [hashing, setHashing] = useState(false);
  const [note, setNote] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileId = useId();
  const noteId = useId();
  const titleId = useId();

  async function onPick(event: ChangeEvent<HTMLInputElement>) {
    const files = [...(event.target.files ?? [])];
    event.target.value = '';
    setHashing(true);
    setError(null);
    try {
      const outcomes = await Promise.all(files.map((f) => hashImageFile(f)));
      const usable = outcomes.filter((o) => o.hashes.quality >= MIN_QUALITY).map((o) => o.hashes);
      if (usable.length < outcomes.length) setError('Some images are too plain to match reliably and were left out.');
      setImages((list) => [...list, ...usable].slice(0, 20));
    } catch (err) {
      setError(`This browser could not read the image (${errorText(err)}).`);
    } finally {
      setHashing(false);
    }
  }

  async function send(event: FormEvent) {
    event.preventDefault();
    setSending(true);
    setError(null);
    try {
      await sendRequest({ images, ...(note.trim() ? { note: note.trim() } : {}) });
      setImages([]);
      setNote('');
      onSent();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSending(false);
    }
  }

  return (
    <section aria-labelledby={titleId}>
      <h3 id={titleId}>Remove every copy here</h3>
      {requests.length > 0 && (
        <ul className="erasure-requests" aria-label="Your removal requests">
          {requests.map((r) => (
            <li key={r.id} data-testid="erasure-request" data-status={r.status}>
              <strong>{ERASURE_TEXT[r.status]}</strong>
              {r.status === 'removed' && ` (${r.copies_removed} ${r.copies_removed === 1 ? 'copy' : 'copies'})`}
              {r.reasons && (
                <>
                  {' — '}
                  <span data-testid="erasure-reasons">{r.reasons}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={send}>
        <p className="hint">
          Choose pictures or stills you appear in. Only their fingerprints are sent; a moderator looks at what they
          match here and decides. Nothing is removed before that.
        </p>
        <div className="field">
          <label htmlFor={fileId}>Images you appear in</label>
          <input id={fileId} type="file" accept="image/*" multiple onChange={onPick} />
        </div>
        <p className="status" aria-live="polite">
          {hashing ? 'Computing fingerprints on this device…' : images.length > 0 ? `${images.length} fingerprint${images.length === 1 ? '' : 's'} ready.` : ''}
        </p>
        <div className="field">
          <label htmlFor={noteId}>Anything the moderators should know (optional)</label>
          <textarea id={noteId} rows={2} maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} />
        </div>
        <button type="submit" disabled={images.length === 0 || hashing || sending}>
          {sending ? 'Sending…' : 'Ask for removal'}
        </button>
        <ErrorAlert error={error} />
      </form>
    </section>
  );
}

/**
 * For a signed-in person: their removal requests (decisions and reasons), re-read while one waits,
 * and the form to send another. Nothing shows when no one is signed in (the case page has its own).
 */
export function MyErasureRequests() {
  const session = useContext(SessionContext);
  const [requests, setRequests] = useState<ErasureRequest[] | null>(null);
  const client = session?.client;
  const load = useCallback(async () => {
    if (client) setRequests(await client.myErasureRequests());
  }, [client]);
  const waiting = requests?.some((r) => r.status === 'pending') ?? false;
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const look = () => {
      load()
        .catch(() => {})
        .finally(() => {
          if (live && waiting) timer = setTimeout(look, PAGE_POLL_MS);
        });
    };
    look();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [load, waiting]);
  if (!client || requests === null) return null;
  return (
    <section className="card" aria-labelledby="my-erasure-title">
      <h2 id="my-erasure-title">Signed in: remove photos of you</h2>
      <ErasureSection requests={requests} send={(body) => client.requestErasure(body)} onSent={() => void load()} />
    </section>
  );
}

export function CaseLookup() {
  const [reference, setReference] = useState('');
  const [secret, setSecret] = useState('');
  const [found, setFound] = useState<ProtectCase | null>(null);
  const [opened, setOpened] = useState<{ reference: string; secret: string; view: CaseView } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const live = useLiveCase(found);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFound(null);
    setOpened(null);
    const ref = reference.trim().toUpperCase();
    const key = secret.trim().toUpperCase();
    try {
      if (key) setOpened({ reference: ref, secret: key, view: await anonymousClient.caseView(ref, key) });
      else setFound(await anonymousClient.protectStatus(ref));
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(
        status === 404 || status === 400
          ? key
            ? 'No case has that reference and key. Check both and try again.'
            : 'No case has that reference. Check it and try again.'
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
        <div className="field">
          <label htmlFor="case-secret">Your case key (to see other platforms, withdraw, or ask for removal)</label>
          <input
            id="case-secret"
            autoComplete="off"
            spellCheck={false}
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
          />
        </div>
        <button type="submit" disabled={busy || !reference.trim()}>
          {busy ? 'Looking…' : 'Check status'}
        </button>
      </form>
      <div aria-live="polite">
        <ErrorAlert error={error} />
        {live && <CaseFacts found={live} />}
        {opened && <CasePage key={`${opened.reference}/${opened.secret}`} reference={opened.reference} secret={opened.secret} initial={opened.view} />}
      </div>
    </section>
  );
}
