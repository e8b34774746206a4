/**
 * Automation for a business account, inside the "Bots & automation" page: on/off, business hours
 * (an IANA time zone and weekly hours), greeting and away messages, the words that hand a chat to
 * a person, the optional assistant, rules in the order they are tried, saved templates, and a
 * "try a message" box that shows which rule would fire and what would be sent, sending nothing.
 */
import type { AutomationActivity, AutomationSettings, Rule, RuleAction, RuleTrigger, Template, TryAutomationReply, UpdateAutomationBody } from '@mmd/sdk';
import { type FormEvent, useCallback, useEffect, useId, useMemo, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import './automation.css';
import { ErrorAlert } from '../error-alert.tsx';

const DAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;
type Day = (typeof DAYS)[number][0];

function timeZones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf(key: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

/** Reply buttons from comma-separated labels, three to a row. */
function buttonRows(labels: string): { type: 'reply'; text: string }[][] {
  const buttons = labels
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((text) => ({ type: 'reply' as const, text }));
  const rows: { type: 'reply'; text: string }[][] = [];
  for (let i = 0; i < buttons.length; i += 3) rows.push(buttons.slice(i, i + 3));
  return rows;
}

export function triggerText(trigger: RuleTrigger): string {
  switch (trigger.type) {
    case 'keywords':
      return `Message mentions ${trigger.keywords.map((k) => `“${k}”`).join(' or ')}`;
    case 'pattern':
      return `Message matches /${trigger.pattern}/${trigger.case_sensitive ? '' : 'i'}`;
    case 'first_message':
      return "Contact's first message";
    case 'outside_hours':
      return 'Outside business hours';
  }
}

function actionText(action: RuleAction, templates: Template[]): string {
  switch (action.type) {
    case 'reply':
      return `Reply “${action.text}”`;
    case 'interactive': {
      const labels = (action.buttons ?? []).flat().map((b) => b.text);
      return `Reply “${action.text}”${labels.length ? ` with buttons ${labels.map((l) => `[${l}]`).join(' ')}` : action.list ? ' with a list' : ' with a keyboard'}`;
    }
    case 'template':
      return `Send template “${templates.find((t) => t.id === action.template_id)?.name ?? 'deleted'}”`;
    case 'tag':
      return `Tag “${action.tag}”`;
    case 'handover':
      return 'Hand over to a person';
    case 'webhook':
      return `Call ${action.url}`;
  }
}

export function Automation() {
  const { client, me } = useSession();
  const [settings, setSettings] = useState<AutomationSettings | null>(null);
  const [rules, setRules] = useState<Rule[]>([]);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    Promise.all([client.automation.settings(), client.automation.rules(), client.automation.templates()])
      .then(([s, r, t]) => {
        setSettings(s);
        setRules(r);
        setTemplates(t);
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, [client]);
  useEffect(() => {
    if (me.kind === 'business') load();
  }, [load, me.kind]);

  if (me.kind !== 'business') {
    return (
      <section className="card automation" aria-labelledby="automation-heading">
        <h2 id="automation-heading">Automation</h2>
        <p className="hint">Automation (rules, greeting and away messages, an assistant) is for business accounts.</p>
      </section>
    );
  }
  return (
    <section className="card automation" aria-labelledby="automation-heading">
      <h2 id="automation-heading">Automation</h2>
      <p className="hint">
        Answers people who write to @{me.handle} in a direct chat. A person on your team who replies by hand takes the chat over;
        automation stays silent there until it is handed back.
      </p>
      <ErrorAlert error={error} />
      {settings === null && !error && <p className="hint">Loading…</p>}
      {settings && <SettingsForm settings={settings} onSaved={setSettings} />}
      {settings && (
        <Rules
          rules={rules}
          templates={templates}
          onChange={(next) => {
            setRules(next);
          }}
        />
      )}
      {settings && <Templates templates={templates} onChange={setTemplates} />}
      {settings && <TryBox />}
      {settings && <Activity rules={rules} />}
    </section>
  );
}

function SettingsForm({ settings, onSaved }: { settings: AutomationSettings; onSaved: (s: AutomationSettings) => void }) {
  const { client } = useSession();
  const zones = useMemo(timeZones, []);
  const zoneList = useId();
  const [enabled, setEnabled] = useState(settings.enabled);
  const [useHours, setUseHours] = useState(settings.hours !== null);
  const [timezone, setTimezone] = useState(settings.hours?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC');
  const [days, setDays] = useState<Record<Day, { open: boolean; start: string; end: string }>>(() => {
    const out = {} as Record<Day, { open: boolean; start: string; end: string }>;
    for (const [day] of DAYS) {
      const range = settings.hours?.weekly[day]?.[0];
      out[day] = { open: Boolean(range), start: range?.start ?? '09:00', end: range?.end ?? '17:00' };
    }
    return out;
  });
  const [greeting, setGreeting] = useState(settings.greeting);
  const [away, setAway] = useState(settings.away);
  const [handoverWords, setHandoverWords] = useState(settings.handover.keywords.join(', '));
  const [handoverText, setHandoverText] = useState(settings.handover.text ?? '');
  const [assistant, setAssistant] = useState(settings.assistant);
  const [apiKey, setApiKey] = useState('');
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setStatus(null);
    const weekly: Partial<Record<Day, { start: string; end: string }[]>> = {};
    for (const [day] of DAYS) if (days[day].open) weekly[day] = [{ start: days[day].start, end: days[day].end }];
    const body: UpdateAutomationBody = {
      enabled,
      hours: useHours ? { timezone, weekly } : null,
      greeting: { enabled: greeting.enabled, text: greeting.text?.trim() || null },
      away: { enabled: away.enabled && useHours, text: away.text?.trim() || null },
      handover: {
        keywords: handoverWords
          .split(',')
          .map((w) => w.trim())
          .filter(Boolean),
        text: handoverText.trim() || null,
      },
      assistant: {
        enabled: assistant.enabled,
        url: assistant.url?.trim() || null,
        model: assistant.model?.trim() || null,
        system_prompt: assistant.system_prompt?.trim() || null,
        context_messages: assistant.context_messages,
        ...(apiKey ? { api_key: apiKey } : {}),
      },
    };
    try {
      const saved = await client.automation.updateSettings(body);
      onSaved(saved);
      setAssistant(saved.assistant);
      setApiKey('');
      setStatus({ ok: true, text: 'Saved.' });
    } catch (err) {
      setStatus({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="automation-settings" onSubmit={save} aria-label="Automation settings">
      <label className="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Automation on
      </label>

      <fieldset>
        <legend>Business hours</legend>
        <label className="check">
          <input type="checkbox" checked={useHours} onChange={(e) => setUseHours(e.target.checked)} /> Set business hours
        </label>
        {useHours && (
          <>
            <label>
              Time zone
              <input list={zoneList} value={timezone} onChange={(e) => setTimezone(e.target.value)} required />
              <datalist id={zoneList}>
                {zones.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </label>
            <div className="automation-days">
              {DAYS.map(([day, name]) => (
                <div key={day} className="automation-day">
                  <label className="check">
                    <input type="checkbox" checked={days[day].open} onChange={(e) => setDays({ ...days, [day]: { ...days[day], open: e.target.checked } })} /> {name}
                  </label>
                  {days[day].open && (
                    <>
                      <input type="time" aria-label={`${name} opens`} value={days[day].start} onChange={(e) => setDays({ ...days, [day]: { ...days[day], start: e.target.value } })} />
                      <span aria-hidden="true">–</span>
                      <input type="time" aria-label={`${name} closes`} value={days[day].end} onChange={(e) => setDays({ ...days, [day]: { ...days[day], end: e.target.value } })} />
                    </>
                  )}
                </div>
              ))}
            </div>
          </>
        )}
      </fieldset>

      <fieldset>
        <legend>Greeting and away messages</legend>
        <label className="check">
          <input type="checkbox" checked={greeting.enabled} onChange={(e) => setGreeting({ ...greeting, enabled: e.target.checked })} /> Greet a contact's first message
        </label>
        <label>
          Greeting
          <textarea rows={2} value={greeting.text ?? ''} onChange={(e) => setGreeting({ ...greeting, text: e.target.value })} placeholder="Hi {{handle}}, thanks for writing to {{business}}!" />
        </label>
        <label className="check">
          <input type="checkbox" checked={away.enabled} disabled={!useHours} onChange={(e) => setAway({ ...away, enabled: e.target.checked })} /> Answer outside business hours
        </label>
        <label>
          Away message
          <textarea rows={2} value={away.text ?? ''} onChange={(e) => setAway({ ...away, text: e.target.value })} placeholder="We are closed now and answer from 9:00." />
        </label>
        <p className="hint">Placeholders: {'{{handle}}'} (the contact), {'{{business}}'}, {'{{date}}'}, {'{{time}}'}.</p>
      </fieldset>

      <fieldset>
        <legend>Handing over to a person</legend>
        <label>
          Words that ask for a person (comma-separated)
          <input value={handoverWords} onChange={(e) => setHandoverWords(e.target.value)} />
        </label>
        <label>
          Reply when that happens
          <input value={handoverText} onChange={(e) => setHandoverText(e.target.value)} />
        </label>
      </fieldset>

      <fieldset>
        <legend>Assistant</legend>
        <p className="hint">Any OpenAI-compatible chat-completions API answers where no rule matched, with the chat's recent messages as context. Its answers are labelled automated.</p>
        <label className="check">
          <input type="checkbox" checked={assistant.enabled} onChange={(e) => setAssistant({ ...assistant, enabled: e.target.checked })} /> Assistant on
        </label>
        <label>
          API base URL
          <input type="url" value={assistant.url ?? ''} onChange={(e) => setAssistant({ ...assistant, url: e.target.value })} placeholder="https://api.example.com/v1" />
        </label>
        <label>
          Model
          <input value={assistant.model ?? ''} onChange={(e) => setAssistant({ ...assistant, model: e.target.value })} />
        </label>
        <label>
          API key
          <input type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} placeholder={assistant.api_key_set ? 'stored (type to replace)' : ''} />
        </label>
        <label>
          Instructions
          <textarea rows={2} value={assistant.system_prompt ?? ''} onChange={(e) => setAssistant({ ...assistant, system_prompt: e.target.value })} />
        </label>
        <label>
          Messages of context
          <input type="number" min={1} max={30} value={assistant.context_messages} onChange={(e) => setAssistant({ ...assistant, context_messages: Math.min(30, Math.max(1, Number(e.target.value) || 1)) })} />
        </label>
      </fieldset>
      <div className="automation-save">
        <button type="submit" className="primary" disabled={busy}>
          Save settings
        </button>
        {status && (
          <span className={status.ok ? 'hint' : 'error'} role={status.ok ? 'status' : 'alert'}>
            {status.text}
          </span>
        )}
      </div>
    </form>
  );
}

function Rules({ rules, templates, onChange }: { rules: Rule[]; templates: Template[]; onChange: (rules: Rule[]) => void }) {
  const { client } = useSession();
  const [error, setError] = useState<string | null>(null);

  async function act(fn: () => Promise<unknown>) {
    setError(null);
    try {
      await fn();
      onChange(await client.automation.rules());
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function move(index: number, by: -1 | 1) {
    const order = [...rules];
    const [rule] = order.splice(index, 1);
    order.splice(index + by, 0, rule!);
    await act(() => Promise.all(order.map((r, position) => (r.position === position ? null : client.automation.updateRule(r.id, { position })))));
  }

  return (
    <section className="automation-rules" aria-labelledby="rules-heading">
      <h3 id="rules-heading">Rules</h3>
      <p className="hint">Tried from the top; the first that matches fires.</p>
      <ErrorAlert error={error} />
      {rules.length === 0 && <p className="hint">No rules yet.</p>}
      <ol className="automation-rule-list">
        {rules.map((rule, i) => (
          <li key={rule.id} className={rule.enabled ? 'automation-rule' : 'automation-rule off'} aria-label={`Rule ${rule.name}`}>
            <div className="automation-rule-text">
              <strong>{rule.name}</strong>
              <span>When: {triggerText(rule.trigger)}</span>
              <span>Then: {rule.actions.map((a) => actionText(a, templates)).join('; ')}</span>
            </div>
            <div className="automation-rule-actions">
              <label className="check">
                <input type="checkbox" checked={rule.enabled} onChange={(e) => void act(() => client.automation.updateRule(rule.id, { enabled: e.target.checked }))} /> On
              </label>
              <button type="button" aria-label={`Move ${rule.name} up`} disabled={i === 0} onClick={() => void move(i, -1)}>
                ↑
              </button>
              <button type="button" aria-label={`Move ${rule.name} down`} disabled={i === rules.length - 1} onClick={() => void move(i, 1)}>
                ↓
              </button>
              <button type="button" className="danger" aria-label={`Delete ${rule.name}`} onClick={() => void act(() => client.automation.deleteRule(rule.id))}>
                Delete
              </button>
            </div>
          </li>
        ))}
      </ol>
      <NewRule templates={templates} onCreated={() => void act(async () => {})} />
    </section>
  );
}

function NewRule({ templates, onCreated }: { templates: Template[]; onCreated: () => void }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [triggerType, setTriggerType] = useState<RuleTrigger['type']>('keywords');
  const [triggerValue, setTriggerValue] = useState('');
  const [actionType, setActionType] = useState<RuleAction['type']>('reply');
  const [actionValue, setActionValue] = useState('');
  const [alsoTag, setAlsoTag] = useState('');
  const [buttonLabels, setButtonLabels] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const trigger: RuleTrigger =
      triggerType === 'keywords'
        ? {
            type: 'keywords',
            keywords: triggerValue
              .split(',')
              .map((k) => k.trim())
              .filter(Boolean),
          }
        : triggerType === 'pattern'
          ? { type: 'pattern', pattern: triggerValue }
          : { type: triggerType };
    const action: RuleAction =
      actionType === 'reply'
        ? { type: 'reply', text: actionValue }
        : actionType === 'interactive'
          ? { type: 'interactive', text: actionValue, buttons: buttonRows(buttonLabels) }
        : actionType === 'template'
          ? { type: 'template', template_id: actionValue }
          : actionType === 'tag'
            ? { type: 'tag', tag: actionValue }
            : actionType === 'webhook'
              ? { type: 'webhook', url: actionValue }
              : { type: 'handover' };
    const actions: RuleAction[] = [action, ...(alsoTag.trim() && actionType !== 'tag' ? [{ type: 'tag' as const, tag: alsoTag.trim() }] : [])];
    try {
      await client.automation.createRule({ name: name.trim(), trigger, actions });
      setName('');
      setTriggerValue('');
      setActionValue('');
      setAlsoTag('');
      setButtonLabels('');
      onCreated();
    } catch (err) {
      setError(errorText(err));
    }
  }

  const needsTriggerValue = triggerType === 'keywords' || triggerType === 'pattern';
  return (
    <form className="automation-new-rule" onSubmit={create} aria-label="New rule">
      <h4>Add a rule</h4>
      <label>
        Rule name
        <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
      </label>
      <label>
        When
        <select aria-label="When" value={triggerType} onChange={(e) => setTriggerType(e.target.value as RuleTrigger['type'])}>
          <option value="keywords">the message mentions a keyword</option>
          <option value="pattern">the message matches a pattern</option>
          <option value="first_message">it is the contact's first message</option>
          <option value="outside_hours">it arrives outside business hours</option>
        </select>
      </label>
      {needsTriggerValue && (
        <label>
          {triggerType === 'keywords' ? 'Keywords (comma-separated)' : 'Pattern (RE2 syntax, ≤ 200 characters)'}
          <input value={triggerValue} onChange={(e) => setTriggerValue(e.target.value)} required maxLength={triggerType === 'pattern' ? 200 : 1000} />
        </label>
      )}
      <label>
        Then
        <select aria-label="Then" value={actionType} onChange={(e) => setActionType(e.target.value as RuleAction['type'])}>
          <option value="reply">reply with a text</option>
          <option value="interactive">reply with buttons</option>
          <option value="template" disabled={templates.length === 0}>
            send a template
          </option>
          <option value="tag">tag the chat</option>
          <option value="handover">hand over to a person</option>
          <option value="webhook">call a webhook</option>
        </select>
      </label>
      {(actionType === 'reply' || actionType === 'interactive') && (
        <label>
          Reply text
          <textarea rows={2} value={actionValue} onChange={(e) => setActionValue(e.target.value)} required />
        </label>
      )}
      {actionType === 'interactive' && (
        <label>
          Button labels (comma-separated; tapping one sends it as the contact's reply)
          <input value={buttonLabels} onChange={(e) => setButtonLabels(e.target.value)} required />
        </label>
      )}
      {actionType === 'template' && (
        <label>
          Template
          <select aria-label="Template" value={actionValue} onChange={(e) => setActionValue(e.target.value)} required>
            <option value="">Choose…</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {actionType === 'tag' && (
        <label>
          Tag
          <input value={actionValue} onChange={(e) => setActionValue(e.target.value)} required maxLength={32} />
        </label>
      )}
      {actionType === 'webhook' && (
        <label>
          Webhook URL
          <input type="url" value={actionValue} onChange={(e) => setActionValue(e.target.value)} required />
        </label>
      )}
      {actionType !== 'tag' && (
        <label>
          Also tag the chat (optional)
          <input value={alsoTag} onChange={(e) => setAlsoTag(e.target.value)} maxLength={32} />
        </label>
      )}
      <ErrorAlert error={error} />
      <button type="submit" className="primary">
        Add rule
      </button>
    </form>
  );
}

function Templates({ templates, onChange }: { templates: Template[]; onChange: (t: Template[]) => void }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function act(fn: () => Promise<unknown>) {
    setError(null);
    try {
      await fn();
      onChange(await client.automation.templates());
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    }
  }

  return (
    <section className="automation-templates" aria-labelledby="templates-heading">
      <h3 id="templates-heading">Templates</h3>
      {templates.length === 0 && <p className="hint">Saved messages a rule can send, with placeholders such as {'{{handle}}'}.</p>}
      <ul>
        {templates.map((t) => (
          <li key={t.id}>
            <strong>{t.name}</strong>: {t.text}{' '}
            <button type="button" className="link" aria-label={`Delete template ${t.name}`} onClick={() => void act(() => client.automation.deleteTemplate(t.id))}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <form
        aria-label="New template"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => client.automation.createTemplate({ name: name.trim(), text })).then((ok) => {
            if (ok) {
              setName('');
              setText('');
            }
          });
        }}
      >
        <label>
          Template name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={64} />
        </label>
        <label>
          Template text
          <textarea rows={2} value={text} onChange={(e) => setText(e.target.value)} required />
        </label>
        <ErrorAlert error={error} />
        <button type="submit">Save template</button>
      </form>
    </section>
  );
}

function TryBox() {
  const { client } = useSession();
  const [text, setText] = useState('');
  const [first, setFirst] = useState(false);
  const [result, setResult] = useState<TryAutomationReply | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function tryIt(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      setResult(await client.automation.try({ text, first_message: first }));
    } catch (err) {
      setResult(null);
      setError(errorText(err));
    }
  }

  return (
    <section className="automation-try" aria-labelledby="try-heading">
      <h3 id="try-heading">Try a message</h3>
      <form onSubmit={tryIt} aria-label="Try a message">
        <label>
          A contact writes
          <textarea rows={2} value={text} onChange={(e) => setText(e.target.value)} required />
        </label>
        <label className="check">
          <input type="checkbox" checked={first} onChange={(e) => setFirst(e.target.checked)} /> as their first message
        </label>
        <button type="submit">Try</button>
      </form>
      <ErrorAlert error={error} />
      {result && (
        <div className="automation-try-result" role="status" aria-label="Try result">
          {!result.enabled && <p className="hint">Automation is off: nothing would be sent until you turn it on.</p>}
          <p>{result.rule ? `Rule “${result.rule.name}” would fire.` : 'No rule matches.'}</p>
          {result.outside_hours && <p className="hint">This is outside business hours.</p>}
          {result.steps.length === 0 ? (
            <p>Nothing would be sent.</p>
          ) : (
            <ol>
              {result.steps.map((step, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: steps are a fixed, ordered answer
                <li key={i}>
                  {step.type === 'send'
                    ? `Would send (${step.source}): ${step.text}${step.buttons?.length ? ` [${step.buttons.flat().map((b) => b.text).join('] [')}]` : ''}`
                    : step.type === 'tag'
                      ? `Would tag the chat “${step.tag}”`
                      : step.type === 'handover'
                        ? 'Would hand the chat to a person'
                        : step.type === 'webhook'
                          ? `Would call ${step.url}`
                          : 'The assistant would answer'}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  );
}

function outcomeText(outcome: string, rules: Rule[]): string {
  if (outcome.startsWith('rule:')) return `rule “${rules.find((r) => r.id === outcome.slice(5))?.name ?? 'deleted'}” fired`;
  const words: Record<string, string> = {
    greeting_or_away: 'greeting or away message sent',
    assistant: 'the assistant answered',
    handover: 'the contact asked for a person',
    none: 'nothing matched',
    human: 'a person has the chat: nothing sent',
    rate_limited: 'too many answers in this chat lately: nothing sent',
    disabled: 'automation was off',
    not_a_person: 'not from a person: never answered',
    refused: 'the answer could not be sent',
    assistant_failed: 'the assistant did not answer',
  };
  return words[outcome] ?? outcome;
}

function Activity({ rules }: { rules: Rule[] }) {
  const { client } = useSession();
  const [activity, setActivity] = useState<AutomationActivity[] | null>(null);
  const load = useCallback(() => {
    client.automation
      .activity(20)
      .then(setActivity)
      .catch(() => setActivity([]));
  }, [client]);
  useEffect(load, [load]);
  return (
    <section className="automation-activity" aria-labelledby="activity-heading">
      <h3 id="activity-heading">Recent activity</h3>
      <button type="button" onClick={load}>
        Refresh
      </button>
      {activity?.length === 0 && <p className="hint">Nothing yet: what automation does with your contacts' messages shows here.</p>}
      {activity && activity.length > 0 && (
        <ul>
          {activity.map((a) => (
            <li key={`${a.message_id}`}>
              <time dateTime={new Date(a.at).toISOString()}>{new Date(a.at).toLocaleString()}</time>: {outcomeText(a.outcome, rules)}
              {a.sent > 0 ? ` (${a.sent} sent)` : ''}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
