/**
 * One contact: details, tags and typed attributes (editable by those who may change contacts), the
 * consent state per purpose and the ledger as a timeline where every event shows its proof (the
 * words shown, when, where, the evidence, who recorded it), recording an opt-out or an opt-in
 * with proof, and GDPR: export everything held (Art. 15) and erase (Art. 17) after the app's own
 * confirmation, with what was kept and why.
 */
import type { AttributeDefinition, ConsentEvent, ConsentLedger, ConsentPurpose, Contact, ErasureReply } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { useConfirm } from '../messenger/Confirm.tsx';
import { Link, navigate } from '../router.tsx';
import { ConsentBadge, contactName } from './contact-bits.tsx';
import { useBusiness } from './context.ts';
import { day, when } from './format.ts';
import { download } from './hooks.ts';
import { FormFeedback } from './feedback.tsx';
import { ErrorAlert } from '../error-alert.tsx';

type AttributeValue = string | number | boolean;

const SOURCE_WORDS: Record<string, string> = {
  chat: 'in a chat with the business',
  subscribe_page: 'on the subscribe page',
  import: 'by an import',
  keyword: 'with a keyword in the chat (STOP, START…)',
  unsubscribe_link: 'with the one-tap unsubscribe link',
  api: 'through the API',
  double_opt_in: 'confirmed in their chat (double opt-in)',
  self_service: 'in their own consent settings',
  erasure: 'when their data was erased',
};

export function ContactProfile({ id }: { id: string }) {
  const { client, can, role, href } = useBusiness();
  const [contact, setContact] = useState<Contact | null>(null);
  const [ledger, setLedger] = useState<ConsentLedger | null>(null);
  const [definitions, setDefinitions] = useState<AttributeDefinition[]>([]);
  const [purposes, setPurposes] = useState<ConsentPurpose[]>([]);
  const [team, setTeam] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState<string | null>(null);

  const loadLedger = useCallback(() => client.contacts.consent(id).then(setLedger), [client, id]);
  useEffect(() => {
    let live = true;
    Promise.all([client.contacts.get(id), client.contacts.consent(id), client.contacts.attributes(), client.contacts.purposes(), client.businessMembers()])
      .then(([c, l, defs, ps, members]) => {
        if (!live) return;
        setContact(c);
        setLedger(l);
        setDefinitions(defs);
        setPurposes(ps);
        setTeam(new Map(members.members.map((m) => [m.account_id, `@${m.handle}`])));
      })
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client, id]);

  if (error)
    return (
      <div className="biz-page">
        <p className="error" role="alert">
          {error}
        </p>
        <Link href={href('contacts')}>All contacts</Link>
      </div>
    );
  if (!contact || !ledger)
    return (
      <p className="loading" aria-busy="true">
        Loading…
      </p>
    );
  const editable = can('contacts:write') && !contact.erased_at;
  return (
    <div className="biz-page">
      <p>
        <Link href={href('contacts')}>← All contacts</Link>
      </p>
      <div className="biz-page-head">
        <h2>{contactName(contact)}</h2>
        {contact.suppressed && <span className="biz-tag warn">Suppressed: never messaged</span>}
      </div>
      {contact.erased_at && <p className="biz-notice">Erased on {when(contact.erased_at)}. Only the minimal proof of their consent choices is kept.</p>}
      <div className="biz-columns">
        <div className="biz-column">
          <Details contact={contact} editable={editable} onSaved={setContact} />
          <TagsEditor contact={contact} editable={editable} onSaved={setContact} />
          <Attributes contact={contact} definitions={definitions} editable={editable} onSaved={setContact} />
        </div>
        <div className="biz-column">
          <Consent ledger={ledger} purposes={purposes} team={team} editable={editable} contactId={id} onChanged={(l) => setLedger(l)} reload={loadLedger} />
          <Gdpr contact={contact} mayExport={can('contacts:export')} mayErase={(role === 'owner' || role === 'admin') && !contact.erased_at} onErased={() => {
            void client.contacts.get(id).then(setContact).catch(() => navigate(href('contacts')));
            void loadLedger();
          }} />
        </div>
      </div>
    </div>
  );
}

function Details({ contact, editable, onSaved }: { contact: Contact; editable: boolean; onSaved: (c: Contact) => void }) {
  const { client } = useBusiness();
  const [name, setName] = useState(contact.name ?? '');
  const [externalId, setExternalId] = useState(contact.external_id ?? '');
  const [locale, setLocale] = useState(contact.locale ?? '');
  const [zone, setZone] = useState(contact.time_zone ?? '');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const orNull = (s: string) => (s.trim() ? s.trim() : null);
  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      onSaved(await client.contacts.update(contact.id, { name: orNull(name), external_id: orNull(externalId), locale: orNull(locale), time_zone: orNull(zone) }));
      setSaved('Details saved.');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  const facts = (
    <dl className="biz-facts">
      <dt>Handle</dt>
      <dd>{contact.handle ? `@${contact.handle}` : '—'}</dd>
      <dt>Came</dt>
      <dd>
        {SOURCE_WORDS[contact.source] ?? contact.source}, {day(contact.created_at)}
      </dd>
      <dt>Last message from them</dt>
      <dd>{contact.last_inbound_at ? when(contact.last_inbound_at) : 'Never'}</dd>
      {!editable && (
        <>
          <dt>Name</dt>
          <dd>{contact.name ?? '—'}</dd>
          <dt>External id</dt>
          <dd>{contact.external_id ?? '—'}</dd>
          <dt>Locale</dt>
          <dd>{contact.locale ?? 'the business default'}</dd>
          <dt>Time zone</dt>
          <dd>{contact.time_zone ?? 'the business default'}</dd>
        </>
      )}
    </dl>
  );
  if (!editable)
    return (
      <section className="card biz-card" aria-labelledby="details-heading">
        <h3 id="details-heading">Details</h3>
        {facts}
      </section>
    );
  return (
    <form className="card biz-card" aria-labelledby="details-heading" onSubmit={(e) => void save(e)}>
      <h3 id="details-heading">Details</h3>
      {facts}
      <div className="biz-inline">
        <div className="field">
          <label htmlFor="contact-name">Name</label>
          <input id="contact-name" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="contact-external">External id</label>
          <input id="contact-external" maxLength={128} spellCheck={false} value={externalId} onChange={(e) => setExternalId(e.target.value)} />
        </div>
      </div>
      <div className="biz-inline">
        <div className="field">
          <label htmlFor="contact-locale">Locale</label>
          <input id="contact-locale" maxLength={35} spellCheck={false} placeholder="the business default" value={locale} onChange={(e) => setLocale(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="contact-zone">Time zone</label>
          <input id="contact-zone" maxLength={64} spellCheck={false} placeholder="the business default" value={zone} onChange={(e) => setZone(e.target.value)} />
        </div>
      </div>
      <FormFeedback error={error} saved={saved} />
      <button type="submit" disabled={busy}>
        Save details
      </button>
    </form>
  );
}

function TagsEditor({ contact, editable, onSaved }: { contact: Contact; editable: boolean; onSaved: (c: Contact) => void }) {
  const { client } = useBusiness();
  const [tag, setTag] = useState('');
  const [error, setError] = useState<string | null>(null);
  const change = async (body: { add_tags?: string[]; remove_tags?: string[] }) => {
    setError(null);
    try {
      onSaved(await client.contacts.update(contact.id, body));
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    }
  };
  return (
    <section className="card biz-card" aria-labelledby="tags-heading">
      <h3 id="tags-heading">Tags</h3>
      {contact.tags.length === 0 && <p className="hint">No tags.</p>}
      <ul className="biz-tags">
        {contact.tags.map((t) => (
          <li key={t} className="biz-tag">
            {t}
            {editable && (
              <button type="button" className="biz-tag-remove" aria-label={`Remove tag ${t}`} onClick={() => void change({ remove_tags: [t] })}>
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {editable && (
        <form
          className="biz-inline biz-inline-end"
          onSubmit={(e) => {
            e.preventDefault();
            const tags = tag.split(/[\s,]+/).filter(Boolean);
            if (tags.length) void change({ add_tags: tags }).then((ok) => ok && setTag(''));
          }}
        >
          <div className="field">
            <label htmlFor="add-tag">New tag</label>
            <input id="add-tag" spellCheck={false} placeholder="vip" value={tag} onChange={(e) => setTag(e.target.value)} />
          </div>
          <button type="submit">Add tag</button>
        </form>
      )}
      <ErrorAlert error={error} />
    </section>
  );
}

/** An attribute's value as a form control holds it (a string), and back. */
function toInput(value: AttributeValue | undefined): string {
  return value === undefined ? '' : String(value);
}
function fromInput(type: AttributeDefinition['type'], text: string): AttributeValue | null {
  if (text === '') return null;
  if (type === 'number') return Number(text);
  if (type === 'boolean') return text === 'true';
  return text;
}

function Attributes({ contact, definitions, editable, onSaved }: { contact: Contact; definitions: AttributeDefinition[]; editable: boolean; onSaved: (c: Contact) => void }) {
  const { client } = useBusiness();
  // Every defined key, plus any value stored under a key no longer defined.
  const keys = [...new Set([...definitions.map((d) => d.key), ...Object.keys(contact.attributes)])].sort();
  const typeOf = (key: string) => definitions.find((d) => d.key === key)?.type ?? 'text';
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(keys.map((k) => [k, toInput(contact.attributes[k])])));
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setSaved(null);
    const changed: Record<string, AttributeValue | null> = {};
    for (const key of keys) if ((values[key] ?? '') !== toInput(contact.attributes[key])) changed[key] = fromInput(typeOf(key), values[key] ?? '');
    if (Object.keys(changed).length === 0) return setSaved('Nothing changed.');
    try {
      const next = await client.contacts.update(contact.id, { attributes: changed });
      onSaved(next);
      setValues(Object.fromEntries(keys.map((k) => [k, toInput(next.attributes[k])])));
      setSaved('Attributes saved.');
    } catch (err) {
      setError(errorText(err));
    }
  }
  if (keys.length === 0)
    return (
      <section className="card biz-card" aria-labelledby="attributes-heading">
        <h3 id="attributes-heading">Attributes</h3>
        <p className="hint">This business has no attributes yet: an import or the API defines them.</p>
      </section>
    );
  if (!editable)
    return (
      <section className="card biz-card" aria-labelledby="attributes-heading">
        <h3 id="attributes-heading">Attributes</h3>
        <dl className="biz-facts">
          {keys.map((k) => (
            <div key={k} className="biz-fact">
              <dt>{k}</dt>
              <dd>{contact.attributes[k] === undefined ? '—' : String(contact.attributes[k])}</dd>
            </div>
          ))}
        </dl>
      </section>
    );
  return (
    <form className="card biz-card" aria-labelledby="attributes-heading" onSubmit={(e) => void save(e)}>
      <h3 id="attributes-heading">Attributes</h3>
      <div className="biz-attr-grid">
        {keys.map((k) => {
          const type = typeOf(k);
          const id = `attr-${k}`;
          const set = (v: string) => setValues((all) => ({ ...all, [k]: v }));
          return (
            <div className="field" key={k}>
              <label htmlFor={id}>
                {k} <span className="hint">({type})</span>
              </label>
              {type === 'boolean' ? (
                <select id={id} value={values[k] ?? ''} onChange={(e) => set(e.target.value)}>
                  <option value="">—</option>
                  <option value="true">Yes</option>
                  <option value="false">No</option>
                </select>
              ) : (
                <input id={id} type={type === 'number' ? 'number' : type === 'date' ? 'date' : type === 'phone' ? 'tel' : 'text'} step="any" value={values[k] ?? ''} onChange={(e) => set(e.target.value)} />
              )}
            </div>
          );
        })}
      </div>
      <FormFeedback error={error} saved={saved} />
      <button type="submit">Save attributes</button>
    </form>
  );
}

function EventItem({ event, team }: { event: ConsentEvent; team: Map<string, string> }) {
  const verb = event.action === 'opt_in' ? 'Opted in to' : 'Opted out of';
  return (
    <li className={`biz-event ${event.action}`}>
      <p className="biz-event-head">
        <strong>
          {verb} {event.purpose}
        </strong>{' '}
        {SOURCE_WORDS[event.source] ?? event.source}
      </p>
      <p className="hint">
        <time dateTime={new Date(event.at).toISOString()}>{when(event.at)}</time>
        {event.recorded_at !== event.at && <> · recorded {when(event.recorded_at)}</>}
      </p>
      <dl className="biz-facts biz-proof">
        {event.wording && (
          <>
            <dt>Words shown</dt>
            <dd>
              <q>{event.wording}</q>
            </dd>
          </>
        )}
        {event.evidence && (
          <>
            <dt>Evidence</dt>
            <dd>{event.evidence}</dd>
          </>
        )}
        {event.collected_via && (
          <>
            <dt>Collected via</dt>
            <dd>{event.collected_via}</dd>
          </>
        )}
        {event.page && (
          <>
            <dt>Page</dt>
            <dd>{event.page}</dd>
          </>
        )}
        {event.importer && (
          <>
            <dt>Import</dt>
            <dd>{event.importer}</dd>
          </>
        )}
        <dt>Recorded by</dt>
        <dd>{event.actor_id ? (team.get(event.actor_id) ?? 'the person themselves') : 'the system'}</dd>
      </dl>
    </li>
  );
}

function Consent(props: {
  ledger: ConsentLedger;
  purposes: ConsentPurpose[];
  team: Map<string, string>;
  editable: boolean;
  contactId: string;
  onChanged: (l: ConsentLedger) => void;
  reload: () => Promise<unknown>;
}) {
  const { ledger, purposes, team, editable } = props;
  const keys = [...new Set([...purposes.map((p) => p.key), ...Object.keys(ledger.state)])];
  // Newest first: the question is nearly always "why are they (not) getting this now?".
  const events = [...ledger.events].sort((a, b) => b.recorded_at - a.recorded_at || b.at - a.at);
  return (
    <section className="card biz-card" aria-labelledby="consent-heading">
      <h3 id="consent-heading">Consent</h3>
      <table className="biz-table">
        <caption className="visually-hidden">Current consent per purpose</caption>
        <thead>
          <tr>
            <th scope="col">Purpose</th>
            <th scope="col">Now</th>
            <th scope="col">Since</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k} data-purpose={k}>
              <th scope="row">{k}</th>
              <td>
                <ConsentBadge state={ledger.state[k]?.state} />
              </td>
              <td>{ledger.state[k] ? when(ledger.state[k].since) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>History</h4>
      {events.length === 0 ? (
        <p className="hint">No consent event: they have never opted in or out.</p>
      ) : (
        <ol className="biz-timeline" aria-label="Consent history, newest first">
          {events.map((e) => (
            <EventItem key={e.id} event={e} team={team} />
          ))}
        </ol>
      )}
      {editable && <RecordConsent {...props} keys={keys} />}
    </section>
  );
}

function RecordConsent({ ledger, purposes, contactId, onChanged, keys }: { ledger: ConsentLedger; purposes: ConsentPurpose[]; contactId: string; onChanged: (l: ConsentLedger) => void; keys: string[] }) {
  const { client } = useBusiness();
  const [action, setAction] = useState<'opt_out' | 'opt_in'>('opt_out');
  const [purpose, setPurpose] = useState(keys[0] ?? 'marketing');
  const [wording, setWording] = useState('');
  const [at, setAt] = useState('');
  const [evidence, setEvidence] = useState('');
  const [via, setVia] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const next = await client.contacts.recordConsent(
        contactId,
        action === 'opt_out'
          ? { purpose, action }
          : { purpose, action, proof: { wording: wording.trim(), at: at ? new Date(at).toISOString() : '', evidence: evidence.trim(), ...(via.trim() ? { collected_via: via.trim() } : {}) } },
      );
      onChanged(next);
      setSaved(action === 'opt_out' ? `Opt-out of ${purpose} recorded.` : `Opt-in to ${purpose} recorded with its proof.`);
      setWording('');
      setEvidence('');
      setVia('');
      setAt('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <details className="biz-disclosure">
      <summary>Record a consent event</summary>
      <form onSubmit={(e) => void submit(e)}>
        <p className="hint">An opt-out takes effect at once. An opt-in they gave elsewhere needs its proof: the words they agreed to, when, and the evidence you keep.</p>
        <div className="biz-inline">
          <div className="field">
            <label htmlFor="consent-action">Event</label>
            <select id="consent-action" value={action} onChange={(e) => setAction(e.target.value as 'opt_in' | 'opt_out')}>
              <option value="opt_out">Opt-out</option>
              <option value="opt_in">Opt-in with proof</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="consent-purpose">Purpose</label>
            <select
              id="consent-purpose"
              value={purpose}
              onChange={(e) => {
                setPurpose(e.target.value);
                if (!wording) setWording(purposes.find((p) => p.key === e.target.value)?.wording ?? '');
              }}
            >
              {keys.map((k) => (
                <option key={k} value={k}>
                  {k}
                  {ledger.state[k] ? ` (${ledger.state[k].state === 'opted_in' ? 'opted in' : 'opted out'})` : ''}
                </option>
              ))}
            </select>
          </div>
        </div>
        {action === 'opt_in' && (
          <>
            <div className="field">
              <label htmlFor="proof-wording">Words they agreed to</label>
              <textarea id="proof-wording" required minLength={10} maxLength={1000} rows={2} value={wording} onChange={(e) => setWording(e.target.value)} />
            </div>
            <div className="biz-inline">
              <div className="field">
                <label htmlFor="proof-at">When they agreed</label>
                <input id="proof-at" type="datetime-local" required value={at} onChange={(e) => setAt(e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor="proof-evidence">Evidence kept</label>
                <input id="proof-evidence" required minLength={3} maxLength={500} placeholder="signed form #1042" value={evidence} onChange={(e) => setEvidence(e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor="proof-via">Collected via (optional)</label>
                <input id="proof-via" maxLength={200} placeholder="shop counter" value={via} onChange={(e) => setVia(e.target.value)} />
              </div>
            </div>
          </>
        )}
        <FormFeedback error={error} saved={saved} />
        <button type="submit" disabled={busy}>
          {action === 'opt_out' ? 'Record opt-out' : 'Record opt-in'}
        </button>
      </form>
    </details>
  );
}

function Gdpr({ contact, mayExport, mayErase, onErased }: { contact: Contact; mayExport: boolean; mayErase: boolean; onErased: () => void }) {
  const { client } = useBusiness();
  const [confirm, ask] = useConfirm();
  const [error, setError] = useState<string | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [erasure, setErasure] = useState<ErasureReply | null>(null);
  if (!mayExport && !mayErase && !erasure) return null;
  const exportData = async () => {
    setError(null);
    setExported(null);
    try {
      const data = await client.contacts.export(contact.id);
      download(`contact-${contact.id}.json`, new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      setExported(`Exported ${data.consent_events.length} consent events and ${data.sends.length} messages sent.`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const erase = async () => {
    const ok = await ask({
      title: `Erase ${contactName(contact)}?`,
      detail:
        'Everything held about them is removed for good, except the minimal proof of their consent choices that the law allows keeping (so they are never messaged again without consent). This cannot be undone.',
      confirm: 'Erase their data',
    });
    if (!ok) return;
    setError(null);
    try {
      setErasure(await client.contacts.erase(contact.id));
      onErased();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section className="card biz-card" aria-labelledby="gdpr-heading">
      <h3 id="gdpr-heading">Their data (GDPR)</h3>
      <p className="hint">When they ask: a copy of everything held about them (Art. 15), or erasure (Art. 17).</p>
      <div className="biz-actions">
        {mayExport && (
          <button type="button" onClick={() => void exportData()}>
            Export their data
          </button>
        )}
        {mayErase && (
          <button type="button" className="danger" onClick={() => void erase()}>
            Erase their data…
          </button>
        )}
      </div>
      <p role="status" className="biz-saved">
        {exported}
      </p>
      <ErrorAlert error={error} />
      {erasure && (
        <div className="biz-notice" role="status">
          <p>
            <strong>Erased {when(erasure.erased_at)}.</strong> {erasure.notice}
          </p>
          <h4>Removed</h4>
          <ul>
            {erasure.removed.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
          <h4>Kept</h4>
          <ul>
            {erasure.kept.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </div>
      )}
      {confirm}
    </section>
  );
}
