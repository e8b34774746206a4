/**
 * The chat's own menu (the "⋯" in its header): the chat's media, links and docs, and how I keep
 * this chat — mute, pin, archive, mark unread, clear — all mine alone, and followed by my other
 * devices through the stream.
 */
import { type Conversation, MAX_PINNED_CHATS, isMuted } from '@mmd/sdk';
import { useState } from 'react';
import { MoreIcon } from '../icons.tsx';
import { navigate } from '../router.tsx';
import { useConfirm } from './Confirm.tsx';
import { useStore } from './context.ts';
import { GalleryDialog } from './GalleryDialog.tsx';
import { ActionsMenu } from './MessageBubble.tsx';
import { ReportDialog } from './ReportDialog.tsx';

export function ChatMenu({ conversation }: { conversation: Conversation }) {
  const store = useStore();
  const [open, setOpen] = useState(false);
  const [confirmDialog, ask] = useConfirm();
  const [reporting, setReporting] = useState(false);
  const [gallery, setGallery] = useState(false);
  const settings = conversation.settings;
  const muted = isMuted(settings, Date.now());
  const pinned = settings?.pinned_at != null;
  const archived = settings?.archived === true;
  const id = conversation.id;
  const set = (input: Parameters<typeof store.updateChatSettings>[1], done: string) =>
    void store.updateChatSettings(id, input).then((ok) => ok && store.notify(done));
  return (
    <div className="actions-anchor chat-menu">
      <button type="button" className="icon actions-button" aria-label="Chat options" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((v) => !v)}>
        <MoreIcon />
      </button>
      {open && (
        <ActionsMenu
          onClose={() => setOpen(false)}
          items={[
            { label: 'Media, links and docs', run: () => setGallery(true) },
            !muted && { label: 'Mute for 8 hours', run: () => set({ mute: '8h' }, 'Muted for 8 hours.') },
            !muted && { label: 'Mute for a week', run: () => set({ mute: '1w' }, 'Muted for a week.') },
            !muted && { label: 'Mute always', run: () => set({ mute: 'always' }, 'Muted.') },
            muted && { label: 'Unmute', run: () => set({ mute: 'off' }, 'Unmuted.') },
            { label: pinned ? 'Unpin chat' : 'Pin chat', run: () => set({ pinned: !pinned }, pinned ? 'Unpinned.' : `Pinned (up to ${MAX_PINNED_CHATS} chats).`) },
            {
              label: archived ? 'Unarchive chat' : 'Archive chat',
              run: () =>
                void store.updateChatSettings(id, { archived: !archived }).then((ok) => {
                  if (!ok) return;
                  store.notify(archived ? 'Back in your chats.' : 'Archived: find it under “Archived”.');
                  if (!archived) navigate('/');
                }),
            },
            {
              label: 'Mark as unread',
              run: () =>
                void store.updateChatSettings(id, { marked_unread: true }).then((ok) => {
                  // Leaving the chat keeps the mark: opening it again is what takes it away.
                  if (ok) navigate('/');
                }),
            },
            {
              label: 'Clear chat',
              run: () =>
                void ask({ title: 'Clear this chat?', detail: 'Every message so far disappears on all your devices. The others still see them.', confirm: 'Clear chat' }).then((ok) => {
                  if (ok) void store.clearChat(id);
                }),
            },
            conversation.kind === 'direct' && conversation.peer && { label: `Report @${conversation.peer.handle}`, run: () => setReporting(true) },
            conversation.kind === 'group' &&
              conversation.my_role === 'owner' && {
                label: 'Delete group',
                run: () =>
                  void ask({ title: `Delete ${conversation.title ?? 'this group'}?`, detail: 'Everyone is removed and the group is gone for all of them.', confirm: 'Delete group' }).then((ok) => {
                    if (ok) void store.deleteGroup(id).then((done) => done && navigate('/'));
                  }),
              },
          ]}
        />
      )}
      {reporting && conversation.peer && <ReportDialog account={{ handle: conversation.peer.handle, conversationId: id }} onClose={() => setReporting(false)} />}
      {gallery && <GalleryDialog conversationId={id} onClose={() => setGallery(false)} />}
      {confirmDialog}
    </div>
  );
}
