/** Sign in, or create an account: the door to the messenger and (for moderators) the console. */
import type { Account } from '@mmd/sdk';
import { type FormEvent, useState } from 'react';
import { anonymousClient, errorText } from '../api.ts';
import { Link } from '../router.tsx';

export function SignIn({ onSignedIn }: { onSignedIn: (token: string, account: Account) => void }) {
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
      onSignedIn(reply.token, reply.account);
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
