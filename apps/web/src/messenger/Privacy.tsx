/**
 * Who can reach me: the "who may add me to groups and channels" choice, the accounts I blocked,
 * a block button for member lists and direct chats, and invitations waiting for my answer (sent
 * instead of an add when my choice says so).
 */
import type { AddMePolicy, Invitation } from '@mmd/sdk';
import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { navigate } from '../router.tsx';
import { useSession } from '../session.tsx';
import { useConfirm } from './Confirm.tsx';
import { useStore } from './context.ts';
import './privacy.css';
import { ErrorAlert } from '../error-alert.tsx';
import { RadioChoice } from './RadioChoice.tsx';

const ADD_ME: { value: AddMePolicy; label: string; hint: string }[] = [
  { value: 'everyone', label: 'Everyone', hint: 'Anyone can add you to a group or channel.' },
  {
    value: 'contacts',
    label: 'People I have written to',
    hint: 'Only people you have written to in a direct chat; others send an invitation.',
  },
  { value: 'nobody', label: 'Nobody', hint: 'Everyone sends an invitation that you accept or decline.' },
];

/** Settings: who may add me, and the accounts I blocked. */
export function PrivacySettings() {
  const { client } = useSession();
  const [addMe, setAddMe] = useState<AddMePolicy | null>(null);
  const [readReceipts, setReadReceipts] = useState<boolean | null>(null);
  const [blocked, setBlocked] = useState<{ handle: string }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    Promise.all([client.privacy(), client.blocks()])
      .then(([privacy, blocks]) => {
        setAddMe(privacy.add_me);
        setReadReceipts(privacy.read_receipts);
        setBlocked(blocks);
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, [client]);
  useEffect(load, [load]);

  async function choose(value: AddMePolicy) {
    setError(null);
    // The choice shows at once (as the server will have it); a refusal puts back what was saved.
    const before = addMe;
    setAddMe(value);
    try {
      setAddMe((await client.setPrivacy({ add_me: value })).add_me);
    } catch (err) {
      setAddMe(before);
      setError(errorText(err));
    }
  }

  async function toggleReadReceipts(next: boolean) {
    setError(null);
    // The box follows the click at once; a refusal puts back what was saved.
    const before = readReceipts;
    setReadReceipts(next);
    try {
      setReadReceipts((await client.setPrivacy({ read_receipts: next })).read_receipts);
    } catch (err) {
      setReadReceipts(before);
      setError(errorText(err));
    }
  }

  async function unblock(handle: string) {
    setError(null);
    try {
      await client.unblock(handle);
      load();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <>
      <h2>Privacy</h2>
      <ErrorAlert error={error} />
      <RadioChoice legend="Who can add me to groups and channels" name="add-me" options={ADD_ME} value={addMe} onChoose={(v) => void choose(v)} disabled={addMe === null} />
      <h3>Read receipts</h3>
      <div className="read-receipts-setting">
        {/* No box until the saved choice is known: a box drawn ticked by default would be acted on (by a
            person or a script) as if that were the choice. */}
        {readReceipts === null ? (
          <p className="pane-note">Loading…</p>
        ) : (
          <label>
            <input type="checkbox" checked={readReceipts} aria-describedby="read-receipts-hint" onChange={(e) => void toggleReadReceipts(e.target.checked)} /> Send read receipts
          </label>
        )}
        <p className="hint" id="read-receipts-hint">
          When this is off, people you chat with directly do not see when you have read their messages, and you do not see when they have read yours. Groups always show reads.
        </p>
      </div>
      <h3>Blocked accounts</h3>
      <p className="hint">
        A blocked account cannot write to you directly, start a chat with you, or add you anywhere.
      </p>
      {blocked?.length === 0 && <p className="pane-note">You have not blocked anyone.</p>}
      {blocked && blocked.length > 0 && (
        <ul className="pick-list static blocked">
          {blocked.map((b) => (
            <li key={b.handle}>
              <span>@{b.handle}</span>
              <button
                type="button"
                aria-label={`Unblock @${b.handle}`}
                onClick={() => void unblock(b.handle)}
              >
                Unblock
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** "Block": asks first, in the app's own dialog, then blocks. */
export function BlockButton({ handle, onBlocked }: { handle: string; onBlocked?: () => void }) {
  const { client } = useSession();
  const store = useStore();
  const [confirmDialog, ask] = useConfirm();
  async function block() {
    const ok = await ask({
      title: `Block @${handle}?`,
      detail:
        'They will not be able to write to you directly, start a chat with you, or add you to groups and channels. You can unblock them in Settings.',
      confirm: 'Block',
    });
    if (!ok) return;
    try {
      await client.block(handle);
      store.notify(`@${handle} is blocked.`);
      onBlocked?.();
    } catch (err) {
      store.notify(errorText(err));
    }
  }
  return (
    <>
      <button type="button" aria-label={`Block @${handle}`} onClick={() => void block()}>
        Block
      </button>
      {confirmDialog}
    </>
  );
}

/** Invitations waiting for my answer, above the conversation list; nothing when there are none. */
export function Invitations() {
  const store = useStore();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void store.loadInvitations();
  }, [store]);
  const invitations = store.invitations;
  if (!invitations || invitations.length === 0) return null;

  async function answer(invitation: Invitation, accept: boolean) {
    setError(null);
    try {
      const joined = await store.answerInvitation(invitation.id, accept);
      if (joined) navigate(`/chats/${encodeURIComponent(joined.id)}`);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <section className="invitations" aria-label="Invitations">
      <ErrorAlert error={error} />
      <ul>
        {invitations.map((i) => {
          const name =
            i.conversation.title ?? (i.conversation.handle ? `@${i.conversation.handle}` : 'a group');
          return (
            <li key={i.id}>
              <span>
                @{i.invited_by.handle} invites you to{' '}
                {i.conversation.kind === 'channel' ? 'the channel' : 'the group'} <strong>{name}</strong>
              </span>
              <span className="invitation-actions">
                <button
                  type="button"
                  className="primary"
                  aria-label={`Join ${name}`}
                  onClick={() => void answer(i, true)}
                >
                  Join
                </button>
                <button
                  type="button"
                  aria-label={`Decline the invitation to ${name}`}
                  onClick={() => void answer(i, false)}
                >
                  Decline
                </button>
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** Group admins: do new members read the messages sent before they joined? */
export function HistorySetting({ conversationId, visible }: { conversationId: string; visible: boolean }) {
  const store = useStore();
  const [error, setError] = useState<string | null>(null);
  // The box follows the click at once (a controlled box that waited for the server would not move,
  // and a second click would send the old value again); a refusal puts it back.
  const [asked, setAsked] = useState<boolean | null>(null);
  async function toggle(next: boolean) {
    setError(null);
    setAsked(next);
    try {
      store.upsertConversation(
        await store.client.updateConversation(conversationId, { history_visible: next }),
      );
    } catch (err) {
      setError(errorText(err));
    } finally {
      setAsked(null);
    }
  }
  return (
    <div className="history-setting">
      <label>
        <input type="checkbox" checked={asked ?? visible} onChange={(e) => void toggle(e.target.checked)} />{' '}
        New members see earlier messages
      </label>
      <ErrorAlert error={error} />
    </div>
  );
}
