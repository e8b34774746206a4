/**
 * Suspected coordinated amplification: accounts that shared the same pictures within seconds of
 * each other, again and again, with the evidence (the clusters, the chats reached, young accounts,
 * machine-like timing) and the actions: rate-limit their shares, hold their shares for review,
 * suspend, or lift a restriction. Refreshes every 10 seconds while visible.
 */
import type { AmplificationNetwork } from '@mmd/sdk';
import { useCallback, useId, useState } from 'react';
import { errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { useSession } from '../session.tsx';
import { formatAgo, plural } from './format.ts';
import { usePolling } from './use-polling.ts';

type Mode = 'rate_limit' | 'review' | 'suspend' | 'none';
const MODE_LABELS: Record<Mode, string> = { rate_limit: 'Rate-limit', review: 'Review their shares', suspend: 'Suspend', none: 'Lift' };

export function Networks() {
  const { client } = useSession();
  const [networks, setNetworks] = useState<AmplificationNetwork[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setNetworks((await client.amplificationNetworks({ hours: 24 })).networks);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client]);
  const refresh = usePolling(load, 10_000);
  return (
    <section aria-labelledby="networks-title">
      <div className="console-section-head">
        <h2 id="networks-title">Coordinated sharing</h2>
        <p className="hint">
          Accounts that shared the same pictures within seconds of each other, several times, in the last day. One
          coincidence is how viral content looks; repeated ones are the evidence.
        </p>
      </div>
      <p className="hint" aria-live="polite">
        {networks === null ? 'Loading…' : networks.length === 0 ? 'No suspected networks in the last day.' : `${plural(networks.length, 'suspected network')}.`}
      </p>
      <ErrorAlert error={error} />
      {networks && (
        <ul className="takedown-list">
          {networks.map((n) => (
            <li key={n.id}>
              <NetworkCard network={n} refresh={refresh} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function NetworkCard({ network, refresh }: { network: AmplificationNetwork; refresh: () => Promise<void> }) {
  const { client } = useSession();
  const titleId = useId();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const e = network.evidence;

  async function act(accounts: string[], mode: Mode) {
    const reason = `coordinated sharing (${network.id})`;
    if (mode === 'suspend' && !window.confirm(`Suspend ${plural(accounts.length, 'account')}? They are signed out at once.`)) return;
    setBusy(true);
    try {
      for (const a of accounts) await client.restrictAccount(a, { mode, reason });
      setError(null);
      await refresh();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  const all = network.accounts.map((a) => a.account_id);
  return (
    <article className="card" aria-labelledby={titleId}>
      <header className="takedown-head">
        <h3 id={titleId}>
          {plural(network.accounts.length, 'account')} · score {network.score}
        </h3>
        <span className="hint">
          {formatAgo(e.first_at)} – {formatAgo(e.last_at)}
        </span>
      </header>
      <p className="hint" data-testid="network-evidence">
        Co-shared {plural(e.co_shared_clusters.length, 'picture')} ({plural(e.co_shares, 'co-share')}) into {plural(e.chats, 'chat')};{' '}
        {plural(e.young_accounts, 'young account')}, {plural(e.machine_like_accounts, 'machine-like account')}.
      </p>
      <ErrorAlert error={error} />
      <div className="spread-actions">
        {(['rate_limit', 'review', 'suspend'] as const).map((m) => (
          <button key={m} type="button" disabled={busy} onClick={() => act(all, m)} className={m === 'suspend' ? 'danger' : undefined}>
            {MODE_LABELS[m]} all
          </button>
        ))}
      </div>
      <table className="spread-table small" aria-label="Accounts in this network">
        <thead>
          <tr>
            <th scope="col">Account</th>
            <th scope="col">Age</th>
            <th scope="col">Shares</th>
            <th scope="col">Chats</th>
            <th scope="col">Timing</th>
            <th scope="col">Status</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {network.accounts.map((a) => (
            <tr key={a.account_id}>
              <th scope="row">@{a.handle}</th>
              <td>{a.account_age_days < 1 ? 'under a day' : `${Math.floor(a.account_age_days)} d`}</td>
              <td>{a.shares}</td>
              <td>{a.chats}</td>
              <td>{a.timing_cv === null ? '—' : a.timing_cv <= 0.25 ? `regular (${a.timing_cv})` : `varied (${a.timing_cv})`}</td>
              <td data-testid={`status-${a.handle}`}>{a.suspended ? 'Suspended' : a.restriction === 'review' ? 'Shares reviewed' : a.restriction === 'rate_limit' ? 'Rate-limited' : '—'}</td>
              <td>
                {a.suspended || a.restriction ? (
                  <button type="button" disabled={busy} onClick={() => act([a.account_id], 'none')} aria-label={`Lift restriction on @${a.handle}`}>
                    Lift
                  </button>
                ) : (
                  <button type="button" disabled={busy} onClick={() => act([a.account_id], 'review')} aria-label={`Review shares of @${a.handle}`}>
                    Review shares
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
