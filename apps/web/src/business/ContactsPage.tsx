/**
 * Contacts: the business's customers, searchable, each with a profile (details, tags, typed
 * attributes), the consent state per purpose and the whole consent ledger with each event's proof,
 * and GDPR export (Art. 15) and erasure (Art. 17). /contacts lists, /contacts/<id> is a profile,
 * /contacts/import imports a file (ImportPanel).
 */
import type { Contact } from '@mmd/sdk';
import { type FormEvent, lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { Link } from '../router.tsx';
import { ConsentBadge, contactName, Tags } from './contact-bits.tsx';
import { ContactProfile } from './ContactProfile.tsx';
import { useBusiness } from './context.ts';
import { day, when } from './format.ts';
import { download, useDebounced } from './hooks.ts';
import { ErrorAlert } from '../error-alert.tsx';

const ImportPanel = lazy(() => import('./ImportPanel.tsx').then((m) => ({ default: m.ImportPanel })));

export function ContactsPage({ rest }: { rest: string[] }) {
  if (rest[0] === 'import')
    return (
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <ImportPanel jobId={rest[1] ?? null} />
      </Suspense>
    );
  if (rest[0]) return <ContactProfile key={rest[0]} id={rest[0]} />;
  return <ContactList />;
}

function ContactList() {
  const { client, can, href } = useBusiness();
  const [query, setQuery] = useState('');
  const [tag, setTag] = useState('');
  const q = useDebounced(query.trim(), 250);
  const t = useDebounced(tag.trim(), 250);
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setBusy(true);
    setError(null);
    client.contacts
      .list({ q: q || undefined, tag: t || undefined, limit: 50 })
      .then((page) => {
        if (!live) return;
        setContacts(page.contacts);
        setNext(page.next);
      })
      .catch((err: unknown) => live && setError(errorText(err)))
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [client, q, t]);

  const more = async () => {
    if (!next) return;
    setBusy(true);
    try {
      const page = await client.contacts.list({ q: q || undefined, tag: t || undefined, after: next, limit: 50 });
      setContacts((list) => [...(list ?? []), ...page.contacts]);
      setNext(page.next);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="biz-page">
      <div className="biz-page-head">
        <h2>Contacts</h2>
        <div className="biz-actions">
          {can('contacts:write') && (
            <Link className="biz-button" href={href('contacts', 'import')}>
              Import contacts
            </Link>
          )}
          {can('contacts:export') && <ExportButton />}
        </div>
      </div>
      <search className="biz-filters" aria-label="Find contacts">
        <div className="field">
          <label htmlFor="contact-search">Search contacts</label>
          <input id="contact-search" type="search" placeholder="Name, handle or external id" value={query} onChange={(e) => setQuery(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="contact-tag">With tag</label>
          <input id="contact-tag" spellCheck={false} placeholder="vip" value={tag} onChange={(e) => setTag(e.target.value)} />
        </div>
      </search>
      <ErrorAlert error={error} />
      {can('contacts:write') && <AddContact onAdded={(c) => setContacts((list) => [c, ...(list ?? []).filter((x) => x.id !== c.id)])} />}
      <p className="hint" aria-live="polite">
        {busy ? 'Loading…' : contacts ? (contacts.length === 0 ? (q || t ? 'No contact matches.' : 'No contacts yet.') : `${contacts.length}${next ? '+' : ''} shown`) : ''}
      </p>
      {contacts && contacts.length > 0 && (
        <div className="table-scroll">
          <table className="biz-table">
            <caption className="visually-hidden">Contacts</caption>
            <thead>
              <tr>
                <th scope="col">Contact</th>
                <th scope="col">Handle</th>
                <th scope="col">External id</th>
                <th scope="col">Tags</th>
                <th scope="col">Marketing</th>
                <th scope="col">Last message</th>
                <th scope="col">Added</th>
              </tr>
            </thead>
            <tbody>
              {contacts.map((c) => (
                <tr key={c.id} data-contact={c.id}>
                  <th scope="row">
                    <Link href={href('contacts', c.id)}>{contactName(c)}</Link>
                  </th>
                  <td>{c.handle ? `@${c.handle}` : '—'}</td>
                  <td>{c.external_id ?? '—'}</td>
                  <td>
                    <Tags tags={c.tags} />
                  </td>
                  <td>
                    <ConsentBadge state={c.consent.marketing?.state} />
                    {c.suppressed && <span className="biz-tag warn">suppressed</span>}
                  </td>
                  <td>{c.last_inbound_at ? when(c.last_inbound_at) : '—'}</td>
                  <td>{day(c.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && (
        <button type="button" disabled={busy} onClick={() => void more()}>
          Show more contacts
        </button>
      )}
    </div>
  );
}

/** All contacts as CSV (owners and admins; agents where the business allows). */
function ExportButton() {
  const { client, business } = useBusiness();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const exportAll = useCallback(async () => {
    setBusy(true);
    setError(null);
    try {
      download(`${business.handle}-contacts.csv`, await (await client.contactImports.exportCsv()).blob());
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }, [client, business.handle]);
  return (
    <>
      <button type="button" disabled={busy} onClick={() => void exportAll()}>
        {busy ? 'Exporting…' : 'Export CSV'}
      </button>
      <ErrorAlert error={error} />
    </>
  );
}

/** Adds someone who is on this instance by their handle (no consent: that comes from them, or an import with proof). */
function AddContact({ onAdded }: { onAdded: (c: Contact) => void }) {
  const { client } = useBusiness();
  const [handle, setHandle] = useState('');
  const [name, setName] = useState('');
  const [tags, setTags] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const contact = await client.contacts.create({
        handle: handle.trim().replace(/^@/, ''),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(tags.trim() ? { tags: tags.split(/[\s,]+/).filter(Boolean) } : {}),
      });
      onAdded(contact);
      setHandle('');
      setName('');
      setTags('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <details className="biz-disclosure">
      <summary>Add a contact</summary>
      <form onSubmit={(e) => void submit(e)}>
        <p className="hint">Someone on this instance, by handle. Their consent comes from them (or an import that carries its proof), never from this form.</p>
        <div className="biz-inline">
          <div className="field">
            <label htmlFor="new-contact-handle">Handle</label>
            <input id="new-contact-handle" required autoCapitalize="none" spellCheck={false} placeholder="@amara" value={handle} onChange={(e) => setHandle(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="new-contact-name">Name (optional)</label>
            <input id="new-contact-name" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="new-contact-tags">Tags (optional)</label>
            <input id="new-contact-tags" spellCheck={false} placeholder="vip newsletter" value={tags} onChange={(e) => setTags(e.target.value)} />
          </div>
        </div>
        <ErrorAlert error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Adding…' : 'Add contact'}
        </button>
      </form>
    </details>
  );
}
