/**
 * Report a message to the moderators, with a reason and an optional note — or an account (from a
 * direct chat's menu): its newest messages in the chat are reported, and it may be blocked too.
 */
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

type Reported = { message: Message; account?: undefined } | { message?: undefined; account: { handle: string; conversationId: string } };

export function ReportDialog({ message, account, onClose }: Reported & { onClose: () => void }) {
  const store = useStore();
  const [reason, setReason] = useState<ReportReason | null>(null);
  const [block, setBlock] = useState(false);
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
      if (message) await store.client.report({ message_id: message.id, reason, note: note.trim() || undefined });
      else {
        await store.client.reportAccount({ handle: account.handle, conversation_id: account.conversationId, reason, note: note.trim() || undefined });
        if (block) await store.client.block(account.handle);
      }
      store.notify(`Thanks. Moderators will review your report; you will hear the outcome here.${block ? ` @${account?.handle} is blocked.` : ''}`);
      onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <Dialog title={message ? 'Report message' : `Report @${account.handle}`} onClose={onClose}>
      <form onSubmit={submit}>
        <fieldset className="reasons">
          <legend>{message ? `Why are you reporting this message from @${message.sender_handle}?` : `Why are you reporting @${account.handle}? Their latest messages in this chat go to the moderators.`}</legend>
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
        {account && (
          <label className="reason">
            <input type="checkbox" checked={block} onChange={(e) => setBlock(e.target.checked)} />
            <span>Also block @{account.handle}</span>
          </label>
        )}
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
