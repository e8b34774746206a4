import type { Account } from '@mmd/sdk';
import { Suspense, lazy, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { anonymousClient, errorText, saveToken, savedToken } from './api.ts';
import { disablePush } from './notifications.ts';
import type { BusinessRoute } from './business/Business.tsx';
import type { ConsoleSection } from './console/Console.tsx';
import { forgetAllLocalPreviews } from './media/local-previews.ts';
import { forgetReveals } from './media/reveal.ts';
import { Messenger } from './messenger/Messenger.tsx';
import { Settings } from './messenger/Settings.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { NotFound } from './pages/NotFound.tsx';
import { Link, usePath } from './router.tsx';
import { type Session, SessionContext, isModerator } from './session.tsx';

// Pages most people never open load on demand: the console (moderators) and /protect (hashing).
const Console = lazy(() => import('./console/Console.tsx').then((m) => ({ default: m.Console })));
const Protect = lazy(() => import('./pages/Protect.tsx').then((m) => ({ default: m.ProtectPage })));
const Bots = lazy(() => import('./bots/BotsPage.tsx').then((m) => ({ default: m.BotsPage })));
const Business = lazy(() => import('./business/Business.tsx').then((m) => ({ default: m.Business })));
const ChannelLink = lazy(() => import('./pages/Join.tsx').then((m) => ({ default: m.ChannelLinkPage })));
const Join = lazy(() => import('./pages/Join.tsx').then((m) => ({ default: m.JoinPage })));
const Unsubscribe = lazy(() => import('./pages/Subscribe.tsx').then((m) => ({ default: m.UnsubscribePage })));

type Route =
  | { page: 'messenger'; chatId: string | null }
  | { page: 'settings' }
  | { page: 'console'; section: ConsoleSection }
  | { page: 'protect' }
  | { page: 'bots' }
  | ({ page: 'business' } & BusinessRoute)
  | { page: 'subscribe'; handle: string }
  | { page: 'unsubscribe'; token: string }
  | { page: 'join'; token: string }
  | { page: 'not-found' };

const CONSOLE_SECTIONS: Record<string, ConsoleSection> = {
  '': 'reviews',
  reviews: 'reviews',
  spreading: 'spreading',
  networks: 'networks',
  banks: 'banks',
  cases: 'cases',
  erasure: 'erasure',
  takedowns: 'takedowns',
  audit: 'audit',
  peers: 'peers',
  received: 'received',
};

export function route(path: string): Route {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return { page: 'messenger', chatId: null };
  if (parts[0] === 'chats' && parts.length === 2) {
    try {
      return { page: 'messenger', chatId: decodeURIComponent(parts[1] ?? '') };
    } catch {
      return { page: 'not-found' };
    }
  }
  if (parts[0] === 'settings' && parts.length === 1) return { page: 'settings' };
  if (parts[0] === 'protect' && parts.length === 1) return { page: 'protect' };
  if (parts[0] === 'bots' && parts.length === 1) return { page: 'bots' };
  if (parts[0] === 'business') {
    try {
      const [handle, section, ...rest] = parts.slice(1).map(decodeURIComponent);
      return { page: 'business', handle: handle ?? null, section: section ?? '', rest };
    } catch {
      return { page: 'not-found' };
    }
  }
  if (parts[0] === 'join' && parts.length === 2) {
    try {
      return { page: 'join', token: decodeURIComponent(parts[1] ?? '') };
    } catch {
      return { page: 'not-found' };
    }
  }
  if ((parts[0] === 'c' || parts[0] === 'u') && parts.length === 2) {
    try {
      const value = decodeURIComponent(parts[1] ?? '');
      return parts[0] === 'c' ? { page: 'subscribe', handle: value.replace(/^@/, '') } : { page: 'unsubscribe', token: value };
    } catch {
      return { page: 'not-found' };
    }
  }
  if (parts[0] === 'console' && parts.length <= 2) {
    const section = CONSOLE_SECTIONS[parts[1] ?? ''];
    if (section) return { page: 'console', section };
  }
  return { page: 'not-found' };
}

function title(r: Route): string {
  switch (r.page) {
    case 'messenger':
      return 'Messages';
    case 'settings':
      return 'Settings';
    case 'console':
      return 'Safety console';
    case 'protect':
      return 'Protect an image';
    case 'bots':
      return 'Bots & automation';
    case 'business':
      return 'Business';
    case 'subscribe':
      return 'Subscribe';
    case 'unsubscribe':
      return 'Unsubscribe';
    case 'join':
      return 'Invite link';
    default:
      return 'Not found';
  }
}

export function App() {
  const path = usePath();
  const current = route(path);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const [token, setToken] = useState(savedToken);
  const [me, setMe] = useState<Account | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  // Why the sign-in page is showing, when the server ended the session on its own.
  const [signedOutNotice, setSignedOutNotice] = useState<string | null>(null);

  const signOut = useCallback(
    (options: { revoke?: boolean } = {}) => {
      if (options.revoke && token) {
        const client = anonymousClient.as(token);
        client
          .devices()
          .then((devices) => {
            const mine = devices.find((d) => d.current);
            return mine ? client.revokeDevice(mine.id) : undefined;
          })
          .catch(() => {});
      }
      // No more pushes to this browser, and the service worker forgets the session.
      disablePush(token ? anonymousClient.as(token) : null).catch(() => {});
      saveToken(null);
      // Nothing of this person's stays for the next one on this browser.
      forgetReveals();
      forgetAllLocalPreviews();
      setToken(null);
      setMe(null);
    },
    [token],
  );

  useEffect(() => {
    if (!token) return;
    let live = true;
    setLoadError(null);
    anonymousClient
      .as(token)
      .me()
      .then((account) => live && setMe(account))
      .catch((err: unknown) => {
        if (!live) return;
        if ((err as { status?: number }).status === 401) {
          if ((err as { code?: string }).code === 'session_expired')
            setSignedOutNotice('This browser was signed out because it was not used for a long time. Sign in again.');
          signOut();
        } else setLoadError(errorText(err));
      });
    return () => {
      live = false;
    };
  }, [token, signOut]);

  const session: Session | null = useMemo(
    () => (token && me ? { client: anonymousClient.as(token), me, signOut } : null),
    [token, me, signOut],
  );

  // The header links to the business console for a business account and for its team members.
  const [worksForBusiness, setWorksForBusiness] = useState(false);
  useEffect(() => {
    if (!session || session.me.kind === 'business') {
      setWorksForBusiness(session !== null);
      return;
    }
    let live = true;
    session.client
      .myBusinesses()
      .then((r) => live && setWorksForBusiness(r.businesses.length > 0))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [session]);

  const pageTitle = title(current);
  const page = current.page;
  useEffect(() => {
    // The messenger writes its own title, with the unread count.
    if (page !== 'messenger' || !session) document.title = `${pageTitle} · MMD`;
    // After navigating, move focus to the new page so screen readers announce it (the messenger
    // moves focus itself, to the chat it opened).
    if (first.current) first.current = false;
    else if (page !== 'messenger') main.current?.focus();
  }, [pageTitle, page, session]);

  const needsSession = current.page === 'messenger' || current.page === 'settings' || current.page === 'console' || current.page === 'bots' || current.page === 'business';
  const onSignedIn = (t: string, account: Account) => {
    setSignedOutNotice(null);
    saveToken(t);
    setToken(t);
    setMe(account);
  };
  let body: React.ReactNode;
  if (current.page === 'protect') body = <Protect />;
  // Anyone may read a business's subscribe page (it offers its own sign-in) or use an unsubscribe
  // link; /c/<handle> may name a channel too, which the page finds once signed in.
  else if (current.page === 'subscribe') body = token && !session ? <p className="loading" aria-busy="true">Loading…</p> : <ChannelLink handle={current.handle} onSignedIn={onSignedIn} />;
  else if (current.page === 'unsubscribe') body = <Unsubscribe token={current.token} />;
  else if (current.page === 'not-found') body = <NotFound />;
  else if (!token)
    body = (
      <SignIn notice={signedOutNotice} onSignedIn={onSignedIn} />
    );
  else if (!session)
    body = loadError ? (
      <section className="card narrow">
        <p className="error" role="alert">
          {loadError}
        </p>
        <button type="button" onClick={() => window.location.reload()}>
          Try again
        </button>
      </section>
    ) : (
      <p className="loading" aria-busy="true">
        Loading…
      </p>
    );
  else if (current.page === 'messenger') body = <Messenger chatId={current.chatId} />;
  else if (current.page === 'join') body = <Join token={current.token} />;
  else if (current.page === 'settings') body = <Settings />;
  else if (current.page === 'bots') body = <Bots />;
  else if (current.page === 'business') body = <Business route={current} />;
  else if (current.page === 'console')
    body = isModerator(session.me) ? (
      <Console section={current.section} />
    ) : (
      <section className="card narrow">
        <h1>Safety console</h1>
        <p>The safety console is for moderators. Ask an administrator if you need access.</p>
      </section>
    );

  return (
    <SessionContext.Provider value={session}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link href="/" className="brand">
          MMD
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link href="/" aria-current={current.page === 'messenger' ? 'page' : undefined}>
                Messages
              </Link>
            </li>
            {session && isModerator(session.me) && (
              <li>
                <Link href="/console" aria-current={current.page === 'console' ? 'page' : undefined}>
                  Safety console
                </Link>
              </li>
            )}
            {session && worksForBusiness && (
              <li>
                <Link href="/business" aria-current={current.page === 'business' ? 'page' : undefined}>
                  Business
                </Link>
              </li>
            )}
            {session && (
              // On a phone the header has no room for it (Settings links to it).
              <li className="wide-only">
                <Link href="/bots" aria-current={current.page === 'bots' ? 'page' : undefined} title="Bots & automation">
                  Bots
                </Link>
              </li>
            )}
            <li>
              <Link href="/protect" aria-current={current.page === 'protect' ? 'page' : undefined}>
                Protect an image
              </Link>
            </li>
            {session && (
              <li>
                <Link href="/settings" aria-current={current.page === 'settings' ? 'page' : undefined}>
                  @{session.me.handle}
                </Link>
              </li>
            )}
          </ul>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1} className={needsSession && session ? `page-${current.page}` : undefined}>
        <Suspense
          fallback={
            <p className="loading" aria-busy="true">
              Loading…
            </p>
          }
        >
          {body}
        </Suspense>
      </main>
    </SessionContext.Provider>
  );
}
