/**
 * Campaigns: the list with each campaign's progress, a form to create one (audience, template
 * variants with their split, schedule now / at a time / at a local time in each recipient's zone /
 * recurring by cron, throttle, send window), and a campaign's page: start, test send, pause,
 * resume, cancel, resend to failed or unread; progress, the funnel, the funnel per variant, runs,
 * and the recipient table filtered by status, exportable as CSV. Pages refresh while sending.
 */
import type { Campaign, CampaignDetail, CampaignRecipient, CampaignSchedule, MessageTemplate, MessageTemplateList, RecipientStatus, Segment } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { errorText } from '../api.ts';
import { useConfirm } from '../messenger/Confirm.tsx';
import { Link, navigate } from '../router.tsx';
import { CampaignProgress, CompareChart, FunnelChart } from './charts.tsx';
import { useBusiness } from './context.ts';
import { count, plural, when } from './format.ts';
import { download } from './hooks.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { PageHead } from './feedback.tsx';

export function CampaignsPage({ rest }: { rest: string[] }) {
  if (rest[0] === 'new') return <CampaignForm />;
  if (rest[0]) return <CampaignView key={rest[0]} id={rest[0]} />;
  return <CampaignList />;
}

const STATUS_WORDS: Record<Campaign['status'], string> = {
  draft: 'Draft',
  scheduled: 'Scheduled',
  running: 'Sending',
  paused: 'Paused',
  completed: 'Completed',
  cancelled: 'Cancelled',
};
const STATUS_TONE: Record<Campaign['status'], string> = { draft: '', scheduled: '', running: 'good', paused: 'warn', completed: 'good', cancelled: 'bad' };
const ACTIVE = new Set<Campaign['status']>(['scheduled', 'running', 'paused']);

export function StatusBadge({ status }: { status: Campaign['status'] }) {
  return <span className={`biz-tag ${STATUS_TONE[status]}`}>{STATUS_WORDS[status]}</span>;
}

export function scheduleWords(s: CampaignSchedule): string {
  switch (s.kind) {
    case 'now':
      return 'As soon as started';
    case 'at':
      return `At ${when(Date.parse(s.at))}`;
    case 'local':
      return `At ${s.local_time.replace('T', ' ')} in each recipient’s time zone`;
    case 'recurring':
      return `Recurring: ${s.cron}${s.time_zone ? ` (${s.time_zone})` : ''}`;
  }
}

/** Re-runs `load` every `ms` while `active` (a campaign sending moves its numbers). */
function useRefresh(load: () => void, active: boolean, ms = 1500) {
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') load();
    }, ms);
    return () => window.clearInterval(timer);
  }, [load, active, ms]);
}

function CampaignList() {
  const { client, can, href } = useBusiness();
  const [campaigns, setCampaigns] = useState<Campaign[] | null>(null);
  const [details, setDetails] = useState<Record<string, CampaignDetail>>({});
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadDetails = useCallback(
    (list: Campaign[]) => {
      for (const c of list.filter((x) => x.status !== 'draft').slice(0, 30))
        client
          .campaign(c.id)
          .then((d) => setDetails((all) => ({ ...all, [c.id]: d })))
          .catch(() => {});
    },
    [client],
  );
  const load = useCallback(() => {
    client
      .campaigns({ limit: 50 })
      .then((r) => {
        setCampaigns(r.campaigns);
        setCursor(r.next_cursor);
        loadDetails(r.campaigns);
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, loadDetails]);
  useEffect(load, [load]);
  const active = (campaigns ?? []).some((c) => ACTIVE.has(c.status));
  useRefresh(load, active, 3000);

  const more = async () => {
    if (!cursor) return;
    try {
      const r = await client.campaigns({ cursor, limit: 50 });
      setCampaigns((l) => [...(l ?? []), ...r.campaigns]);
      setCursor(r.next_cursor);
      loadDetails(r.campaigns);
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <div className="biz-page">
      <PageHead title="Campaigns" create={can('campaigns:write') ? { label: 'New campaign', href: href('campaigns', 'new') } : null} />
      <ErrorAlert error={error} />
      {campaigns === null && !error && <p className="hint">Loading…</p>}
      {campaigns?.length === 0 && <p className="hint">No campaigns yet.</p>}
      {campaigns && campaigns.length > 0 && (
        <ul className="biz-campaigns">
          {campaigns.map((c) => {
            const d = details[c.id];
            return (
              <li key={c.id} className="card biz-card" data-campaign={c.name}>
                <div className="biz-page-head">
                  <h3>
                    <Link href={href('campaigns', c.id)}>{c.name}</Link>
                  </h3>
                  <StatusBadge status={c.status} />
                </div>
                <p className="hint">
                  {c.purpose} · {scheduleWords(c.schedule)} · {plural(c.variants.length, 'variant')} · {c.throttle_per_second}/s
                  {c.next_run_at ? ` · next run ${when(c.next_run_at)}` : ''}
                </p>
                {d && <CampaignProgress funnel={d.funnel} id={`progress-${c.id}`} />}
              </li>
            );
          })}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => void more()}>
          Show more campaigns
        </button>
      )}
    </div>
  );
}

type VariantRow = { key: number; templateId: string; weight: string };
let keys = 0;

function CampaignForm() {
  const { client, can, href, settings } = useBusiness();
  const [name, setName] = useState('');
  const [purpose, setPurpose] = useState('marketing');
  const [audienceKind, setAudienceKind] = useState<'segment' | 'external_ids' | 'contact_ids'>('segment');
  const [segmentId, setSegmentId] = useState('');
  const [ids, setIds] = useState('');
  const [segments, setSegments] = useState<Segment[]>([]);
  const [templates, setTemplates] = useState<MessageTemplateList['templates']>([]);
  const [loaded, setLoaded] = useState<Record<string, MessageTemplate>>({});
  const [variants, setVariants] = useState<VariantRow[]>([{ key: ++keys, templateId: '', weight: '1' }]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [scheduleKind, setScheduleKind] = useState<CampaignSchedule['kind']>('now');
  const [at, setAt] = useState('');
  const [cron, setCron] = useState('0 9 * * 1');
  const [cronZone, setCronZone] = useState(settings.default_time_zone);
  const [throttle, setThrottle] = useState('50');
  const [until, setUntil] = useState('');
  const [audienceCount, setAudienceCount] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    Promise.all([client.segments.list().then((r) => r.segments), client.listTemplates()])
      .then(([s, t]) => {
        if (!live) return;
        setSegments(s);
        setSegmentId((v) => v || s[0]?.id || '');
        setTemplates(t.templates.filter((x) => x.approved_number !== null));
      })
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client]);

  // The chosen segment's size now.
  useEffect(() => {
    if (audienceKind !== 'segment' || !segmentId) return setAudienceCount(null);
    let live = true;
    client.segments
      .countSaved(segmentId)
      .then((r) => live && setAudienceCount(r.count))
      .catch(() => live && setAudienceCount(null));
    return () => {
      live = false;
    };
  }, [client, audienceKind, segmentId]);

  // Each chosen template's approved version (its id is what a campaign names; its variables need values).
  useEffect(() => {
    for (const v of variants)
      if (v.templateId && !loaded[v.templateId])
        client
          .getTemplate(v.templateId)
          .then((t) => setLoaded((all) => ({ ...all, [t.id]: t })))
          .catch((err: unknown) => setError(errorText(err)));
  }, [client, variants, loaded]);

  const declared = useMemo(() => {
    const names = new Map<string, string>();
    for (const v of variants) for (const x of loaded[v.templateId]?.approved_version?.variables ?? []) names.set(x.name, x.default ?? x.example ?? '');
    return [...names.entries()];
  }, [variants, loaded]);
  const totalWeight = variants.reduce((n, v) => n + (Number(v.weight) || 0), 0);

  if (!can('campaigns:write'))
    return (
      <div className="biz-page">
        <p className="hint">Owners and admins create campaigns.</p>
      </div>
    );

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const chosen = variants.map((v) => ({ row: v, version: loaded[v.templateId]?.approved_version }));
    if (chosen.some((c) => !c.row.templateId)) return setError('Choose a template for every variant.');
    if (chosen.some((c) => !c.version)) return setError('A chosen template has no approved version yet.');
    const list = ids.split(/[\s,]+/).filter(Boolean);
    const audience = audienceKind === 'segment' ? { segment_id: segmentId } : audienceKind === 'external_ids' ? { external_ids: list } : { contact_ids: list };
    const schedule: CampaignSchedule =
      scheduleKind === 'now'
        ? { kind: 'now' }
        : scheduleKind === 'at'
          ? { kind: 'at', at: at ? new Date(at).toISOString() : '' }
          : scheduleKind === 'local'
            ? { kind: 'local', local_time: at }
            : { kind: 'recurring', cron: cron.trim(), ...(cronZone.trim() ? { time_zone: cronZone.trim() } : {}) };
    const variables = Object.fromEntries(declared.map(([n]) => [n, values[n] ?? '']).filter(([, v]) => v !== ''));
    setBusy(true);
    try {
      const created = await client.createCampaign({
        name: name.trim(),
        purpose,
        audience,
        variants: chosen.map((c) => ({ template_version_id: c.version!.id, weight: Number(c.row.weight) })),
        ...(Object.keys(variables).length ? { variables } : {}),
        schedule,
        throttle_per_second: Number(throttle),
        ...(until ? { send_until: new Date(until).toISOString() } : {}),
      });
      navigate(href('campaigns', created.id));
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <div className="biz-page">
      <p>
        <Link href={href('campaigns')}>← All campaigns</Link>
      </p>
      <h2>New campaign</h2>
      <form className="card biz-card" aria-label="New campaign" onSubmit={(e) => void submit(e)}>
        <div className="biz-inline">
          <div className="field">
            <label htmlFor="campaign-name">Campaign name</label>
            <input id="campaign-name" required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="campaign-purpose">Consent purpose</label>
            <input id="campaign-purpose" required pattern="[a-z][a-z0-9_\-]*" maxLength={32} value={purpose} onChange={(e) => setPurpose(e.target.value)} aria-describedby="campaign-purpose-hint" />
            <p id="campaign-purpose-hint" className="hint">
              Only contacts with current consent for it get the message; quiet hours and frequency caps apply.
            </p>
          </div>
        </div>

        <fieldset className="biz-fieldset">
          <legend>Audience</legend>
          <div className="biz-radios">
            <label className="biz-check">
              <input type="radio" name="audience" checked={audienceKind === 'segment'} onChange={() => setAudienceKind('segment')} />A segment
            </label>
            <label className="biz-check">
              <input type="radio" name="audience" checked={audienceKind === 'external_ids'} onChange={() => setAudienceKind('external_ids')} />A list of external ids
            </label>
            <label className="biz-check">
              <input type="radio" name="audience" checked={audienceKind === 'contact_ids'} onChange={() => setAudienceKind('contact_ids')} />A list of contact ids
            </label>
          </div>
          {audienceKind === 'segment' ? (
            <div className="field">
              <label htmlFor="campaign-segment">Segment</label>
              <select id="campaign-segment" required value={segmentId} onChange={(e) => setSegmentId(e.target.value)}>
                {segments.length === 0 && <option value="">No segments yet</option>}
                {segments.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
              <p className="hint" aria-live="polite">
                {audienceCount !== null ? `${plural(audienceCount, 'contact')} in it now (before the consent check).` : ''}
              </p>
            </div>
          ) : (
            <div className="field">
              <label htmlFor="campaign-ids">{audienceKind === 'external_ids' ? 'External ids' : 'Contact ids'}, one per line</label>
              <textarea id="campaign-ids" required rows={4} spellCheck={false} value={ids} onChange={(e) => setIds(e.target.value)} />
            </div>
          )}
        </fieldset>

        <fieldset className="biz-fieldset">
          <legend>Message</legend>
          <p className="hint">One approved template, or up to five for an A/B test: each contact gets one variant, split by weight.</p>
          {templates.length === 0 && <p className="hint">No approved template yet: approve one under Templates.</p>}
          {variants.map((v, i) => (
            <fieldset key={v.key} className="biz-cap" aria-label={`Variant ${String.fromCharCode(65 + i)}`}>
              <div className="field">
                <label htmlFor={`variant-template-${v.key}`}>Variant {String.fromCharCode(65 + i)} template</label>
                <select id={`variant-template-${v.key}`} required value={v.templateId} onChange={(e) => setVariants((l) => l.map((x) => (x.key === v.key ? { ...x, templateId: e.target.value } : x)))}>
                  <option value="">Choose…</option>
                  {templates.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name} (v{t.approved_number})
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`variant-weight-${v.key}`}>Variant {String.fromCharCode(65 + i)} weight</label>
                <input id={`variant-weight-${v.key}`} type="number" required min={1} max={100} value={v.weight} onChange={(e) => setVariants((l) => l.map((x) => (x.key === v.key ? { ...x, weight: e.target.value } : x)))} />
              </div>
              <p className="biz-share">{totalWeight > 0 ? `${Math.round((100 * (Number(v.weight) || 0)) / totalWeight)}% of the audience` : ''}</p>
              {variants.length > 1 && (
                <button type="button" className="biz-remove" aria-label={`Remove variant ${String.fromCharCode(65 + i)}`} onClick={() => setVariants((l) => l.filter((x) => x.key !== v.key))}>
                  Remove
                </button>
              )}
            </fieldset>
          ))}
          {variants.length < 5 && (
            <button type="button" onClick={() => setVariants((l) => [...l, { key: ++keys, templateId: '', weight: '1' }])}>
              Add a variant (A/B test)
            </button>
          )}
          {declared.length > 0 && (
            <div className="biz-attr-grid">
              {declared.map(([n, fallback]) => (
                <div className="field" key={n}>
                  <label htmlFor={`campaign-var-${n}`}>{n} (same for everyone)</label>
                  <input id={`campaign-var-${n}`} placeholder={fallback} value={values[n] ?? ''} onChange={(e) => setValues((all) => ({ ...all, [n]: e.target.value }))} />
                </div>
              ))}
            </div>
          )}
        </fieldset>

        <fieldset className="biz-fieldset">
          <legend>When</legend>
          <div className="biz-radios">
            {(
              [
                ['now', 'As soon as I start it'],
                ['at', 'At a time'],
                ['local', 'At a time in each recipient’s own time zone'],
                ['recurring', 'Recurring (cron)'],
              ] as const
            ).map(([k, label]) => (
              <label key={k} className="biz-check">
                <input type="radio" name="schedule" checked={scheduleKind === k} onChange={() => setScheduleKind(k)} />
                {label}
              </label>
            ))}
          </div>
          {(scheduleKind === 'at' || scheduleKind === 'local') && (
            <div className="field">
              <label htmlFor="campaign-at">{scheduleKind === 'at' ? 'Send at (your time)' : 'Send at (their local time)'}</label>
              <input id="campaign-at" type="datetime-local" required value={at} onChange={(e) => setAt(e.target.value)} />
            </div>
          )}
          {scheduleKind === 'recurring' && (
            <div className="biz-inline">
              <div className="field">
                <label htmlFor="campaign-cron">Cron expression</label>
                <input id="campaign-cron" required spellCheck={false} value={cron} onChange={(e) => setCron(e.target.value)} aria-describedby="campaign-cron-hint" />
                <p id="campaign-cron-hint" className="hint">
                  Minute hour day-of-month month day-of-week: <code>0 9 * * 1</code> is every Monday at 09:00.
                </p>
              </div>
              <div className="field">
                <label htmlFor="campaign-cron-zone">In time zone</label>
                <input id="campaign-cron-zone" spellCheck={false} value={cronZone} onChange={(e) => setCronZone(e.target.value)} />
              </div>
            </div>
          )}
          <div className="biz-inline">
            <div className="field">
              <label htmlFor="campaign-throttle">Messages per second</label>
              <input id="campaign-throttle" type="number" required min={1} max={100000} value={throttle} onChange={(e) => setThrottle(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="campaign-until">Stop sending at (optional)</label>
              <input id="campaign-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} aria-describedby="campaign-until-hint" />
              <p id="campaign-until-hint" className="hint">
                A message held by quiet hours past this time is skipped.
              </p>
            </div>
          </div>
        </fieldset>
        <ErrorAlert error={error} />
        <button type="submit" className="primary biz-submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create campaign'}
        </button>
        <p className="hint">It is created as a draft: start it (or send a test) on its page.</p>
      </form>
    </div>
  );
}

const FILTERS: { value: RecipientStatus | ''; label: string }[] = [
  { value: '', label: 'Every status' },
  { value: 'queued', label: 'Queued' },
  { value: 'sent', label: 'Sent' },
  { value: 'delivered', label: 'Delivered' },
  { value: 'read', label: 'Read' },
  { value: 'clicked', label: 'Clicked' },
  { value: 'replied', label: 'Replied' },
  { value: 'voted', label: 'Voted' },
  { value: 'opted_out', label: 'Opted out' },
  { value: 'failed', label: 'Failed' },
  { value: 'skipped', label: 'Skipped' },
];

function CampaignView({ id }: { id: string }) {
  const { client, can, href, business } = useBusiness();
  const [campaign, setCampaign] = useState<CampaignDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, ask] = useConfirm();
  const load = useCallback(() => {
    client
      .campaign(id)
      .then(setCampaign)
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, id]);
  useEffect(load, [load]);
  const moving = campaign ? ACTIVE.has(campaign.status) || campaign.runs.some((r) => r.status === 'planning' || r.status === 'sending') : false;
  // Reads, clicks and replies keep arriving after the last message is sent: keep following, slower.
  useRefresh(load, true, moving ? 1500 : 4000);

  if (!campaign)
    return error ? (
      <p className="error" role="alert">
        {error}
      </p>
    ) : (
      <p className="loading">Loading…</p>
    );

  const act = async (what: string, call: () => Promise<CampaignDetail>, done: string) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      setCampaign(await call());
      setNotice(done);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
    return what;
  };
  const write = can('campaigns:write');
  const s = campaign.status;
  return (
    <div className="biz-page">
      <p>
        <Link href={href('campaigns')}>← All campaigns</Link>
      </p>
      <div className="biz-page-head">
        <h2>{campaign.name}</h2>
        <StatusBadge status={s} />
      </div>
      <p className="hint">
        {campaign.purpose} · {scheduleWords(campaign.schedule)} · {campaign.throttle_per_second} messages a second
        {campaign.send_until ? ` · until ${when(campaign.send_until)}` : ''}
        {campaign.next_run_at ? ` · next run ${when(campaign.next_run_at)}` : ''}
      </p>
      {write && (
        <div className="biz-actions">
          {s === 'draft' && (
            <button
              type="button"
              className="primary biz-submit"
              disabled={busy}
              onClick={async () => {
                const ok = await ask({
                  title: `Start “${campaign.name}”?`,
                  detail: campaign.schedule.kind === 'now' ? 'Messages start going out at once to everyone in the audience who has consented.' : `It is scheduled: ${scheduleWords(campaign.schedule)}.`,
                  confirm: 'Start campaign',
                });
                if (ok) await act('start', () => client.startCampaign(id), campaign.schedule.kind === 'now' ? 'Started.' : 'Scheduled.');
              }}
            >
              Start
            </button>
          )}
          {s === 'draft' && (
            <button
              type="button"
              disabled={busy}
              onClick={async () => {
                setError(null);
                try {
                  const r = await client.testCampaign(id);
                  setNotice(`Test sent to ${r.sent.map((x) => `@${x.handle} (variant ${x.variant})`).join(', ')}: look in your chat with @${business.handle}.`);
                } catch (err) {
                  setError(errorText(err));
                }
              }}
            >
              Send me a test
            </button>
          )}
          {s === 'running' && (
            <button type="button" disabled={busy} onClick={() => void act('pause', () => client.pauseCampaign(id), 'Paused: nothing more is sent until you resume.')}>
              Pause
            </button>
          )}
          {s === 'paused' && (
            <button type="button" disabled={busy} onClick={() => void act('resume', () => client.resumeCampaign(id), 'Resumed.')}>
              Resume
            </button>
          )}
          {(s === 'draft' || ACTIVE.has(s)) && (
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={async () => {
                const ok = await ask({ title: `Cancel “${campaign.name}”?`, detail: 'Messages not yet sent are never sent. Those already sent stay.', confirm: 'Cancel campaign' });
                if (ok) await act('cancel', () => client.cancelCampaign(id), 'Cancelled.');
              }}
            >
              Cancel campaign
            </button>
          )}
          {s === 'completed' && campaign.funnel.failed > 0 && (
            <button type="button" disabled={busy} onClick={() => void act('resend', () => client.resendCampaign(id, { to: 'failed' }), 'Sending again to those it failed for.')}>
              Resend to failed
            </button>
          )}
          {s === 'completed' && (
            <button type="button" disabled={busy} onClick={() => void act('resend', () => client.resendCampaign(id, { to: 'unread' }), 'Sending again to those who have not read it.')}>
              Resend to unread
            </button>
          )}
        </div>
      )}
      <p role="status" className="biz-saved">
        {notice}
      </p>
      <ErrorAlert error={error} />
      <section className="card biz-card" aria-labelledby="progress-heading">
        <h3 id="progress-heading">Progress</h3>
        <CampaignProgress funnel={campaign.funnel} id="campaign-progress" />
        <p className="hint">
          {count(campaign.funnel.sent)} sent, {count(campaign.funnel.failed)} failed, {count(campaign.funnel.skipped)} skipped (no consent, quiet hours past the window, frequency cap, suppressed).
        </p>
      </section>
      <div className="biz-columns">
        <section className="card biz-card" aria-labelledby="funnel-heading">
          <h3 id="funnel-heading">Funnel</h3>
          <FunnelChart funnel={campaign.funnel} label={`Funnel of ${campaign.name}`} />
        </section>
        {campaign.variant_funnels.length > 1 && (
          <section className="card biz-card" aria-labelledby="variants-heading">
            <h3 id="variants-heading">Variants</h3>
            <CompareChart series={campaign.variant_funnels.map((v) => ({ name: `Variant ${v.name}`, funnel: v.funnel }))} label={`Variants of ${campaign.name}, compared`} />
          </section>
        )}
      </div>
      {campaign.runs.length > 0 && (
        <section className="card biz-card" aria-labelledby="runs-heading">
          <h3 id="runs-heading">Runs</h3>
          <div className="table-scroll">
            <table className="biz-table">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Kind</th>
                  <th scope="col">State</th>
                  <th scope="col">Starts</th>
                  <th scope="col">Planned</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {campaign.runs.map((r) => (
                  <tr key={r.id}>
                    <td>{r.id}</td>
                    <td>{r.kind}</td>
                    <td>{r.status}</td>
                    <td>{when(r.scheduled_at)}</td>
                    <td>{count(r.planned)}</td>
                    <td>{r.finished_at ? when(r.finished_at) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <Recipients id={id} name={campaign.name} moving={moving} />
      {confirm}
    </div>
  );
}

function Recipients({ id, name, moving }: { id: string; name: string; moving: boolean }) {
  const { client, href } = useBusiness();
  const [status, setStatus] = useState<RecipientStatus | ''>('');
  const [rows, setRows] = useState<CampaignRecipient[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    client
      .campaignRecipients(id, { ...(status ? { status } : {}), limit: 50 })
      .then((r) => {
        setRows(r.recipients);
        setCursor(r.next_cursor);
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, id, status]);
  useEffect(load, [load]);
  useRefresh(load, moving, 3000);
  const more = async () => {
    if (!cursor) return;
    try {
      const r = await client.campaignRecipients(id, { ...(status ? { status } : {}), cursor, limit: 50 });
      setRows((l) => [...(l ?? []), ...r.recipients]);
      setCursor(r.next_cursor);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const exportCsv = async () => {
    try {
      const csv = await client.exportCampaign(id);
      download(`${name.replace(/[^\w-]+/g, '-')}-recipients.csv`, new Blob([csv], { type: 'text/csv' }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section className="card biz-card" aria-labelledby="recipients-heading">
      <div className="biz-page-head">
        <h3 id="recipients-heading">Recipients</h3>
        <div className="biz-actions">
          <label htmlFor="recipient-status" className="visually-hidden">
            Show recipients with status
          </label>
          <select id="recipient-status" value={status} onChange={(e) => setStatus(e.target.value as RecipientStatus | '')}>
            {FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
          <button type="button" onClick={() => void exportCsv()}>
            Export CSV
          </button>
        </div>
      </div>
      <ErrorAlert error={error} />
      {rows?.length === 0 && <p className="hint">No recipient{status ? ' with this status' : ' yet'}.</p>}
      {rows && rows.length > 0 && (
        <div className="table-scroll">
          <table className="biz-table" aria-label="Recipients">
            <thead>
              <tr>
                <th scope="col">Contact</th>
                <th scope="col">Variant</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Waits until</th>
                <th scope="col">Changed</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.run_id}-${r.contact_id}`} data-recipient={r.contact_id}>
                  <td>
                    <Link href={href('contacts', r.contact_id)}>{r.contact_id}</Link>
                  </td>
                  <td>{r.variant}</td>
                  <td>{r.status}</td>
                  <td>{r.reason ?? '—'}</td>
                  <td>{r.send_after ? when(r.send_after) : '—'}</td>
                  <td>{when(r.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" onClick={() => void more()}>
          Show more recipients
        </button>
      )}
    </section>
  );
}
