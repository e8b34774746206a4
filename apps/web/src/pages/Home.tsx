/**
 * Sign in or create an account, then the conversation list. The messenger itself comes later;
 * this is the scaffold it grows from.
 */
import type { Account, Conversation } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { anonymousClient, errorText, saveToken, savedToken } from '../api.ts';
import { Link } from '../router.tsx';

export function Home() {
  const [token, setToken] = useState(savedToken);
  const signedOut = useCallback(() => {
    saveToken(null);
    setToken(null);
  }, []);
  if (!token) {
    return (
      <SignIn
        onSignedIn={(t) => {
          saveToken(t);
          setToken(t);
        }}
      />
    );
  }
  return <Conversations token={token} onSignedOut={signedOut} />;
}

function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-in');
  const [handle, setHandle] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = { handle: handle.trim().replace(/^@/, ''), password, device_name: 'Web browser' };
      const reply =
        mode === 'sign-in' ? await anonymousClient.login(input) : await anonymousClient.createAccount(input);
      onSignedIn(reply.token);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const signUp = mode === 'sign-up';
  return (
    <section className="card narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{signUp ? 'Create an account' : 'Sign in'}</h1>
      <form onSubmit={submit} noValidate={false}>
        <div className="field">
          <label htmlFor="handle">Handle</label>
          <input
            id="handle"
            name="handle"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={handle}
            onChange={(e) => setHandle(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete={signUp ? 'new-password' : 'current-password'}
            required
            minLength={signUp ? 8 : 1}
            aria-describedby={signUp ? 'password-hint' : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {signUp && (
            <p id="password-hint" className="hint">
              At least 8 characters.
            </p>
          )}
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Please wait…' : signUp ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <p>
        {signUp ? 'Already have an account? ' : 'New here? '}
        <button type="button" className="link" onClick={() => setMode(signUp ? 'sign-in' : 'sign-up')}>
          {signUp ? 'Sign in' : 'Create an account'}
        </button>
      </p>
      <p className="aside">
        Someone shared, or might share, an intimate image of you?{' '}
        <Link href="/protect">Protect it without an account</Link> — the image never leaves your device.
      </p>
    </section>
  );
}

function Conversations({ token, onSignedOut }: { token: string; onSignedOut: () => void }) {
  const [me, setMe] = useState<Account | null>(null);
  const [list, setList] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const client = anonymousClient.as(token);
    let live = true;
    Promise.all([client.me(), client.conversations()])
      .then(([account, conversations]) => {
        if (!live) return;
        setMe(account);
        setList(conversations);
      })
      .catch((err: unknown) => {
        if (!live) return;
        if ((err as { status?: number }).status === 401) onSignedOut();
        else setError(errorText(err));
      });
    return () => {
      live = false;
    };
  }, [token, onSignedOut]);

  return (
    <section className="card" aria-labelledby="conversations-title" aria-busy={list === null && !error}>
      <div className="row">
        <h1 id="conversations-title">Conversations</h1>
        <button type="button" onClick={onSignedOut}>
          Sign out
        </button>
      </div>
      {me && <p className="hint">Signed in as @{me.handle}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {list === null && !error && <p>Loading…</p>}
      {list && list.length === 0 && <p>No conversations yet.</p>}
      {list && list.length > 0 && (
        <ul className="conversations">
          {list.map((c) => (
            <li key={c.id}>
              <span className="title">
                {c.title ?? (c.peer ? `@${c.peer.handle}` : c.handle ? `@${c.handle}` : c.kind)}
              </span>
              {c.unread_count > 0 && <span className="badge">{c.unread_count} unread</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
