import type { Account } from '@mmd/sdk';
import { Suspense, lazy, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { anonymousClient, errorText, saveToken, savedToken } from './api.ts';
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

type Route =
  | { page: 'messenger'; chatId: string | null }
  | { page: 'settings' }
  | { page: 'console'; section: ConsoleSection }
  | { page: 'protect' }
  | { page: 'not-found' };

const CONSOLE_SECTIONS: Record<string, ConsoleSection> = {
  '': 'reviews',
  reviews: 'reviews',
  banks: 'banks',
  takedowns: 'takedowns',
  audit: 'audit',
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
        if ((err as { status?: number }).status === 401) signOut();
        else setLoadError(errorText(err));
      });
    return () => {
      live = false;
    };
  }, [token, signOut]);

  const session: Session | null = useMemo(
    () => (token && me ? { client: anonymousClient.as(token), me, signOut } : null),
    [token, me, signOut],
  );

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

  const needsSession = current.page === 'messenger' || current.page === 'settings' || current.page === 'console';
  let body: React.ReactNode;
  if (current.page === 'protect') body = <Protect />;
  else if (current.page === 'not-found') body = <NotFound />;
  else if (!token)
    body = (
      <SignIn
        onSignedIn={(t, account) => {
          saveToken(t);
          setToken(t);
          setMe(account);
        }}
      />
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
  else if (current.page === 'settings') body = <Settings />;
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
