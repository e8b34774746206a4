/**
 * Where people see a business — the chat list and a chat's header — it shows its display name and
 * the operator's verified mark. Profiles are fetched in batches (one call for every direct chat
 * in view, `GET /v1/businesses?ids=`) and kept for the page's life; accounts that are not
 * businesses are remembered as such, so they are asked about once.
 */
import type { BusinessProfile, MmdClient } from '@mmd/sdk';
import { useEffect, useState } from 'react';

const known = new Map<string, BusinessProfile | null>();
const asked = new Set<string>();
const listeners = new Set<() => void>();
let queued: { client: MmdClient; ids: Set<string> } | null = null;

function flush() {
  const batch = queued;
  queued = null;
  if (!batch) return;
  const ids = [...batch.ids];
  for (let i = 0; i < ids.length; i += 100) {
    const part = ids.slice(i, i + 100);
    batch.client
      .businessProfiles(part)
      .then((found) => {
        for (const id of part) known.set(id, found.find((b) => b.id === id) ?? null);
        for (const l of listeners) l();
      })
      .catch(() => {
        // Asked again on the next render that needs them.
        for (const id of part) asked.delete(id);
      });
  }
}

function ask(client: MmdClient, ids: string[]) {
  const fresh = ids.filter((id) => !asked.has(id));
  if (fresh.length === 0) return;
  for (const id of fresh) asked.add(id);
  if (!queued) {
    queued = { client, ids: new Set() };
    setTimeout(flush, 0);
  }
  for (const id of fresh) queued.ids.add(id);
}

/** The business profiles among these account ids (others are absent), updating as they arrive. */
export function useBusinessProfiles(client: MmdClient, accountIds: (string | undefined)[]): Map<string, BusinessProfile> {
  const [, setVersion] = useState(0);
  const ids = accountIds.filter((id): id is string => Boolean(id));
  const key = ids.join(',');
  useEffect(() => {
    if (!key) return;
    const listener = () => setVersion((v) => v + 1);
    listeners.add(listener);
    ask(client, key.split(','));
    return () => {
      listeners.delete(listener);
    };
  }, [client, key]);
  const out = new Map<string, BusinessProfile>();
  for (const id of ids) {
    const p = known.get(id);
    if (p) out.set(id, p);
  }
  return out;
}

/** A business's name as people see it: its display name, then a small verified mark with a label. */
export function VerifiedMark() {
  return (
    <span className="verified-badge" title="Verified business" role="img" aria-label="verified">
      ✓
    </span>
  );
}
