/**
 * Analytics: campaigns compared stage by stage. Pick campaigns; each funnel's rates (of those
 * sent) are drawn side by side, with the counts and conversion in a table, exportable as CSV.
 */
import type { Campaign, CampaignDetail } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { Link } from '../router.tsx';
import { StatusBadge } from './CampaignsPage.tsx';
import { CompareChart, conversion, STAGES } from './charts.tsx';
import { useBusiness } from './context.ts';
import { count, percent } from './format.ts';
import { download } from './hooks.ts';
import { ErrorAlert } from '../error-alert.tsx';

const MAX_COMPARED = 6;

export function AnalyticsPage() {
  const { client, business, href } = useBusiness();
  const [campaigns, setCampaigns] = useState<Campaign[] | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [details, setDetails] = useState<Record<string, CampaignDetail>>({});
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    client
      .campaigns({ limit: 100 })
      .then((r) => {
        if (!live) return;
        const sent = r.campaigns.filter((c) => c.status !== 'draft');
        setCampaigns(sent);
        setChosen(sent.slice(0, 3).map((c) => c.id));
      })
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client]);

  useEffect(() => {
    let live = true;
    for (const id of chosen)
      client
        .campaign(id)
        .then((d) => live && setDetails((all) => ({ ...all, [id]: d })))
        .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client, chosen]);

  const series = chosen.flatMap((id) => {
    const d = details[id];
    return d ? [{ name: d.name, funnel: d.funnel }] : [];
  });
  const exportCsv = () => {
    const head = ['campaign', ...STAGES.map((s) => s.key), 'conversion'];
    const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const lines = [head.join(','), ...series.map((s) => [quote(s.name), ...STAGES.map((st) => String(s.funnel[st.key])), conversion(s.funnel).toFixed(4)].join(','))];
    download(`${business.handle}-campaigns-compared.csv`, new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' }));
  };

  return (
    <div className="biz-page">
      <h2>Analytics</h2>
      <ErrorAlert error={error} />
      {campaigns === null && !error && <p className="hint">Loading…</p>}
      {campaigns?.length === 0 && <p className="hint">No campaign has started yet: funnels appear here once one has.</p>}
      {campaigns && campaigns.length > 0 && (
        <fieldset className="biz-fieldset">
          <legend>Campaigns to compare (up to {MAX_COMPARED})</legend>
          <ul className="biz-choices">
            {campaigns.map((c) => (
              <li key={c.id}>
                <label className="biz-check">
                  <input
                    type="checkbox"
                    checked={chosen.includes(c.id)}
                    disabled={!chosen.includes(c.id) && chosen.length >= MAX_COMPARED}
                    onChange={(e) => setChosen((l) => (e.target.checked ? [...l, c.id] : l.filter((x) => x !== c.id)))}
                  />
                  {c.name} <StatusBadge status={c.status} />
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      )}
      {series.length > 0 && (
        <>
          <section className="card biz-card" aria-labelledby="compare-heading">
            <div className="biz-page-head">
              <h3 id="compare-heading">Funnels compared</h3>
              <button type="button" onClick={exportCsv}>
                Export CSV
              </button>
            </div>
            <CompareChart series={series} label="Campaign funnels compared" />
          </section>
          <section className="card biz-card" aria-labelledby="counts-heading">
            <h3 id="counts-heading">Counts</h3>
            <div className="table-scroll">
              <table className="biz-table">
                <thead>
                  <tr>
                    <th scope="col">Campaign</th>
                    {STAGES.map((s) => (
                      <th key={s.key} scope="col">
                        {s.label}
                      </th>
                    ))}
                    <th scope="col">Conversion</th>
                  </tr>
                </thead>
                <tbody>
                  {chosen.map((id) => {
                    const d = details[id];
                    if (!d) return null;
                    return (
                      <tr key={id}>
                        <th scope="row">
                          <Link href={href('campaigns', id)}>{d.name}</Link>
                        </th>
                        {STAGES.map((s) => (
                          <td key={s.key}>{count(d.funnel[s.key])}</td>
                        ))}
                        <td>{percent(conversion(d.funnel), 1)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
    </div>
  );
}
