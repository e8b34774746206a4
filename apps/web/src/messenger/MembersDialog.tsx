/**
 * The people in a group or channel with their roles. Owners and admins add and remove people and
 * make admins; anyone can leave.
 */
import type { Conversation, Member } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { navigate } from '../router.tsx';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';

const ROLE = { owner: 'Owner', admin: 'Admin', member: '' } as const;

export function MembersDialog({ conversation, onClose }: { conversation: Conversation; onClose: () => void }) {
  const store = useStore();
  const [members, setMembers] = useState<Member[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [handle, setHandle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const manager = conversation.my_role === 'owner' || conversation.my_role === 'admin';
  const noun = conversation.kind === 'channel' ? 'Subscribers' : 'Members';

  const load = useCallback(
    async (after?: string) => {
      setLoading(true);
      try {
        const page = await store.client.members(conversation.id, { after, limit: 100 });
        setMembers((list) => (after ? [...list, ...page.members] : page.members));
        setNext(page.next);
      } catch (err) {
        setError(errorText(err));
      } finally {
        setLoading(false);
      }
    },
    [store, conversation.id],
  );
  // Reloads when someone joins or leaves while the dialog is open (the count comes from the stream).
  // biome-ignore lint/correctness/useExhaustiveDependencies: member_count is the trigger, not an input
  useEffect(() => {
    void load();
  }, [load, conversation.member_count, conversation.my_role]);

  const act = async (run: () => Promise<unknown>) => {
    setError(null);
    try {
      await run();
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };

  async function add(event: FormEvent) {
    event.preventDefault();
    const bare = handle.trim().replace(/^@/, '');
    if (!bare) return;
    await act(() => store.client.addMember(conversation.id, bare));
    setHandle('');
  }

  async function leave() {
    if (!window.confirm(`Leave ${conversation.title ?? 'this conversation'}?`)) return;
    try {
      await store.client.removeMember(conversation.id, store.meId);
      store.removeConversation(conversation.id);
      onClose();
      navigate('/');
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <Dialog title={`${noun} (${conversation.member_count.toLocaleString()})`} onClose={onClose}>
      {manager && conversation.kind === 'group' && (
        <form className="inline-form" onSubmit={add}>
          <label htmlFor="add-member" className="visually-hidden">
            Add someone by handle
          </label>
          <input id="add-member" placeholder="@handle" autoCapitalize="none" spellCheck={false} value={handle} onChange={(e) => setHandle(e.target.value)} />
          <button type="submit" className="primary">
            Add
          </button>
        </form>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul className="pick-list static members">
        {members.map((m) => (
          <li key={m.account_id}>
            <span>
              @{m.handle}
              {m.account_id === store.meId && ' (you)'}
            </span>
            {ROLE[m.role] && <span className="role">{ROLE[m.role]}</span>}
            {manager && m.account_id !== store.meId && m.role !== 'owner' && (
              <span className="member-actions">
                {/* Every row has these buttons: their names say whose they are, for screen readers. */}
                <button
                  type="button"
                  aria-label={`${m.role === 'admin' ? 'Remove admin' : 'Make admin'}: @${m.handle}`}
                  onClick={() => void act(() => store.client.setRole(conversation.id, m.account_id, m.role === 'admin' ? 'member' : 'admin'))}
                >
                  {m.role === 'admin' ? 'Remove admin' : 'Make admin'}
                </button>
                <button type="button" aria-label={`Remove: @${m.handle}`} onClick={() => void act(() => store.client.removeMember(conversation.id, m.account_id))}>
                  Remove
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {loading && <p className="pane-note">Loading…</p>}
      {next && !loading && (
        <button type="button" onClick={() => void load(next)}>
          Show more
        </button>
      )}
      <div className="dialog-actions">
        <button type="button" className="danger" onClick={() => void leave()}>
          Leave {conversation.kind === 'channel' ? 'channel' : 'group'}
        </button>
      </div>
    </Dialog>
  );
}
