/** The account and its signed-in devices: see where you are signed in and sign a device out. */
import type { Device } from '@mmd/sdk';
import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { useConfirm } from './Confirm.tsx';
import { fullDate } from './format.ts';
import { NotificationSettings } from './NotificationSettings.tsx';
import { PrivacySettings } from './Privacy.tsx';
import { ProfileSettings } from './ProfileSettings.tsx';
import { VisibilitySettings } from './VisibilitySettings.tsx';
import { PasswordSettings, ThemeSettings } from './AccountSettings.tsx';
import { MyConsents } from '../pages/MyConsents.tsx';
import { ErrorAlert } from '../error-alert.tsx';

export function Settings() {
  const { client, me, signOut } = useSession();
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmDialog, ask] = useConfirm();

  const load = useCallback(() => {
    client
      .devices()
      .then(setDevices)
      .catch((err: unknown) => setError(errorText(err)));
  }, [client]);
  useEffect(load, [load]);

  async function revoke(device: Device) {
    const ok = await ask({ title: `Sign out “${device.name}”?`, detail: 'It will need the password to sign in again.', confirm: 'Sign out' });
    if (!ok) return;
    try {
      await client.revokeDevice(device.id);
      if (device.current) signOut();
      else load();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <section className="card" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <p>
        Signed in as <strong>@{me.handle}</strong>
        {me.role !== 'user' && ` (${me.role})`}.
      </p>
      <p>
        <Link href="/bots">Bots &amp; automation</Link>: create bots, their tokens and webhooks
        {me.kind === 'business' ? ', and your automation rules' : ''}.
      </p>
      <nav aria-label="Settings sections" className="settings-nav">
        <a href="#profile">Profile</a> · <a href="#notifications">Notifications</a> · <a href="#privacy">Privacy</a> · <a href="#password">Password</a> · <a href="#appearance">Theme</a> ·{' '}
        <a href="#devices">Devices</a>
      </nav>
      <div id="profile">
        <ProfileSettings />
      </div>
      <h2 id="notifications">Notifications</h2>
      <NotificationSettings />
      <h2 id="appearance">Appearance</h2>
      <ThemeSettings />
      <PasswordSettings />
      <h2 id="devices">Devices</h2>
      <p className="hint">Everywhere this account is signed in. Signing a device out ends its session at once.</p>
      <ErrorAlert error={error} />
      {!devices && !error && <p>Loading…</p>}
      {devices && (
        <ul className="pick-list static devices">
          {devices.map((d) => (
            <li key={d.id}>
              <span>
                <strong>{d.name}</strong>
                {d.current && ' (this device)'}
                <span className="hint">
                  Signed in {fullDate(d.created_at)}
                  {d.last_seen_at ? ` · last active ${fullDate(d.last_seen_at)}` : ''}
                </span>
              </span>
              <button type="button" aria-label={`Sign out: ${d.name}${d.current ? ' (this device)' : ''}`} onClick={() => void revoke(d)}>
                Sign out
              </button>
            </li>
          ))}
        </ul>
      )}
      <div id="privacy">
        <PrivacySettings />
        <VisibilitySettings />
      </div>
      {me.kind === 'person' && <MyConsents />}
      <div className="row">
        <button type="button" className="danger" onClick={() => signOut({ revoke: true })}>
          Sign out of this device
        </button>
      </div>
      {confirmDialog}
    </section>
  );
}
