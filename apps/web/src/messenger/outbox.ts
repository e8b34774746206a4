/**
 * Messages written but not yet acknowledged by the server. Each gets its idempotency key when it
 * is written, is kept in localStorage until the server says yes, and is retried with the same
 * key after a failure or a reload — so a message typed offline is sent once when the connection
 * returns, never twice and never lost. Sends go one at a time per conversation, in order.
 */
import type { Message, MmdClient } from '@mmd/sdk';
import { errorText } from '../api.ts';

export interface OutgoingMessage {
  key: string;
  conversation_id: string;
  text?: string;
  reply_to?: string;
  forward_of?: string;
  media?: string[];
  /** The sender confirmed sharing something spreading fast (after the server asked). */
  confirm_spread?: boolean;
  /** The server asked for that confirmation (428 confirmation_required). */
  needs_confirm?: boolean;
  created_at: number;
  /** sending: on its way or waiting for the network; failed: the server refused it. */
  state: 'sending' | 'waiting' | 'failed';
  error: string | null;
}

const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];

export class Outbox {
  items: OutgoingMessage[];
  private readonly storageKey: string;
  private readonly busy = new Set<string>();
  private attempts = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Keys this outbox finished with (sent or discarded): never taken back from storage. */
  private readonly done = new Set<string>();

  constructor(
    private readonly client: MmdClient,
    accountId: string,
    private readonly hooks: { changed(): void; sent(message: Message): void; unauthorized(): void },
  ) {
    this.storageKey = `mmd.outbox.${accountId}`;
    this.items = this.read();
  }

  add(conversationId: string, input: Pick<OutgoingMessage, 'text' | 'reply_to' | 'forward_of' | 'media'>) {
    const item: OutgoingMessage = {
      ...input,
      key: crypto.randomUUID(),
      conversation_id: conversationId,
      created_at: Date.now(),
      state: 'sending',
      error: null,
    };
    this.items = [...this.items, item];
    this.save();
    this.hooks.changed();
    void this.flush(conversationId);
  }

  forConversation(conversationId: string): OutgoingMessage[] {
    return this.items.filter((i) => i.conversation_id === conversationId);
  }

  retry(key: string, options: { confirmSpread?: boolean } = {}) {
    const item = this.items.find((i) => i.key === key);
    if (!item) return;
    this.update(key, { state: 'sending', error: null, needs_confirm: false, ...(options.confirmSpread ? { confirm_spread: true } : {}) });
    this.attempts.delete(item.conversation_id);
    void this.flush(item.conversation_id);
  }

  retryAll() {
    for (const conversationId of new Set(this.items.map((i) => i.conversation_id))) {
      for (const item of this.items) if (item.conversation_id === conversationId && item.state === 'waiting') this.update(item.key, { state: 'sending' });
      void this.flush(conversationId);
    }
  }

  discard(key: string) {
    this.done.add(key);
    this.items = this.items.filter((i) => i.key !== key);
    this.save();
    this.hooks.changed();
  }

  /** Stops sending (the page that owned it went away); what is unsent stays stored. */
  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Forgets everything unsent, on this device too (signing out). */
  clear() {
    this.stop();
    this.items = [];
    try {
      window.localStorage.removeItem(this.storageKey);
    } catch {
      // nothing stored
    }
  }

  private async flush(conversationId: string) {
    if (this.busy.has(conversationId) || this.stopped) return;
    this.busy.add(conversationId);
    try {
      for (;;) {
        const next = this.items.find((i) => i.conversation_id === conversationId && i.state === 'sending');
        if (!next || this.stopped) return;
        try {
          const message = await this.client.send(conversationId, {
            text: next.text,
            reply_to: next.reply_to,
            forward_of: next.forward_of,
            media: next.media,
            idempotency_key: next.key,
            ...(next.confirm_spread ? { confirm_spread: true } : {}),
          });
          this.attempts.delete(conversationId);
          this.done.add(next.key);
          this.items = this.items.filter((i) => i.key !== next.key);
          this.save();
          this.hooks.sent(message);
        } catch (err) {
          const status = (err as { status?: number }).status ?? 0;
          if (status === 401) {
            // Signed out elsewhere: keep it waiting (the store decides whether to sign out).
            for (const i of this.items) if (i.conversation_id === conversationId && i.state === 'sending') this.update(i.key, { state: 'waiting' });
            this.hooks.unauthorized();
            return;
          }
          // No answer, or the server is overloaded: keep it and try again later with the same key.
          if (status === 0 || status === 429 || status >= 500) {
            for (const i of this.items) if (i.conversation_id === conversationId && i.state === 'sending') this.update(i.key, { state: 'waiting' });
            this.scheduleRetry(conversationId);
            return;
          }
          this.update(next.key, { state: 'failed', error: errorText(err), needs_confirm: (err as { code?: string }).code === 'confirmation_required' });
        }
      }
    } finally {
      this.busy.delete(conversationId);
    }
  }

  private scheduleRetry(conversationId: string) {
    const attempt = this.attempts.get(conversationId) ?? 0;
    this.attempts.set(conversationId, attempt + 1);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.retryAll();
    }, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
  }

  private update(key: string, patch: Partial<OutgoingMessage>) {
    this.items = this.items.map((i) => (i.key === key ? { ...i, ...patch } : i));
    this.save();
    this.hooks.changed();
  }

  private read(): OutgoingMessage[] {
    try {
      const raw = window.localStorage.getItem(this.storageKey);
      const items = raw ? (JSON.parse(raw) as OutgoingMessage[]) : [];
      // Whatever was unsent is tried again (the key makes a repeat harmless).
      return Array.isArray(items) ? items.map((i) => (i.state === 'failed' ? i : { ...i, state: 'sending' as const })) : [];
    } catch {
      return [];
    }
  }

  private save() {
    try {
      // Another tab (or an earlier page of this one) may have stored messages this outbox has not
      // seen: keep them, and send them too — their idempotency keys make a double send harmless.
      const stored = this.read();
      const known = new Set(this.items.map((i) => i.key));
      const others = stored.filter((i) => !known.has(i.key) && !this.done.has(i.key));
      if (others.length) {
        this.items = [...this.items, ...others].sort((a, b) => a.created_at - b.created_at);
        for (const conversationId of new Set(others.map((i) => i.conversation_id))) queueMicrotask(() => void this.flush(conversationId));
      }
      window.localStorage.setItem(this.storageKey, JSON.stringify(this.items));
    } catch {
      // Storage full or unavailable: the outbox still works for this tab.
    }
  }
}
