/** How contacts, tags and consent states read in lists and profiles. */
import type { Contact } from '@mmd/sdk';

/** The name a contact goes by in lists. */
export function contactName(c: Pick<Contact, 'name' | 'handle' | 'external_id' | 'id' | 'erased_at'>): string {
  if (c.erased_at) return 'Erased contact';
  return c.name ?? (c.handle ? `@${c.handle}` : (c.external_id ?? c.id));
}

export const STATE_WORDS = { opted_in: 'Opted in', opted_out: 'Opted out' } as const;

export function Tags({ tags }: { tags: string[] }) {
  if (tags.length === 0) return <span className="hint">—</span>;
  return (
    <ul className="biz-tags">
      {tags.map((t) => (
        <li key={t} className="biz-tag">
          {t}
        </li>
      ))}
    </ul>
  );
}

export function ConsentBadge({ state }: { state: 'opted_in' | 'opted_out' | undefined }) {
  if (!state) return <span className="biz-tag">no answer</span>;
  return <span className={`biz-tag ${state === 'opted_in' ? 'good' : 'warn'}`}>{STATE_WORDS[state]}</span>;
}

