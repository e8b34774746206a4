/**
 * "Notices": what became of the reports I made. The outcome also arrives live as a toast, but a
 * reporter who was offline when a moderator decided would never see that; the list is read from
 * the server (`GET /v1/reports`), and a dot marks outcomes not seen yet.
 */
import type { Report } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';
import { fullDate } from './format.ts';

const REASON_WORDS: Record<Report['reason'], string> = {
  ncii: 'an intimate image shared without consent',
  child_safety: 'child sexual abuse material',
  deepfake: 'a fake image of a real person',
  harassment: 'harassment or threats',
  spam: 'spam or a scam',
  other: 'breaking the rules',
};

function outcomeText(r: Report): string {
  if (r.status === 'open') return 'Moderators have not decided yet.';
  return r.outcome === 'removed' ? 'A moderator removed the message.' : 'A moderator found no rule broken, so the message stays.';
}

export function NoticesButton() {
  const store = useStore();
  const [open, setOpen] = useState(false);
  const unseen = store.unseenOutcomes;
  return (
    <>
      <button type="button" className="notices-button" aria-label={unseen > 0 ? `Notices, ${unseen} new` : 'Notices'} onClick={() => setOpen(true)}>
        Notices
        {unseen > 0 && <span className="dot" aria-hidden="true" />}
      </button>
      {open && <NoticesDialog onClose={() => setOpen(false)} />}
    </>
  );
}

function NoticesDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  // Opening the list is seeing it: outcomes shown now are no longer new (but keep their mark while open).
  const [seenBefore] = useState(store.outcomesSeenAt);
  useEffect(() => {
    void store.loadReports().then(() => store.markOutcomesSeen());
  }, [store]);
  const reports = store.reports;
  return (
    <Dialog title="Notices" onClose={onClose}>
      {reports === null && <p className="pane-note">Loading…</p>}
      {reports?.length === 0 && <p className="pane-note">Nothing yet. When you report a message, what moderators decide shows here.</p>}
      {reports && reports.length > 0 && (
        <ul className="outcomes">
          {reports.map((r) => (
            <li key={r.id} className={r.resolved_at !== null && r.resolved_at > seenBefore ? 'new' : undefined}>
              <p>
                You reported a message for {REASON_WORDS[r.reason]} on <time dateTime={new Date(r.created_at).toISOString()}>{fullDate(r.created_at)}</time>.
              </p>
              <p className="outcome">{outcomeText(r)}</p>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
