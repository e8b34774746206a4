import { useEffect, useRef } from 'react';
import { Home } from './pages/Home.tsx';
import { NotFound } from './pages/NotFound.tsx';
import { Protect } from './pages/Protect.tsx';
import { Link, usePath } from './router.tsx';

const TITLES: Record<string, string> = { '/': 'Messages', '/protect': 'Protect an image' };

export function App() {
  const path = usePath().replace(/\/+$/, '') || '/';
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    document.title = `${TITLES[path] ?? 'Not found'} · MMD`;
    // After navigating, move focus to the new page so screen readers announce it.
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [path]);

  return (
    <>
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
              <Link href="/" aria-current={path === '/' ? 'page' : undefined}>
                Messages
              </Link>
            </li>
            <li>
              <Link href="/protect" aria-current={path === '/protect' ? 'page' : undefined}>
                Protect an image
              </Link>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {path === '/' ? <Home /> : path === '/protect' ? <Protect /> : <NotFound />}
      </main>
    </>
  );
}
