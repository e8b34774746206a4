/** Start a direct chat, create a group or a channel, or join a channel by its handle. */
import type { Conversation } from '@mmd/sdk';
import { type FormEvent, useState } from 'react';
import { errorText } from '../api.ts';
import { navigate } from '../router.tsx';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';
import { conversationSubtitle, conversationTitle } from './format.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { PeopleSearch } from './PeopleSearch.tsx';

type Mode = 'direct' | 'group' | 'channel' | 'join';
const MODES: { mode: Mode; label: string }[] = [
  { mode: 'direct', label: 'Message someone' },
  { mode: 'group', label: 'New group' },
  { mode: 'channel', label: 'New channel' },
  { mode: 'join', label: 'Join a channel' },
];

function handles(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((h) => h.trim().replace(/^@/, '')).filter(Boolean))];
}

export function NewChatDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [mode, setMode] = useState<Mode>('direct');
  const [handle, setHandle] = useState('');
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const [found, setFound] = useState<Conversation | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const pickMode = (next: Mode) => {
    setMode(next);
    setError(null);
    setFound(null);
  };

  const open = (c: Conversation) => {
    store.upsertConversation(c);
    onClose();
    navigate(`/chats/${encodeURIComponent(c.id)}`);
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const client = store.client;
      // Handles are written @news, for channels as for people; #news (the CLI's old way) works too.
      const bare = handle.trim().replace(/^[@#]/, '');
      if (mode === 'direct') open(await client.openDirect(bare));
      else if (mode === 'group') open(await client.createConversation({ kind: 'group', title: title.trim(), members: handles(members) }));
      else if (mode === 'channel') open(await client.createConversation({ kind: 'channel', title: title.trim(), handle: bare }));
      else if (found) open(found.my_role ? found : await client.join(found.id));
      else setFound(await client.findChannel(bare));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const submitLabel =
    mode === 'direct' ? 'Start chat' : mode === 'group' ? 'Create group' : mode === 'channel' ? 'Create channel' : found ? (found.my_role ? 'Open' : 'Join') : 'Find';

  return (
    <Dialog title="New chat" onClose={onClose}>
      <div
        className="segmented"
        role="tablist"
        aria-label="What to start"
        onKeyDown={(event) => {
          if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
          const at = MODES.findIndex((m) => m.mode === mode);
          const next = MODES[(at + (event.key === 'ArrowRight' ? 1 : MODES.length - 1)) % MODES.length]!;
          pickMode(next.mode);
          const tabs = event.currentTarget.querySelectorAll<HTMLButtonElement>('[role="tab"]');
          tabs[MODES.indexOf(next)]?.focus();
        }}
      >
        {MODES.map((m) => (
          <button
            key={m.mode}
            type="button"
            role="tab"
            aria-selected={mode === m.mode}
            tabIndex={mode === m.mode ? 0 : -1}
            onClick={() => pickMode(m.mode)}
          >
            {m.label}
          </button>
        ))}
      </div>
      <form onSubmit={submit}>
        {(mode === 'group' || mode === 'channel') && (
          <div className="field">
            <label htmlFor="new-title">{mode === 'group' ? 'Group name' : 'Channel name'}</label>
            <input id="new-title" required maxLength={128} value={title} onChange={(e) => setTitle(e.target.value)} />
          </div>
        )}
        {mode !== 'group' && (
          <div className="field">
            <label htmlFor="new-handle">
              {mode === 'direct' ? 'Their handle' : mode === 'channel' ? 'Channel handle (people join with it)' : 'Channel handle'}
            </label>
            <input
              id="new-handle"
              required
              autoCapitalize="none"
              spellCheck={false}
              placeholder="@handle"
              value={handle}
              onChange={(e) => {
                setHandle(e.target.value);
                setFound(null);
              }}
            />
          </div>
        )}
        {mode === 'group' && (
          <div className="field">
            <label htmlFor="new-members">Members</label>
            <input
              id="new-members"
              autoCapitalize="none"
              spellCheck={false}
              placeholder="@alice, @bob"
              aria-describedby="new-members-hint"
              value={members}
              onChange={(e) => setMembers(e.target.value)}
            />
            <p id="new-members-hint" className="hint">
              Handles separated by commas or spaces. You can add more people later.
            </p>
          </div>
        )}
        {mode === 'direct' && (
          <PeopleSearch
            query={handle}
            onPick={(picked) => {
              setBusy(true);
              store.client
                .openDirect(picked)
                .then(open)
                .catch((err: unknown) => setError(errorText(err)))
                .finally(() => setBusy(false));
            }}
          />
        )}
        {mode === 'join' && found && (
          <div className="found-channel" aria-live="polite">
            <strong>{conversationTitle(found)}</strong>
            <span className="hint">{conversationSubtitle(found)}</span>
          </div>
        )}
        <ErrorAlert error={error} />
        <div className="dialog-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Please wait…' : submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
