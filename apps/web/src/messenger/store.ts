/**
 * The messenger's live state for one signed-in person: conversations, the messages of the chats
 * they opened, receipts and an outbox. It loads a snapshot (state cursor first, then lists) and
 * follows one WebSocket stream from that cursor, so every event after the snapshot arrives once
 * and every handler below is safe to run on data the snapshot already had.
 *
 * React reads it through useSyncExternalStore: every change bumps `version`.
 */
import type { ChatSettings, Conversation, EventPayloads, Invitation, MediaSummary, Message, MmdClient, PinnedMessage, Report, Stream, SyncEvent, UnreadMention, UpdateChatSettingsBody } from '@mmd/sdk';
import { errorText } from '../api.ts';
import { alertNewMessage } from '../notifications.ts';
import { conversationTitle } from './format.ts';
import { accountCommands, interact } from '../interactive/api.ts';
import type { BotCommand, FormView, Interaction, InteractionAnswer, PollView } from '../interactive/types.ts';
import { Outbox, type OutgoingMessage } from './outbox.ts';
import { PeopleCache } from './people.ts';

const PAGE = 50;
/** A draft goes to the server this long after the last keystroke. */
const DRAFT_SAVE_MS = 800;
/** Pages of 200 read back to show a search result: 5,000 messages. */
const MAX_REVEAL_PAGES = 25;
/** A typing indicator lasts this long unless repeated; clients repeat every TYPING_RESEND_MS. */
const TYPING_SHOWN_MS = 6000;
const TYPING_RESEND_MS = 3000;

export interface ChatState {
  /** Oldest first. */
  messages: Message[];
  hasMoreBefore: boolean;
  loading: boolean;
  error: string | null;
}

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface Notice {
  id: number;
  text: string;
}

interface Watermarks {
  delivered: number;
  read: number;
}

export class MessengerStore {
  version = 0;
  connection: Connection = 'connecting';
  loadError: string | null = null;
  conversations: Conversation[] | null = null;
  readonly chats = new Map<string, ChatState>();
  /** Group receipts seen live: conversation → account → watermarks. */
  readonly watermarks = new Map<string, Map<string, Watermarks>>();
  /** Emoji this person added, as far as this device has seen (the server keeps counts only). */
  readonly myReactions = new Set<string>();
  notices: Notice[] = [];
  /** Invitations waiting for my answer (null until loaded), kept current by the stream. */
  invitations: Invitation[] | null = null;
  /** My reports with their outcomes, newest first (null until loaded): the "Notices" list. */
  reports: Report[] | null = null;
  /** The newest outcome this person has seen in the list (stored per account, so a reload keeps it). */
  outcomesSeenAt = 0;
  readonly outbox: Outbox;
  /** Display names and photos as this person may see them (people.tsx). */
  readonly people: PeopleCache;
  /** Who is typing where (conversation → account → handle and until when), from the stream. */
  readonly typingNow = new Map<string, Map<string, { handle: string; until: number }>>();
  private lastTypingSent = new Map<string, number>();
  /** The chat on screen, read as it arrives while the page is visible. */
  openChatId: string | null = null;
  /** A message to scroll to and mark once its chat shows it (a search result), until it has been. */
  focus: { conversationId: string; messageId: string } | null = null;

  private readonly listeners = new Set<() => void>();
  private stream: Stream | null = null;
  /**
   * Settles once the stream's starting cursor has been read. A chat's first page is fetched only
   * after it, so whatever the page misses comes on the stream: a page read before the cursor could
   * miss a message sent in between, and the stream (starting after it) would never bring it.
   */
  private readonly cursorRead: Promise<void>;
  private markCursorRead!: () => void;
  private noticeId = 0;
  private readTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    readonly client: MmdClient,
    readonly meId: string,
    private readonly onSignedOut: () => void,
  ) {
    this.cursorRead = new Promise((resolve) => {
      this.markCursorRead = resolve;
    });
    this.people = new PeopleCache(client);
    this.outbox = new Outbox(client, meId, {
      changed: () => this.changed(),
      sent: (message) => this.upsertMessage(message),
      unauthorized: () => this.checkSignedIn(),
    });
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  getVersion = () => this.version;

  private notifyQueued = false;

  /** One render per burst: an event often changes several things (message, list, unread). */
  private changed() {
    this.version++;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const listener of this.listeners) listener();
    });
  }

  async start() {
    // Each start is one generation: a stop (or a newer start, as React's StrictMode does in
    // development) makes every await of an older one give up, so one stream at most is open.
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    // A short outage often leaves the WebSocket open: no close, so no new 'ready' to say "live"
    // again. Back online, go back to what the stream last said; a socket that did drop reports
    // 'ready' anew.
    const onOnline = () => {
      if (this.connection === 'offline') this.setConnection(this.streamState === 'live' ? 'live' : 'reconnecting');
      if (!this.stream) void this.load(generation);
      this.outbox.retryAll();
    };
    const onOffline = () => this.setConnection('offline');
    window.addEventListener('online', onOnline);
    window.addEventListener('offline', onOffline);
    this.cleanup.push(() => {
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
    });
    this.outcomesSeenAt = Number(readStorage(this.outcomesKey) ?? 0) || 0;
    if (current()) await this.load(generation);
    if (current()) void this.loadReports();
    if (current()) void this.loadStarred();
    if (current()) void this.loadDrafts();
  }

  private get outcomesKey() {
    return `mmd.outcomes-seen.${this.meId}`;
  }

  /** Reads my reports again (on start, and when one is resolved): outcomes decided while away show too. */
  async loadReports() {
    try {
      this.reports = (await this.client.myReports({ limit: 50 })).reports;
      this.changed();
    } catch {
      // Not fatal: the list says it could not load when opened.
    }
  }

  async loadInvitations() {
    try {
      this.invitations = await this.client.invitations();
      this.changed();
    } catch {
      // Not fatal: invitations show once they load (or arrive on the stream).
    }
  }

  /** Accepts (joins; returns the conversation) or declines an invitation. */
  async answerInvitation(id: string, accept: boolean): Promise<Conversation | null> {
    let joined: Conversation | null = null;
    if (accept) {
      joined = await this.client.acceptInvitation(id);
      this.upsertConversation(joined);
    } else {
      await this.client.declineInvitation(id);
    }
    this.invitations = (this.invitations ?? []).filter((i) => i.id !== id);
    this.changed();
    return joined;
  }

  /** Outcomes this person has not seen in the list yet. */
  get unseenOutcomes(): number {
    return (this.reports ?? []).filter((r) => r.resolved_at !== null && r.resolved_at > this.outcomesSeenAt).length;
  }

  /** The list was opened: every outcome in it is seen. */
  markOutcomesSeen() {
    const newest = Math.max(this.outcomesSeenAt, ...(this.reports ?? []).map((r) => r.resolved_at ?? 0));
    if (newest === this.outcomesSeenAt) return;
    this.outcomesSeenAt = newest;
    writeStorage(this.outcomesKey, String(newest));
    this.changed();
  }

  /** The snapshot, then the stream; retried with backoff until it works or the store stops. */
  private async load(generation: number, attempt = 0): Promise<void> {
    const current = () => generation === this.generation;
    try {
      // The cursor first: anything that happens while the lists load arrives on the stream.
      const cursor = await this.client.updatesState();
      if (current()) this.markCursorRead();
      const list = await this.client.conversations();
      if (!current() || this.stream) return;
      this.conversations = sortConversations(list);
      this.loadError = null;
      this.changed();
      let drops = 0;
      this.stream = this.client.stream({
        cursor,
        onEvent: (event) => this.apply(event),
        onTyping: (t) => this.someoneTyping(t.conversation_id, t.account_id, t.handle),
        onReady: () => {
          drops = 0;
          this.setConnection('live');
        },
        // The server lost our place (its database was restored from a backup): what we hold may
        // be gone there. The stream has read the newest cursor; reload as on first load.
        onReset: () => this.reload(generation),
        onDisconnect: () => {
          this.setConnection('reconnecting');
          // A browser cannot see why an upgrade was refused: after a few failed reconnects, ask
          // whether this device was signed out meanwhile.
          if (++drops % 3 === 0 && navigator.onLine) this.checkSignedIn();
        },
        onError: (error) => {
          if (error.code === 'device_revoked' || error.code === 'unauthenticated') {
            this.signedOut();
            return;
          }
          this.setConnection('reconnecting');
        },
      });
      this.outbox.retryAll();
    } catch (err) {
      if (!current()) return;
      if ((err as { status?: number }).status === 401) {
        this.signedOut();
        return;
      }
      this.loadError = errorText(err);
      this.changed();
      const delay = Math.min(30_000, 1000 * 2 ** attempt);
      const timer = setTimeout(() => {
        if (current() && !this.stream) void this.load(generation, attempt + 1);
      }, delay);
      this.cleanup.push(() => clearTimeout(timer));
    }
  }

  /** Reloads the conversation list and forgets loaded chats (the open one loads again). */
  private async reload(generation: number) {
    const list = await this.client.conversations();
    if (generation !== this.generation) return;
    this.conversations = sortConversations(list);
    this.chats.clear();
    this.loadingEvents.clear();
    this.watermarks.clear();
    this.changed();
    if (this.openChatId) void this.openChat(this.openChatId);
  }

  /** Signs out when the server no longer knows this device's token. */
  checkSignedIn() {
    this.client.me().catch((err: unknown) => {
      if ((err as { status?: number }).status === 401) this.signedOut();
    });
  }

  private signedOut() {
    this.stop();
    this.outbox.clear();
    this.onSignedOut();
  }

  private generation = 0;
  private cleanup: (() => void)[] = [];

  stop() {
    this.generation++;
    this.stream?.close();
    this.stream = null;
    this.outbox.stop();
    for (const fn of this.cleanup.splice(0)) fn();
    for (const timer of this.readTimers.values()) clearTimeout(timer);
    for (const timer of this.draftTimers.values()) clearTimeout(timer);
  }

  /** What the stream itself last said, apart from the browser's own online flag. */
  private streamState: Connection = 'connecting';

  /**
   * While the browser says it is offline, the banner says so, whatever the stream reports: a
   * socket opened just before the outage can still say 'ready' after it, and sends would fail.
   */
  private setConnection(connection: Connection) {
    if (connection !== 'offline') this.streamState = connection;
    if (connection !== 'offline' && typeof navigator !== 'undefined' && navigator.onLine === false) connection = 'offline';
    if (this.connection === connection) return;
    this.connection = connection;
    this.changed();
  }

  notify(text: string) {
    // The same news twice (a takedown removes several messages at once) is shown once.
    if (this.notices.some((n) => n.text === text)) return;
    const notice = { id: ++this.noticeId, text };
    this.notices = [...this.notices, notice];
    this.changed();
    setTimeout(() => this.dismiss(notice.id), 6000);
  }
  dismiss(id: number) {
    this.notices = this.notices.filter((n) => n.id !== id);
    this.changed();
  }

  private someoneTyping(conversationId: string, accountId: string, handle: string) {
    let who = this.typingNow.get(conversationId);
    if (!who) {
      who = new Map();
      this.typingNow.set(conversationId, who);
    }
    const until = Date.now() + TYPING_SHOWN_MS;
    who.set(accountId, { handle, until });
    this.changed();
    setTimeout(() => {
      if (who.get(accountId)?.until !== until) return;
      this.stopTyping(conversationId, accountId);
    }, TYPING_SHOWN_MS);
  }

  private stopTyping(conversationId: string, accountId: string) {
    const who = this.typingNow.get(conversationId);
    if (!who?.delete(accountId)) return;
    if (who.size === 0) this.typingNow.delete(conversationId);
    this.changed();
  }

  /** Handles of the people typing in a conversation now. */
  typers(conversationId: string): string[] {
    return [...(this.typingNow.get(conversationId)?.values() ?? [])].map((t) => t.handle);
  }

  /** Tells the others this person is typing, at most once every few seconds per conversation. */
  typing(conversationId: string) {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(conversationId) ?? 0) < TYPING_RESEND_MS) return;
    this.lastTypingSent.set(conversationId, now);
    this.stream?.typing(conversationId);
  }

  conversation(id: string): Conversation | undefined {
    return this.conversations?.find((c) => c.id === id);
  }

  chat(id: string): ChatState | undefined {
    return this.chats.get(id);
  }

  /**
   * Changes how I keep a chat (mute, pin, archive, unread mark); the answer, and the same change
   * on my other devices through the stream, go through applySettings. False when refused.
   */
  async updateChatSettings(id: string, input: UpdateChatSettingsBody): Promise<boolean> {
    try {
      this.applySettings(await this.client.updateChatSettings(id, input));
      return true;
    } catch (err) {
      this.notify(errorText(err));
      return false;
    }
  }

  /** My settings for a chat as the server now has them (idempotent: an answer and its event agree). */
  private applySettings(settings: ChatSettings) {
    const id = settings.conversation_id;
    this.patchConversation(id, (c) => {
      const cleared = settings.cleared_seq;
      const last = c.last_message as Message | null | undefined;
      return {
        ...c,
        settings,
        unread_count: cleared >= c.last_seq ? 0 : c.unread_count,
        unread_mentions: cleared >= c.last_seq ? 0 : c.unread_mentions,
        last_message: last && last.status === 'sent' && last.seq <= cleared ? null : c.last_message,
      };
    });
    const chat = this.chats.get(id);
    if (chat && settings.cleared_seq > 0) {
      // Cleared on this device or another: what was before is gone here too.
      this.chats.set(id, { ...chat, messages: chat.messages.filter((m) => m.status !== 'sent' || m.seq > settings.cleared_seq) });
      this.changed();
    }
  }

  /** My drafts per chat (from the server, then as I type here or on another device). */
  private readonly drafts = new Map<string, string>();
  draftsLoaded = false;
  private readonly draftTimers = new Map<string, ReturnType<typeof setTimeout>>();

  async loadDrafts() {
    try {
      for (const d of await this.client.drafts()) if (!this.drafts.has(d.conversation_id)) this.drafts.set(d.conversation_id, d.text);
    } catch {
      // Not fatal: drafts typed from now on are still kept.
    }
    this.draftsLoaded = true;
    this.changed();
  }

  draft(id: string): string {
    return this.drafts.get(id) ?? '';
  }

  /** Keeps what I am writing: here at once, on the server a moment after I stop typing (or now). */
  saveDraft(id: string, text: string, options: { now?: boolean } = {}) {
    if (text) this.drafts.set(id, text);
    else this.drafts.delete(id);
    clearTimeout(this.draftTimers.get(id));
    const save = () => {
      this.draftTimers.delete(id);
      this.client.saveDraft(id, text).catch(() => {
        // Not fatal: the draft stays on this device, and the next keystroke tries again.
      });
    };
    if (options.now) save();
    else this.draftTimers.set(id, setTimeout(save, DRAFT_SAVE_MS));
    this.changed();
  }

  /** Each opened chat's pinned messages, newest pin first (read when opened, again on `message.pinned`). */
  readonly pins = new Map<string, PinnedMessage[]>();
  /** Ids of the messages I starred (null until loaded), kept current by `message.starred`. */
  starred: Set<string> | null = null;

  private async loadPins(id: string) {
    try {
      this.pins.set(id, await this.client.pins(id));
      this.changed();
    } catch {
      // Not fatal: the bar shows once they load.
    }
  }

  async loadStarred() {
    try {
      this.starred = new Set((await this.client.starred()).map((s) => s.message.id));
      this.changed();
    } catch {
      // Not fatal: stars show once they load.
    }
  }

  /** Pins a message for everyone, or unpins it. */
  async togglePin(message: Message) {
    const pinned = this.pins.get(message.conversation_id)?.some((p) => p.message.id === message.id) ?? false;
    try {
      await (pinned ? this.client.unpin(message.id) : this.client.pin(message.id));
      await this.loadPins(message.conversation_id);
    } catch (err) {
      this.notify(errorText(err));
    }
  }

  /** Stars a message (my list alone), or unstars it. */
  async toggleStar(message: Message) {
    const starred = this.starred?.has(message.id) ?? false;
    try {
      await (starred ? this.client.unstar(message.id) : this.client.star(message.id));
      this.markStarred(message.id, !starred);
    } catch (err) {
      this.notify(errorText(err));
    }
  }

  private markStarred(id: string, on: boolean) {
    const next = new Set(this.starred ?? []);
    if (on) next.add(id);
    else next.delete(id);
    this.starred = next;
    this.changed();
  }

  /** Messages I deleted for myself, as far as this device has seen: later events about them are ignored. */
  private readonly hiddenIds = new Set<string>();

  /** Gone for me: deleted for me, or cleared with the chat (a late edit or reaction must not bring it back). */
  private goneForMe(message: Pick<Message, 'id' | 'conversation_id' | 'seq' | 'status'>): boolean {
    if (this.hiddenIds.has(message.id)) return true;
    const cleared = this.conversation(message.conversation_id)?.settings?.cleared_seq ?? 0;
    return message.status === 'sent' && message.seq <= cleared;
  }

  /** "Delete for me": gone here at once, and on my other devices through the stream. */
  async deleteForMe(message: Message) {
    try {
      await this.client.deleteForMe(message.id);
      this.removeForMe(message.conversation_id, [message.id]);
    } catch (err) {
      this.notify(errorText(err));
    }
  }

  /** "Clear chat": everything so far goes, for me alone (applySettings drops it here). */
  async clearChat(id: string) {
    try {
      this.applySettings(await this.client.clearChat(id));
      this.notify('Chat cleared.');
    } catch (err) {
      this.notify(errorText(err));
    }
  }

  /** Deletes a group I own, for everyone; true once done. */
  async deleteGroup(id: string): Promise<boolean> {
    try {
      await this.client.deleteGroup(id);
      this.removeConversation(id);
      this.notify('Group deleted.');
      return true;
    } catch (err) {
      this.notify(errorText(err));
      return false;
    }
  }

  private removeForMe(conversationId: string, ids: string[]) {
    for (const id of ids) this.hiddenIds.add(id);
    const chat = this.chats.get(conversationId);
    if (chat) this.chats.set(conversationId, { ...chat, messages: chat.messages.filter((m) => !this.hiddenIds.has(m.id)) });
    const last = this.conversation(conversationId)?.last_message as Message | null | undefined;
    // The list's preview was that message: the server knows the newest one I kept.
    if (last && this.hiddenIds.has(last.id)) {
      this.patchConversation(conversationId, (c) => ({ ...c, last_message: null }));
      this.client
        .conversation(conversationId)
        .then((c) => this.upsertConversation(c))
        .catch(() => {});
    }
    this.changed();
  }

  /** Opening a chat I marked unread takes the mark away (on every device). */
  private clearUnreadMark(id: string) {
    if (this.conversation(id)?.settings?.marked_unread) void this.updateChatSettings(id, { marked_unread: false });
  }

  /**
   * Per group: my unread mentions when I opened it (and those arriving while it is open), oldest
   * first, until I jump to each or scroll past it. Opening a chat marks it read, so the server's
   * list is read first (markReadSoon waits for it) and the @ button works from this copy.
   */
  private readonly mentionJumps = new Map<string, UnreadMention[]>();
  private readonly mentionLoads = new Map<string, Promise<void>>();

  /** The mentions of me the @ button in this chat still jumps to. */
  mentionsToJump(id: string): readonly UnreadMention[] {
    return this.mentionJumps.get(id) ?? [];
  }

  private captureMentions(id: string) {
    const conversation = this.conversation(id);
    if (conversation?.kind !== 'group' || conversation.unread_mentions === 0 || this.mentionLoads.has(id)) return;
    const load = this.client
      .unreadMentions(id, { limit: 100 })
      .then((list) => {
        const known = new Set(this.mentionsToJump(id).map((m) => m.message_id));
        this.mentionJumps.set(id, [...list.mentions.filter((m) => !known.has(m.message_id)), ...this.mentionsToJump(id)].sort((a, b) => a.seq - b.seq));
      })
      .catch(() => {
        // No @ list then; the messages are still there.
      })
      .finally(() => {
        this.mentionLoads.delete(id);
        this.changed();
      });
    this.mentionLoads.set(id, load);
  }

  /** The @ button: shows the oldest mention of me not yet jumped to (loading older pages if needed). */
  async jumpToMention(id: string): Promise<void> {
    const [next, ...rest] = this.mentionsToJump(id);
    if (!next) return;
    this.mentionJumps.set(id, rest);
    this.changed();
    await this.revealMessage(id, next.message_id, next.seq);
  }

  /** A mention of me came into view: the @ button no longer counts it. */
  mentionSeen(id: string, messageId: string) {
    const list = this.mentionsToJump(id);
    if (!list.some((m) => m.message_id === messageId)) return;
    this.mentionJumps.set(id, list.filter((m) => m.message_id !== messageId));
    this.changed();
  }

  /** Loads the newest page of a chat the first time it is opened. */
  async openChat(id: string) {
    this.openChatId = id;
    this.captureMentions(id);
    this.clearUnreadMark(id);
    if (!this.pins.has(id)) void this.loadPins(id);
    const known = this.chats.get(id);
    // Loaded (or loading) already; a load that failed is tried again.
    if (known && !(known.error && known.messages.length === 0)) {
      this.markReadSoon(id);
      return;
    }
    this.chats.set(id, { messages: [], hasMoreBefore: false, loading: true, error: null });
    // Events for this chat that arrive while its first page loads would patch nothing (the
    // messages are not here yet) and the page may predate them: keep them and replay them after.
    this.loadingEvents.set(id, []);
    this.changed();
    try {
      await this.cursorRead;
      const [page] = await Promise.all([this.client.history(id, { limit: PAGE }), this.ensureConversation(id)]);
      const chat = this.chats.get(id);
      if (!chat) return;
      // Live events may have arrived while the page loaded: keep both.
      this.chats.set(id, { ...chat, messages: mergeMessages(page.messages, chat.messages), hasMoreBefore: page.has_more, loading: false });
      this.seedGroupReceipts(id);
      const missed = this.loadingEvents.get(id) ?? [];
      this.loadingEvents.delete(id);
      for (const event of missed) this.apply(event);
    } catch (err) {
      this.loadingEvents.delete(id);
      this.chats.set(id, { messages: [], hasMoreBefore: false, loading: false, error: errorText(err) });
    }
    this.changed();
    this.markReadSoon(id);
  }

  /** Chat → events seen while its first page was loading (replayed once it is here). */
  private readonly loadingEvents = new Map<string, SyncEvent[]>();

  /** Messages replies quote that are not among those loaded (null while asked for, or gone). */
  private readonly originals = new Map<string, Message | null>();

  /**
   * The message a reply quotes when its chat has not loaded that far back: asked for once, shown
   * when it comes (a reply to an old message used to read "Reply to an earlier message").
   */
  original(id: string): Message | undefined {
    if (this.originals.has(id)) return this.originals.get(id) ?? undefined;
    this.originals.set(id, null);
    this.client
      .message(id)
      .then((message) => {
        this.originals.set(id, message);
        this.changed();
      })
      .catch(() => {
        // Deleted or out of reach: the quote keeps its neutral wording.
      });
    return undefined;
  }

  /** Older messages, for scrolling up. */
  /**
   * Brings a message (a search result) into its chat: opens the chat, then reads older pages
   * until the message is among them (at most MAX_REVEAL_PAGES pages of 200), and marks it as the
   * one to show (`focus`); the message list scrolls to it. False when it could not be reached
   * (deleted since, or too far back).
   */
  async revealMessage(conversationId: string, messageId: string, seq: number): Promise<boolean> {
    this.focus = { conversationId, messageId };
    this.changed();
    await this.openChat(conversationId);
    let pages = 0;
    for (;;) {
      const chat = this.chats.get(conversationId);
      if (!chat || this.focus?.messageId !== messageId) return false;
      if (chat.messages.some((m) => m.id === messageId)) {
        this.changed();
        return true;
      }
      if (chat.loading) {
        // The first page (or a scroll's page) is on its way.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const oldest = chat.messages[0]?.seq;
      if (chat.error || !chat.hasMoreBefore || (oldest !== undefined && oldest <= seq) || pages >= MAX_REVEAL_PAGES) break;
      pages += 1;
      await this.loadOlder(conversationId, 200);
    }
    this.focus = null;
    this.notify('That message is no longer in the chat, or too far back to show.');
    return false;
  }

  /** The message list scrolled to the focused message: forget it. */
  focused(messageId: string) {
    if (this.focus?.messageId === messageId) this.focus = null;
  }

  async loadOlder(id: string, limit = PAGE) {
    const chat = this.chats.get(id);
    if (!chat || chat.loading || !chat.hasMoreBefore) return;
    const before = chat.messages[0]?.seq;
    this.chats.set(id, { ...chat, loading: true });
    this.changed();
    try {
      const page = await this.client.history(id, { before, limit });
      const now = this.chats.get(id) ?? chat;
      this.chats.set(id, { ...now, messages: mergeMessages(page.messages, now.messages), hasMoreBefore: page.has_more, loading: false });
    } catch (err) {
      const now = this.chats.get(id) ?? chat;
      this.chats.set(id, { ...now, loading: false, error: errorText(err) });
    }
    this.changed();
  }

  /** A conversation this list does not have yet (just created, joined or added to). */
  async ensureConversation(id: string): Promise<Conversation | null> {
    const known = this.conversation(id);
    if (known) return known;
    try {
      const conversation = await this.client.conversation(id);
      this.upsertConversation(conversation);
      return conversation;
    } catch {
      return null;
    }
  }

  /** Re-reads one conversation (member counts come from the server, not from ±1 on events). */
  private refreshConversation(id: string, delta: number) {
    const known = this.conversation(id);
    if (!known) return;
    // A channel may have 200,000 subscribers: a join must not make each of them call the server.
    if (known.kind === 'channel') {
      this.patchConversation(id, (c) => ({ ...c, member_count: Math.max(0, c.member_count + delta) }));
      return;
    }
    this.client
      .conversation(id)
      .then((c) => {
        if (this.conversation(id)) this.upsertConversation(c);
      })
      .catch(() => {});
  }

  upsertConversation(conversation: Conversation) {
    const list = this.conversations ?? [];
    const others = list.filter((c) => c.id !== conversation.id);
    this.conversations = sortConversations([...others, conversation]);
    this.changed();
  }

  /** A channel's "sign posts" setting changed here (the event carries no such field). */
  setSignPosts(id: string, on: boolean) {
    this.patchConversation(id, (c) => ({ ...c, sign_posts: on }));
  }

  private patchConversation(id: string, patch: (c: Conversation) => Conversation) {
    if (!this.conversations) return;
    let found = false;
    this.conversations = sortConversations(
      this.conversations.map((c) => {
        if (c.id !== id) return c;
        found = true;
        return patch(c);
      }),
    );
    if (found) this.changed();
  }

  removeConversation(id: string) {
    if (!this.conversations) return;
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.chats.delete(id);
    this.changed();
  }

  /**
   * A message arrived where the person is not looking (another chat, or another tab): a
   * notification or toast and a tone — not for a chat they muted, unless it mentions them.
   */
  private alertIncoming(message: Message) {
    const conversation = this.conversation(message.conversation_id);
    if (!conversation) return;
    const mutedUntil = conversation.settings?.muted_until ?? null;
    const mentioned = ((message as { mentions?: { account_id: string }[] }).mentions ?? []).some((m) => m.account_id === this.meId);
    if (mutedUntil !== null && mutedUntil > Date.now() && !mentioned) return;
    const media = message.media.length > 0 ? (message.media[0]!.kind === 'image' ? 'Photo' : message.media[0]!.kind === 'video' ? 'Video' : 'File') : 'New message';
    const title = conversation.kind === 'direct' ? `@${message.sender_handle}` : `${conversationTitle(conversation)} · @${message.sender_handle}`;
    alertNewMessage({
      title,
      body: message.text ? (message.text.length > 140 ? `${message.text.slice(0, 139)}…` : message.text) : media,
      conversationId: message.conversation_id,
      toast: (text) => this.notify(text),
      // As router.tsx's navigate (a .tsx module this file cannot import): the app follows popstate.
      open: (id) => {
        window.history.pushState(null, '', `/chats/${encodeURIComponent(id)}`);
        window.dispatchEvent(new PopStateEvent('popstate'));
      },
    });
  }

  /** Whether this chat is on screen now, so what arrives in it is read as it arrives. */
  private readingNow(id: string): boolean {
    return this.openChatId === id && document.visibilityState === 'visible';
  }

  /** Marks the open chat read up to its newest message, once things settle. */
  markReadSoon(id: string) {
    if (!this.readingNow(id)) return;
    const conversation = this.conversation(id);
    if (!conversation || conversation.read_seq >= conversation.last_seq) return;
    clearTimeout(this.readTimers.get(id));
    this.readTimers.set(
      id,
      setTimeout(() => {
        this.readTimers.delete(id);
        // My unread mentions are read first: marking the chat read would empty that list.
        if (this.mentionLoads.has(id)) {
          void this.mentionLoads.get(id)?.then(() => this.markReadSoon(id));
          return;
        }
        const latest = this.conversation(id);
        if (!latest || latest.read_seq >= latest.last_seq) return;
        const upTo = latest.last_seq;
        this.patchConversation(id, (c) => ({ ...c, read_seq: Math.max(c.read_seq, upTo), unread_count: 0, unread_mentions: 0 }));
        this.client.markRead(id, upTo).catch(() => {
          // Not fatal: the next message read retries.
        });
      }, 250),
    );
  }

  /** Channel posts this session has counted as seen (each once; the server counts once anyway). */
  private readonly viewedPosts = new Set<string>();

  /**
   * Counts the open channel's loaded posts as seen (Telegram's eye under each post) and shows
   * their counts as the server answers; posts already counted this session are not sent again.
   */
  countViews(id: string) {
    if (!this.readingNow(id) || this.conversation(id)?.kind !== 'channel') return;
    const posts = (this.chats.get(id)?.messages ?? []).filter((m) => m.sender_kind === 'channel' && m.status === 'sent' && !m.deleted && !this.viewedPosts.has(m.id)).slice(-100);
    if (posts.length === 0) return;
    for (const m of posts) this.viewedPosts.add(m.id);
    const bySeq = new Map(posts.map((m) => [m.seq, m.id]));
    this.client
      .viewPosts(id, posts.map((m) => m.seq))
      .then(({ views }) => {
        for (const v of views) {
          const messageId = bySeq.get(v.seq);
          if (messageId) this.patchMessage(id, messageId, (m) => ({ ...m, views: Math.max(m.views ?? 0, v.views) }));
        }
      })
      .catch(() => {
        // Not fatal: counted on the next open.
        for (const m of posts) this.viewedPosts.delete(m.id);
      });
  }

  upsertMessage(message: Message) {
    if (this.originals.get(message.id)) this.originals.set(message.id, message);
    const chat = this.chats.get(message.conversation_id);
    if (chat) {
      this.chats.set(message.conversation_id, { ...chat, messages: mergeMessages(chat.messages, [message]) });
    }
    this.patchConversation(message.conversation_id, (c) => {
      const newer = message.seq >= c.last_seq;
      const current = c.last_message as Message | null | undefined;
      return {
        ...c,
        // A held message (ours, pending or failed) has no seq yet: its place is shown, not counted.
        last_seq: message.status === 'sent' ? Math.max(c.last_seq, message.seq) : c.last_seq,
        last_message: newer || current?.id === message.id ? message : c.last_message,
      };
    });
    this.changed();
  }

  private patchMessage(conversationId: string, messageId: string, patch: (m: Message) => Message) {
    const quoted = this.originals.get(messageId);
    if (quoted) this.originals.set(messageId, patch(quoted));
    const chat = this.chats.get(conversationId);
    if (chat) {
      this.chats.set(conversationId, {
        ...chat,
        messages: chat.messages.map((m) => (m.id === messageId ? patch(m) : m)),
      });
    }
    this.patchConversation(conversationId, (c) => {
      const last = c.last_message as Message | null | undefined;
      return last?.id === messageId ? { ...c, last_message: patch(last) } : c;
    });
    this.changed();
  }

  private patchMedia(mediaId: string, patch: (m: MediaSummary) => MediaSummary) {
    for (const [id, chat] of this.chats) {
      if (!chat.messages.some((m) => m.media.some((item) => item.id === mediaId))) continue;
      this.chats.set(id, {
        ...chat,
        messages: chat.messages.map((m) =>
          m.media.some((item) => item.id === mediaId) ? { ...m, media: m.media.map((item) => (item.id === mediaId ? patch(item) : item)) } : m,
        ),
      });
    }
    this.changed();
  }

  /**
   * Acts on an interactive message (a button, a list row, a vote, a form) and applies what the
   * server answers: the message as it now is (a list pick or a reply button's message), my view of
   * a poll. Returns the bot's answer to a callback button, if it gave one.
   */
  async interact(message: Message, body: Interaction): Promise<InteractionAnswer['answer']> {
    const reply = await interact(this.client, message.id, body);
    this.applyReply(message, reply);
    return reply.answer ?? null;
  }

  /** What the server answered an interaction or a close with: the message sent, my view of the poll or form. */
  applyReply(message: Message, reply: InteractionAnswer) {
    if (reply.message) this.upsertMessage(reply.message);
    if (reply.poll) this.setPoll(message.conversation_id, message.id, reply.poll);
    if (reply.form) this.setForm(message.conversation_id, message.id, reply.form);
  }

  /** My view of a poll, from the server (after my vote): counts, my votes, the quiz's answer. */
  setPoll(conversationId: string, messageId: string, poll: PollView) {
    this.patchMessage(conversationId, messageId, (m) => ({ ...m, poll }));
  }

  /** My view of a form, from the server (after I answered): my answers, the count. */
  setForm(conversationId: string, messageId: string, form: FormView) {
    this.patchMessage(conversationId, messageId, (m) => ({ ...m, form }));
  }

  /** A form's submission count or closed state changed: patch them in (my answers stay). */
  private formUpdated(data: EventPayloads['form.updated']) {
    this.patchMessage(data.conversation_id, data.message_id, (m) =>
      m.form ? { ...m, form: { ...m.form, submissions: data.submissions, closed: data.closed || m.form.closed } } : m,
    );
  }

  /**
   * A vote somewhere in a poll I can see: only the counts travel (never the whole message), so
   * patch them in. A quiz that closes reveals its answer to everyone: that one change reads the
   * message again.
   */
  private pollUpdated(data: EventPayloads['poll.updated']) {
    let reveal = false;
    this.patchMessage(data.conversation_id, data.message_id, (m) => {
      const poll = m.poll;
      if (!poll) return m;
      if (data.closed && !poll.closed && poll.quiz && poll.quiz.correct === null) reveal = true;
      const options = poll.options.map((o, i) => ({ ...o, votes: data.counts[i] ?? o.votes }));
      return { ...m, poll: { ...poll, options, voters: data.voters, closed: data.closed || poll.closed } };
    });
    if (reveal)
      this.client
        .message(data.message_id)
        .then((m) => this.upsertMessage(m))
        .catch(() => {});
  }

  /** Commands of accounts I chat with (handle → list; null while asked for), for the "/" menu. */
  private readonly commandLists = new Map<string, BotCommand[] | null>();

  /** The "/" commands an account (a bot) lists: asked for once, empty for accounts without any. */
  commandsOf(handle: string): BotCommand[] {
    const known = this.commandLists.get(handle);
    if (known !== undefined) return known ?? [];
    this.commandLists.set(handle, null);
    accountCommands(this.client, handle)
      .then((list) => {
        this.commandLists.set(handle, list);
        this.changed();
      })
      .catch(() => this.commandLists.set(handle, []));
    return [];
  }

  /** One event from the stream. Each case is idempotent: the snapshot may already hold its effect. */
  apply(event: SyncEvent) {
    if (this.loadingEvents.size > 0) {
      const chatId = event.conversation_id ?? ('conversation_id' in event.data ? event.data.conversation_id : null);
      // media.updated names no conversation: any loading chat may hold the item.
      if (chatId) this.loadingEvents.get(chatId)?.push(event);
      else for (const list of this.loadingEvents.values()) list.push(event);
    }
    switch (event.type) {
      case 'message.created': {
        const message = event.data;
        if (this.goneForMe(message)) return;
        const conversation = this.conversation(message.conversation_id);
        if (!conversation) {
          void this.ensureConversation(message.conversation_id);
          return;
        }
        // Messages with media are published when their media is ready, after later ones: one
        // above the read mark that this device has not shown yet is new too.
        const shown = this.chats.get(message.conversation_id)?.messages.some((m) => m.id === message.id) ?? false;
        const isNew = message.seq > conversation.last_seq || (message.media.length > 0 && message.seq > conversation.read_seq && !shown);
        this.stopTyping(message.conversation_id, message.sender_id);
        if (message.sender_id === this.meId) this.lastTypingSent.delete(message.conversation_id);
        this.upsertMessage(message);
        if (isNew && message.sender_id !== this.meId && message.status === 'sent') {
          // The chat on screen is read as messages arrive: counting one up only to clear it a
          // moment later made its badge flicker on every message.
          const mentionsMe = message.mentions.some((m) => m.account_id === this.meId);
          if (!this.readingNow(message.conversation_id)) {
            this.patchConversation(message.conversation_id, (c) => ({ ...c, unread_count: c.unread_count + 1, unread_mentions: c.unread_mentions + (mentionsMe ? 1 : 0) }));
            this.alertIncoming(message);
          } else if (mentionsMe) {
            // On screen: the @ button offers it until it is seen (it may arrive below where I am reading).
            this.mentionJumps.set(message.conversation_id, [...this.mentionsToJump(message.conversation_id), { message_id: message.id, seq: message.seq, sender_id: message.sender_id }]);
          }
          this.markReadSoon(message.conversation_id);
        }
        if (message.sender_id === this.meId) {
          // Sent from this account (maybe another device): everything before it was seen.
          this.patchConversation(message.conversation_id, (c) => ({ ...c, read_seq: Math.max(c.read_seq, message.seq) }));
          // It may be a send whose answer was lost: it would show twice (sent, and waiting) until
          // the retry's backoff. The server is reachable, so retry now; the same key answers at once.
          this.outbox.retryAll();
        }
        return;
      }
      case 'message.edited':
        if (!this.goneForMe(event.data)) this.upsertMessage(event.data);
        return;
      case 'message.pinned':
        if (this.pins.has(event.data.conversation_id)) void this.loadPins(event.data.conversation_id);
        return;
      case 'draft.updated':
        // Typed on another device (or this one's own save coming back); a save still waiting here wins.
        if (this.draftTimers.has(event.data.conversation_id)) return;
        if (event.data.text) this.drafts.set(event.data.conversation_id, event.data.text);
        else this.drafts.delete(event.data.conversation_id);
        this.changed();
        return;
      case 'message.starred':
        this.markStarred(event.data.message_id, event.data.starred);
        return;
      case 'message.hidden':
        this.removeForMe(event.data.conversation_id, event.data.message_ids);
        return;
      case 'message.deleted': {
        const data = event.data;
        const id = String(data.id);
        const conversationId = String(data.conversation_id);
        const known = this.chats.get(conversationId)?.messages.find((m) => m.id === id) ?? (this.conversation(conversationId)?.last_message as Message | null | undefined);
        const mine = known?.id === id && known.sender_id === this.meId;
        // Taken down by moderators: it reads so ("Removed by moderators"), as history says after a reload.
        const removed = data.reason === 'removed' ? { removed: true } : {};
        this.patchMessage(conversationId, id, (m) => ({ ...m, deleted: true, ...removed, text: null, media: [], reactions: [], mentions: [], reply_to: m.reply_to }));
        this.mentionSeen(conversationId, id);
        if (data.reason === 'removed')
          this.notify(mine ? 'Moderators removed your message: it breaks the rules.' : 'Moderators removed a message that breaks the rules.');
        return;
      }
      case 'message.link_preview': {
        const data = event.data;
        if (!event.conversation_id) return;
        // Made after the message was sent, or removed by its sender.
        this.patchMessage(event.conversation_id, String(data.message_id), (m) => {
          const { link_preview: _old, ...rest } = m;
          return data.link_preview ? { ...rest, link_preview: data.link_preview } : rest;
        });
        return;
      }
      case 'reaction.changed': {
        const data = event.data;
        const messageId = String(data.message_id);
        if (data.account_id === this.meId) {
          const key = `${messageId}\u0000${String(data.emoji)}`;
          if (data.action === 'added') this.myReactions.add(key);
          else this.myReactions.delete(key);
        }
        if (event.conversation_id)
          this.patchMessage(event.conversation_id, messageId, (m) => ({ ...m, reactions: data.reactions }));
        return;
      }
      case 'receipt.updated': {
        const data = event.data;
        if (!event.conversation_id) return;
        const accountId = String(data.account_id);
        const marks = { delivered: Number(data.delivered_seq), read: Number(data.read_seq) };
        if (accountId === this.meId) {
          this.patchConversation(event.conversation_id, (c) => ({
            ...c,
            read_seq: Math.max(c.read_seq, marks.read),
            unread_count: marks.read >= c.last_seq ? 0 : c.unread_count,
            unread_mentions: marks.read >= c.last_seq ? 0 : c.unread_mentions,
          }));
          return;
        }
        this.patchConversation(event.conversation_id, (c) =>
          c.peer && c.peer.account_id === accountId
            ? { ...c, peer: { ...c.peer, delivered_seq: Math.max(c.peer.delivered_seq, marks.delivered), read_seq: Math.max(c.peer.read_seq, marks.read) } }
            : c,
        );
        let map = this.watermarks.get(event.conversation_id);
        if (!map) {
          map = new Map();
          this.watermarks.set(event.conversation_id, map);
        }
        const before = map.get(accountId);
        map.set(accountId, { delivered: Math.max(before?.delivered ?? 0, marks.delivered), read: Math.max(before?.read ?? 0, marks.read) });
        this.changed();
        return;
      }
      case 'conversation.created':
      case 'member.joined': {
        if (!event.conversation_id) return;
        if (event.type === 'member.joined' && event.data.account_id !== this.meId) {
          this.refreshConversation(event.conversation_id, +1);
          return;
        }
        // Created with me in it, or I was added: load the whole view (role, peer, counts).
        this.client
          .conversation(event.conversation_id)
          .then((c) => this.upsertConversation(c))
          .catch(() => {});
        return;
      }
      case 'member.removed': {
        const data = event.data;
        if (!event.conversation_id) return;
        if (data.account_id === this.meId) {
          this.removeConversation(event.conversation_id);
          if (!data.left) this.notify('You were removed from a conversation.');
          return;
        }
        // Their receipts no longer count towards "everyone has read it".
        this.watermarks.get(event.conversation_id)?.delete(String(data.account_id));
        this.refreshConversation(event.conversation_id, -1);
        return;
      }
      case 'member.role_changed': {
        const data = event.data;
        if (!event.conversation_id || data.account_id !== this.meId) return;
        this.patchConversation(event.conversation_id, (c) => ({ ...c, my_role: data.role }));
        return;
      }
      case 'message.failed': {
        const data = event.data;
        const conversationId = String(data.conversation_id);
        this.patchMessage(conversationId, String(data.message_id), (m) => ({ ...m, status: 'failed' }));
        this.notify(`A message could not be sent: ${String(data.reason ?? 'its media could not be processed')}.`);
        return;
      }
      case 'media.updated': {
        const item = event.data;
        this.patchMedia(item.id, (m) => ({ ...m, ...item }));
        return;
      }
      case 'message.media_flagged': {
        const data = event.data;
        const mediaId = String(data.media_id);
        this.patchMedia(mediaId, (m) => ({ ...m, blurred: true }));
        return;
      }
      case 'conversation.updated': {
        const data = event.data;
        if (!event.conversation_id) return;
        const update = data;
        this.patchConversation(event.conversation_id, (c) => ({ ...c, title: update.title ?? c.title, history_visible: update.history_visible ?? c.history_visible }));
        return;
      }
      case 'invitation.created': {
        const invitation = event.data;
        this.invitations = [invitation, ...(this.invitations ?? []).filter((i) => i.id !== invitation.id)];
        this.changed();
        return;
      }
      case 'invitation.closed': {
        const data = event.data;
        this.invitations = (this.invitations ?? []).filter((i) => i.id !== data.id);
        this.changed();
        return;
      }
      case 'poll.updated':
        this.pollUpdated(event.data);
        return;
      case 'form.updated':
        this.formUpdated(event.data);
        return;
      case 'profile.updated':
        this.people.forget(event.data.account_id);
        return;
      case 'chat.settings_updated':
        this.applySettings(event.data);
        return;
      case 'report.resolved': {
        const data = event.data;
        const outcome = data.outcome === 'removed' ? 'the message was removed' : 'no rule was broken, so it stays';
        this.notify(`Thanks for your report: a moderator reviewed it and ${outcome}.`);
        void this.loadReports();
        return;
      }
      default:
        return;
    }
  }

  /** Group ticks: when every member has received (or read) my newest message, all older ones too. */
  private seedGroupReceipts(conversationId: string) {
    const conversation = this.conversation(conversationId);
    if (conversation?.kind !== 'group') return;
    const mine = [...(this.chats.get(conversationId)?.messages ?? [])].reverse().find((m) => m.sender_id === this.meId && !m.deleted);
    if (!mine) return;
    this.client
      .receipts(mine.id)
      .then((r) => {
        const map = this.watermarks.get(conversationId) ?? new Map<string, Watermarks>();
        for (const p of r.per_recipient ?? []) {
          const before = map.get(p.account_id);
          const delivered = p.status === 'sent' ? 0 : mine.seq;
          const read = p.status === 'read' ? mine.seq : 0;
          map.set(p.account_id, { delivered: Math.max(before?.delivered ?? 0, delivered), read: Math.max(before?.read ?? 0, read) });
        }
        this.watermarks.set(conversationId, map);
        this.changed();
      })
      .catch(() => {});
  }

  /** sent / delivered / read for a message of mine. */
  tick(conversation: Conversation, message: Message): 'sent' | 'delivered' | 'read' {
    if (conversation.kind === 'direct' && conversation.peer) {
      if (conversation.peer.read_seq >= message.seq) return 'read';
      if (conversation.peer.delivered_seq >= message.seq) return 'delivered';
      return 'sent';
    }
    if (conversation.kind === 'group') {
      const others = conversation.member_count - 1;
      const marks = [...(this.watermarks.get(conversation.id)?.values() ?? [])];
      if (others <= 0 || marks.length < others) return 'sent';
      if (marks.every((m) => m.read >= message.seq)) return 'read';
      if (marks.every((m) => m.delivered >= message.seq)) return 'delivered';
    }
    return 'sent';
  }

  hasReacted(messageId: string, emoji: string): boolean {
    return this.myReactions.has(`${messageId}\u0000${emoji}`);
  }

  /** Takes my message's link preview away, for everyone. */
  async removeLinkPreview(message: Message) {
    try {
      await this.client.removeLinkPreview(message.id);
      this.patchMessage(message.conversation_id, message.id, (m) => {
        const { link_preview: _old, ...rest } = m;
        return rest;
      });
    } catch (err) {
      this.notify(errorText(err));
    }
  }

  async toggleReaction(message: Message, emoji: string) {
    const mine = this.hasReacted(message.id, emoji);
    const key = `${message.id}\u0000${emoji}`;
    try {
      const updated = mine ? await this.client.unreact(message.id, emoji) : await this.client.react(message.id, emoji);
      if (mine) this.myReactions.delete(key);
      else this.myReactions.add(key);
      this.upsertMessage(updated);
    } catch (err) {
      this.notify(errorText(err));
    }
  }

  /**
   * Forwards a message and says so only once the server has the copy: a forward is not queued in
   * the outbox, because the original may be gone (deleted, removed, blocked) and the server's
   * refusal must reach the person who asked, not a retry button in a chat they are not looking at.
   */
  async forward(message: Message, target: Conversation, title: string): Promise<boolean> {
    try {
      const key = crypto.randomUUID();
      let copy: Message;
      try {
        copy = await this.client.send(target.id, { forward_of: message.id, idempotency_key: key });
      } catch (err) {
        // Spreading fast: the server asks the person to confirm, as WhatsApp asks before forwarding many times.
        if ((err as { code?: string }).code !== 'confirmation_required') throw err;
        if (!window.confirm('This is spreading fast. Forward it anyway?')) {
          this.notify('Not forwarded.');
          return false;
        }
        copy = await this.client.send(target.id, { forward_of: message.id, idempotency_key: key, confirm_spread: true });
      }
      this.upsertMessage(copy);
      this.notify(copy.status === 'pending' && copy.spread?.held ? `Held for review before it reaches ${title}.` : `Forwarded to ${title}.`);
      return true;
    } catch (err) {
      this.notify(`Not forwarded: ${errorText(err)}`);
      return false;
    }
  }

  /** Queues a message: shown at once, sent when the server can be reached, never lost on a failure. */
  send(conversationId: string, input: Omit<OutgoingMessage, 'key' | 'conversation_id' | 'state' | 'created_at' | 'error'>) {
    this.outbox.add(conversationId, input);
  }
}

function readStorage(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(key: string, value: string) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Storage unavailable: the dot comes back on the next load, nothing worse.
  }
}

export function mergeMessages(a: Message[], b: Message[]): Message[] {
  const byId = new Map<string, Message>();
  for (const m of a) byId.set(m.id, m);
  for (const m of b) {
    const current = byId.get(m.id);
    // An edit or a deletion is newer than what we had; never resurrect a deleted message.
    byId.set(m.id, current?.deleted && !m.deleted ? current : m);
  }
  // A held message of ours shares its place's seq with the message sent there: it comes after it.
  const held = (m: Message) => (m.status === 'sent' ? 0 : 1);
  return [...byId.values()].sort((x, y) => x.seq - y.seq || held(x) - held(y));
}

function activity(c: Conversation): number {
  const last = c.last_message as Message | null | undefined;
  return last?.created_at ?? c.created_at;
}

/** Pinned chats first (the latest pin on top), then the most recently active, as the server lists them. */
export function sortConversations(list: Conversation[]): Conversation[] {
  const pinned = (c: Conversation) => c.settings?.pinned_at ?? 0;
  return [...list].sort((a, b) => pinned(b) - pinned(a) || activity(b) - activity(a));
}
