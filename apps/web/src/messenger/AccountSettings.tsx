/**
 * Settings → Password and Theme: change the password (the current one is asked for; other devices
 * are signed out), and pick light, dark or the system's theme for this browser.
 */
import { PASSWORD_RULE } from '@mmd/sdk';
import { type FormEvent, useState } from 'react';
import { errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { RadioChoice } from './RadioChoice.tsx';
import { useSession } from '../session.tsx';
import { type Theme, setTheme, storedTheme } from '../theme.ts';
import './privacy.css';

export function PasswordSettings() {
  const { client } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const { signed_out_devices: n } = await client.changePassword({ current_password: current, new_password: next });
      setCurrent('');
      setNext('');
      setDone(`Password changed.${n > 0 ? ` ${n} other ${n === 1 ? 'device was' : 'devices were'} signed out.` : ''}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <h2 id="password">Password</h2>
      <form className="profile-form" onSubmit={(e) => void submit(e)}>
        <label htmlFor="current-password">Current password</label>
        <input id="current-password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        <label htmlFor="new-password">New password</label>
        <input id="new-password" type="password" autoComplete="new-password" required aria-describedby="new-password-rule" value={next} onChange={(e) => setNext(e.target.value)} />
        <p id="new-password-rule" className="hint">
          {PASSWORD_RULE} Your other devices will be signed out.
        </p>
        <ErrorAlert error={error} />
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            Change password
          </button>
        </div>
        {done && <p role="status">{done}</p>}
      </form>
    </>
  );
}

const THEMES: { value: Theme; label: string }[] = [
  { value: 'system', label: 'Same as the system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

export function ThemeSettings() {
  const [theme, choose] = useState<Theme>(storedTheme);
  return (
    <RadioChoice
      id="theme"
      legend="Theme"
      name="theme"
      options={THEMES}
      value={theme}
      onChoose={(value) => {
        setTheme(value);
        choose(value);
      }}
    />
  );
}
