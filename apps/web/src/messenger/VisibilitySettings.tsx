/**
 * Settings → Privacy: who sees my profile photo and my last seen / online, and read receipts.
 * Each choice is saved on its own (PATCH names only what changed); a refusal puts back what the
 * server has.
 */
import type { Privacy, Visibility } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import { ErrorAlert } from '../error-alert.tsx';
import { RadioChoice } from './RadioChoice.tsx';
import './privacy.css';

const CHOICES: { value: Visibility; label: string }[] = [
  { value: 'everyone', label: 'Everyone' },
  { value: 'contacts', label: "People I've written to" },
  { value: 'nobody', label: 'Nobody' },
];

type Setting = 'photo' | 'last_seen' | 'find_me';
const SETTINGS: { key: Setting; legend: string; hint: string }[] = [
  { key: 'photo', legend: 'Who can see my profile photo', hint: 'Others see your initials.' },
  {
    key: 'last_seen',
    legend: 'Who can see when I am online and last seen',
    hint: 'Works both ways: if you hide yours from someone, you cannot see theirs.',
  },
  { key: 'find_me', legend: 'Who can find me by name or handle in search', hint: 'Anyone who knows your exact handle can still write to you.' },
];

export function VisibilitySettings() {
  const { client } = useSession();
  const [privacy, setPrivacy] = useState<Privacy | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    client
      .privacy()
      .then(setPrivacy)
      .catch((err: unknown) => setError(errorText(err)));
  }, [client]);

  async function change(patch: Partial<Privacy>) {
    if (!privacy) return;
    setError(null);
    const before = privacy;
    setPrivacy({ ...privacy, ...patch });
    try {
      setPrivacy(await client.setPrivacy(patch));
    } catch (err) {
      setPrivacy(before);
      setError(errorText(err));
    }
  }

  return (
    <>
      <ErrorAlert error={error} />
      {SETTINGS.map((s) => (
        <RadioChoice key={s.key} legend={s.legend} hint={s.hint} name={`visibility-${s.key}`} options={CHOICES} value={privacy?.[s.key]} onChoose={(v) => void change({ [s.key]: v })} disabled={privacy === null} />
      ))}
    </>
  );
}
