/**
 * Writing a message: text (Enter sends, Shift+Enter starts a new line), files and albums with
 * upload progress, voice notes recorded in the browser, replies and edits, polls. Channels let only
 * their admins post; everyone else sees why. A bot's quick replies take the text field's place
 * (a toggle brings it back), and in a chat with a bot "/" lists its commands.
 */
import { AttachIcon, CloseIcon, KeyboardIcon, MicIcon, PollIcon, SendIcon } from '../icons.tsx';
import type { AiDisclosure, Conversation, Message } from '@mmd/sdk';
import { type FormEvent, type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { PollCreator } from '../interactive/PollCreator.tsx';
import { activeKeyboard } from '../interactive/keyboard.ts';
import { QuickReplyKeyboard } from '../interactive/QuickReplies.tsx';
import type { BotCommand } from '../interactive/types.ts';
import { rememberLocalPreview } from '../media/local-previews.ts';
import { UploadProgress } from '../media/UploadProgress.tsx';
import { VoiceRecorder } from '../media/VoiceRecorder.tsx';
import { useStore } from './context.ts';
import { messagePreview } from './format.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { EmojiPicker } from './EmojiPicker.tsx';
import { MentionList, useMentionSuggestions } from './mention-complete.tsx';

const MAX_TEXT = 4096;
const MAX_ITEMS = 10;
/** Files above this size upload resumably (tus) rather than in one request. */
const RESUMABLE_ABOVE = 32 * 1024 * 1024;

interface Attachment {
  id: number;
  file: File;
  /** An object URL for images, shown in the tray. */
  preview: string | null;
  sent: number;
  total: number;
  mediaId: string | null;
  error: string | null;
}

let attachmentIds = 0;

export function Composer(props: {
  conversation: Conversation;
  replyTo: Message | null;
  editing: Message | null;
  onDone: () => void;
  /** Up arrow in an empty composer: edit my last message (true when there was one). */
  onEditLast?: () => boolean;
  /** Files dropped anywhere on the chat: added as the attach button adds them, then handed back. */
  dropped?: File[] | null;
  onDroppedTaken?: () => void;
}) {
  const { conversation, replyTo, editing, onDone } = props;
  const store = useStore();
  // What I was writing here, on this device or another (the server keeps drafts).
  const [text, setText] = useState(() => store.draft(conversation.id));
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  // The sender's disclosure for this message's photos and videos, sent with each upload.
  const [aiDisclosure, setAiDisclosure] = useState<AiDisclosure | null>(null);
  const [recording, setRecording] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const files = useRef<HTMLInputElement>(null);
  const [pollOpen, setPollOpen] = useState(false);
  const [emojiOpen, setEmojiOpen] = useState(false);
  const emojiButton = useRef<HTMLButtonElement>(null);
  // The keyboard the person put away (by its message id): it stays away until a new one comes.
  const [keyboardHidden, setKeyboardHidden] = useState<string | null>(null);
  const [menuAt, setMenuAt] = useState(0);
  const [menuDismissed, setMenuDismissed] = useState(false);
  // Where the caret is: "@" just before it offers the group's members.
  const [caret, setCaret] = useState(0);
  const mentions = useMentionSuggestions(conversation, text, caret);

  // Before paint: the "Editing message" bar and the message's text appear in the same frame (an
  // effect after paint showed the bar over an empty box for a moment; the browser test read it).
  useLayoutEffect(() => {
    if (editing) setText(editing.text ?? '');
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  // Drafts may load after the chat opened (a reload straight into it): take mine if nothing is typed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when the drafts arrive
  useEffect(() => {
    if (store.draftsLoaded && !editing) setText((now) => now || store.draft(conversation.id));
  }, [store.draftsLoaded]);

  const { dropped, onDroppedTaken } = props;
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when files are dropped
  useEffect(() => {
    if (!dropped?.length) return;
    addFiles(dropped);
    onDroppedTaken?.();
  }, [dropped]);

  // Grow with the text, up to a limit.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the text changes
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  const attachmentsRef = useRef(attachments);
  attachmentsRef.current = attachments;
  useEffect(
    () => () => {
      for (const a of attachmentsRef.current) if (a.preview) URL.revokeObjectURL(a.preview);
    },
    [],
  );

  const outgoing = store.outbox.forConversation(conversation.id);
  const keyboard = activeKeyboard(store.chat(conversation.id)?.messages ?? [], store.meId, outgoing.at(-1)?.created_at ?? null);
  const showKeyboard = keyboard !== null && keyboardHidden !== keyboard.message.id && !editing && !recording && attachments.length === 0;
  // "/" commands: a direct chat's other side lists them if it is a bot (an account with none lists nothing).
  const commands: BotCommand[] = conversation.kind === 'direct' && conversation.peer ? store.commandsOf(conversation.peer.handle) : [];
  const typedCommand = /^\/\S*$/.test(text) ? text.slice(1).toLowerCase() : null;
  const matches = typedCommand === null || editing || menuDismissed ? [] : commands.filter((c) => c.command.toLowerCase().startsWith(typedCommand));
  const menuOpen = matches.length > 0;
  const activeCommand = menuOpen ? matches[Math.min(menuAt, matches.length - 1)] : undefined;
  const menuId = `commands-${conversation.id}`;

  if (conversation.my_role === null) {
    return (
      <div className="composer-note">
        {conversation.kind === 'channel' ? (
          <button
            type="button"
            className="primary"
            onClick={() =>
              store.client
                .join(conversation.id)
                .then((c) => store.upsertConversation(c))
                .catch((err: unknown) => store.notify(errorText(err)))
            }
          >
            Join channel
          </button>
        ) : (
          <p>You are no longer a member of this conversation.</p>
        )}
      </div>
    );
  }
  if (conversation.kind === 'channel' && conversation.my_role === 'member') {
    return (
      <div className="composer-note">
        <p>Only the channel’s admins can post here.</p>
      </div>
    );
  }

  const patch = (id: number, change: Partial<Attachment>) =>
    setAttachments((list) => list.map((a) => (a.id === id ? { ...a, ...change } : a)));

  async function uploadOne(a: Attachment): Promise<string | null> {
    if (a.mediaId) return a.mediaId;
    patch(a.id, { error: null, sent: 0 });
    try {
      const options = {
        filename: a.file.name || undefined,
        contentType: a.file.type || 'application/octet-stream',
        ...(aiDisclosure ? { ai: aiDisclosure } : {}),
        onProgress: (sent: number, total: number) => patch(a.id, { sent, total }),
      };
      // Big files go resumable (chunks that survive a dropped connection); so does any file the
      // server finds too big for one request (413).
      const reply =
        a.file.size > RESUMABLE_ABOVE
          ? await store.client.uploadResumable(a.file, options)
          : await store.client.upload(a.file, options).catch((err: unknown) => {
              if ((err as { status?: number }).status === 413) return store.client.uploadResumable(a.file, options);
              throw err;
            });
      rememberLocalPreview(reply.id, a.file);
      patch(a.id, { mediaId: reply.id, sent: a.file.size, total: a.file.size });
      return reply.id;
    } catch (err) {
      patch(a.id, { error: errorText(err) });
      return null;
    }
  }

  function addFiles(list: FileList | File[]) {
    // While a send is uploading, new files would be cleared with it unsent: ask to wait instead.
    if (busy) {
      setError('Wait for the upload to finish, then add more files.');
      return;
    }
    const added = [...list].slice(0, MAX_ITEMS - attachments.length).map((file) => ({
      id: ++attachmentIds,
      file,
      preview: file.type.startsWith('image/') ? URL.createObjectURL(file) : null,
      sent: 0,
      total: file.size,
      mediaId: null,
      error: null,
    }));
    if (list.length > added.length) setError(`At most ${MAX_ITEMS} items in one message.`);
    setAttachments((current) => [...current, ...added]);
  }

  function removeAttachment(id: number) {
    setAttachments((list) => {
      const gone = list.find((a) => a.id === id);
      if (gone?.preview) URL.revokeObjectURL(gone.preview);
      return list.filter((a) => a.id !== id);
    });
  }

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    const body = text.trim();
    if (busy) return;
    setError(null);
    if (editing) {
      // A caption may be emptied (the photo stays); text alone may not.
      if (body === (editing.text ?? '') || (!body && editing.media.length === 0)) return onDone();
      setBusy(true);
      try {
        store.upsertMessage(await store.client.edit(editing.id, body));
        setText(store.draft(conversation.id));
        onDone();
      } catch (err) {
        setError(errorText(err));
      } finally {
        setBusy(false);
      }
      return;
    }
    if (!body && attachments.length === 0) return;
    setBusy(true);
    try {
      // Upload what is not uploaded yet, all at once; each shows its own progress.
      const ids = await Promise.all(attachments.map((a) => uploadOne(a)));
      if (ids.some((id) => id === null)) {
        setError('Some files could not be uploaded. Retry or remove them.');
        return;
      }
      store.send(conversation.id, { text: body || undefined, media: ids.length ? (ids as string[]) : undefined, reply_to: replyTo?.id });
      store.saveDraft(conversation.id, '', { now: true });
      // A persistent keyboard comes back after the person typed instead.
      if (keyboard?.persistent) setKeyboardHidden(null);
      const sent = new Set(attachments.map((a) => a.id));
      for (const a of attachments) if (a.preview) URL.revokeObjectURL(a.preview);
      setAttachments((list) => list.filter((a) => !sent.has(a.id)));
      setAiDisclosure(null);
      // Text typed while the files uploaded is kept: only what was sent is cleared.
      setText((now) => (now.trim() === body ? '' : now));
      onDone();
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  async function sendVoice(file: File) {
    setRecording(false);
    // A voice note goes on its own, at once; the text field waits until it is on its way.
    const a: Attachment = { id: ++attachmentIds, file, preview: null, sent: 0, total: file.size, mediaId: null, error: null };
    setAttachments((list) => [...list, a]);
    setBusy(true);
    try {
      const id = await uploadOne(a);
      if (!id) return;
      store.send(conversation.id, { media: [id], reply_to: replyTo?.id });
      setAttachments((list) => list.filter((x) => x.id !== a.id));
      onDone();
    } finally {
      setBusy(false);
      input.current?.focus();
    }
  }

  const sendCommand = (command: BotCommand) => {
    store.send(conversation.id, { text: `/${command.command}`, reply_to: replyTo?.id });
    setText('');
    setMenuAt(0);
    onDone();
    input.current?.focus();
  };

  const pickMention = (m: Parameters<typeof mentions.pick>[0]) => {
    const next = mentions.pick(m);
    setText(next.text);
    if (!editing) store.saveDraft(conversation.id, next.text);
    setCaret(next.caret);
    // After React wrote the new text: the caret goes just after the picked handle.
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(next.caret, next.caret);
    });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (mentions.active) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        mentions.move(event.key === 'ArrowDown' ? 1 : -1);
        return;
      }
      if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey && !event.nativeEvent.isComposing) {
        event.preventDefault();
        pickMention(mentions.active);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        mentions.dismiss();
        return;
      }
    }
    if (menuOpen && activeCommand) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const at = matches.indexOf(activeCommand);
        setMenuAt((at + (event.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length);
        return;
      }
      if (event.key === 'Tab' && !event.shiftKey) {
        event.preventDefault();
        setText(`/${activeCommand.command} `);
        return;
      }
      if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
        event.preventDefault();
        sendCommand(activeCommand);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setMenuDismissed(true);
        return;
      }
    }
    if (event.key === 'ArrowUp' && text === '' && !editing && attachments.length === 0 && props.onEditLast?.()) {
      event.preventDefault();
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    } else if (event.key === 'Escape' && (editing || replyTo)) {
      setText(editing ? store.draft(conversation.id) : text);
      onDone();
    }
  };

  const context = editing ?? replyTo;
  return (
    <>
    <form className="composer" onSubmit={submit}>
      {context && (
        <div className="composer-context">
          <div>
            <strong>{editing ? (editing.media.length > 0 ? 'Editing caption' : 'Editing message') : `Replying to @${context.sender_handle}`}</strong>
            <span className="quote-text">{messagePreview(context)}</span>
          </div>
          <button
            type="button"
            className="icon"
            aria-label={editing ? 'Cancel editing' : 'Cancel reply'}
            onClick={() => {
              if (editing) setText('');
              onDone();
            }}
          >
            <CloseIcon />
          </button>
        </div>
      )}
      {attachments.length > 0 && (
        <ul className="tray" aria-label="Attachments">
          {attachments.map((a) => (
            <li key={a.id} className="tray-item">
              {a.preview ? <img src={a.preview} alt={a.file.name || 'Photo to send'} /> : <span className="tray-file">{a.file.type.startsWith('audio/') ? '🎤' : a.file.type.startsWith('video/') ? '🎬' : '📄'}</span>}
              <span className="tray-name">{a.file.name || 'Voice note'}</span>
              {busy || a.sent > 0 ? <UploadProgress sent={a.sent} total={a.total || a.file.size} label={`Uploading ${a.file.name || 'voice note'}`} /> : null}
              {a.error && (
                <span className="error" role="alert">
                  {a.error}
                </span>
              )}
              {!busy && (
                <button type="button" className="icon" aria-label={`Remove ${a.file.name || 'attachment'}`} onClick={() => removeAttachment(a.id)}>
                  <CloseIcon />
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {attachments.length > 0 && (
        <label className="ai-disclosure">
          <span>Made with AI</span>
          <select
            value={aiDisclosure ?? ''}
            disabled={busy}
            onChange={(e) => {
              setAiDisclosure((e.target.value || null) as AiDisclosure | null);
              // Already uploaded files go again, with the disclosure (the server keeps one copy of the bytes).
              setAttachments((list) => list.map((a) => ({ ...a, mediaId: null, sent: 0 })));
            }}
          >
            <option value="">No</option>
            <option value="generated">Yes, AI-generated</option>
            <option value="partial">Contains AI-generated parts</option>
          </select>
        </label>
      )}
      <ErrorAlert error={error} />
      <MentionList suggestions={mentions} onPick={pickMention} />
      {menuOpen && (
        <div className="command-menu" id={menuId} role="listbox" aria-label={`Commands of @${conversation.peer?.handle ?? 'bot'}`}>
          {matches.map((c) => (
            // The text field keeps focus and drives the list by arrow keys (aria-activedescendant).
            // biome-ignore lint/a11y/useKeyWithClickEvents: see above
            <div
              key={c.command}
              id={`${menuId}-${c.command}`}
              className="command-option"
              role="option"
              tabIndex={-1}
              aria-selected={c === activeCommand}
              // Keep focus in the text field: the click picks, the field keeps typing.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => sendCommand(c)}
            >
              <span className="command">/{c.command}</span>
              <span className="description">{c.description}</span>
            </div>
          ))}
        </div>
      )}
      {showKeyboard && keyboard ? (
        <div className="composer-row">
          <QuickReplyKeyboard
            keyboard={keyboard}
            onPick={(picked) => {
              store.send(conversation.id, { text: picked, reply_to: replyTo?.id });
              onDone();
            }}
          />
          <button
            type="button"
            className="icon composer-toggle"
            aria-label="Type a message instead"
            title="Type a message"
            onClick={() => {
              setKeyboardHidden(keyboard.message.id);
              requestAnimationFrame(() => input.current?.focus());
            }}
          >
            <KeyboardIcon />
          </button>
        </div>
      ) : recording ? (
        <VoiceRecorder
          onRecorded={(file) => void sendVoice(file)}
          onCancel={() => {
            setRecording(false);
            // The recorder is gone: give focus back to the message field, not to the page.
            requestAnimationFrame(() => input.current?.focus());
          }}
        />
      ) : (
        <div className="composer-row">
          {!editing && (
            <>
              <input
                ref={files}
                type="file"
                multiple
                hidden
                onChange={(e) => {
                  if (e.target.files) addFiles(e.target.files);
                  e.target.value = '';
                }}
              />
              <button type="button" className="icon" aria-label="Attach photos, videos or files" title="Attach" onClick={() => files.current?.click()} disabled={busy}>
                <AttachIcon />
              </button>
              <button type="button" className="icon" aria-label="Create a poll" title="Create a poll" aria-haspopup="dialog" onClick={() => setPollOpen(true)} disabled={busy}>
                <PollIcon />
              </button>
            </>
          )}
          {keyboard && !editing && (
            <button
              type="button"
              className="icon composer-toggle"
              aria-label="Show quick replies"
              title="Show quick replies"
              onClick={() => setKeyboardHidden(null)}
            >
              <KeyboardIcon />
            </button>
          )}
          <span className="emoji-anchor">
            <button
              ref={emojiButton}
              type="button"
              className="icon"
              aria-label="Insert emoji"
              title="Emoji"
              aria-haspopup="dialog"
              aria-expanded={emojiOpen}
              onClick={() => setEmojiOpen((v) => !v)}
            >
              😊
            </button>
            {emojiOpen && (
              <EmojiPicker
                label="Insert emoji"
                onPick={(emoji) => {
                  // At the caret (or over the selection), then back to typing just after it.
                  const el = input.current;
                  const start = el?.selectionStart ?? text.length;
                  const end = el?.selectionEnd ?? text.length;
                  const next = (text.slice(0, start) + emoji + text.slice(end)).slice(0, MAX_TEXT);
                  setText(next);
                  setEmojiOpen(false);
                  requestAnimationFrame(() => {
                    el?.focus();
                    el?.setSelectionRange(start + emoji.length, start + emoji.length);
                  });
                }}
                onClose={() => {
                  setEmojiOpen(false);
                  emojiButton.current?.focus();
                }}
              />
            )}
          </span>
          <label htmlFor={`composer-${conversation.id}`} className="visually-hidden">
            Message
          </label>
          <textarea
            id={`composer-${conversation.id}`}
            ref={input}
            rows={1}
            maxLength={MAX_TEXT}
            placeholder={attachments.length ? 'Add a caption' : (keyboard?.placeholder ?? 'Message')}
            value={text}
            aria-autocomplete={commands.length > 0 || conversation.kind === 'group' ? 'list' : undefined}
            aria-controls={mentions.active ? mentions.listId : menuOpen ? menuId : undefined}
            aria-activedescendant={mentions.active ? mentions.optionId(mentions.active) : activeCommand ? `${menuId}-${activeCommand.command}` : undefined}
            onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
            onChange={(e) => {
              setText(e.target.value);
              setCaret(e.target.selectionStart);
              if (!editing) store.saveDraft(conversation.id, e.target.value);
              setMenuAt(0);
              if (!e.target.value.startsWith('/')) setMenuDismissed(false);
              if (e.target.value.trim() && !editing) store.typing(conversation.id);
            }}
            onKeyDown={onKeyDown}
            onPaste={(e) => {
              if (e.clipboardData.files.length) {
                e.preventDefault();
                addFiles(e.clipboardData.files);
              }
            }}
          />
          {text.trim() || attachments.length || editing ? (
            <button type="submit" className="primary send" disabled={busy} aria-label={editing ? 'Save' : 'Send'} title={editing ? 'Save' : 'Send'}>
              {editing ? 'Save' : <SendIcon />}
            </button>
          ) : (
            <button type="button" className="icon" aria-label="Record a voice note" title="Record a voice note" onClick={() => setRecording(true)}>
              <MicIcon />
            </button>
          )}
        </div>
      )}
    </form>
    {/* Beside the form, not in it: the creator's own form must not submit the composer. */}
    {pollOpen && <PollCreator conversation={conversation} onClose={() => setPollOpen(false)} />}
    </>
  );
}
