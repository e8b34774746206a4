/**
 * Settings → Profile: the display name and "about" line others see beside the handle, and the
 * profile photo (the server crops it square and strips its metadata).
 */
import type { Profile } from '@mmd/sdk';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import { ErrorAlert } from '../error-alert.tsx';
import { Avatar } from './Avatar.tsx';
import './profile.css';

export function ProfileSettings() {
  const { client, me } = useSession();
  const [profile, setProfile] = useState<Profile | null>(null);
  const [name, setName] = useState('');
  const [about, setAbout] = useState('');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    client.profiles
      .mine()
      .then((p) => {
        setProfile(p);
        setName(p.display_name ?? '');
        setAbout(p.about ?? '');
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, [client]);

  async function run(action: () => Promise<Profile | undefined>) {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const p = await action();
      if (p) setProfile(p);
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    if (await run(() => client.profiles.update({ display_name: name, about }))) setSaved(true);
  }

  async function choosePhoto(file: File | undefined) {
    if (!file) return;
    await run(() => client.profiles.setPhoto(file, file.type || 'application/octet-stream'));
    if (fileInput.current) fileInput.current.value = '';
  }

  return (
    <>
      <h2>Profile</h2>
      <p className="hint">What people see beside @{me.handle}: in chats, member lists and search.</p>
      <ErrorAlert error={error} />
      <div className="profile-photo-row">
        <Avatar name={profile?.display_name ?? me.handle} size={96} photo={profile?.photo} />
        <div className="row">
          <label className="button">
            {profile?.photo ? 'Change photo' : 'Add photo'}
            <input ref={fileInput} type="file" accept="image/*" className="visually-hidden" disabled={busy || !profile} onChange={(e) => void choosePhoto(e.target.files?.[0])} />
          </label>
          {profile?.photo && (
            <button type="button" disabled={busy} onClick={() => void run(async () => (await client.profiles.removePhoto(), client.profiles.mine()))}>
              Remove photo
            </button>
          )}
        </div>
      </div>
      <form className="profile-form" onSubmit={(e) => void save(e)}>
        <label htmlFor="display-name">Display name</label>
        <input id="display-name" maxLength={64} value={name} placeholder={`@${me.handle}`} onChange={(e) => setName(e.target.value)} disabled={!profile} />
        <label htmlFor="about">About</label>
        <input id="about" maxLength={140} value={about} placeholder="Hey there! I am using MMD." onChange={(e) => setAbout(e.target.value)} disabled={!profile} />
        <div className="row">
          <button type="submit" className="primary" disabled={busy || !profile}>
            Save profile
          </button>
          {saved && <span role="status">Saved.</span>}
        </div>
      </form>
    </>
  );
}
