/**
 * What spreads too fast, live: near-duplicate clusters with their velocity and the friction they
 * are under (held ones waiting for a decision first), one cluster's spread over time, by hops,
 * the chats and people it went through, its blurred previews, and one-click hold, clear or
 * takedown of the whole cluster. Refreshes every 3 seconds while the tab is visible.
 */
import type { SpreadClusterDetail, SpreadClusterSummary } from '@mmd/sdk';
import { useCallback, useEffect, useId, useState } from 'react';
import { errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { useSession } from '../session.tsx';
import { formatAgo, formatTime, plural } from './format.ts';
import { usePolling } from './use-polling.ts';

const LIVE_MS = 3000;
/** A cluster's detail groups its shares by chat and sender: polled less often than the list. */
const DETAIL_MS = 10_000;

export const TIER_LABELS = ['No friction', 'Labelled “spreading fast”', 'Confirmation asked', 'Cooldown per person', 'Held for review'];
const STATE_LABELS: Record<SpreadClusterSummary['state'], string> = { open: 'Open', hold: 'Held — needs a decision', cleared: 'Cleared', removed: 'Taken down' };

export function Spread() {
  const { client } = useSession();
  const [clusters, setClusters] = useState<SpreadClusterSummary[] | null>(null);
  const [alerts, setAlerts] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const list = await client.spreadClusters({ limit: 50 });
      setClusters(list.clusters);
      setAlerts(list.alerts);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client]);
  const refresh = usePolling(load, LIVE_MS);

  return (
    <section aria-labelledby="spread-title">
      <div className="console-section-head">
        <h2 id="spread-title">Spreading</h2>
        <p className="hint">
          Pictures and videos counted per near-duplicate cluster: re-uploads, crops and forwards count together. Friction
          rises with the new chats a cluster reaches per minute and per hour; at the last tier new shares wait for you.
        </p>
      </div>
      <p className="hint" aria-live="polite">
        {clusters === null
          ? 'Loading…'
          : clusters.length === 0
            ? 'Nothing has been shared in the last day.'
            : alerts > 0
              ? `${plural(alerts, 'cluster')} held, waiting for a decision.`
              : 'Live: updates every few seconds.'}
      </p>
      <ErrorAlert error={error} />
      <div className="spread-layout">
        {clusters && clusters.length > 0 && (
          <table className="spread-table">
            <caption className="visually-hidden">Spreading clusters</caption>
            <thead>
              <tr>
                <th scope="col">Cluster</th>
                <th scope="col">State</th>
                <th scope="col">New chats / min</th>
                <th scope="col">New chats / hour</th>
                <th scope="col">Reach</th>
                <th scope="col">Hops</th>
                <th scope="col">Held</th>
                <th scope="col">Last share</th>
              </tr>
            </thead>
            <tbody>
              {clusters.map((c) => (
                <tr key={c.id} className={c.state === 'hold' ? 'spread-held' : undefined} aria-selected={selected === c.id}>
                  <th scope="row">
                    <button type="button" className="link-button" onClick={() => setSelected(c.id)} aria-label={`Open cluster ${c.id}`}>
                      {c.id.slice(0, 12)}…
                    </button>
                  </th>
                  <td>
                    <span className={`tag tier-${c.tier}`}>{c.state === 'open' ? TIER_LABELS[c.tier] : STATE_LABELS[c.state]}</span>
                  </td>
                  <td>{c.velocity.chats_per_minute}</td>
                  <td>{c.velocity.chats_per_hour}</td>
                  <td>{plural(c.reach, 'chat')}</td>
                  <td>{c.max_hops}</td>
                  <td>{c.held}</td>
                  <td>
                    <time dateTime={new Date(c.last_at).toISOString()} title={formatTime(c.last_at)}>
                      {formatAgo(c.last_at)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {selected && <ClusterPanel id={selected} onDecided={refresh} onClose={() => setSelected(null)} />}
      </div>
    </section>
  );
}

function ClusterPanel({ id, onDecided, onClose }: { id: string; onDecided: () => Promise<void>; onClose: () => void }) {
  const { client } = useSession();
  const titleId = useId();
  const [detail, setDetail] = useState<SpreadClusterDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setDetail(await client.spreadCluster(id));
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client, id]);
  const refresh = usePolling(load, DETAIL_MS, id);

  async function decide(action: 'hold' | 'clear' | 'takedown') {
    if (action === 'takedown' && !window.confirm('Take down every copy of this cluster, everywhere, and bank it?')) return;
    setBusy(true);
    try {
      const r = await client.decideSpreadCluster(id, { action });
      setOutcome(
        action === 'clear'
          ? `Cleared: ${plural(r.released, 'held message')} released.`
          : action === 'hold'
            ? 'Held: new shares wait for review.'
            : `Taken down; ${plural(r.rejected, 'held message')} rejected.`,
      );
      await Promise.all([refresh(), onDecided()]);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const c = detail?.cluster;
  return (
    <article className="card spread-panel" aria-labelledby={titleId}>
      <header className="takedown-head">
        <h3 id={titleId}>Cluster {id}</h3>
        <button type="button" onClick={onClose} aria-label="Close cluster">
          Close
        </button>
      </header>
      <ErrorAlert error={error} />
      {outcome && (
        <p role="status" className="hint">
          {outcome}
        </p>
      )}
      {!detail || !c ? (
        <p className="hint">Loading…</p>
      ) : (
        <>
          <dl className="spread-facts">
            <div>
              <dt>State</dt>
              <dd data-testid="cluster-state">{STATE_LABELS[c.state]}</dd>
            </div>
            <div>
              <dt>Friction now</dt>
              <dd>{TIER_LABELS[c.tier]}</dd>
            </div>
            <div>
              <dt>Reach</dt>
              <dd>
                {plural(c.reach, 'chat')}, {plural(c.sharers, 'person', 'people')}, {plural(c.shares, 'share')}
              </dd>
            </div>
            <div>
              <dt>Velocity</dt>
              <dd>
                {c.velocity.chats_per_minute} new chats/min · {c.velocity.chats_per_hour}/hour · {c.velocity.sharers_per_hour} new sharers/hour
              </dd>
            </div>
            <div>
              <dt>Waiting for review</dt>
              <dd data-testid="cluster-held">{plural(c.held, 'message')}</dd>
            </div>
          </dl>
          <div className="spread-actions">
            <button type="button" onClick={() => decide('clear')} disabled={busy || c.state === 'removed'}>
              Clear
            </button>
            <button type="button" onClick={() => decide('hold')} disabled={busy || c.state === 'hold' || c.state === 'removed'}>
              Hold
            </button>
            <button type="button" className="danger" onClick={() => decide('takedown')} disabled={busy || c.state === 'removed'}>
              Take down cluster
            </button>
          </div>
          <SpreadChart timeline={detail.timeline} />
          <h4>By hops</h4>
          <ul className="spread-hops" aria-label="Shares by hops">
            {detail.hops.map((h) => (
              <li key={h.hops}>
                {h.hops === 0 ? 'Original' : plural(h.hops, 'hop')}: {plural(h.shares, 'share')}
              </li>
            ))}
          </ul>
          <ClusterPreviews id={id} mediaIds={detail.media_ids.slice(0, 4)} />
          <h4>Chats</h4>
          <table className="spread-table small" aria-label="Chats it reached">
            <thead>
              <tr>
                <th scope="col">Chat</th>
                <th scope="col">Kind</th>
                <th scope="col">Shares</th>
                <th scope="col">Max hops</th>
                <th scope="col">First</th>
              </tr>
            </thead>
            <tbody>
              {detail.conversations.map((v) => (
                <tr key={v.id}>
                  <td>{v.id}</td>
                  <td>{v.kind}</td>
                  <td>{v.shares}</td>
                  <td>{v.max_hops}</td>
                  <td>{formatAgo(v.first_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>People who shared it most</h4>
          <ul aria-label="Sharers">
            {detail.sharers.map((s) => (
              <li key={s.account_id}>
                @{s.handle} · {plural(s.shares, 'share')}
              </li>
            ))}
          </ul>
        </>
      )}
    </article>
  );
}

/** Shares and new chats per minute, as bars (the last 6 hours that had any). */
function SpreadChart({ timeline }: { timeline: SpreadClusterDetail['timeline'] }) {
  if (timeline.length === 0) return <p className="hint">No shares in the last 6 hours.</p>;
  // At least the last half hour, so a young cluster's few minutes read as a burst, not a wall.
  const last = timeline.at(-1)!.minute;
  const span = Math.max(30, (last - timeline[0]!.minute) / 60_000 + 1);
  const first = last - (span - 1) * 60_000;
  const max = Math.max(...timeline.map((t) => t.shares));
  const width = 480;
  const height = 120;
  const bar = Math.max(1, width / span - 1);
  const total = timeline.reduce((n, t) => n + t.chats, 0);
  return (
    <figure className="spread-chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Shares per minute over ${Math.round(span)} minutes; ${plural(total, 'new chat')}`}>
        {timeline.map((t) => {
          const x = ((t.minute - first) / 60_000 / span) * width;
          const h = (t.shares / max) * (height - 10);
          const hc = (t.chats / max) * (height - 10);
          return (
            <g key={t.minute}>
              <rect x={x} y={height - h} width={bar} height={h} className="bar-shares">
                <title>{`${formatTime(t.minute)}: ${t.shares} shares, ${t.chats} new chats, up to ${t.max_hops} hops`}</title>
              </rect>
              <rect x={x} y={height - hc} width={bar} height={hc} className="bar-chats" />
            </g>
          );
        })}
      </svg>
      <figcaption className="hint">Shares per minute (light) and new chats reached (dark).</figcaption>
    </figure>
  );
}

function ClusterPreviews({ id, mediaIds }: { id: string; mediaIds: string[] }) {
  const { client } = useSession();
  const [urls, setUrls] = useState<Record<string, string>>({});
  const key = mediaIds.join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for mediaIds
  useEffect(() => {
    let live = true;
    const made: string[] = [];
    for (const m of mediaIds) {
      client.clusterPreview(id, m).then(
        (bytes) => {
          if (!live) return;
          const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/jpeg' }));
          made.push(url);
          setUrls((u) => ({ ...u, [m]: url }));
        },
        () => {},
      );
    }
    return () => {
      live = false;
      for (const u of made) URL.revokeObjectURL(u);
    };
  }, [client, id, key]);
  if (mediaIds.length === 0) return null;
  return (
    <div className="spread-previews">
      {mediaIds.map((m, i) => (urls[m] ? <img key={m} src={urls[m]} alt={`Blurred preview ${i + 1} of the cluster`} /> : <span key={m} className="preview-empty">…</span>))}
    </div>
  );
}
