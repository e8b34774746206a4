/**
 * The people in a group or channel with their roles. Owners and admins add and remove people and
 * make admins; anyone can leave.
 */
import type { Conversation, Member } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { navigate } from '../router.tsx';
import { useStore } from './context.ts';
import { useConfirm } from './Confirm.tsx';
import { Dialog } from './Dialog.tsx';
import { BlockButton, HistorySetting } from './Privacy.tsx';
import { ErrorAlert } from '../error-alert.tsx';
import { Avatar } from './Avatar.tsx';
import { usePeople } from './people.ts';
import { InviteLinks, SignPostsSetting } from './InviteLinks.tsx';
import { GalleryDialog } from './GalleryDialog.tsx';

const ROLE = { owner: 'Owner', admin: 'Admin', member: '' } as const;

export function MembersDialog({ conversation, onClose }: { conversation: Conversation; onClose: () => void }) {
  const store = useStore();
  const [members, setMembers] = useState<Member[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [handle, setHandle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [confirmDialog, ask] = useConfirm();
  const [gallery, setGallery] = useState(false);
  const manager = conversation.my_role === 'owner' || conversation.my_role === 'admin';
  // A channel's subscriber list is for its admins (the server refuses it to anyone else).
  const listed = manager || conversation.kind !== 'channel';
  const noun = conversation.kind === 'channel' ? 'Subscribers' : 'Members';
  const people = usePeople(members.map((m) => m.account_id));

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
    if (listed) void load();
    else setLoading(false);
  }, [load, listed, conversation.member_count, conversation.my_role]);

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
    await act(async () => {
      const added = await store.client.addMember(conversation.id, bare);
      // Their privacy setting asked for an invitation: say so, or the add looks like it failed.
      if ('invited' in added) store.notify(`@${added.handle} was invited and joins if they accept.`);
    });
    setHandle('');
  }

  async function leave() {
    if (!(await ask({ title: `Leave ${conversation.title ?? 'this conversation'}?`, confirm: 'Leave' }))) return;
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
      <button type="button" className="gallery-open" onClick={() => setGallery(true)}>
        Media, links and docs
      </button>
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
      {manager && conversation.kind === 'group' && <HistorySetting conversationId={conversation.id} visible={conversation.history_visible} />}
      {manager && conversation.kind === 'channel' && <SignPostsSetting conversation={conversation} />}
      {manager && conversation.kind === 'channel' && conversation.handle && (
        <p className="hint">
          Public link: <a href={`/c/${encodeURIComponent(conversation.handle)}`}>{`${window.location.origin}/c/${conversation.handle}`}</a>
        </p>
      )}
      {manager && <InviteLinks conversation={conversation} />}
      <ErrorAlert error={error} />
      {!listed && <p className="pane-note">Only the channel's admins see who subscribes.</p>}
      <ul className="pick-list static members">
        {members.map((m) => (
          <li key={m.account_id}>
            <Avatar name={people.get(m.account_id)?.display_name ?? m.handle} size={28} photo={people.get(m.account_id)?.photo} />
            <span className="member-name">
              {people.get(m.account_id)?.display_name && <span className="display-name">{people.get(m.account_id)?.display_name} </span>}
              @{m.handle}
              {m.account_id === store.meId && ' (you)'}
            </span>
            {ROLE[m.role] && <span className="role">{ROLE[m.role]}</span>}
            {m.account_id !== store.meId && <BlockButton handle={m.handle} />}
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
      {gallery && (
        // Showing an item in the chat closes the group's info too.
        <GalleryDialog conversationId={conversation.id} onClose={() => setGallery(false)} onShowInChat={onClose} />
      )}
      {confirmDialog}
    </Dialog>
  );
}
