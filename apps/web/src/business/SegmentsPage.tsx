/**
 * Segments: saved audiences. The builder edits a rule — conditions on tags, typed attributes,
 * consent per purpose, locale, time zone and activity (read, replied, clicked), combined with
 * "all" or "any", nested in groups, each negatable — and shows how many contacts it matches now,
 * counted by the server as the rule changes (debounced, and only the newest answer counts).
 */
import type { AttributeDefinition, ConsentPurpose, Segment, SegmentRule } from '@mmd/sdk';
import { MmdError } from '@mmd/sdk';
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { useConfirm } from '../messenger/Confirm.tsx';
import { Link, navigate } from '../router.tsx';
import { useBusiness } from './context.ts';
import { count as formatCount, plural, when } from './format.ts';
import { useDebounced } from './hooks.ts';
import { FormFeedback, PageHead } from './feedback.tsx';
import { ErrorAlert } from '../error-alert.tsx';

export function SegmentsPage({ rest }: { rest: string[] }) {
  if (rest[0] === 'new') return <SegmentEditor key="new" id={null} />;
  if (rest[0]) return <SegmentEditor key={rest[0]} id={rest[0]} />;
  return <SegmentList />;
}

function SegmentList() {
  const { client, can, href } = useBusiness();
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const [counts, setCounts] = useState<Record<string, number | string>>({});
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client.segments
      .list()
      .then(({ segments: list }) => {
        if (!live) return;
        setSegments(list);
        for (const s of list)
          client.segments
            .countSaved(s.id)
            .then((c) => live && setCounts((all) => ({ ...all, [s.id]: c.count })))
            .catch((err: unknown) => live && setCounts((all) => ({ ...all, [s.id]: errorText(err) })));
      })
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client]);
  return (
    <div className="biz-page">
      <PageHead title="Segments" create={can('campaigns:write') ? { label: 'New segment', href: href('segments', 'new') } : null} />
      <ErrorAlert error={error} />
      {segments === null && !error && <p className="hint">Loading…</p>}
      {segments?.length === 0 && <p className="hint">No segments yet. A segment is a saved rule: “opted in to marketing, tagged vip, read something in the last 30 days”.</p>}
      {segments && segments.length > 0 && (
        <div className="table-scroll">
          <table className="biz-table">
            <caption className="visually-hidden">Segments</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Contacts now</th>
                <th scope="col">Description</th>
                <th scope="col">Changed</th>
              </tr>
            </thead>
            <tbody>
              {segments.map((s) => (
                <tr key={s.id} data-segment={s.name}>
                  <th scope="row">
                    <Link href={href('segments', s.id)}>{s.name}</Link>
                  </th>
                  <td>{counts[s.id] === undefined ? '…' : typeof counts[s.id] === 'number' ? formatCount(counts[s.id] as number) : <span className="error">{counts[s.id]}</span>}</td>
                  <td>{s.description ?? '—'}</td>
                  <td>{when(s.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// The builder's tree: a group of conditions and groups, each negatable.
type Kind = 'tag' | 'attribute' | 'consent' | 'locale' | 'time_zone' | 'activity';
type Cond = { key: number; type: 'cond'; not: boolean; kind: Kind; text: string; attr: string; op: string; value: string; value2: string; purpose: string; state: string; activity: string; days: string };
type Group = { key: number; type: 'group'; not: boolean; match: 'all' | 'any'; items: Node[] };
type Node = Cond | Group;

let keys = 0;
const nextKey = () => ++keys;

const KIND_WORDS: Record<Kind, string> = {
  tag: 'Tag',
  attribute: 'Attribute',
  consent: 'Consent',
  locale: 'Locale',
  time_zone: 'Time zone',
  activity: 'Activity',
};
const OPS_BY_TYPE: Record<string, string[]> = {
  text: ['eq', 'ne', 'in', 'contains', 'starts_with', 'exists'],
  phone: ['eq', 'ne', 'in', 'starts_with', 'exists'],
  number: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'between', 'in', 'exists'],
  date: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'between', 'exists'],
  boolean: ['eq', 'ne', 'exists'],
};
const OP_WORDS: Record<string, string> = {
  eq: 'is',
  ne: 'is not',
  lt: 'is less than',
  lte: 'is at most',
  gt: 'is more than',
  gte: 'is at least',
  between: 'is between',
  in: 'is one of',
  contains: 'contains',
  starts_with: 'starts with',
  exists: 'is set',
};
const DATE_OP_WORDS: Record<string, string> = { lt: 'is before', lte: 'is on or before', gt: 'is after', gte: 'is on or after' };
const ACTIVITY_WORDS: Record<string, string> = { read: 'Read a message', reply: 'Replied', click: 'Tapped a link' };
const ACTIVITY_OP_WORDS: Record<string, string> = { within_days: 'in the last … days', before_days: 'not in the last … days', ever: 'ever', never: 'never' };

function emptyCond(kind: Kind = 'tag'): Cond {
  return { key: nextKey(), type: 'cond', not: false, kind, text: '', attr: '', op: 'eq', value: '', value2: '', purpose: 'marketing', state: 'opted_in', activity: 'read', days: '30' };
}

const list = (s: string) => s.split(/[\s,]+/).filter(Boolean);
const one = (xs: string[]): string | string[] => (xs.length === 1 ? xs[0]! : xs);

function typed(type: string, v: string): string | number | boolean {
  if (type === 'number') return v.trim() === '' ? Number.NaN : Number(v);
  if (type === 'boolean') return v !== 'false';
  return v;
}

function ruleOf(node: Node, types: Map<string, string>): SegmentRule {
  let rule: SegmentRule;
  if (node.type === 'group') {
    const items = node.items.map((n) => ruleOf(n, types));
    rule = node.match === 'all' ? { all: items } : { any: items };
  } else {
    switch (node.kind) {
      case 'tag':
        rule = { tag: one(list(node.text)) };
        break;
      case 'locale':
        rule = { locale: one(list(node.text)) };
        break;
      case 'time_zone':
        rule = { time_zone: one(list(node.text)) };
        break;
      case 'consent':
        rule = { consent: node.purpose, state: node.state as 'opted_in' };
        break;
      case 'activity':
        rule = { activity: node.activity as 'read', op: node.op as 'ever', ...(node.op === 'within_days' || node.op === 'before_days' ? { days: Number(node.days) } : {}) };
        break;
      case 'attribute': {
        const type = types.get(node.attr) ?? 'text';
        const value = node.op === 'exists' ? undefined : node.op === 'between' ? [typed(type, node.value), typed(type, node.value2)] : node.op === 'in' ? node.value.split(',').map((v) => typed(type, v.trim())) : typed(type, node.value);
        rule = { attribute: node.attr, op: node.op as 'eq', ...(value === undefined ? {} : { value: value as string }) };
        break;
      }
    }
  }
  return node.not ? { not: rule } : rule;
}

function nodeOf(rule: SegmentRule): Node {
  if ('not' in rule) return { ...nodeOf(rule.not), not: true };
  if ('all' in rule) return { key: nextKey(), type: 'group', not: false, match: 'all', items: rule.all.map(nodeOf) };
  if ('any' in rule) return { key: nextKey(), type: 'group', not: false, match: 'any', items: rule.any.map(nodeOf) };
  const text = (v: string | string[]) => (Array.isArray(v) ? v.join(' ') : v);
  if ('tag' in rule) return { ...emptyCond('tag'), text: text(rule.tag) };
  if ('locale' in rule) return { ...emptyCond('locale'), text: text(rule.locale) };
  if ('time_zone' in rule) return { ...emptyCond('time_zone'), text: text(rule.time_zone) };
  if ('consent' in rule) return { ...emptyCond('consent'), purpose: rule.consent, state: rule.state };
  if ('activity' in rule) return { ...emptyCond('activity'), activity: rule.activity, op: rule.op, days: String(rule.days ?? 30) };
  const v = rule.value;
  return {
    ...emptyCond('attribute'),
    attr: rule.attribute,
    op: rule.op,
    value: Array.isArray(v) ? (rule.op === 'between' ? String(v[0]) : v.join(', ')) : v === undefined ? '' : String(v),
    value2: Array.isArray(v) && rule.op === 'between' ? String(v[1]) : '',
  };
}

/** The root of the builder is always a group (its "all / any" is the question at the top). */
function rootOf(rule: SegmentRule): Group {
  const node = nodeOf(rule);
  return node.type === 'group' && !node.not ? node : { key: nextKey(), type: 'group', not: false, match: 'all', items: [node] };
}

function SegmentEditor({ id }: { id: string | null }) {
  const { client, can, href } = useBusiness();
  const [segment, setSegment] = useState<Segment | null>(null);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [root, setRoot] = useState<Group | null>(
    id ? null : { key: nextKey(), type: 'group', not: false, match: 'all', items: [{ ...emptyCond('consent') }] },
  );
  const [definitions, setDefinitions] = useState<AttributeDefinition[]>([]);
  const [purposes, setPurposes] = useState<ConsentPurpose[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [confirm, ask] = useConfirm();
  const editable = can('campaigns:write');

  useEffect(() => {
    let live = true;
    Promise.all([client.contacts.attributes(), client.contacts.purposes(), id ? client.segments.get(id) : Promise.resolve(null)])
      .then(([defs, ps, s]) => {
        if (!live) return;
        setDefinitions(defs);
        setPurposes(ps);
        if (s) {
          setSegment(s);
          setName(s.name);
          setDescription(s.description ?? '');
          setRoot(rootOf(s.rule));
        }
      })
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client, id]);

  const types = useMemo(() => new Map(definitions.map((d) => [d.key, d.type as string])), [definitions]);
  const rule = useMemo(() => (root ? ruleOf(root, types) : null), [root, types]);

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!rule) return;
    setError(null);
    setSaved(null);
    try {
      const body = { name: name.trim(), description: description.trim() ? description.trim() : null, rule };
      if (segment) {
        setSegment(await client.segments.update(segment.id, body));
        setSaved('Segment saved.');
      } else {
        const created = await client.segments.create(body);
        navigate(href('segments', created.id));
      }
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function remove() {
    if (!segment) return;
    if (!(await ask({ title: `Delete the segment “${segment.name}”?`, detail: 'Campaigns already planned keep their recipients.', confirm: 'Delete segment' }))) return;
    try {
      await client.segments.remove(segment.id);
      navigate(href('segments'));
    } catch (err) {
      setError(errorText(err));
    }
  }

  if (!root)
    return error ? (
      <p className="error" role="alert">
        {error}
      </p>
    ) : (
      <p className="loading" aria-busy="true">
        Loading…
      </p>
    );
  return (
    <div className="biz-page">
      <p>
        <Link href={href('segments')}>← All segments</Link>
      </p>
      <h2>{segment ? segment.name : 'New segment'}</h2>
      <form className="card biz-card" aria-label="Segment" onSubmit={(e) => void save(e)}>
        <fieldset className="biz-bare" disabled={!editable}>
          <div className="biz-inline">
            <div className="field">
              <label htmlFor="segment-name">Segment name</label>
              <input id="segment-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="segment-description">Description (optional)</label>
              <input id="segment-description" maxLength={1000} value={description} onChange={(e) => setDescription(e.target.value)} />
            </div>
          </div>
          <LiveCount rule={rule} />
          <GroupEditor group={root} depth={0} definitions={definitions} purposes={purposes} onChange={(g) => setRoot(g as Group)} />
        </fieldset>
        <FormFeedback error={error} saved={saved} />
        {editable ? (
          <div className="biz-actions">
            <button type="submit" className="primary biz-submit">
              {segment ? 'Save segment' : 'Create segment'}
            </button>
            {segment && (
              <button type="button" className="danger" onClick={() => void remove()}>
                Delete
              </button>
            )}
          </div>
        ) : (
          <p className="hint">Owners and admins change segments.</p>
        )}
      </form>
      {confirm}
    </div>
  );
}

/** How many contacts match the rule now: asked again 400 ms after the last change; an older answer never overwrites a newer one. */
function LiveCount({ rule }: { rule: SegmentRule | null }) {
  const { client } = useBusiness();
  const settled = useDebounced(rule, 400);
  const [state, setState] = useState<{ count: number } | { problem: string; details: string[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const asked = useRef(0);
  useEffect(() => {
    if (!settled) return;
    const n = ++asked.current;
    setBusy(true);
    client.segments
      .count(settled)
      .then((r) => n === asked.current && setState({ count: r.count }))
      .catch((err: unknown) => {
        if (n !== asked.current) return;
        const details = err instanceof MmdError ? ((err.problem as { errors?: { path: string; message: string }[] } | null)?.errors ?? []).map((e) => `${e.path}: ${e.message}`) : [];
        setState({ problem: errorText(err), details });
      })
      .finally(() => n === asked.current && setBusy(false));
  }, [client, settled]);
  return (
    <div className="biz-live-count" aria-live="polite" aria-busy={busy}>
      {state === null ? (
        <p className="hint">Counting…</p>
      ) : 'count' in state ? (
        <p>
          <strong data-testid="segment-count">{plural(state.count, 'contact')}</strong> match{state.count === 1 ? 'es' : ''} now{busy ? ' (counting again…)' : ''}
        </p>
      ) : (
        <div role="alert" className="error">
          <p>{state.problem}</p>
          {state.details.length > 1 && (
            <ul>
              {state.details.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

function GroupEditor(props: { group: Group; depth: number; definitions: AttributeDefinition[]; purposes: ConsentPurpose[]; onChange: (n: Node) => void; onRemove?: () => void }) {
  const { group, depth, onChange } = props;
  const setItem = (key: number, next: Node) => onChange({ ...group, items: group.items.map((n) => (n.key === key ? next : n)) });
  const removeItem = (key: number) => onChange({ ...group, items: group.items.filter((n) => n.key !== key) });
  const label = depth === 0 ? 'Rule' : `Group at level ${depth}`;
  const matchId = `match-${group.key}`;
  return (
    <fieldset className={`biz-group depth-${Math.min(depth, 3)}`} aria-label={label}>
      <div className="biz-group-head">
        {depth > 0 && (
          <label className="biz-check">
            <input type="checkbox" checked={group.not} onChange={(e) => onChange({ ...group, not: e.target.checked })} />
            Not
          </label>
        )}
        <label htmlFor={matchId}>{depth === 0 ? 'Contacts who match' : 'Match'}</label>
        <select id={matchId} value={group.match} onChange={(e) => onChange({ ...group, match: e.target.value as 'all' | 'any' })}>
          <option value="all">all of these</option>
          <option value="any">any of these</option>
        </select>
        {props.onRemove && (
          <button type="button" className="biz-remove" onClick={props.onRemove}>
            Remove group
          </button>
        )}
      </div>
      {group.items.length === 0 && <p className="hint">No conditions: every contact.</p>}
      <ol className="biz-conditions">
        {group.items.map((n, i) => (
          <li key={n.key}>
            {n.type === 'group' ? (
              <GroupEditor {...props} group={n} depth={depth + 1} onChange={(next) => setItem(n.key, next)} onRemove={() => removeItem(n.key)} />
            ) : (
              <ConditionEditor cond={n} index={i + 1} definitions={props.definitions} purposes={props.purposes} onChange={(next) => setItem(n.key, next)} onRemove={() => removeItem(n.key)} />
            )}
          </li>
        ))}
      </ol>
      <div className="biz-actions">
        <button type="button" onClick={() => onChange({ ...group, items: [...group.items, emptyCond()] })}>
          Add a condition
        </button>
        {depth < 3 && (
          <button type="button" onClick={() => onChange({ ...group, items: [...group.items, { key: nextKey(), type: 'group', not: false, match: 'any', items: [emptyCond()] }] })}>
            Add a group
          </button>
        )}
      </div>
    </fieldset>
  );
}

function ConditionEditor({ cond, index, definitions, purposes, onChange, onRemove }: { cond: Cond; index: number; definitions: AttributeDefinition[]; purposes: ConsentPurpose[]; onChange: (c: Cond) => void; onRemove: () => void }) {
  const k = cond.key;
  const set = (patch: Partial<Cond>) => onChange({ ...cond, ...patch });
  const attrType = definitions.find((d) => d.key === cond.attr)?.type ?? 'text';
  const ops = OPS_BY_TYPE[attrType] ?? OPS_BY_TYPE.text!;
  const purposeKeys = [...new Set([...purposes.map((p) => p.key), cond.purpose])];
  return (
    <fieldset className="biz-condition" aria-label={`Condition ${index}`}>
      <label className="biz-check">
        <input type="checkbox" checked={cond.not} onChange={(e) => set({ not: e.target.checked })} />
        Not
      </label>
      <div className="field">
        <label htmlFor={`kind-${k}`}>Kind of condition {index}</label>
        <select
          id={`kind-${k}`}
          value={cond.kind}
          onChange={(e) => {
            const kind = e.target.value as Kind;
            set({ kind, op: kind === 'activity' ? 'within_days' : kind === 'attribute' ? 'eq' : cond.op, attr: kind === 'attribute' ? (cond.attr || definitions[0]?.key || '') : cond.attr });
          }}
        >
          {(Object.keys(KIND_WORDS) as Kind[]).map((x) => (
            <option key={x} value={x}>
              {KIND_WORDS[x]}
            </option>
          ))}
        </select>
      </div>
      {(cond.kind === 'tag' || cond.kind === 'locale' || cond.kind === 'time_zone') && (
        <div className="field">
          <label htmlFor={`text-${k}`}>{cond.kind === 'tag' ? 'Has tag (any of)' : cond.kind === 'locale' ? 'Locale (any of; fr matches fr-CA)' : 'Time zone (any of)'}</label>
          <input
            id={`text-${k}`}
            spellCheck={false}
            placeholder={cond.kind === 'tag' ? 'vip' : cond.kind === 'locale' ? 'fr de' : 'Europe/Paris'}
            value={cond.text}
            onChange={(e) => set({ text: e.target.value })}
          />
        </div>
      )}
      {cond.kind === 'consent' && (
        <>
          <div className="field">
            <label htmlFor={`purpose-${k}`}>Purpose</label>
            <select id={`purpose-${k}`} value={cond.purpose} onChange={(e) => set({ purpose: e.target.value })}>
              {purposeKeys.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`state-${k}`}>State</label>
            <select id={`state-${k}`} value={cond.state} onChange={(e) => set({ state: e.target.value })}>
              <option value="opted_in">opted in</option>
              <option value="opted_out">opted out</option>
              <option value="none">never answered</option>
            </select>
          </div>
        </>
      )}
      {cond.kind === 'activity' && (
        <>
          <div className="field">
            <label htmlFor={`activity-${k}`}>Did</label>
            <select id={`activity-${k}`} value={cond.activity} onChange={(e) => set({ activity: e.target.value })}>
              {Object.entries(ACTIVITY_WORDS).map(([v, w]) => (
                <option key={v} value={v}>
                  {w}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`aop-${k}`}>When</label>
            <select id={`aop-${k}`} value={cond.op} onChange={(e) => set({ op: e.target.value })}>
              {Object.entries(ACTIVITY_OP_WORDS).map(([v, w]) => (
                <option key={v} value={v}>
                  {w}
                </option>
              ))}
            </select>
          </div>
          {(cond.op === 'within_days' || cond.op === 'before_days') && (
            <div className="field">
              <label htmlFor={`days-${k}`}>Days</label>
              <input id={`days-${k}`} type="number" min={1} max={3650} value={cond.days} onChange={(e) => set({ days: e.target.value })} />
            </div>
          )}
        </>
      )}
      {cond.kind === 'attribute' && (
        <>
          <div className="field">
            <label htmlFor={`attr-${k}`}>Attribute</label>
            <select id={`attr-${k}`} value={cond.attr} onChange={(e) => set({ attr: e.target.value, op: 'eq', value: '', value2: '' })}>
              {definitions.length === 0 && <option value="">No attributes defined</option>}
              {definitions.map((d) => (
                <option key={d.key} value={d.key}>
                  {d.key} ({d.type})
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`op-${k}`}>Comparison</label>
            <select id={`op-${k}`} value={ops.includes(cond.op) ? cond.op : 'eq'} onChange={(e) => set({ op: e.target.value })}>
              {ops.map((o) => (
                <option key={o} value={o}>
                  {(attrType === 'date' && DATE_OP_WORDS[o]) || OP_WORDS[o]}
                </option>
              ))}
            </select>
          </div>
          {cond.op !== 'exists' &&
            (attrType === 'boolean' ? (
              <div className="field">
                <label htmlFor={`value-${k}`}>Value</label>
                <select id={`value-${k}`} value={cond.value || 'true'} onChange={(e) => set({ value: e.target.value })}>
                  <option value="true">yes</option>
                  <option value="false">no</option>
                </select>
              </div>
            ) : (
              <>
                <div className="field">
                  <label htmlFor={`value-${k}`}>{cond.op === 'between' ? 'From' : cond.op === 'in' ? 'Values (comma-separated)' : 'Value'}</label>
                  <input id={`value-${k}`} type={attrType === 'date' && cond.op !== 'in' ? 'date' : attrType === 'number' && cond.op !== 'in' ? 'number' : 'text'} step="any" value={cond.value} onChange={(e) => set({ value: e.target.value })} />
                </div>
                {cond.op === 'between' && (
                  <div className="field">
                    <label htmlFor={`value2-${k}`}>To</label>
                    <input id={`value2-${k}`} type={attrType === 'date' ? 'date' : 'number'} step="any" value={cond.value2} onChange={(e) => set({ value2: e.target.value })} />
                  </div>
                )}
              </>
            ))}
        </>
      )}
      <button type="button" className="biz-remove" aria-label={`Remove condition ${index}`} onClick={onRemove}>
        Remove
      </button>
    </fieldset>
  );
}

