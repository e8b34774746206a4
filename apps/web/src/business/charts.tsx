/**
 * The console's charts, in plain HTML and CSS: each bar is a labelled row whose width is its
 * share, so screen readers read the numbers and nothing needs a chart library. A funnel (one
 * campaign), and a comparison (variants of a campaign, or several campaigns) stage by stage.
 */
import type { CampaignFunnel } from '@mmd/sdk';
import { count, percent } from './format.ts';

export const STAGES: { key: keyof CampaignFunnel; label: string }[] = [
  { key: 'planned', label: 'Planned' },
  { key: 'sent', label: 'Sent' },
  { key: 'delivered', label: 'Delivered' },
  { key: 'read', label: 'Read' },
  { key: 'clicked', label: 'Clicked' },
  { key: 'replied', label: 'Replied' },
  { key: 'voted', label: 'Voted' },
  { key: 'opted_out', label: 'Opted out' },
  { key: 'failed', label: 'Failed' },
  { key: 'skipped', label: 'Skipped' },
];

/** Clicked, replied or voted, over delivered: how many did something with the message. */
export function conversion(f: CampaignFunnel): number {
  return f.delivered > 0 ? Math.min(1, (f.clicked + f.replied + f.voted) / f.delivered) : 0;
}

const TONE: Partial<Record<keyof CampaignFunnel, string>> = { opted_out: 'warn', failed: 'bad', skipped: 'muted' };

/** One campaign's funnel: a bar per stage, as a share of those planned. */
export function FunnelChart({ funnel, label }: { funnel: CampaignFunnel; label: string }) {
  const whole = Math.max(funnel.planned, funnel.sent, 1);
  return (
    <figure className="biz-chart" aria-label={label}>
      <table className="biz-bars">
        <caption className="visually-hidden">{label}</caption>
        <thead className="visually-hidden">
          <tr>
            <th scope="col">Stage</th>
            <th scope="col">Recipients</th>
            <th scope="col">Share of planned</th>
          </tr>
        </thead>
        <tbody>
          {STAGES.map((s) => (
            <tr key={s.key} data-stage={s.key}>
              <th scope="row">{s.label}</th>
              <td className="biz-bar-cell">
                <span className={`biz-bar ${TONE[s.key] ?? ''}`} style={{ width: `${(100 * funnel[s.key]) / whole}%` }} />
              </td>
              <td className="biz-bar-value" data-testid={`funnel-${s.key}`}>
                {count(funnel[s.key])}
              </td>
              <td className="biz-bar-share">{s.key === 'planned' ? '' : percent(funnel[s.key], funnel.planned)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <figcaption className="hint">
        Conversion (clicked, replied or voted, of those delivered): <strong>{percent(conversion(funnel), 1)}</strong>
      </figcaption>
    </figure>
  );
}

/** Several funnels side by side, stage by stage, as rates of those sent (so sizes compare). */
export function CompareChart({ series, label }: { series: { name: string; funnel: CampaignFunnel }[]; label: string }) {
  const rate = (f: CampaignFunnel, key: keyof CampaignFunnel) => (key === 'sent' || key === 'planned' ? (f.planned ? f[key] / f.planned : 0) : f.sent ? f[key] / f.sent : 0);
  const stages = STAGES.filter((s) => s.key !== 'planned');
  return (
    <figure className="biz-chart" aria-label={label}>
      <ul className="biz-legend" aria-label="Series">
        {series.map((s, i) => (
          <li key={s.name}>
            <span className={`biz-swatch s${i % 6}`} aria-hidden="true" />
            {s.name}
          </li>
        ))}
      </ul>
      <table className="biz-bars biz-compare">
        <caption className="visually-hidden">{label}</caption>
        <thead className="visually-hidden">
          <tr>
            <th scope="col">Stage</th>
            <th scope="col">Series</th>
            <th scope="col">Rate</th>
            <th scope="col">Recipients</th>
          </tr>
        </thead>
        {stages.map((st) => (
          <tbody key={st.key} data-stage={st.key}>
            {series.map((s, i) => (
              <tr key={s.name}>
                {i === 0 && (
                  <th scope="rowgroup" rowSpan={series.length}>
                    {st.label}
                    <span className="hint">{st.key === 'sent' ? ' of planned' : ' of sent'}</span>
                  </th>
                )}
                <td className="visually-hidden">{s.name}</td>
                <td className="biz-bar-cell">
                  <span className={`biz-bar s${i % 6}`} style={{ width: `${100 * Math.min(1, rate(s.funnel, st.key))}%` }} />
                </td>
                <td className="biz-bar-value">
                  {percent(rate(s.funnel, st.key), 1)} <span className="hint">({count(s.funnel[st.key])})</span>
                </td>
              </tr>
            ))}
          </tbody>
        ))}
      </table>
    </figure>
  );
}

/** A progress bar with its words: how much of the planned audience has been dealt with. */
export function CampaignProgress({ funnel, id }: { funnel: CampaignFunnel; id: string }) {
  const handled = funnel.sent + funnel.failed + funnel.skipped;
  const whole = Math.max(funnel.planned, handled);
  return (
    <div className="biz-progress-row">
      <progress id={id} className="biz-progress" max={Math.max(whole, 1)} value={handled} aria-label="Sending progress" />
      <span className="biz-progress-words">
        {count(handled)} of {count(whole)} ({percent(handled, whole)})
      </span>
    </div>
  );
}
