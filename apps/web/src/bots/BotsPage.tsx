/**
 * "Bots & automation": for people who own bots and for business accounts. Create a bot (its token
 * is shown once), rotate the token, list its "/" commands, register webhooks (their signing secret
 * is shown once), read each webhook's delivery log and replay a failed delivery. Business accounts
 * manage their own account's webhooks here too, and their automation rules below (the automation
 * panel, `./Automation.tsx`, when this build has it).
 */
import { type ComponentType, type FormEvent, lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { copyText } from '../interactive/Buttons.tsx';
import { clock, fullDate } from '../messenger/format.ts';
import { useConfirm } from '../messenger/Confirm.tsx';
import { useSession } from '../session.tsx';
import {
  type Bot,
  botCommands,
  type Command,
  createBot,
  createWebhook,
  type Delivery,
  deleteBot,
  deleteWebhook,
  deliveries,
  myBots,
  replayDelivery,
  rotateToken,
  setBotCommands,
  updateWebhook,
  type Webhook,
  webhooks,
} from './api.ts';
import '../interactive/interactive.css';
import '../messenger/messenger.css';
import './bots.css';
import { ErrorAlert } from '../error-alert.tsx';

// The automation panel is written separately; this page renders it when the build has it.
const automationModule = import.meta.glob<{ Automation?: ComponentType; default?: ComponentType }>('./Automation.tsx');
const automationLoader = automationModule['./Automation.tsx'];
const AutomationPanel = automationLoader
  ? lazy(() => automationLoader().then((m) => ({ default: (m.Automation ?? m.default ?? (() => null)) as ComponentType })))
  : null;

export function BotsPage() {
  const { client, me } = useSession();
  const [bots, setBots] = useState<Bot[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);

  const load = useCallback(() => {
    myBots(client)
      .then(setBots)
      .catch((err: unknown) => setError(errorText(err)));
  }, [client]);
  useEffect(load, [load]);

  return (
    <div className="bots-page">
      <h1>Bots &amp; automation</h1>
      <p className="hint">
        Bots are accounts you own that software drives through the API (or the Telegram-compatible path) with their token.
        Webhooks send their events, signed, to a URL of yours.
      </p>
      {secret && <SecretBox title={secret.title} value={secret.value} onDone={() => setSecret(null)} />}
      <section className="card bots-section" aria-labelledby="bots-heading">
        <h2 id="bots-heading">Your bots</h2>
        <ErrorAlert error={error} />
        {bots === null && !error && <p className="hint">Loading…</p>}
        {bots && bots.length === 0 && <p className="hint">You have no bots yet.</p>}
        {bots?.map((bot) => (
          <BotPanel
            key={bot.id}
            bot={bot}
            onSecret={(title, value) => setSecret({ title, value })}
            onDeleted={() => setBots((list) => (list ?? []).filter((b) => b.id !== bot.id))}
          />
        ))}
        <CreateBot
          onCreated={(bot, token) => {
            setBots((list) => [...(list ?? []), bot]);
            setSecret({ title: `The token of @${bot.handle}`, value: token });
          }}
        />
      </section>
      {me.kind === 'business' && (
        <section className="card bots-section" aria-labelledby="account-hooks-heading">
          <h2 id="account-hooks-heading">Webhooks of @{me.handle}</h2>
          <Webhooks botId={null} onSecret={(title, value) => setSecret({ title, value })} />
        </section>
      )}
      {AutomationPanel && (
        <div className="bots-section automation-mount">
          <Suspense fallback={<p className="hint">Loading automation…</p>}>
            <AutomationPanel />
          </Suspense>
        </div>
      )}
    </div>
  );
}

/** A token or signing secret, shown once: copy it now. */
function SecretBox({ title, value, onDone }: { title: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <section className="secret-box" aria-labelledby="secret-heading">
      <h2 id="secret-heading">{title}</h2>
      <p>Copy it now and keep it safe: it is shown only this once. Anyone who has it can act as its owner.</p>
      <code className="secret-value" data-testid="secret">
        {value}
      </code>
      <div className="secret-actions">
        <button
          type="button"
          onClick={() => {
            void copyText(value).then((ok) => setCopied(ok));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="primary" onClick={onDone}>
          I have saved it
        </button>
      </div>
    </section>
  );
}

function CreateBot({ onCreated }: { onCreated: (bot: Bot, token: string) => void }) {
  const { client } = useSession();
  const [handle, setHandle] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await createBot(client, { handle: handle.trim().replace(/^@/, ''), name: name.trim() });
      setHandle('');
      setName('');
      onCreated(created.bot, created.token);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="create-bot" onSubmit={submit} aria-labelledby="create-bot-heading">
      <h3 id="create-bot-heading">Create a bot</h3>
      <div className="field-row">
        <div className="field">
          <label htmlFor="bot-handle">Handle</label>
          <input id="bot-handle" required autoCapitalize="none" spellCheck={false} placeholder="@weather_bot" value={handle} onChange={(e) => setHandle(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="bot-name">Name</label>
          <input id="bot-name" required maxLength={64} placeholder="Weather" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
      </div>
      <ErrorAlert error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Creating…' : 'Create bot'}
      </button>
    </form>
  );
}

function BotPanel({ bot, onSecret, onDeleted }: { bot: Bot; onSecret: (title: string, value: string) => void; onDeleted: () => void }) {
  const { client } = useSession();
  const [confirm, ask] = useConfirm();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [tokenAt, setTokenAt] = useState(bot.token_created_at ?? bot.created_at);
  const rotate = async () => {
    const ok = await ask({
      title: `Rotate the token of @${bot.handle}?`,
      detail: 'The current token stops working at once and the bot’s open connections close. The new token is shown once.',
      confirm: 'Rotate token',
    });
    if (!ok) return;
    setBusy(true);
    setError(null);
    try {
      const reply = await rotateToken(client, bot.id);
      setTokenAt(reply.bot.token_created_at ?? Date.now());
      onSecret(`The new token of @${bot.handle}`, reply.token);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    const ok = await ask({ title: `Delete @${bot.handle}?`, detail: 'Its token dies, its connections close and its webhooks stop.', confirm: 'Delete bot' });
    if (!ok) return;
    try {
      await deleteBot(client, bot.id);
      onDeleted();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <article className="bot-panel" aria-labelledby={`bot-${bot.id}`}>
      <div className="bot-head">
        <div>
          <h3 id={`bot-${bot.id}`}>
            {bot.name} <span className="hint">@{bot.handle}</span> <span className="bot-badge">bot</span>
          </h3>
          <p className="hint">
            Created {fullDate(bot.created_at)} · token from {fullDate(tokenAt)}
          </p>
        </div>
        <div className="bot-actions">
          <button type="button" disabled={busy} onClick={() => void rotate()}>
            Rotate token
          </button>
          <button type="button" className="danger" onClick={() => void remove()}>
            Delete
          </button>
        </div>
      </div>
      <ErrorAlert error={error} />
      <details className="bot-detail">
        <summary>Commands</summary>
        <Commands bot={bot} />
      </details>
      <details className="bot-detail" open>
        <summary>Webhooks</summary>
        <Webhooks botId={bot.id} onSecret={onSecret} />
      </details>
      {confirm}
    </article>
  );
}

/** The "/" menu people see in a chat with the bot: one command per line, "command — description". */
function Commands({ bot }: { bot: Bot }) {
  const { client } = useSession();
  const [text, setText] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    botCommands(client, bot.id)
      .then((list) => setText(list.map((c) => `${c.command} - ${c.description}`).join('\n')))
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, bot.id]);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setStatus(null);
    const commands: Command[] = [];
    for (const line of (text ?? '').split('\n')) {
      if (!line.trim()) continue;
      const match = /^\/?([a-z0-9_]{1,32})\s*[-—:]\s*(.+)$/.exec(line.trim());
      if (!match) {
        setError(`“${line.trim()}” is not “command - description” (lower-case letters, digits and _).`);
        return;
      }
      commands.push({ command: match[1]!, description: match[2]!.trim() });
    }
    try {
      await setBotCommands(client, bot.id, commands);
      setStatus(`Saved ${commands.length === 1 ? '1 command' : `${commands.length} commands`}.`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const id = `commands-${bot.id}`;
  return (
    <form onSubmit={(e) => void save(e)} className="commands-form">
      <label htmlFor={id}>Commands, one per line</label>
      <textarea id={id} rows={4} className="ic-text" placeholder={'start - Start over\nhelp - What I can do'} value={text ?? ''} disabled={text === null} onChange={(e) => setText(e.target.value)} />
      <ErrorAlert error={error} />
      {status && <p role="status">{status}</p>}
      <button type="submit" disabled={text === null}>
        Save commands
      </button>
    </form>
  );
}

function Webhooks({ botId, onSecret }: { botId: string | null; onSecret: (title: string, value: string) => void }) {
  const { client } = useSession();
  const [list, setList] = useState<Webhook[] | null>(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, ask] = useConfirm();
  useEffect(() => {
    webhooks(client, botId)
      .then(setList)
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, botId]);
  const add = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const types = events.split(/[\s,]+/).filter(Boolean);
      const created = await createWebhook(client, botId, { url: url.trim(), events: types.length ? types : undefined });
      const { secret, ...hook } = created;
      setList((l) => [...(l ?? []), hook]);
      setUrl('');
      setEvents('');
      onSecret(`The signing secret of the webhook to ${hook.url}`, secret);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const prefix = botId ?? 'account';
  return (
    <div className="webhooks">
      {list && list.length === 0 && <p className="hint">No webhooks: events wait for long polling (GET /v1/updates).</p>}
      {list && list.length > 0 && (
        <ul className="webhook-list">
          {list.map((hook) => (
            <WebhookItem
              key={hook.id}
              hook={hook}
              onChange={(h) => setList((l) => (l ?? []).map((x) => (x.id === h.id ? h : x)))}
              onDelete={async () => {
                if (!(await ask({ title: 'Delete this webhook?', detail: hook.url, confirm: 'Delete webhook' }))) return;
                try {
                  await deleteWebhook(client, hook.id);
                  setList((l) => (l ?? []).filter((x) => x.id !== hook.id));
                } catch (err) {
                  setError(errorText(err));
                }
              }}
            />
          ))}
        </ul>
      )}
      <form className="add-webhook" onSubmit={(e) => void add(e)}>
        <div className="field">
          <label htmlFor={`hook-url-${prefix}`}>Webhook URL</label>
          <input id={`hook-url-${prefix}`} type="url" required placeholder="https://example.com/mmd" value={url} onChange={(e) => setUrl(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`hook-events-${prefix}`}>Event types (optional)</label>
          <input
            id={`hook-events-${prefix}`}
            placeholder="message.created callback.query"
            aria-describedby={`hook-events-hint-${prefix}`}
            value={events}
            onChange={(e) => setEvents(e.target.value)}
          />
          <p id={`hook-events-hint-${prefix}`} className="hint">
            Separated by spaces or commas; empty means every event.
          </p>
        </div>
        <ErrorAlert error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Adding…' : 'Add webhook'}
        </button>
      </form>
      {confirm}
    </div>
  );
}

const STATUS_WORDS: Record<Delivery['status'], string> = {
  pending: 'Retrying',
  succeeded: 'Delivered',
  failed: 'Failed',
  // Not sent: the account left the chat, or the message was deleted or taken down (last_error says which).
  dropped: 'Withdrawn',
};

function WebhookItem({ hook, onChange, onDelete }: { hook: Webhook; onChange: (h: Webhook) => void; onDelete: () => Promise<void> }) {
  const { client } = useSession();
  const [log, setLog] = useState<Delivery[] | null>(null);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [replayed, setReplayed] = useState<string | null>(null);
  const loadLog = useCallback(() => {
    deliveries(client, hook.id)
      .then(setLog)
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, hook.id]);
  useEffect(() => {
    if (open) loadLog();
  }, [open, loadLog]);
  const toggle = async () => {
    setError(null);
    try {
      onChange(await updateWebhook(client, hook.id, { enabled: hook.status !== 'active' }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  const replay = async (d: Delivery) => {
    setError(null);
    try {
      const again = await replayDelivery(client, hook.id, d.id);
      setLog((l) => (l ?? []).map((x) => (x.id === again.id ? again : x)));
      setReplayed(d.id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const logId = `log-${hook.id}`;
  return (
    <li className="webhook-item">
      <div className="webhook-head">
        <div className="webhook-url">
          <code>{hook.url}</code>
          <span className={`webhook-status ${hook.status}`}>{hook.status === 'active' ? 'Active' : 'Disabled'}</span>
          <span className="hint">
            {hook.events?.length ? hook.events.join(', ') : 'every event'}
            {hook.failing_since ? ` · failing since ${fullDate(hook.failing_since)}` : ''}
            {hook.disabled_reason ? ` · ${hook.disabled_reason}` : ''}
          </span>
        </div>
        <div className="bot-actions">
          <button type="button" aria-expanded={open} aria-controls={logId} onClick={() => setOpen((v) => !v)}>
            Delivery log
          </button>
          <button type="button" onClick={() => void toggle()}>
            {hook.status === 'active' ? 'Disable' : 'Enable'}
          </button>
          <button type="button" className="danger" onClick={() => void onDelete()}>
            Delete
          </button>
        </div>
      </div>
      <ErrorAlert error={error} />
      {open && (
        <div id={logId} className="delivery-log">
          <div className="row">
            <h4>Deliveries to {hook.url}</h4>
            <button type="button" onClick={loadLog}>
              Refresh
            </button>
          </div>
          {log === null ? (
            <p className="hint">Loading…</p>
          ) : log.length === 0 ? (
            <p className="hint">Nothing sent yet.</p>
          ) : (
            <div className="table-scroll">
              <table>
                <caption className="visually-hidden">Deliveries, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Event</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Answer</th>
                    <th scope="col">Latency</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {log.map((d) => (
                    <tr key={d.id} className={`delivery ${d.status}`}>
                      <td>
                        <time dateTime={new Date(d.created_at).toISOString()} title={fullDate(d.created_at)}>
                          {clock(d.created_at)}
                        </time>
                      </td>
                      <td>{d.event_type}</td>
                      <td>
                        {STATUS_WORDS[d.status]}
                        {d.status === 'pending' && d.next_attempt_at ? ` (next ${clock(d.next_attempt_at)})` : ''}
                      </td>
                      <td>{d.attempts}</td>
                      <td>{d.last_status ?? d.last_error ?? '—'}</td>
                      <td>{d.last_latency_ms === null ? '—' : `${d.last_latency_ms} ms`}</td>
                      <td>
                        {d.status === 'failed' && (
                          <button type="button" onClick={() => void replay(d)} aria-label={`Replay ${d.event_type} delivery from ${clock(d.created_at)}`}>
                            Replay
                          </button>
                        )}
                        {replayed === d.id && d.status !== 'failed' && <span className="hint">Replayed</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </li>
  );
}
