/**
 * Who people are, as the signed-in person may see them: display names and profile photos beside
 * handles in the chat list, a chat's header, member lists and message senders. Profiles are asked
 * for in batches (`GET /v1/profiles?ids=`, up to 100 a call) and kept per signed-in person; a
 * `profile.updated` event forgets one so the next render asks again. Photo links are signed for
 * this viewer and expire, so a profile older than PROFILE_MAX_AGE_MS is asked for again.
 */
import type { MmdClient, Profile } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { useStoreRef } from './context.ts';

/** Well inside the server's signed-URL lifetime (an hour by default). */
const PROFILE_MAX_AGE_MS = 20 * 60 * 1000;

export class PeopleCache {
  private readonly known = new Map<string, { profile: Profile | null; at: number }>();
  private readonly asked = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private queued = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly client: MmdClient) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(id: string): Profile | undefined {
    return this.known.get(id)?.profile ?? undefined;
  }

  /** Remembers a profile read some other way (my own after an edit). */
  put(profile: Profile) {
    this.known.set(profile.account_id, { profile, at: Date.now() });
    this.emit();
  }

  /** Someone changed their profile: ask again on the next render that shows them. */
  forget(id: string) {
    this.asked.delete(id);
    this.ask([id], true);
  }

  ask(ids: readonly string[], force = false) {
    const now = Date.now();
    for (const id of ids) {
      const entry = this.known.get(id);
      const stale = !entry || now - entry.at > PROFILE_MAX_AGE_MS;
      if (!force && (this.asked.has(id) || !stale)) continue;
      this.asked.add(id);
      this.queued.add(id);
    }
    if (this.queued.size > 0 && !this.timer) this.timer = setTimeout(() => this.flush(), 0);
  }

  private flush() {
    this.timer = null;
    const ids = [...this.queued];
    this.queued = new Set();
    for (let i = 0; i < ids.length; i += 100) {
      const part = ids.slice(i, i + 100);
      this.client.profiles
        .byIds(part)
        .then((found) => {
          const at = Date.now();
          for (const id of part) {
            this.known.set(id, { profile: found.find((p) => p.account_id === id) ?? null, at });
            this.asked.delete(id);
          }
          this.emit();
        })
        .catch(() => {
          // Asked again on the next render that needs them.
          for (const id of part) this.asked.delete(id);
        });
    }
  }

  private emit() {
    for (const l of this.listeners) l();
  }
}

/** The profiles of these accounts that have arrived (the rest are absent), updating as they do. */
export function usePeople(accountIds: readonly (string | null | undefined)[]): Map<string, Profile> {
  const people = useStoreRef().people;
  const [, setVersion] = useState(0);
  const ids = [...new Set(accountIds.filter((id): id is string => Boolean(id)))];
  const key = ids.join(',');
  useEffect(() => {
    if (!key) return;
    const off = people.subscribe(() => setVersion((v) => v + 1));
    people.ask(key.split(','));
    return off;
  }, [people, key]);
  const out = new Map<string, Profile>();
  for (const id of ids) {
    const p = people.get(id);
    if (p) out.set(id, p);
  }
  return out;
}

/** How a person is named on screen: their display name, else `@handle`. */
export function personName(profile: Profile | undefined, handle: string): string {
  return profile?.display_name ?? `@${handle}`;
}
