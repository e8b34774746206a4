/** Sign in, or create an account: the door to the messenger and (for moderators) the console. */
import { type Account, PASSWORD_MIN_LENGTH, PASSWORD_RULE } from '@mmd/sdk';
import { type FormEvent, useState } from 'react';
import { MmdError } from '@mmd/sdk';
import { anonymousClient, errorText } from '../api.ts';
import { deviceName } from '../device-name.ts';
import { Link } from '../router.tsx';
import { ErrorAlert } from '../error-alert.tsx';

/** The server's handle rule (contracts' Handle), and the same rule in words. */
const HANDLE = /^[A-Za-z][A-Za-z0-9_]{2,31}$/;
const HANDLE_RULE = 'A handle has 3 to 32 characters: letters, digits and underscores, starting with a letter (like alice or bob_42).';

export function SignIn({ onSignedIn, notice = null }: { onSignedIn: (token: string, account: Account) => void; notice?: string | null }) {
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
      const bare = handle.trim().replace(/^@/, '');
      // Said in words before the server answers with its pattern.
      if (mode === 'sign-up' && !HANDLE.test(bare)) {
        setError(HANDLE_RULE);
        return;
      }
      const input = { handle: bare, password, device_name: deviceName(navigator.userAgent) };
      const reply =
        mode === 'sign-in' ? await anonymousClient.login(input) : await anonymousClient.createAccount(input);
      onSignedIn(reply.token, reply.account);
    } catch (err) {
      const aboutHandle = err instanceof MmdError && err.code === 'validation_failed' && err.problem?.errors?.some((e) => /handle/.test(e.path));
      setError(aboutHandle ? HANDLE_RULE : errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const signUp = mode === 'sign-up';
  return (
    <section className="card narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{signUp ? 'Create an account' : 'Sign in'}</h1>
      {notice && (
        <p className="hint" role="status">
          {notice}
        </p>
      )}
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
            aria-describedby={signUp ? 'handle-hint' : undefined}
            onChange={(e) => setHandle(e.target.value)}
          />
          {signUp && (
            <p id="handle-hint" className="hint">
              3 to 32 letters, digits or underscores, starting with a letter.
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete={signUp ? 'new-password' : 'current-password'}
            required
            minLength={signUp ? PASSWORD_MIN_LENGTH : 1}
            aria-describedby={signUp ? 'password-hint' : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {signUp && (
            <p id="password-hint" className="hint">
              {PASSWORD_RULE}
            </p>
          )}
        </div>
        <ErrorAlert error={error} />
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
