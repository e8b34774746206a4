/**
 * The business console: one area per business the signed-in person works for (or the business
 * account itself), at /business/<handle>/<section>. A switcher picks the business; every page
 * below reads it from BusinessContext and talks to the server through a client that names the
 * business on each request. The server checks every permission; the pages only leave out the
 * controls a role could not use.
 */
import type { BusinessProfile, BusinessRole, BusinessSelf } from '@mmd/sdk';
import { type ComponentType, lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { errorText } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { useSession } from '../session.tsx';
import { BusinessContext, type BusinessContextValue, ROLE_WORDS, roleAllows } from './context.ts';
import './business.css';
import { ErrorAlert } from '../error-alert.tsx';

export interface BusinessRoute {
  /** The business's handle, or null for "whichever I work for". */
  handle: string | null;
  section: string;
  /** What follows the section in the path (a contact id, "new"…). */
  rest: string[];
}

interface Section {
  section: string;
  label: string;
  Page: ComponentType<{ rest: string[] }>;
}

// Each page loads on demand. A page written in another worktree (the team inbox) joins the nav
// when its file is in the build.
const optional = import.meta.glob<{ default?: ComponentType<{ rest: string[] }> }>('./Inbox.tsx');
const inboxLoader = optional['./Inbox.tsx'];

const SECTIONS: Section[] = [
  ...(inboxLoader ? [{ section: 'inbox', label: 'Inbox', Page: lazy(() => inboxLoader().then((m) => ({ default: m.default ?? (() => null) }))) }] : []),
  { section: 'contacts', label: 'Contacts', Page: lazy(() => import('./ContactsPage.tsx').then((m) => ({ default: m.ContactsPage }))) },
  { section: 'segments', label: 'Segments', Page: lazy(() => import('./SegmentsPage.tsx').then((m) => ({ default: m.SegmentsPage }))) },
  { section: 'templates', label: 'Templates', Page: lazy(() => import('./TemplatesPage.tsx').then((m) => ({ default: m.TemplatesPage }))) },
  { section: 'campaigns', label: 'Campaigns', Page: lazy(() => import('./CampaignsPage.tsx').then((m) => ({ default: m.CampaignsPage }))) },
  { section: 'analytics', label: 'Analytics', Page: lazy(() => import('./AnalyticsPage.tsx').then((m) => ({ default: m.AnalyticsPage }))) },
  { section: 'settings', label: 'Settings & team', Page: lazy(() => import('./SettingsPage.tsx').then((m) => ({ default: m.SettingsPage }))) },
];

export const DEFAULT_SECTION = SECTIONS[0]!.section;

type Membership = { business: BusinessProfile; role: BusinessRole };

export function Business({ route }: { route: BusinessRoute }) {
  const { client, me } = useSession();
  const [list, setList] = useState<Membership[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    // A business account acts for itself; a person for each business whose team they are on.
    const load =
      me.kind === 'business'
        ? client.businessSelf().then((self) => [{ business: self.business, role: self.role }])
        : client.myBusinesses().then((r) => r.businesses);
    load.then((l) => live && setList(l)).catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client, me.kind]);

  const chosen = list && route.handle ? list.find((m) => m.business.handle.toLowerCase() === route.handle?.toLowerCase()) : undefined;
  const first = list?.[0];

  // /business alone opens the first business (most people work for one), /business/<handle> its first page.
  const missing = !route.handle ? first?.business.handle : route.section === '' ? route.handle : undefined;
  useEffect(() => {
    if (missing) {
      window.history.replaceState(null, '', `/business/${missing}/${DEFAULT_SECTION}`);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }
  }, [missing]);

  if (error)
    return (
      <section className="card narrow">
        <h1>Business</h1>
        <p className="error" role="alert">
          {error}
        </p>
      </section>
    );
  if (!list)
    return (
      <p className="loading" aria-busy="true">
        Loading…
      </p>
    );
  if (list.length === 0)
    return (
      <section className="card narrow">
        <h1>Business</h1>
        <p>You are not on any business’s team. A business’s owner or admin can add you by your handle, @{me.handle}.</p>
      </section>
    );
  if (!route.handle || missing) return null;
  if (!chosen)
    return (
      <section className="card narrow">
        <h1>Business</h1>
        <p role="alert">You do not work for a business called @{route.handle}.</p>
        <p>
          <Link href={`/business/${first?.business.handle}/${DEFAULT_SECTION}`}>Open @{first?.business.handle}</Link>
        </p>
      </section>
    );
  return <BusinessArea key={chosen.business.id} membership={chosen} list={list} route={route} />;
}

function BusinessArea({ membership, list, route }: { membership: Membership; list: Membership[]; route: BusinessRoute }) {
  const { client } = useSession();
  const acting = useMemo(() => client.forBusiness(membership.business.id), [client, membership.business.id]);
  const [self, setSelf] = useState<BusinessSelf | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    acting
      .businessSelf()
      .then((s) => live && setSelf(s))
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [acting]);

  const handle = membership.business.handle;
  const href = useCallback((...parts: string[]) => `/business/${handle}/${parts.map(encodeURIComponent).join('/')}`, [handle]);
  const value: BusinessContextValue | null = useMemo(
    () =>
      self && {
        client: acting,
        business: self.business,
        settings: self.settings,
        role: self.role,
        can: (permission) => roleAllows(self.role, permission, self.settings),
        replace: setSelf,
        href,
      },
    [self, acting, href],
  );

  const section = SECTIONS.find((s) => s.section === route.section);
  return (
    <div className="biz">
      <header className="biz-header">
        <div className="biz-title">
          <h1>
            {self?.business.display_name ?? membership.business.display_name}
            {(self?.business.verified ?? membership.business.verified) && (
              <span className="biz-verified" title="Verified by this instance’s operator">
                {' '}
                ✓<span className="visually-hidden">verified</span>
              </span>
            )}
          </h1>
          <p className="hint">
            @{handle} · you are {ROLE_WORDS[self?.role ?? membership.role].toLowerCase()}
          </p>
        </div>
        {list.length > 1 && (
          <div className="biz-switch">
            <label htmlFor="biz-switch">Business</label>
            <select
              id="biz-switch"
              value={membership.business.id}
              onChange={(e) => {
                const next = list.find((m) => m.business.id === e.target.value);
                if (next) navigate(`/business/${next.business.handle}/${route.section}`);
              }}
            >
              {list.map((m) => (
                <option key={m.business.id} value={m.business.id}>
                  {m.business.display_name} (@{m.business.handle})
                </option>
              ))}
            </select>
          </div>
        )}
        <nav aria-label="Business sections" className="biz-nav-wrap">
          <ul className="biz-nav">
            {SECTIONS.map((s) => (
              <li key={s.section}>
                <Link href={href(s.section)} aria-current={s.section === route.section ? 'page' : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <ErrorAlert error={error} />
      {!value && !error && (
        <p className="loading" aria-busy="true">
          Loading…
        </p>
      )}
      {value && (
        <BusinessContext.Provider value={value}>
          <Suspense
            fallback={
              <p className="loading" aria-busy="true">
                Loading…
              </p>
            }
          >
            {section ? (
              <section.Page rest={route.rest} />
            ) : (
              <p role="alert">
                There is no such page. <Link href={href(DEFAULT_SECTION)}>Back to the console</Link>
              </p>
            )}
          </Suspense>
        </BusinessContext.Provider>
      )}
    </div>
  );
}
