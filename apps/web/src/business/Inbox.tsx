/**
 * The team inbox: every customer chat with the business, newest activity first, worked by the
 * team at once. The list and the open conversation follow the server's team events live
 * (`inbox.updated`, `inbox.note_added` on the person's own stream, filtered to this business):
 * an agent sees another take a chat, change its status or add a note as it happens, and a
 * customer's new message arrives without a reload. Internal notes sit in the conversation
 * between the messages, styled apart and labelled: customers never see them.
 */
import type { BusinessMember, CannedReply, InboxConversation, InboxConversationDetail, InboxNote, InboxStatus, MediaItem, MediaSummary, Message, SyncEvent } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { useSession } from '../session.tsx';
import { useBusiness } from './context.ts';
import { when } from './format.ts';
import './inbox.css';
import { ErrorAlert } from '../error-alert.tsx';

type AssigneeFilter = 'all' | 'mine' | 'unassigned';
interface Filters {
  assignee: AssigneeFilter;
  status: InboxStatus | '';
  q: string;
}

const STATUS_WORDS: Record<InboxStatus, string> = { open: 'Open', pending: 'Pending', resolved: 'Resolved' };
type Listener = (event: SyncEvent) => void;

/** Whether a conversation belongs in the list under these filters (live events are sorted in or out). */
function matches(c: InboxConversation, f: Filters, meId: string): boolean {
  if (f.assignee === 'mine' && c.assignee?.id !== meId) return false;
  if (f.assignee === 'unassigned' && c.assignee !== null) return false;
  if (f.status && c.status !== f.status) return false;
  if (f.q && !c.customer.handle.toLowerCase().startsWith(f.q.trim().toLowerCase())) return false;
  return true;
}

function newestFirst(a: InboxConversation, b: InboxConversation) {
  return b.last_activity_at - a.last_activity_at || (a.conversation_id < b.conversation_id ? 1 : -1);
}

/** Fills a canned reply's {{placeholders}} as automation does, for this customer. */
function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);
}

export default function Inbox({ rest }: { rest: string[] }) {
  const { me } = useSession();
  const { client, business, can, href } = useBusiness();
  const openId = rest[0] ?? null;
  const [filters, setFilters] = useState<Filters>({ assignee: 'all', status: '', q: '' });
  const [search, setSearch] = useState('');
  const [list, setList] = useState<InboxConversation[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  const [team, setTeam] = useState<BusinessMember[]>([]);
  const listeners = useRef(new Set<Listener>());
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  const load = useCallback(
    async (f: Filters, cursor?: string) => {
      const page = await client.inbox.list({
        ...(f.assignee !== 'all' ? { assignee: f.assignee } : {}),
        ...(f.status ? { status: f.status } : {}),
        ...(f.q.trim() ? { q: f.q.trim() } : {}),
        ...(cursor ? { cursor } : {}),
      });
      setList((before) => (cursor ? [...(before ?? []), ...page.conversations.filter((c) => !before?.some((b) => b.conversation_id === c.conversation_id))] : page.conversations));
      setNext(page.next);
    },
    [client],
  );

  // The list again whenever the filters change.
  useEffect(() => {
    setError(null);
    load(filters).catch((err: unknown) => setError(errorText(err)));
  }, [filters, load]);

  // The search box filters as one types, a moment after the last key.
  useEffect(() => {
    const timer = window.setTimeout(() => setFilters((f) => (f.q === search ? f : { ...f, q: search })), 250);
    return () => window.clearTimeout(timer);
  }, [search]);

  useEffect(() => {
    client
      .businessMembers()
      .then((r) => setTeam(r.members.filter((m) => m.role !== 'analyst')))
      .catch(() => {});
  }, [client]);

  // Team events, from the cursor read before the first list: nothing between is missed.
  useEffect(() => {
    let stream: { close(): void } | null = null;
    let closed = false;
    let refresh = 0;
    const onEvent = (event: SyncEvent) => {
      if (event.type !== 'inbox.updated' && event.type !== 'inbox.note_added') return;
      if (event.data.business_id !== business.id) return;
      if (event.type === 'inbox.updated') {
        // Events carry no content: the entry keeps the preview it had, and a new message's
        // preview comes with a fresh read of the list (soon, once a burst has passed).
        const fresh = event.data.conversation;
        setList((before) => {
          if (!before) return before;
          const previous = before.find((b) => b.conversation_id === fresh.conversation_id);
          const c = { ...fresh, last_message_preview: previous?.last_message_preview ?? null };
          const rest = before.filter((b) => b.conversation_id !== c.conversation_id);
          return matches(c, filtersRef.current, me.id) ? [...rest, c].sort(newestFirst) : rest;
        });
        if (event.data.message_id) {
          window.clearTimeout(refresh);
          refresh = window.setTimeout(() => load(filtersRef.current).catch(() => {}), 300);
        }
      }
      for (const listener of listeners.current) listener(event);
    };
    client
      .updatesState()
      .then((cursor) => {
        if (closed) return;
        stream = client.stream({
          cursor,
          acknowledge: false,
          onEvent,
          onReady: () => setLive(true),
          onDisconnect: () => setLive(false),
          onReset: () => load(filtersRef.current).catch(() => {}),
        });
      })
      .catch((err: unknown) => setError(errorText(err)));
    return () => {
      closed = true;
      window.clearTimeout(refresh);
      stream?.close();
    };
  }, [client, business.id, me.id, load]);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  return (
    <div className={`inbox${openId ? ' inbox-has-open' : ''}`}>
      <section className="inbox-list-pane" aria-labelledby="inbox-heading">
        <div className="inbox-list-head">
          <h2 id="inbox-heading">Inbox</h2>
          <span className={`inbox-live${live ? ' on' : ''}`} role="status">
            {live ? 'Live' : 'Connecting…'}
          </span>
        </div>
        <fieldset className="inbox-filters">
          <legend className="visually-hidden">Filters</legend>
          <fieldset className="inbox-segments">
            <legend className="visually-hidden">Assigned to</legend>
            {(['all', 'mine', 'unassigned'] as const).map((a) => (
              <button key={a} type="button" aria-pressed={filters.assignee === a} onClick={() => setFilters((f) => ({ ...f, assignee: a }))}>
                {a === 'all' ? 'All' : a === 'mine' ? 'Mine' : 'Unassigned'}
              </button>
            ))}
          </fieldset>
          <label>
            <span className="visually-hidden">Status</span>
            <select aria-label="Status filter" value={filters.status} onChange={(e) => setFilters((f) => ({ ...f, status: e.target.value as Filters['status'] }))}>
              <option value="">Any status</option>
              <option value="open">Open</option>
              <option value="pending">Pending</option>
              <option value="resolved">Resolved</option>
            </select>
          </label>
          <label className="inbox-search">
            <span className="visually-hidden">Search by customer handle</span>
            <input type="search" placeholder="Search customer handle" value={search} onChange={(e) => setSearch(e.target.value)} />
          </label>
        </fieldset>
        <ErrorAlert error={error} />
        {list === null && !error && <p className="hint">Loading…</p>}
        {list?.length === 0 && <p className="hint">No conversations here. When a customer writes to {business.display_name}, the chat appears in this list.</p>}
        <ul className="inbox-list" aria-label="Conversations">
          {list?.map((c) => (
            <li key={c.conversation_id}>
              <Link href={href('inbox', c.conversation_id)} className="inbox-item" aria-current={c.conversation_id === openId ? 'page' : undefined}>
                <span className="inbox-item-top">
                  <strong>@{c.customer.handle}</strong>
                  <time dateTime={new Date(c.last_activity_at).toISOString()}>{when(c.last_activity_at)}</time>
                </span>
                <span className="inbox-item-preview">
                  {c.last_message_from === 'business' && <span className="visually-hidden">You: </span>}
                  {c.last_message_preview ?? (c.last_message_from ? 'Media' : '')}
                </span>
                <span className="inbox-item-tags">
                  <span className={`inbox-status ${c.status}`}>{STATUS_WORDS[c.status]}</span>
                  <span className="inbox-assignee">{c.assignee ? (c.assignee.id === me.id ? 'You' : `@${c.assignee.handle}`) : 'Unassigned'}</span>
                  {c.last_message_from === 'customer' && c.status !== 'resolved' && <span className="inbox-waiting">Awaiting reply</span>}
                  {c.handoff === 'bot' && <span className="inbox-bot">Bot</span>}
                </span>
              </Link>
            </li>
          ))}
        </ul>
        {next && (
          <button type="button" className="secondary" onClick={() => load(filters, next).catch((err: unknown) => setError(errorText(err)))}>
            Load more
          </button>
        )}
      </section>
      <section className="inbox-conversation-pane" aria-label="Conversation">
        {openId ? (
          <Conversation key={openId} id={openId} team={team} subscribe={subscribe} canAct={can('send')} />
        ) : (
          <p className="hint inbox-pick">Pick a conversation.</p>
        )}
      </section>
    </div>
  );
}

type Entry = { kind: 'message'; at: number; message: Message } | { kind: 'note'; at: number; note: InboxNote };

function Conversation({ id, team, subscribe, canAct }: { id: string; team: BusinessMember[]; subscribe: (l: Listener) => () => void; canAct: boolean }) {
  const { me } = useSession();
  const { client, business, href } = useBusiness();
  const [detail, setDetail] = useState<InboxConversationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let live = true;
    client.inbox
      .get(id)
      .then((d) => live && setDetail(d))
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client, id]);

  useEffect(
    () =>
      subscribe((event) => {
        if (event.type === 'inbox.updated' && event.data.conversation.conversation_id === id) {
          const { conversation, message_id: messageId } = event.data;
          setDetail((d) => d && { ...d, conversation: { ...conversation, last_message_preview: d.conversation.last_message_preview } });
          // A new message: read the newest page again (events carry no content).
          if (messageId) {
            client.inbox
              .get(id)
              .then((fresh) =>
                setDetail((d) => {
                  if (!d) return fresh;
                  const have = new Set(fresh.messages.map((m) => m.id));
                  return { ...fresh, messages: [...d.messages.filter((m) => !have.has(m.id) && m.seq < (fresh.messages[0]?.seq ?? 0)), ...fresh.messages] };
                }),
              )
              .catch(() => {});
          }
        }
        if (event.type === 'inbox.note_added' && event.data.conversation_id === id) {
          const note = event.data.note;
          setDetail((d) => d && (d.notes.some((n) => n.id === note.id) ? d : { ...d, notes: [...d.notes, note] }));
        }
      }),
    [subscribe, id, client],
  );

  const entries: Entry[] = useMemo(() => {
    if (!detail) return [];
    const all: Entry[] = [
      ...detail.messages.map((m) => ({ kind: 'message' as const, at: m.created_at, message: m })),
      ...detail.notes.map((n) => ({ kind: 'note' as const, at: n.created_at, note: n })),
    ];
    return all.sort((a, b) => a.at - b.at);
  }, [detail]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the timeline grows
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [entries.length]);

  const act = async (body: Parameters<typeof client.inbox.update>[1]) => {
    setBusy(true);
    setError(null);
    try {
      const conversation = await client.inbox.update(id, body);
      setDetail((d) => d && { ...d, conversation });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  if (error && !detail)
    return (
      <div className="inbox-conversation">
        <p className="error" role="alert">
          {error}
        </p>
        <Link href={href('inbox')}>Back to the inbox</Link>
      </div>
    );
  if (!detail) return <p className="hint">Loading…</p>;
  const c = detail.conversation;

  return (
    <div className="inbox-conversation">
      <header className="inbox-conv-head">
        <button type="button" className="link inbox-back" onClick={() => navigate(href('inbox'))}>
          ← All conversations
        </button>
        <h3>@{c.customer.handle}</h3>
        <div className="inbox-controls">
          <label>
            Status{' '}
            <select aria-label="Status" value={c.status} disabled={!canAct || busy} onChange={(e) => act({ status: e.target.value as InboxStatus })}>
              <option value="open">Open</option>
              <option value="pending">Pending</option>
              <option value="resolved">Resolved</option>
            </select>
          </label>
          <label>
            Assignee{' '}
            <select aria-label="Assignee" value={c.assignee?.id ?? ''} disabled={!canAct || busy} onChange={(e) => act({ assignee_id: e.target.value || null })}>
              <option value="">Unassigned</option>
              {c.assignee && !team.some((m) => m.account_id === c.assignee?.id) && <option value={c.assignee.id}>@{c.assignee.handle}</option>}
              {team.map((m) => (
                <option key={m.account_id} value={m.account_id}>
                  {m.account_id === me.id ? `You (@${m.handle})` : `@${m.handle}`}
                </option>
              ))}
            </select>
          </label>
          {canAct && c.assignee?.id !== me.id && team.some((m) => m.account_id === me.id) && (
            <button type="button" className="secondary" disabled={busy} onClick={() => act({ assignee_id: me.id, if_unassigned: c.assignee === null })}>
              Assign to me
            </button>
          )}
          {c.handoff && (
            <span className={`inbox-handoff ${c.handoff}`}>
              {c.handoff === 'bot' ? 'Automation answers' : 'A person answers'}
              {canAct && (
                <button type="button" className="link" disabled={busy} onClick={() => act({ handoff: c.handoff === 'bot' ? 'human' : 'bot' })}>
                  {c.handoff === 'bot' ? 'Take over' : 'Hand back to the bot'}
                </button>
              )}
            </span>
          )}
        </div>
        <ErrorAlert error={error} />
      </header>
      <ol className="inbox-timeline" aria-label={`Conversation with @${c.customer.handle}`}>
        {entries.map((e) =>
          e.kind === 'message' ? (
            <li key={e.message.id} className={`inbox-msg ${e.message.sender_id === c.customer.id ? 'customer' : 'business'}`}>
              <span className="inbox-msg-from">
                {e.message.sender_id === c.customer.id
                  ? `@${c.customer.handle}`
                  : `${business.display_name}${e.message.agent ? ` · ${e.message.agent.handle}` : e.message.automated ? ' · automated' : ''}`}
              </span>
              {!e.message.deleted && e.message.media.length > 0 && (
                <div className="inbox-media">
                  {e.message.media.map((m) => (
                    <InboxMedia key={m.id} conversationId={id} messageId={e.message.id} summary={m} />
                  ))}
                </div>
              )}
              {(e.message.deleted || e.message.text) && <p>{e.message.deleted ? <em>Deleted</em> : e.message.text}</p>}
              <time dateTime={new Date(e.message.created_at).toISOString()}>{when(e.message.created_at)}</time>
            </li>
          ) : (
            <li key={e.note.id} className="inbox-note">
              <span className="inbox-note-label">Internal note — customers never see this</span>
              <p>{e.note.text}</p>
              <span className="inbox-note-meta">
                @{e.note.author.handle} · <time dateTime={new Date(e.note.created_at).toISOString()}>{when(e.note.created_at)}</time>
              </span>
            </li>
          ),
        )}
      </ol>
      <div ref={end} />
      {canAct ? (
        <InboxComposer id={id} customerHandle={c.customer.handle} onSent={(m) => setDetail((d) => d && (d.messages.some((x) => x.id === m.id) ? d : { ...d, messages: [...d.messages, m] }))} onNote={(n) => setDetail((d) => d && (d.notes.some((x) => x.id === n.id) ? d : { ...d, notes: [...d.notes, n] }))} />
      ) : (
        <p className="hint">Your role reads the inbox. Replies, notes and assignment are for owners, admins and agents.</p>
      )}
    </div>
  );
}

/** A photo, video, voice note or file of the chat, through the inbox (URLs signed for the business). */
function InboxMedia({ conversationId, messageId, summary }: { conversationId: string; messageId: string; summary: MediaSummary }) {
  const { client } = useBusiness();
  const [item, setItem] = useState<MediaItem | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (summary.status !== 'ready') return;
    let live = true;
    client.inbox
      .media(conversationId, messageId, summary.id)
      .then((m) => live && setItem(m))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [client, conversationId, messageId, summary.id, summary.status]);
  const label = summary.filename ?? (summary.kind === 'image' ? 'Photo' : summary.kind === 'video' ? 'Video' : summary.kind === 'audio' ? 'Voice note' : 'File');
  if (summary.status !== 'ready' || failed) return <span className="inbox-media-note">{label} ({summary.status === 'ready' ? 'not available' : summary.status})</span>;
  if (!item) return summary.placeholder ? <img className="inbox-media-img" src={summary.placeholder} alt={`${label} (loading)`} /> : <span className="inbox-media-note">{label}…</span>;
  const r = item.renditions;
  if (item.kind === 'image') {
    const src = r.preview?.url ?? r.thumbnail?.url;
    return src ? (
      <a href={src} target="_blank" rel="noreferrer">
        <img className={`inbox-media-img${item.blurred ? ' blurred' : ''}`} src={src} alt={label} />
      </a>
    ) : null;
  }
  // Customers' clips carry no captions MMD could offer.
  if (item.kind === 'video' && r.mp4)
    return (
      <video className="inbox-media-img" controls preload="none" poster={r.poster?.url} src={r.mp4.url} aria-label={label}>
        <track kind="captions" />
      </video>
    );
  if (item.kind === 'audio' && (r.aac || r.opus))
    return (
      <audio controls preload="none" src={(r.aac ?? r.opus)!.url} aria-label={label}>
        <track kind="captions" />
      </audio>
    );
  const file = r.file ?? Object.values(r)[0];
  return file ? (
    <a href={file.url} target="_blank" rel="noreferrer">
      {label}
    </a>
  ) : null;
}

function InboxComposer({ id, customerHandle, onSent, onNote }: { id: string; customerHandle: string; onSent: (m: Message) => void; onNote: (n: InboxNote) => void }) {
  const { client, business } = useBusiness();
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
  const [canned, setCanned] = useState<CannedReply[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // One key per reply until it is sent: a retry after a lost answer sends it once.
  const replyKey = useRef(crypto.randomUUID());

  useEffect(() => {
    client.inbox
      .cannedReplies()
      .then((r) => setCanned(r.canned_replies))
      .catch(() => {});
  }, [client]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = text.trim();
    if (!body) return;
    setBusy(true);
    setError(null);
    try {
      if (mode === 'reply') {
        onSent(await client.inbox.reply(id, { text: body, idempotency_key: replyKey.current }));
        replyKey.current = crypto.randomUUID();
      } else onNote(await client.inbox.addNote(id, body));
      setText('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const now = new Date();
  const vars = { handle: customerHandle, business: business.display_name, date: now.toLocaleDateString(), time: now.toLocaleTimeString(undefined, { timeStyle: 'short' }) };
  return (
    <form className={`inbox-composer ${mode}`} onSubmit={submit}>
      <div className="inbox-modes" role="radiogroup" aria-label="Write">
        <label>
          <input type="radio" name={`mode-${id}`} checked={mode === 'reply'} onChange={() => setMode('reply')} /> Reply to customer
        </label>
        <label>
          <input type="radio" name={`mode-${id}`} checked={mode === 'note'} onChange={() => setMode('note')} /> Internal note
        </label>
        {mode === 'reply' && canned.length > 0 && (
          <select
            aria-label="Insert a canned reply"
            value=""
            onChange={(e) => {
              const chosen = canned.find((r) => r.id === e.target.value);
              if (chosen) setText((t) => (t ? `${t} ${fill(chosen.text, vars)}` : fill(chosen.text, vars)));
            }}
          >
            <option value="">Canned replies…</option>
            {canned.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        )}
      </div>
      {mode === 'note' && <p className="inbox-note-label">Internal note — customers never see this</p>}
      <label className="visually-hidden" htmlFor={`composer-${id}`}>
        {mode === 'reply' ? `Reply to @${customerHandle} as ${business.display_name}` : 'Internal note for the team'}
      </label>
      <textarea
        id={`composer-${id}`}
        rows={3}
        maxLength={4096}
        value={text}
        placeholder={mode === 'reply' ? `Reply as ${business.display_name}` : 'Note for the team'}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit(e);
        }}
      />
      <ErrorAlert error={error} />
      <button type="submit" disabled={busy || !text.trim()}>
        {mode === 'reply' ? 'Send reply' : 'Add note'}
      </button>
    </form>
  );
}
