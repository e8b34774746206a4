/**
 * Federation in the console. Peers (admins): the platforms this instance exchanges hash signals
 * with — connect one by its URL (its key is read from its well-known document), set what its
 * signals do here per category and which categories it is trusted to block, choose what is shared
 * with it, disable it, and see its delivery state (last push and pull, backlog, errors).
 * Received cases (moderators): what peers shared, what it did here (holds), what was answered back,
 * and a decision for the cases a policy sent to review.
 */
import type { BankCategory, Peer, PeerAction, ReceivedCase } from '@mmd/sdk';
import { type FormEvent, useCallback, useId, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { useSession } from '../session.tsx';
import { CATEGORY_LABELS, formatAgo, formatTime, plural } from './format.ts';
import { usePolling } from './use-polling.ts';
import { StatusFilter } from './StatusFilter.tsx';

const CATEGORIES = Object.keys(CATEGORY_LABELS) as BankCategory[];
const ACTION_LABELS: Record<PeerAction, string> = {
  block: 'Block (only if trusted)',
  hold: 'Hold for review',
  review: 'Ask a moderator first',
  ignore: 'Ignore',
};
const OUTCOME_LABELS: Record<string, string> = {
  received: 'received',
  under_review: 'under review',
  blocked: 'blocked',
  removed: 'removed',
  dismissed: 'dismissed',
};
const STATUS_LABELS: Record<ReceivedCase['status'], string> = {
  pending: 'Waiting for a moderator',
  active: 'Banked',
  ignored: 'Ignored',
  retracted: 'Withdrawn by the peer',
  dismissed: 'Dismissed',
  confirmed: 'Confirmed here',
};

function When({ at, never = 'never' }: { at: number | null; never?: string }) {
  if (at === null) return <span className="hint">{never}</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatTime(at)}>
      {formatAgo(at)}
    </time>
  );
}

export function Peers() {
  const { client } = useSession();
  const [peers, setPeers] = useState<Peer[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setPeers((await client.peers()).peers);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client]);
  const refresh = usePolling(load, 5000);

  return (
    <section aria-labelledby="peers-title">
      <div className="console-section-head">
        <h2 id="peers-title">Peer platforms</h2>
        <p className="hint">
          Platforms this instance exchanges hash signals with (never media, never who shared it). Each peer's
          signals act here by the policy you set; a block applies only in categories you trust it for.
        </p>
      </div>
      <div aria-live="polite" className="console-live">
        {notice && (
          <p className="outcome" role="status">
            {notice}
          </p>
        )}
      </div>
      <ConnectPeer
        onConnected={async (peer) => {
          setNotice(`Connected ${peer.name} (key ${peer.key_id.slice(0, 12)}…).`);
          await refresh();
        }}
      />
      <p className="hint queue-count" aria-live="polite">
        {peers === null ? (error ? '' : 'Loading…') : peers.length === 0 ? 'No peer connected yet.' : plural(peers.length, 'peer')}
      </p>
      <ErrorAlert error={error} />
      {peers && peers.length > 0 && (
        <ul className="review-list">
          {peers.map((p) => (
            <li key={p.id}>
              <PeerCard peer={p} onChanged={refresh} onNotice={setNotice} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ConnectPeer({ onConnected }: { onConnected: (peer: Peer) => Promise<void> }) {
  const { client } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const urlId = useId();
  const form = useRef<HTMLFormElement>(null);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      // No key pasted: the server reads it from the peer's well-known document, once.
      const peer = await client.connectPeer({ name: String(data.get('name')).trim(), base_url: String(data.get('base_url')).trim() });
      form.current?.reset();
      await onConnected(peer);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form ref={form} className="card" aria-label="Connect a peer" onSubmit={submit}>
      <h3>Connect a peer</h3>
      <div className="field">
        <label htmlFor={nameId}>Name</label>
        <input id={nameId} name="name" required maxLength={80} autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor={urlId}>Base URL</label>
        <input id={urlId} name="base_url" type="url" required placeholder="https://peer.example" autoComplete="off" />
      </div>
      <p className="hint">Its identity (Ed25519 key) is fetched from its /.well-known/mmd-federation and pinned.</p>
      <button type="submit" disabled={busy}>
        {busy ? 'Connecting…' : 'Fetch identity and connect'}
      </button>
      <ErrorAlert error={error} />
    </form>
  );
}

function PeerCard({ peer, onChanged, onNotice }: { peer: Peer; onChanged: () => Promise<void>; onNotice: (text: string) => void }) {
  const { client } = useSession();
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();

  async function run(what: string, action: () => Promise<string>) {
    setBusy(what);
    setError(null);
    try {
      onNotice(await action());
      await onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  const disabled = peer.status === 'disabled';
  return (
    <article className="review" aria-labelledby={titleId} data-peer={peer.id}>
      <header className="review-head">
        <h3 id={titleId}>{peer.name}</h3>
        <ul className="tags" aria-label="About this peer">
          <li className={disabled ? 'tag tag-reason' : 'tag'}>{disabled ? 'Disabled' : 'Active'}</li>
          <li className="tag">{peer.trusted_categories.length ? `Trusted: ${peer.trusted_categories.map((c) => CATEGORY_LABELS[c as BankCategory] ?? c).join(', ')}` : 'Not trusted to block'}</li>
        </ul>
        <p className="hint mono small">
          {peer.base_url} · key {peer.key_id.slice(0, 16)}…
          {peer.previous_key_id && peer.previous_key_expires_at !== null && <> · rotated; old key accepted until {formatTime(peer.previous_key_expires_at)}</>}
        </p>
      </header>
      <dl className="figures" aria-label="Delivery">
        <div>
          <dt>Last push</dt>
          <dd>
            <When at={peer.last_push_at} />
          </dd>
        </div>
        <div>
          <dt>Last pull</dt>
          <dd>
            <When at={peer.last_pull_at} />
          </dd>
        </div>
        <div>
          <dt>Outbox backlog</dt>
          <dd>{peer.outbox_pending}</dd>
        </div>
      </dl>
      {(peer.last_delivery_error || peer.last_pull_error) && (
        <ul className="peer-errors" aria-label="Errors">
          {peer.last_delivery_error && <li>Push: {peer.last_delivery_error}</li>}
          {peer.last_pull_error && <li>Pull: {peer.last_pull_error}</li>}
        </ul>
      )}
      <p className="hint">
        Shared with it: {peer.share_categories.length ? peer.share_categories.map((c) => CATEGORY_LABELS[c as BankCategory] ?? c).join(', ') : 'nothing'}. Its signals here:{' '}
        {CATEGORIES.filter((c) => peer.policy[c])
          .map((c) => `${CATEGORY_LABELS[c]}: ${ACTION_LABELS[peer.policy[c]!].toLowerCase()}`)
          .join('; ') || 'default'}{' '}
        (otherwise {ACTION_LABELS[peer.default_action].toLowerCase()}).
      </p>
      <div className="decision-buttons">
        <button type="button" disabled={busy !== null || disabled} onClick={() => run('pull', async () => {
          const r = await client.pullPeer(peer.id);
          return `Pulled from ${peer.name}: ${plural(r.received, 'message')} new.`;
        })}>
          {busy === 'pull' ? 'Pulling…' : 'Pull now'}
        </button>
        <button type="button" onClick={() => setEditing((v) => !v)} aria-expanded={editing}>
          {editing ? 'Close policy' : 'Edit trust and policy'}
        </button>
        <button type="button" className={disabled ? undefined : 'danger'} disabled={busy !== null} onClick={() => run('status', async () => {
          await client.updatePeer(peer.id, { status: disabled ? 'active' : 'disabled' });
          return disabled ? `${peer.name} enabled.` : `${peer.name} disabled: nothing is sent to it or accepted from it.`;
        })}>
          {disabled ? 'Enable' : 'Disable'}
        </button>
      </div>
      {editing && (
        <PolicyEditor
          peer={peer}
          onSaved={async () => {
            setEditing(false);
            onNotice(`Policy of ${peer.name} saved.`);
            await onChanged();
          }}
        />
      )}
      <ErrorAlert error={error} />
    </article>
  );
}

function PolicyEditor({ peer, onSaved }: { peer: Peer; onSaved: () => Promise<void> }) {
  const { client } = useSession();
  const [policy, setPolicy] = useState<Partial<Record<BankCategory, PeerAction>>>(peer.policy as Partial<Record<BankCategory, PeerAction>>);
  const [trusted, setTrusted] = useState<Set<string>>(new Set(peer.trusted_categories));
  const [shared, setShared] = useState<Set<string>>(new Set(peer.share_categories));
  const [fallback, setFallback] = useState<PeerAction>(peer.default_action);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const toggle = (set: Set<string>, c: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(c);
    else next.delete(c);
    return next;
  };

  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const cleaned: Record<string, PeerAction> = {};
      for (const [c, a] of Object.entries(policy)) if (a) cleaned[c] = a;
      await client.updatePeer(peer.id, {
        policy: cleaned,
        default_action: fallback,
        trusted_categories: [...trusted] as BankCategory[],
        share_categories: [...shared] as BankCategory[],
      });
      await onSaved();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="policy-editor" aria-label={`Trust and policy for ${peer.name}`} onSubmit={save}>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Per category: what its signals do here, trust, sharing</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col">Its signals here</th>
              <th scope="col">Trusted to block</th>
              <th scope="col">Share ours with it</th>
            </tr>
          </thead>
          <tbody>
            {CATEGORIES.map((c) => (
              <tr key={c} data-category={c}>
                <th scope="row">{CATEGORY_LABELS[c]}</th>
                <td>
                  <select
                    aria-label={`${CATEGORY_LABELS[c]}: its signals here`}
                    value={policy[c] ?? ''}
                    onChange={(e) => setPolicy({ ...policy, [c]: (e.target.value || undefined) as PeerAction | undefined })}
                  >
                    <option value="">Default</option>
                    {(Object.keys(ACTION_LABELS) as PeerAction[]).map((a) => (
                      <option key={a} value={a}>
                        {ACTION_LABELS[a]}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <input type="checkbox" aria-label={`Trust ${peer.name} to block ${CATEGORY_LABELS[c]}`} checked={trusted.has(c)} onChange={(e) => setTrusted(toggle(trusted, c, e.target.checked))} />
                </td>
                <td>
                  <input type="checkbox" aria-label={`Share ${CATEGORY_LABELS[c]} with ${peer.name}`} checked={shared.has(c)} onChange={(e) => setShared(toggle(shared, c, e.target.checked))} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="field">
        <label htmlFor={`${id}-default`}>Other categories</label>
        <select id={`${id}-default`} value={fallback} onChange={(e) => setFallback(e.target.value as PeerAction)}>
          {(Object.keys(ACTION_LABELS) as PeerAction[]).map((a) => (
            <option key={a} value={a}>
              {ACTION_LABELS[a]}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save policy'}
      </button>
      <ErrorAlert error={error} />
    </form>
  );
}

const RECEIVED_FILTERS: { status: ReceivedCase['status'] | ''; label: string }[] = [
  { status: '', label: 'All' },
  { status: 'pending', label: 'Waiting for a moderator' },
  { status: 'active', label: 'Banked' },
  { status: 'confirmed', label: 'Confirmed here' },
  { status: 'retracted', label: 'Withdrawn' },
];

export function Received() {
  const { client } = useSession();
  const [status, setStatus] = useState<ReceivedCase['status'] | ''>('');
  const [cases, setCases] = useState<ReceivedCase[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const statusNow = useRef(status);
  statusNow.current = status;
  const load = useCallback(async () => {
    try {
      const list = await client.receivedCases(status ? { status } : {});
      if (statusNow.current !== status) return;
      setCases(list.cases);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client, status]);
  const refresh = usePolling(load, 5000, status);

  async function decide(id: string, action: 'hold' | 'dismiss') {
    setBusy(`${id}/${action}`);
    setError(null);
    try {
      await client.decideReceived(id, action);
      await refresh();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-labelledby="received-title">
      <div className="console-section-head">
        <h2 id="received-title">Received from peers</h2>
        <p className="hint">Cases peer platforms shared with this instance: what they did here and what was answered back.</p>
      </div>
      <StatusFilter
        value={status}
        options={RECEIVED_FILTERS}
        onChange={(next) => {
          setCases(null);
          setStatus(next);
        }}
      />
      <p className="hint queue-count" aria-live="polite">
        {cases === null ? (error ? '' : 'Loading…') : cases.length === 0 ? 'Nothing received.' : plural(cases.length, 'case')}
      </p>
      <ErrorAlert error={error} />
      {cases && cases.length > 0 && (
        <div className="table-wrap">
          <table className="received-table">
            <caption className="visually-hidden">Cases received from peers, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Peer</th>
                <th scope="col">Category</th>
                <th scope="col">Status</th>
                <th scope="col">Holds here</th>
                <th scope="col">Answered</th>
                <th scope="col">Decision</th>
              </tr>
            </thead>
            <tbody>
              {cases.map((c) => (
                <tr key={c.id} data-received={c.id}>
                  <td data-label="Received">
                    <When at={c.created_at} />
                  </td>
                  <td data-label="Peer">{c.peer_name}</td>
                  <td data-label="Category">
                    {CATEGORY_LABELS[c.category as BankCategory] ?? c.category} · {plural(c.signals, 'signal')}
                    {c.type === 'confirmation' ? ' · confirmation' : ''}
                  </td>
                  <td data-label="Status">
                    <span className="tag">{STATUS_LABELS[c.status]}</span> <span className="hint">({c.action})</span>
                  </td>
                  <td data-label="Holds here">{c.holds}</td>
                  <td data-label="Answered">
                    {c.sent_outcome ? (
                      <>
                        {OUTCOME_LABELS[c.sent_outcome.outcome] ?? c.sent_outcome.outcome}
                        {c.sent_outcome.copies > 0 ? ` (${c.sent_outcome.copies})` : ''}
                      </>
                    ) : (
                      <span className="hint">nothing yet</span>
                    )}
                  </td>
                  <td data-label="Decision">
                    {c.status === 'pending' ? (
                      <span className="decision-buttons">
                        <button type="button" disabled={busy !== null} onClick={() => decide(c.id, 'hold')}>
                          {busy === `${c.id}/hold` ? 'Holding…' : 'Hold matches'}
                        </button>
                        <button type="button" disabled={busy !== null} onClick={() => decide(c.id, 'dismiss')}>
                          {busy === `${c.id}/dismiss` ? 'Dismissing…' : 'Dismiss'}
                        </button>
                      </span>
                    ) : (
                      <span className="hint">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
