/** Report a message to the moderators, with a reason and an optional note. */
import type { Message, ReportReason } from '@mmd/sdk';
import { type FormEvent, useState } from 'react';
import { errorText } from '../api.ts';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorAlert } from '../error-alert.tsx';

const REASONS: { value: ReportReason; label: string; hint: string }[] = [
  { value: 'ncii', label: 'Intimate image shared without consent', hint: 'A nude or sexual image of someone who did not agree to it being shared' },
  { value: 'child_safety', label: 'Child sexual abuse material', hint: 'Anything sexualising a minor' },
  { value: 'deepfake', label: 'Fake or AI-made image of a real person', hint: 'Made to look real, to deceive or humiliate' },
  { value: 'harassment', label: 'Harassment or threats', hint: '' },
  { value: 'spam', label: 'Spam or scam', hint: '' },
  { value: 'other', label: 'Something else', hint: '' },
];

export function ReportDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const store = useStore();
  const [reason, setReason] = useState<ReportReason | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!reason) {
      setError('Choose a reason.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await store.client.report({ message_id: message.id, reason, note: note.trim() || undefined });
      store.notify('Thanks. Moderators will review your report; you will hear the outcome here.');
      onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <Dialog title="Report message" onClose={onClose}>
      <form onSubmit={submit}>
        <fieldset className="reasons">
          <legend>Why are you reporting this message from @{message.sender_handle}?</legend>
          {REASONS.map((r) => (
            <label key={r.value} className="reason">
              <input type="radio" name="reason" value={r.value} checked={reason === r.value} onChange={() => setReason(r.value)} />
              <span>
                {r.label}
                {r.hint && <span className="hint">{r.hint}</span>}
              </span>
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="report-note">Anything moderators should know (optional)</label>
          <textarea id="report-note" maxLength={1000} rows={3} value={note} onChange={(e) => setNote(e.target.value)} />
        </div>
        <p className="hint">The sender is not told who reported them.</p>
        <ErrorAlert error={error} />
        <div className="dialog-actions">
          <button type="submit" className="danger" disabled={busy}>
            {busy ? 'Sending…' : 'Report'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
