/**
 * A direct chat's "online" / "last seen today at 14:02" line. Presence is asked for while the chat
 * is open (every PRESENCE_POLL_MS, and when the page becomes visible again); the server decides
 * what this person may see (null: hidden by either side's last-seen setting).
 */
import type { Presence } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { useStoreRef } from './context.ts';

const PRESENCE_POLL_MS = 10_000;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

/** "online", "last seen today at 14:02", "… yesterday at …", "… 3 Dec at …", or null (hidden or never). */
export function presenceText(p: Presence | null | undefined, now = Date.now()): string | null {
  if (!p || p.online === null) return null;
  if (p.online) return 'online';
  if (p.last_seen_at === null) return null;
  const seen = new Date(p.last_seen_at);
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  const dayMs = 24 * 60 * 60 * 1000;
  const at = timeFormat.format(seen);
  if (seen.getTime() >= today.getTime()) return `last seen today at ${at}`;
  if (seen.getTime() >= today.getTime() - dayMs) return `last seen yesterday at ${at}`;
  return `last seen ${dateFormat.format(seen)} at ${at}`;
}

/** The presence of one person (undefined until known), kept fresh while mounted. */
export function usePresence(accountId: string | undefined): Presence | undefined {
  const { client } = useStoreRef();
  const [presence, setPresence] = useState<Presence | undefined>(undefined);
  useEffect(() => {
    setPresence(undefined);
    if (!accountId) return;
    let live = true;
    const ask = () => {
      if (document.visibilityState === 'hidden') return;
      client.profiles
        .presence([accountId])
        .then(([p]) => {
          if (live) setPresence(p);
        })
        .catch(() => {});
    };
    ask();
    const timer = setInterval(ask, PRESENCE_POLL_MS);
    document.addEventListener('visibilitychange', ask);
    return () => {
      live = false;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', ask);
    };
  }, [client, accountId]);
  return presence;
}
