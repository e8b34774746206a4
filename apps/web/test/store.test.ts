/**
 * The messenger store's bookkeeping (pure logic, no browser): a fake client stands in for the SDK
 * so the tests can hold a history request open and push events into the gap — the races a real
 * network produces now and then, made to happen every time.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Conversation, Message, MmdClient, StreamOptions, SyncEvent } from '@mmd/sdk';

// The store runs in a browser: give it the few globals it touches.
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

const ME = 'acc_me';
const PEER = 'acc_peer';

function conversation(over: Partial<Conversation> = {}): Conversation {
  return {
    id: 'cnv_1',
    kind: 'direct',
    title: null,
    handle: null,
    created_by: ME,
    created_at: 1,
    member_count: 2,
    last_seq: 2,
    my_role: 'member',
    read_seq: 2,
    unread_count: 0,
    unread_mentions: 0,
    history_visible: true,
    peer: { account_id: PEER, handle: 'peer', delivered_seq: 0, read_seq: 0 },
    last_message: null,
    ...over,
  };
}

function message(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `msg_${seq}`,
    conversation_id: 'cnv_1',
    seq,
    sender_id: PEER,
    sender_handle: 'peer',
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

let cursor = 100;
const event = <K extends SyncEvent['type']>(type: K, data: Extract<SyncEvent, { type: K }>['data'], conversationId: string | null = 'cnv_1'): SyncEvent =>
  ({ cursor: ++cursor, type, conversation_id: conversationId, at: Date.now(), data }) as SyncEvent;

/** A controllable stand-in for MmdClient. */
function fakeClient(
  options: {
    conversations?: Conversation[];
    history?: () => Promise<{ messages: Message[]; has_more: boolean }>;
    failStart?: number;
  } = {},
) {
  let streamOptions: StreamOptions | null = null;
  let startFailures = options.failStart ?? 0;
  const calls: string[] = [];
  const client = {
    updatesState: async () => {
      calls.push('state');
      if (startFailures-- > 0) throw Object.assign(new Error('offline'), { status: 0 });
      return cursor;
    },
    conversations: async () => options.conversations ?? [conversation()],
    conversation: async (id: string) =>
      (options.conversations ?? [conversation()]).find((c) => c.id === id) ?? conversation({ id }),
    history: async () => {
      calls.push('history');
      return options.history ? options.history() : { messages: [message(1), message(2)], has_more: false };
    },
    markRead: async () => ({ read_seq: 0 }),
    receipts: async () => ({ message_id: '', recipients: 1, delivered: 0, read: 0 }),
    me: async () => ({ id: ME }),
    send: async () => {
      throw Object.assign(new Error('unauthenticated'), { status: 401 });
    },
    stream(o: StreamOptions) {
      streamOptions = o;
      return { cursor: 0, ready: Promise.resolve(0), typing() {}, close() {} };
    },
  };
  return {
    client: client as unknown as MmdClient,
    calls,
    push: (e: SyncEvent) => streamOptions?.onEvent(e),
    /** The stream was told `cursor_expired` and read the newest cursor. */
    reset: async (newest: number) => streamOptions?.onReset?.(newest),
    streamOpen: () => streamOptions !== null,
  };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('the messenger store', () => {
  beforeEach(() => storage.clear());

  it('applies deletions and blur flags that arrive while a chat’s first page is loading', async () => {
    const page = deferred<{ messages: Message[]; has_more: boolean }>();
    const fake = fakeClient({ history: () => page.promise });
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    const opening = store.openChat('cnv_1');
    // The page in flight predates these: a takedown and a blur-bank match.
    fake.push(
      event('message.deleted', {
        id: 'msg_1',
        conversation_id: 'cnv_1',
        seq: 1,
        by: null,
        reason: 'removed',
      }),
    );
    fake.push(
      event('message.media_flagged', {
        message_id: 'msg_2',
        conversation_id: 'cnv_1',
        media_id: 'med_x',
        blurred: true,
      }),
    );
    page.resolve({
      messages: [
        message(1),
        message(2, {
          media: [{ id: 'med_x', kind: 'image', status: 'ready', mime: 'image/jpeg', filename: null }],
        }),
      ],
      has_more: false,
    });
    await opening;
    const messages = store.chat('cnv_1')!.messages;
    assert.equal(messages.find((m) => m.id === 'msg_1')?.deleted, true, 'the taken-down message stays gone');
    assert.equal(
      messages.find((m) => m.id === 'msg_2')?.media[0]?.blurred,
      true,
      'the flagged photo stays blurred',
    );
    store.stop();
  });

  it('reloads its lists and the open chat when the server no longer knows its cursor (restored from a backup)', async () => {
    const server = {
      conversations: [conversation(), conversation({ id: 'cnv_2' })],
      messages: [message(1), message(2)],
    };
    const fake = fakeClient({
      conversations: server.conversations,
      history: async () => ({ messages: server.messages, has_more: false }),
    });
    Object.defineProperty(fake.client, 'conversations', { value: async () => server.conversations });
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    await store.openChat('cnv_1');
    assert.equal(store.conversations?.length, 2);
    assert.equal(store.chat('cnv_1')?.messages.length, 2);
    // The backup predates cnv_2 and message 2.
    server.conversations = [conversation({ last_seq: 1, read_seq: 1 })];
    server.messages = [message(1)];
    await fake.reset(50);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(store.conversations?.map((c) => c.id), ['cnv_1']);
    assert.deepEqual(store.chat('cnv_1')?.messages.map((m) => m.id), ['msg_1']);
    store.stop();
  });

  it('tries a chat again when its first load failed', async () => {
    let fail = true;
    const fake = fakeClient({
      history: async () => {
        if (fail) throw Object.assign(new Error('offline'), { status: 0 });
        return { messages: [message(1)], has_more: false };
      },
    });
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    await store.openChat('cnv_1');
    assert.ok(store.chat('cnv_1')?.error);
    fail = false;
    await store.openChat('cnv_1');
    assert.equal(store.chat('cnv_1')?.error, null);
    assert.equal(store.chat('cnv_1')?.messages.length, 1);
    store.stop();
  });

  it('keeps trying to load after a failed start, and opens one stream', async () => {
    const fake = fakeClient({ failStart: 1 });
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    assert.ok(store.loadError);
    assert.equal(fake.streamOpen(), false);
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(store.loadError, null);
    assert.ok(fake.streamOpen());
    assert.equal(store.conversations?.length, 1);
    store.stop();
  });

  it('counts a media message published late (lower seq than messages already read) as unread', async () => {
    const fake = fakeClient({ conversations: [conversation({ last_seq: 7, read_seq: 7 })] });
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    store.openChatId = null;
    // seq 6 was a video still processing when 7 was sent and read; it is published now.
    fake.push(
      event(
        'message.created',
        message(6, {
          media: [{ id: 'med_v', kind: 'video', status: 'ready', mime: 'video/mp4', filename: null }],
        }),
      ),
    );
    assert.equal(
      store.conversation('cnv_1')?.unread_count,
      0,
      'read mark covers it on the server, so no badge',
    );
    store.stop();
    const video = message(6, {
      media: [{ id: 'med_v', kind: 'video', status: 'ready', mime: 'video/mp4', filename: null }],
    });
    const fake2 = fakeClient({
      conversations: [conversation({ last_seq: 7, read_seq: 5 })],
      history: async () => ({ messages: [video, message(7)], has_more: false }),
    });
    const store2 = new MessengerStore(fake2.client, ME, () => {});
    await store2.start();
    store2.openChatId = null;
    fake2.push(
      event(
        'message.created',
        message(6, {
          media: [{ id: 'med_v', kind: 'video', status: 'ready', mime: 'video/mp4', filename: null }],
        }),
      ),
    );
    assert.equal(store2.conversation('cnv_1')?.unread_count, 1);
    // The same event again (a replay) is not counted twice once the chat shows it.
    await store2.openChat('cnv_1');
    store2.openChatId = null;
    const before = store2.conversation('cnv_1')!.unread_count;
    fake2.push({
      ...event(
        'message.created',
        message(6, {
          media: [{ id: 'med_v', kind: 'video', status: 'ready', mime: 'video/mp4', filename: null }],
        }),
      ),
    });
    assert.equal(store2.conversation('cnv_1')?.unread_count, before);
    store2.stop();
  });

  it('shows no unread badge for a message arriving in the chat on screen (it used to flash for 250 ms)', async () => {
    const fake = fakeClient({ conversations: [conversation({ last_seq: 2, read_seq: 2 })] });
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    await store.openChat('cnv_1');
    const seen: number[] = [];
    store.subscribe(() => seen.push(store.conversation('cnv_1')!.unread_count));
    fake.push(event('message.created', message(3)));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(store.chat('cnv_1')?.messages.at(-1)?.id, 'msg_3', 'the message is shown');
    assert.deepEqual([...new Set(seen)], [0], 'the open chat never counted it as unread');
    assert.equal(store.conversation('cnv_1')?.read_seq, 3, 'and it is marked read');
    // Another chat, or this one while the page is hidden, still counts it.
    store.openChatId = null;
    fake.push(event('message.created', message(4)));
    assert.equal(store.conversation('cnv_1')?.unread_count, 1);
    store.stop();
  });

  it('opening a group with unread mentions of me lists them before marking it read; the @ button jumps oldest first', async () => {
    const group = conversation({ kind: 'group', peer: undefined, last_seq: 2, read_seq: 0, unread_count: 2, unread_mentions: 1, member_count: 3 });
    const fake = fakeClient({ conversations: [group] });
    const list = deferred<{ mentions: { message_id: string; seq: number; sender_id: string }[]; has_more: boolean }>();
    Object.assign(fake.client, {
      unreadMentions: () => {
        fake.calls.push('mentions');
        return list.promise;
      },
      markRead: async () => {
        fake.calls.push('read');
        return { read_seq: 2 };
      },
    });
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    await store.openChat('cnv_1');
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(!fake.calls.includes('read'), 'the chat is not marked read while its mentions are being listed');
    list.resolve({ mentions: [{ message_id: 'msg_1', seq: 1, sender_id: PEER }], has_more: false });
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(fake.calls.filter((c) => c === 'mentions' || c === 'read'), ['mentions', 'read']);
    assert.equal(store.conversation('cnv_1')?.unread_mentions, 0);
    // A mention arriving while the chat is open joins the list; the button takes the oldest first.
    fake.push(event('message.created', message(3, { mentions: [{ account_id: ME, handle: 'me' }] })));
    assert.deepEqual(store.mentionsToJump('cnv_1').map((m) => m.message_id), ['msg_1', 'msg_3']);
    void store.jumpToMention('cnv_1');
    assert.deepEqual(store.mentionsToJump('cnv_1').map((m) => m.message_id), ['msg_3']);
    // Seen, or deleted: it leaves the list.
    fake.push(event('message.deleted', { id: 'msg_3', conversation_id: 'cnv_1', seq: 3, by: PEER }));
    assert.deepEqual(store.mentionsToJump('cnv_1'), []);
    // A closed chat counts it in the list instead.
    store.openChatId = null;
    fake.push(event('message.created', message(4, { mentions: [{ account_id: ME, handle: 'me' }] })));
    assert.equal(store.conversation('cnv_1')?.unread_mentions, 1);
    store.stop();
  });

  it('places a held message of mine without counting it: the next message from others is still new and unread', async () => {
    const fake = fakeClient({ conversations: [conversation({ last_seq: 2, read_seq: 2 })] });
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    // The server places a held message just after the newest one (seq 3) but has not given it a seq.
    store.upsertMessage(message(3, { id: 'msg_held', sender_id: ME, status: 'pending' }));
    assert.equal(store.conversation('cnv_1')?.last_seq, 2, 'a held message moves no counter');
    fake.push(event('message.created', message(3)));
    assert.equal(store.conversation('cnv_1')?.unread_count, 1, "the peer's message takes seq 3 and is unread");
    assert.equal(store.conversation('cnv_1')?.last_seq, 3);
    store.stop();
  });

  it('keeps an unsent message when the server says the token is no longer valid, and asks whether to sign out', async () => {
    let signedOut = 0;
    const fake = fakeClient();
    (fake.client as unknown as { me: () => Promise<unknown> }).me = async () => {
      throw Object.assign(new Error('unauthenticated'), { status: 401 });
    };
    const store = new MessengerStore(fake.client, ME, () => signedOut++);
    await store.start();
    store.send('cnv_1', { text: 'hello?' });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(signedOut, 1, 'signed out after the server refused the token');
    assert.equal(storage.size, 0, 'nothing of this person is left in storage');
  });

  it('takes over messages another tab stored, so none is lost when that tab closes', async () => {
    storage.set(
      `mmd.outbox.${ME}`,
      JSON.stringify([
        {
          key: 'k-other-tab',
          conversation_id: 'cnv_1',
          text: 'from the other tab',
          created_at: 1,
          state: 'waiting',
          error: null,
        },
      ]),
    );
    const sent: string[] = [];
    const fake = fakeClient();
    (
      fake.client as unknown as {
        send: (c: string, b: { text?: string; idempotency_key?: string }) => Promise<Message>;
      }
    ).send = async (_c, body) => {
      sent.push(`${body.text}#${body.idempotency_key}`);
      return message(3, { text: body.text ?? null, sender_id: ME });
    };
    const store = new MessengerStore(fake.client, ME, () => {});
    await store.start();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(sent, ['from the other tab#k-other-tab'], 'sent once, with the key the other tab chose');
    assert.deepEqual(JSON.parse(storage.get(`mmd.outbox.${ME}`) ?? '[]'), []);
    store.stop();
  });
});
