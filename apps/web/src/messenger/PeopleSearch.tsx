/**
 * "Message someone": people whose handle or name starts with what was typed (3+ characters, after
 * a 300 ms pause; the server gives at most 10 and limits how often one may ask).
 */
import type { Profile } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { Avatar } from './Avatar.tsx';
import { useStoreRef } from './context.ts';
import './profile.css';

const MIN_QUERY = 3;

export function PeopleSearch({ query, onPick }: { query: string; onPick: (handle: string) => void }) {
  const { client } = useStoreRef();
  const [found, setFound] = useState<Profile[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const q = query.trim().replace(/^@/, '');

  useEffect(() => {
    setFound(null);
    setError(null);
    if ([...q].length < MIN_QUERY) return;
    let live = true;
    const timer = setTimeout(() => {
      client.profiles
        .search(q)
        .then((people) => {
          if (live) setFound(people);
        })
        .catch((err: unknown) => {
          if (live) setError(errorText(err));
        });
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, q]);

  if ([...q].length < MIN_QUERY) return <p className="hint">Type a handle, or three letters of a name to find someone.</p>;
  return (
    <section aria-label="People found" aria-live="polite">
      {error && <p className="error">{error}</p>}
      {found?.length === 0 && <p className="hint">Nobody found by that handle or name.</p>}
      {found && found.length > 0 && (
        <ul className="pick-list people-found">
          {found.map((p) => (
            <li key={p.account_id}>
              <button type="button" onClick={() => onPick(p.handle)} aria-label={`Message ${p.display_name ? `${p.display_name} ` : ''}@${p.handle}`}>
                <Avatar name={p.display_name ?? p.handle} size={32} photo={p.photo} />
                <span className="member-name">
                  {p.display_name && <span className="display-name">{p.display_name} </span>}@{p.handle}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
