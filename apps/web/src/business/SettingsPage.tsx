/**
 * Settings & team: the business's public profile (display name, about line), its sending rules
 * (quiet hours, frequency caps per purpose, whether agents may export contacts, the default locale
 * and time zone for contacts without one), and its team (add by handle, change a role, remove).
 * Owners and admins get the controls; everyone else reads. Only owners make or change owners and
 * admins, and nobody changes their own role (the server refuses; the page does not offer it).
 */
import type { BusinessMember, BusinessRole, BusinessSettings, FrequencyCap } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useId, useState } from 'react';
import { errorText } from '../api.ts';
import { useConfirm } from '../messenger/Confirm.tsx';
import { day } from './format.ts';
import { navigate } from '../router.tsx';
import { useSession } from '../session.tsx';
import { ROLE_WORDS, useBusiness } from './context.ts';
import { FormFeedback } from './feedback.tsx';

export function SettingsPage() {
  return (
    <div className="biz-page">
      <h2 className="visually-hidden">Settings and team</h2>
      <ProfileForm />
      <RulesForm />
      <Team />
    </div>
  );
}

/** A line under a form: what was saved, or why not (the server's own words). */
function Outcome({ saved, error }: { saved: string | null; error: string | null }) {
  return (
    <>
      <FormFeedback error={error} saved={saved} />
    </>
  );
}

function ProfileForm() {
  const { client, business, can, replace } = useBusiness();
  const [name, setName] = useState(business.display_name);
  const [about, setAbout] = useState(business.about ?? '');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const editable = can('settings:write');

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      replace(await client.updateBusiness({ display_name: name.trim(), about: about.trim() ? about.trim() : null }));
      setSaved('Profile saved.');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (!editable)
    return (
      <section className="card biz-card" aria-labelledby="profile-heading">
        <h3 id="profile-heading">Profile</h3>
        <dl className="biz-facts">
          <dt>Display name</dt>
          <dd>{business.display_name}</dd>
          <dt>About</dt>
          <dd>{business.about ?? <span className="hint">Nothing yet</span>}</dd>
        </dl>
        <p className="hint">Owners and admins change the profile.</p>
      </section>
    );
  return (
    <form className="card biz-card" aria-labelledby="profile-heading" onSubmit={(e) => void save(e)}>
      <h3 id="profile-heading">Profile</h3>
      <p className="hint">What people see in their chats with the business.</p>
      <div className="field">
        <label htmlFor="biz-name">Display name</label>
        <input id="biz-name" required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="biz-about">About</label>
        <textarea id="biz-about" maxLength={280} rows={3} value={about} onChange={(e) => setAbout(e.target.value)} aria-describedby="biz-about-hint" />
        <p id="biz-about-hint" className="hint">
          Up to 280 characters.
        </p>
      </div>
      <Outcome saved={saved} error={error} />
      <button type="submit" className="primary biz-submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save profile'}
      </button>
    </form>
  );
}

type CapRow = { key: number; purpose: string; max: string; days: string };

function capRows(caps: Record<string, FrequencyCap>): CapRow[] {
  return Object.entries(caps).map(([purpose, cap], i) => ({ key: i, purpose, max: String(cap.max), days: String(cap.days) }));
}

// Every zone the browser knows, as suggestions (the server checks the one typed against IANA's list).
const TIME_ZONES: string[] = (() => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

function RulesForm() {
  const { client, settings, can, replace } = useBusiness();
  const [quiet, setQuiet] = useState(settings.quiet_hours !== null);
  const [start, setStart] = useState(settings.quiet_hours?.start ?? '21:00');
  const [end, setEnd] = useState(settings.quiet_hours?.end ?? '08:00');
  const [caps, setCaps] = useState<CapRow[]>(() => capRows(settings.frequency_caps));
  const [nextKey, setNextKey] = useState(1000);
  const [agentsExport, setAgentsExport] = useState(settings.agents_may_export);
  const [locale, setLocale] = useState(settings.default_locale);
  const [zone, setZone] = useState(settings.default_time_zone);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const zonesId = useId();

  if (!can('settings:write')) return <RulesView settings={settings} />;

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setSaved(null);
    const frequency_caps: Record<string, FrequencyCap> = {};
    for (const row of caps) {
      const purpose = row.purpose.trim().toLowerCase();
      if (!purpose) continue;
      if (frequency_caps[purpose]) {
        setError(`The purpose “${purpose}” has two caps; keep one.`);
        return;
      }
      frequency_caps[purpose] = { max: Number(row.max), days: Number(row.days) };
    }
    setBusy(true);
    try {
      const next = await client.updateBusiness({
        settings: {
          quiet_hours: quiet ? { start, end } : null,
          frequency_caps,
          agents_may_export: agentsExport,
          default_locale: locale.trim(),
          default_time_zone: zone.trim(),
        },
      });
      replace(next);
      setCaps(capRows(next.settings.frequency_caps));
      setSaved('Settings saved.');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const setCap = (key: number, patch: Partial<CapRow>) => setCaps((rows) => rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <form className="card biz-card" aria-labelledby="rules-heading" onSubmit={(e) => void save(e)}>
      <h3 id="rules-heading">Sending rules</h3>
      <fieldset className="biz-fieldset">
        <legend>Quiet hours</legend>
        <label className="biz-check">
          <input type="checkbox" checked={quiet} onChange={(e) => setQuiet(e.target.checked)} />
          Hold marketing messages during quiet hours
        </label>
        <p className="hint">In each recipient’s own time zone. Messages wait until the quiet hours end; they are not dropped.</p>
        {quiet && (
          <div className="biz-inline">
            <div className="field">
              <label htmlFor="quiet-start">From</label>
              <input id="quiet-start" type="time" required value={start} onChange={(e) => setStart(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="quiet-end">Until</label>
              <input id="quiet-end" type="time" required value={end} onChange={(e) => setEnd(e.target.value)} />
            </div>
          </div>
        )}
      </fieldset>
      <fieldset className="biz-fieldset">
        <legend>Frequency caps</legend>
        <p className="hint">At most so many messages of a purpose to one contact in any so many days.</p>
        {caps.length === 0 && <p className="hint">No caps: contacts may get any number of messages.</p>}
        {caps.map((row) => (
          <fieldset key={row.key} className="biz-cap" aria-label={`Cap for ${row.purpose || 'a new purpose'}`}>
            <div className="field">
              <label htmlFor={`cap-purpose-${row.key}`}>Purpose</label>
              <input id={`cap-purpose-${row.key}`} required pattern="[a-z][a-z0-9_\-]*" maxLength={32} value={row.purpose} onChange={(e) => setCap(row.key, { purpose: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`cap-max-${row.key}`}>At most</label>
              <input id={`cap-max-${row.key}`} type="number" required min={0} max={1000} value={row.max} onChange={(e) => setCap(row.key, { max: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`cap-days-${row.key}`}>In days</label>
              <input id={`cap-days-${row.key}`} type="number" required min={1} max={365} value={row.days} onChange={(e) => setCap(row.key, { days: e.target.value })} />
            </div>
            <button type="button" className="biz-remove" aria-label={`Remove the cap for ${row.purpose || 'a new purpose'}`} onClick={() => setCaps((rows) => rows.filter((r) => r.key !== row.key))}>
              Remove
            </button>
          </fieldset>
        ))}
        <button
          type="button"
          onClick={() => {
            setCaps((rows) => [...rows, { key: nextKey, purpose: '', max: '1', days: '7' }]);
            setNextKey((k) => k + 1);
          }}
        >
          Add a cap
        </button>
      </fieldset>
      <fieldset className="biz-fieldset">
        <legend>Contacts</legend>
        <label className="biz-check">
          <input type="checkbox" checked={agentsExport} onChange={(e) => setAgentsExport(e.target.checked)} />
          Agents may export contacts
        </label>
        <p className="hint">Owners and admins always may. Analysts never do.</p>
        <div className="biz-inline">
          <div className="field">
            <label htmlFor="default-locale">Default locale</label>
            <input id="default-locale" required maxLength={35} spellCheck={false} value={locale} onChange={(e) => setLocale(e.target.value)} aria-describedby="default-locale-hint" />
            <p id="default-locale-hint" className="hint">
              For contacts without one, such as en, fr-CA.
            </p>
          </div>
          <div className="field">
            <label htmlFor="default-zone">Default time zone</label>
            <input id="default-zone" required maxLength={64} spellCheck={false} list={zonesId} value={zone} onChange={(e) => setZone(e.target.value)} aria-describedby="default-zone-hint" />
            <datalist id={zonesId}>
              {TIME_ZONES.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            <p id="default-zone-hint" className="hint">
              An IANA zone, such as Europe/Paris.
            </p>
          </div>
        </div>
      </fieldset>
      <Outcome saved={saved} error={error} />
      <button type="submit" className="primary biz-submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save settings'}
      </button>
    </form>
  );
}

function RulesView({ settings }: { settings: BusinessSettings }) {
  const caps = Object.entries(settings.frequency_caps);
  return (
    <section className="card biz-card" aria-labelledby="rules-heading">
      <h3 id="rules-heading">Sending rules</h3>
      <dl className="biz-facts">
        <dt>Quiet hours</dt>
        <dd>{settings.quiet_hours ? `${settings.quiet_hours.start} to ${settings.quiet_hours.end}, in each recipient’s time zone` : 'None'}</dd>
        <dt>Frequency caps</dt>
        <dd>{caps.length === 0 ? 'None' : caps.map(([purpose, c]) => `${purpose}: at most ${c.max} in ${c.days} ${c.days === 1 ? 'day' : 'days'}`).join('; ')}</dd>
        <dt>Agents may export contacts</dt>
        <dd>{settings.agents_may_export ? 'Yes' : 'No'}</dd>
        <dt>Default locale</dt>
        <dd>{settings.default_locale}</dd>
        <dt>Default time zone</dt>
        <dd>{settings.default_time_zone}</dd>
      </dl>
      <p className="hint">Owners and admins change these.</p>
    </section>
  );
}

const ROLES: BusinessRole[] = ['owner', 'admin', 'agent', 'analyst'];
const elevated = (r: BusinessRole) => r === 'owner' || r === 'admin';

function Team() {
  const { client, role, can, business } = useBusiness();
  const { me } = useSession();
  const [members, setMembers] = useState<BusinessMember[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [confirm, ask] = useConfirm();
  const manage = can('team:manage');
  // Roles I may give: owners give any; admins give agent and analyst.
  const grantable = ROLES.filter((r) => role === 'owner' || !elevated(r));

  const load = useCallback(() => {
    client
      .businessMembers()
      .then((r) => setMembers(r.members))
      .catch((err: unknown) => setError(errorText(err)));
  }, [client]);
  useEffect(load, [load]);

  async function change(member: BusinessMember, next: BusinessRole) {
    setError(null);
    setStatus(null);
    try {
      const updated = await client.putBusinessMember(member.handle, next);
      setMembers((list) => (list ?? []).map((m) => (m.account_id === updated.account_id ? updated : m)));
      setStatus(`@${member.handle} is now ${ROLE_WORDS[next].toLowerCase()}.`);
    } catch (err) {
      setError(errorText(err));
      load();
    }
  }

  async function remove(member: BusinessMember) {
    const self = member.account_id === me.id;
    const ok = await ask(
      self
        ? { title: `Leave ${business.display_name}?`, detail: 'You will no longer see its console. An owner or admin can add you again.', confirm: 'Leave team' }
        : { title: `Remove @${member.handle} from the team?`, detail: 'They lose access to this business at once.', confirm: 'Remove' },
    );
    if (!ok) return;
    setError(null);
    setStatus(null);
    try {
      await client.removeBusinessMember(member.account_id);
      if (self) {
        navigate('/business');
        return;
      }
      setMembers((list) => (list ?? []).filter((m) => m.account_id !== member.account_id));
      setStatus(`@${member.handle} was removed from the team.`);
    } catch (err) {
      setError(errorText(err));
    }
  }

  const mayChange = (m: BusinessMember) => manage && !m.is_business && m.account_id !== me.id && (role === 'owner' || !elevated(m.role));

  return (
    <section className="card biz-card" aria-labelledby="team-heading">
      <h3 id="team-heading">Team</h3>
      <p className="hint">Owners and admins run everything; agents answer customers and edit contacts; analysts only read.</p>
      {members === null && !error && <p className="hint">Loading…</p>}
      {members && (
        <div className="table-scroll">
          <table className="biz-table">
            <caption className="visually-hidden">Team members</caption>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.account_id} data-member={m.handle}>
                  <th scope="row">
                    @{m.handle}
                    {m.is_business && <span className="hint"> (the business account)</span>}
                    {m.account_id === me.id && <span className="hint"> (you)</span>}
                  </th>
                  <td>
                    {mayChange(m) ? (
                      <select aria-label={`Role of @${m.handle}`} value={m.role} onChange={(e) => void change(m, e.target.value as BusinessRole)}>
                        {ROLES.filter((r) => grantable.includes(r) || r === m.role).map((r) => (
                          <option key={r} value={r}>
                            {ROLE_WORDS[r]}
                          </option>
                        ))}
                      </select>
                    ) : (
                      ROLE_WORDS[m.role]
                    )}
                  </td>
                  <td>{m.is_business ? '—' : day(m.added_at)}</td>
                  <td>
                    {mayChange(m) && (
                      <button type="button" className="danger" aria-label={`Remove @${m.handle}`} onClick={() => void remove(m)}>
                        Remove
                      </button>
                    )}
                    {m.account_id === me.id && !m.is_business && (
                      <button type="button" onClick={() => void remove(m)}>
                        Leave
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <FormFeedback error={error} saved={status} />
      {manage ? (
        <AddMember grantable={grantable} onAdded={(m) => setMembers((list) => [...(list ?? []).filter((x) => x.account_id !== m.account_id), m])} />
      ) : (
        <p className="hint">Owners and admins manage the team.</p>
      )}
      {confirm}
    </section>
  );
}

function AddMember({ grantable, onAdded }: { grantable: BusinessRole[]; onAdded: (m: BusinessMember) => void }) {
  const { client } = useBusiness();
  const [handle, setHandle] = useState('');
  const [role, setRole] = useState<BusinessRole>('agent');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setAdded(null);
    try {
      const member = await client.putBusinessMember(handle.trim().replace(/^@/, ''), role);
      onAdded(member);
      setAdded(`@${member.handle} joined the team as ${ROLE_WORDS[member.role].toLowerCase()}.`);
      setHandle('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="biz-add" onSubmit={(e) => void submit(e)} aria-labelledby="add-member-heading">
      <h4 id="add-member-heading">Add someone</h4>
      <div className="biz-inline">
        <div className="field">
          <label htmlFor="member-handle">Their handle</label>
          <input id="member-handle" required autoCapitalize="none" spellCheck={false} placeholder="@sam" value={handle} onChange={(e) => setHandle(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="member-role">Role</label>
          <select id="member-role" value={role} onChange={(e) => setRole(e.target.value as BusinessRole)}>
            {grantable.map((r) => (
              <option key={r} value={r}>
                {ROLE_WORDS[r]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <FormFeedback error={error} saved={added} />
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add to team'}
      </button>
    </form>
  );
}
