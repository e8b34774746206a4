/**
 * The web app's interactive bookkeeping (pure logic, no browser): a vote elsewhere patches the
 * counts from the small `poll.updated` event without asking the server for the message, a form's
 * count follows `form.updated`, and which quick-reply keyboard applies after one-time use,
 * replacement and removal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Conversation, Message, MmdClient, Poll, StreamOptions, SyncEvent } from '@mmd/sdk';

const storage = new Map<string, string>();
Object.assign(globalThis, {
  window: {
    location: { origin: 'http://mmd.test' },
    localStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    },
    addEventListener() {},
    removeEventListener() {},
  },
  document: { visibilityState: 'visible' },
});
Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true });
const { MessengerStore } = await import('../src/messenger/store.ts');
const { activeKeyboard } = await import('../src/interactive/keyboard.ts');

const ME = 'acc_me';
const BOT = 'acc_bot';

const poll: Poll = {
  question: 'Lunch?',
  options: [
    { text: 'Pizza', votes: 1 },
    { text: 'Soup', votes: 0 },
  ],
  anonymous: true,
  multiple: false,
  quiz: null,
  closes_at: null,
  closed: false,
  voters: 1,
  my_votes: [0],
};

function message(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `msg_${seq}`,
    conversation_id: 'cnv_1',
    seq,
    sender_id: BOT,
    sender_handle: 'bot',
    text: `m${seq}`,
    reply_to: null,
    forward: null,
    reactions: [],
    media: [],
    mentions: [],
    status: 'sent',
    created_at: 1000 + seq,
    edited_at: null,
    deleted: false,
    ...over,
  };
}

const conversation: Conversation = {
  id: 'cnv_1',
  kind: 'group',
  title: 'g',
  handle: null,
  created_by: ME,
  created_at: 1,
  member_count: 3,
  last_seq: 2,
  my_role: 'member',
  read_seq: 2,
  unread_count: 0,
  unread_mentions: 0,
  history_visible: true,
  last_message: null,
};

let cursor = 100;
const event = (type: SyncEvent['type'], data: unknown): SyncEvent => ({ cursor: ++cursor, type, conversation_id: 'cnv_1', at: Date.now(), data }) as SyncEvent;

describe('interactive messages in the store', () => {
  it('a vote elsewhere patches the counts from poll.updated, keeping my votes, and fetches nothing', async () => {
    let onEvent: StreamOptions['onEvent'] | null = null;
    const fetched: string[] = [];
    const client = {
      updatesState: async () => cursor,
      conversations: async () => [conversation],
      conversation: async () => conversation,
      history: async () => ({ messages: [message(1, { poll, text: null }), message(2, { form: { title: 'F', questions: [], submit_label: null, closes_at: null, closed: false, submissions: 0, my_answers: null } })], has_more: false }),
      message: async (id: string) => {
        fetched.push(id);
        return message(1, { poll: { ...poll, closed: true } });
      },
      markRead: async () => ({ read_seq: 0 }),
      receipts: async () => ({ message_id: '', recipients: 2, delivered: 0, read: 0, per_recipient: [] }),
      stream(o: StreamOptions) {
        onEvent = o.onEvent;
        return { cursor: 0, ready: Promise.resolve(0), typing() {}, close() {} };
      },
    } as unknown as MmdClient;
    const store = new MessengerStore(client, ME, () => {});
    await store.start();
    await store.openChat('cnv_1');
    onEvent!(event('poll.updated', { message_id: 'msg_1', conversation_id: 'cnv_1', counts: [1, 2], voters: 3, closed: false }));
    const patched = store.chat('cnv_1')!.messages[0]!.poll!;
    assert.deepEqual(patched.options.map((o) => o.votes), [1, 2]);
    assert.equal(patched.voters, 3);
    assert.deepEqual(patched.my_votes, [0], 'my own choice stays');
    onEvent!(event('form.updated', { message_id: 'msg_2', conversation_id: 'cnv_1', submissions: 4, closed: true }));
    const form = store.chat('cnv_1')!.messages[1]!.form!;
    assert.deepEqual([form.submissions, form.closed], [4, true]);
    // A plain poll closing needs nothing more than the event either.
    onEvent!(event('poll.updated', { message_id: 'msg_1', conversation_id: 'cnv_1', counts: [1, 2], voters: 3, closed: true }));
    assert.equal(store.chat('cnv_1')!.messages[0]!.poll!.closed, true);
    assert.deepEqual(fetched, [], 'no message was fetched for a vote or a close');
    store.stop();
  });
});

describe('which quick replies apply', () => {
  const keys = (rows: string[][], over: Partial<NonNullable<Message['quick_replies']>> = {}) => ({
    quick_replies: { rows: rows.map((r) => r.map((text) => ({ text }))), one_time: false, persistent: false, placeholder: null, remove: false, ...over },
  });

  it('the newest keyboard from someone else applies; my own messages and plain ones do not change it', () => {
    const messages = [message(1, keys([['A']])), message(2, keys([['B', 'C']])), message(3), message(4, { sender_id: ME })];
    assert.deepEqual(activeKeyboard(messages, ME, null)?.rows, [[{ text: 'B' }, { text: 'C' }]]);
  });

  it('a one-time keyboard goes once I answer (sent, or still in my outbox)', () => {
    const shown = [message(1, keys([['Yes']], { one_time: true }))];
    assert.ok(activeKeyboard(shown, ME, null));
    assert.equal(activeKeyboard([...shown, message(2, { sender_id: ME })], ME, null), null);
    assert.equal(activeKeyboard(shown, ME, 5000), null, 'an answer waiting in the outbox counts');
  });

  it('a removal takes the keyboard away until a new one comes', () => {
    const removed = [message(1, keys([['A']])), message(2, keys([], { remove: true }))];
    assert.equal(activeKeyboard(removed, ME, null), null);
    assert.deepEqual(activeKeyboard([...removed, message(3, keys([['New']], { persistent: true, placeholder: 'Ask' }))], ME, null), {
      message: message(3, keys([['New']], { persistent: true, placeholder: 'Ask' })),
      rows: [[{ text: 'New' }]],
      persistent: true,
      placeholder: 'Ask',
    });
  });
});
