/**
 * Templates: the list, and an editor for one template — name and purpose, declared variables,
 * a variant per locale (text with {{variables}}, a media header that can be personalised with
 * text and image layers drawn per recipient, buttons, and any interactive part as JSON), saved
 * as draft versions and approved (only approved versions are sent). Beside it, a preview rendered
 * by the server for a chosen contact, or for sample values, personalised image included.
 */
import type {
  Contact,
  MessageTemplate,
  MessageTemplateList,
  TemplateButton,
  TemplateContent,
  TemplateLayer,
  TemplatePreview,
  TemplatePurpose,
  TemplateVariable,
} from '@mmd/sdk';
import { type FormEvent, type InputHTMLAttributes, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { useConfirm } from '../messenger/Confirm.tsx';
import { Link, navigate } from '../router.tsx';
import { contactName } from './contact-bits.tsx';
import { useBusiness } from './context.ts';
import { when } from './format.ts';
import { useDebounced } from './hooks.ts';
import { FormFeedback, PageHead } from './feedback.tsx';
import { ErrorAlert } from '../error-alert.tsx';

const PURPOSES: { value: TemplatePurpose; label: string }[] = [
  { value: 'marketing', label: 'Marketing' },
  { value: 'transactional', label: 'Transactional (order updates, reminders)' },
  { value: 'surveys', label: 'Surveys' },
  { value: 'service', label: 'Service' },
  { value: 'events', label: 'Events' },
];

export function TemplatesPage({ rest }: { rest: string[] }) {
  if (rest[0] === 'new') return <TemplateEditor key="new" id={null} />;
  if (rest[0]) return <TemplateEditor key={rest[0]} id={rest[0]} />;
  return <TemplateList />;
}

function TemplateList() {
  const { client, can, href } = useBusiness();
  const [list, setList] = useState<MessageTemplateList['templates'] | null>(null);
  const [archived, setArchived] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client
      .listTemplates({ archived })
      .then((r) => live && setList(r.templates))
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client, archived]);
  return (
    <div className="biz-page">
      <PageHead title="Templates" create={can('templates:write') ? { label: 'New template', href: href('templates', 'new') } : null} />
      <label className="biz-check">
        <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} />
        Show archived templates
      </label>
      <ErrorAlert error={error} />
      {list === null && !error && <p className="hint">Loading…</p>}
      {list?.length === 0 && <p className="hint">No templates yet.</p>}
      {list && list.length > 0 && (
        <div className="table-scroll">
          <table className="biz-table">
            <caption className="visually-hidden">Templates</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Purpose</th>
                <th scope="col">Versions</th>
                <th scope="col">Locales</th>
                <th scope="col">Changed</th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.id} data-template={t.name}>
                  <th scope="row">
                    <Link href={href('templates', t.id)}>{t.name}</Link>
                    {t.status === 'archived' && <span className="biz-tag"> archived</span>}
                  </th>
                  <td>{t.purpose}</td>
                  <td>
                    {t.approved_number ? (
                      <span className="biz-tag good">v{t.approved_number} approved</span>
                    ) : (
                      <span className="biz-tag warn">not approved</span>
                    )}
                    {t.latest_number !== t.approved_number && (
                      <span className="biz-tag">v{t.latest_number} draft</span>
                    )}
                  </td>
                  <td>{t.locales.join(', ')}</td>
                  <td>{when(t.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// The editor's own shape of a template: form fields as strings, with stable keys for React.
type ButtonRow = {
  key: number;
  type: TemplateButton['type'];
  text: string;
  url: string;
  phone: string;
  data: string;
  copy: string;
  track: boolean;
  sameRow: boolean;
};
type LayerRow = {
  key: number;
  type: 'text' | 'image';
  x: string;
  y: string;
  text: string;
  font_size: string;
  color: string;
  max_width: string;
  bold: boolean;
  align: 'left' | 'center' | 'right';
  media_id: string;
  url: string;
  width: string;
  height: string;
};
/** One text input of a personalised-media layer, labelled, bound to one of the layer's fields. */
function LayerField({
  layer,
  name,
  field,
  label,
  setLayer,
  ...input
}: {
  layer: LayerRow;
  name: string;
  field: Exclude<{ [K in keyof LayerRow]: LayerRow[K] extends string ? K : never }[keyof LayerRow], 'type' | 'align'>;
  label: string;
  setLayer: (key: number, patch: Partial<LayerRow>) => void;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange'>) {
  const id = `layer-${name}-${layer.key}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} {...input} value={layer[field]} onChange={(e) => setLayer(layer.key, { [field]: e.target.value } as Partial<LayerRow>)} />
    </div>
  );
}

type VariantDraft = {
  text: string;
  header: 'none' | 'media' | 'personalised';
  media_id: string;
  base_media_id: string;
  layers: LayerRow[];
  buttons: ButtonRow[];
  extra: string;
};
type VarRow = {
  key: number;
  name: string;
  type: NonNullable<TemplateVariable['type']>;
  currency: string;
  default: string;
  example: string;
};
type Draft = {
  name: string;
  purpose: TemplatePurpose;
  default_locale: string;
  variables: VarRow[];
  variants: Record<string, VariantDraft>;
};

let keys = 0;
const nextKey = () => ++keys;

function variantFrom(c: TemplateContent): VariantDraft {
  const { text, header, buttons, ...extra } = c;
  const rows: ButtonRow[] = [];
  for (const row of buttons ?? [])
    for (const [i, b] of row.entries())
      rows.push({
        key: nextKey(),
        type: b.type,
        text: b.text,
        url: b.url ?? '',
        phone: b.phone ?? '',
        data: b.data ?? '',
        copy: b.copy_text ?? '',
        track: b.track !== false,
        sameRow: i > 0,
      });
  const p = header?.personalised;
  return {
    text: text ?? '',
    header: p ? 'personalised' : header?.media_id ? 'media' : 'none',
    media_id: header?.media_id ?? '',
    base_media_id: p?.base_media_id ?? '',
    layers: (p?.layers ?? []).map((l) => ({
      key: nextKey(),
      type: l.type,
      x: String(l.x),
      y: String(l.y),
      text: l.text ?? '',
      font_size: l.font_size === undefined ? '' : String(l.font_size),
      color: l.color ?? '#ffffff',
      max_width: l.max_width === undefined ? '' : String(l.max_width),
      bold: l.bold ?? false,
      align: l.align ?? 'left',
      media_id: l.media_id ?? '',
      url: l.url ?? '',
      width: l.width === undefined ? '' : String(l.width),
      height: l.height === undefined ? '' : String(l.height),
    })),
    buttons: rows,
    extra: Object.keys(extra).length ? JSON.stringify(extra, null, 2) : '',
  };
}

const num = (s: string) => (s.trim() === '' ? undefined : Number(s));

/** The API's content from the editor's, or a sentence saying what is wrong. */
function contentFrom(v: VariantDraft, locale: string): TemplateContent | string {
  const c: TemplateContent = {};
  if (v.text.trim()) c.text = v.text;
  if (v.header === 'media' && v.media_id.trim()) c.header = { media_id: v.media_id.trim() };
  if (v.header === 'personalised') {
    const layers: TemplateLayer[] = v.layers.map((l) => {
      const base = { type: l.type, x: num(l.x) ?? 0, y: num(l.y) ?? 0 };
      return l.type === 'text'
        ? {
            ...base,
            text: l.text,
            ...(num(l.font_size) !== undefined ? { font_size: num(l.font_size) } : {}),
            color: l.color,
            ...(num(l.max_width) !== undefined ? { max_width: num(l.max_width) } : {}),
            bold: l.bold,
            align: l.align,
          }
        : {
            ...base,
            ...(l.media_id.trim() ? { media_id: l.media_id.trim() } : { url: l.url.trim() }),
            ...(num(l.width) !== undefined ? { width: num(l.width) } : {}),
            ...(num(l.height) !== undefined ? { height: num(l.height) } : {}),
          };
    });
    c.header = { personalised: { base_media_id: v.base_media_id.trim(), layers } };
  }
  if (v.buttons.length) {
    const rows: TemplateButton[][] = [];
    for (const b of v.buttons) {
      const button: TemplateButton = { type: b.type, text: b.text };
      if (b.type === 'url') {
        button.url = b.url.trim();
        if (!b.track) button.track = false;
      }
      if (b.type === 'call') button.phone = b.phone.trim();
      if (b.type === 'callback') button.data = b.data;
      if (b.type === 'copy') button.copy_text = b.copy;
      const last = rows.at(-1);
      if (b.sameRow && last) last.push(button);
      else rows.push([button]);
    }
    c.buttons = rows;
  }
  if (v.extra.trim()) {
    try {
      const extra = JSON.parse(v.extra) as unknown;
      if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
        return `The interactive part of ${locale} must be a JSON object, such as {"poll": {…}}.`;
      Object.assign(c, extra);
    } catch (err) {
      return `The interactive part of ${locale} is not valid JSON: ${(err as Error).message}`;
    }
  }
  return c;
}

function draftFrom(t: MessageTemplate): Draft {
  const v = t.latest_version;
  return {
    name: t.name,
    purpose: t.purpose,
    default_locale: v.default_locale,
    variables: v.variables.map((x) => ({
      key: nextKey(),
      name: x.name,
      type: x.type ?? 'text',
      currency: x.currency ?? '',
      default: x.default ?? '',
      example: x.example ?? '',
    })),
    variants: Object.fromEntries(Object.entries(v.variants).map(([locale, c]) => [locale, variantFrom(c)])),
  };
}

function variablesFrom(rows: VarRow[]): TemplateVariable[] {
  return rows
    .filter((r) => r.name.trim())
    .map((r) => ({
      name: r.name.trim(),
      type: r.type,
      ...(r.type === 'currency' && r.currency.trim() ? { currency: r.currency.trim().toUpperCase() } : {}),
      ...(r.default ? { default: r.default } : {}),
      ...(r.example ? { example: r.example } : {}),
    }));
}

function TemplateEditor({ id }: { id: string | null }) {
  const { client, can, settings, href } = useBusiness();
  const [template, setTemplate] = useState<MessageTemplate | null>(null);
  const [draft, setDraft] = useState<Draft | null>(
    id
      ? null
      : {
          name: '',
          purpose: 'marketing',
          default_locale: settings.default_locale,
          variables: [],
          variants: { [settings.default_locale]: variantFrom({ text: 'Hello {{first_name|there}}!' }) },
        },
  );
  const [locale, setLocale] = useState(settings.default_locale);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, ask] = useConfirm();
  const editable = can('templates:write') && template?.status !== 'archived';

  useEffect(() => {
    if (!id) return;
    let live = true;
    client
      .getTemplate(id)
      .then((t) => {
        if (!live) return;
        setTemplate(t);
        setDraft(draftFrom(t));
        setLocale(t.latest_version.default_locale);
      })
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client, id]);

  if (!draft)
    return error ? (
      <p className="error" role="alert">
        {error}
      </p>
    ) : (
      <p className="loading" aria-busy="true">
        Loading…
      </p>
    );

  const set = (patch: Partial<Draft>) => setDraft((d) => (d ? { ...d, ...patch } : d));
  const setVariant = (loc: string, patch: Partial<VariantDraft>) =>
    setDraft((d) =>
      d?.variants[loc] ? { ...d, variants: { ...d.variants, [loc]: { ...d.variants[loc], ...patch } } } : d,
    );
  const locales = Object.keys(draft.variants);
  const current = draft.variants[locale] ?? draft.variants[locales[0] ?? ''];
  const currentLocale = draft.variants[locale] ? locale : (locales[0] ?? '');

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!draft) return;
    setError(null);
    setSaved(null);
    const variants: Record<string, TemplateContent> = {};
    for (const [loc, v] of Object.entries(draft.variants)) {
      const c = contentFrom(v, loc);
      if (typeof c === 'string') return setError(c);
      variants[loc] = c;
    }
    const content = {
      default_locale: draft.default_locale.trim(),
      variables: variablesFrom(draft.variables),
      variants,
    };
    setBusy(true);
    try {
      if (!template) {
        const created = await client.createTemplate({
          name: draft.name.trim(),
          purpose: draft.purpose,
          ...content,
        });
        navigate(href('templates', created.id));
        return;
      }
      const v = template.latest_version;
      const same =
        JSON.stringify({ default_locale: v.default_locale, variables: v.variables, variants: v.variants }) ===
        JSON.stringify(content);
      const next = await client.updateTemplate(template.id, {
        name: draft.name.trim(),
        purpose: draft.purpose,
        ...(same ? {} : content),
      });
      setTemplate(next);
      setSaved(same ? 'Saved.' : `Saved as draft version ${next.latest_version.number}.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function approve() {
    if (!template) return;
    const n = template.latest_version.number;
    const ok = await ask({
      title: `Approve version ${n} of “${template.name}”?`,
      detail:
        'An approved version never changes, and campaigns and notifications naming this template send it from now on.',
      confirm: `Approve version ${n}`,
    });
    if (!ok) return;
    setError(null);
    setSaved(null);
    try {
      const next = await client.approveTemplate(template.id, { version: n });
      setTemplate(next);
      setSaved(`Version ${n} approved.`);
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function archive() {
    if (!template) return;
    const ok = await ask({
      title: `Archive “${template.name}”?`,
      detail: 'It leaves the list and can no longer change; campaigns that name it keep their versions.',
      confirm: 'Archive',
    });
    if (!ok) return;
    try {
      await client.archiveTemplate(template.id);
      navigate(href('templates'));
    } catch (err) {
      setError(errorText(err));
    }
  }

  const latest = template?.latest_version;
  return (
    <div className="biz-page">
      <p>
        <Link href={href('templates')}>← All templates</Link>
      </p>
      <div className="biz-page-head">
        <h2>{template ? template.name : 'New template'}</h2>
        {latest && (
          <p className="biz-actions">
            {template.approved_version ? (
              <span className="biz-tag good">v{template.approved_version.number} approved</span>
            ) : (
              <span className="biz-tag warn">nothing approved yet</span>
            )}
            {latest.state === 'draft' && <span className="biz-tag">v{latest.number} draft</span>}
          </p>
        )}
      </div>
      <div className="biz-columns biz-editor">
        <form className="card biz-card" aria-label="Template editor" onSubmit={(e) => void save(e)}>
          <fieldset className="biz-bare" disabled={!editable}>
            <div className="biz-inline">
              <div className="field">
                <label htmlFor="tpl-name">Name</label>
                <input
                  id="tpl-name"
                  required
                  maxLength={100}
                  value={draft.name}
                  onChange={(e) => set({ name: e.target.value })}
                />
              </div>
              <div className="field">
                <label htmlFor="tpl-purpose">Purpose</label>
                <select
                  id="tpl-purpose"
                  value={draft.purpose}
                  onChange={(e) => set({ purpose: e.target.value as TemplatePurpose })}
                >
                  {PURPOSES.map((p) => (
                    <option key={p.value} value={p.value}>
                      {p.label}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <Variables rows={draft.variables} onChange={(variables) => set({ variables })} />
          </fieldset>
          {/* Outside the disabled fieldset: those who only read still switch between locales. */}
          <Locales
            editable={editable}
            locales={locales}
            current={currentLocale}
            defaultLocale={draft.default_locale}
            onPick={setLocale}
            onAdd={(loc) => {
              setDraft((d) =>
                d && !d.variants[loc]
                  ? {
                      ...d,
                      variants: {
                        ...d.variants,
                        [loc]: variantFrom(
                          contentFrom(d.variants[d.default_locale] ?? current!, loc) as TemplateContent,
                        ),
                      },
                    }
                  : d,
              );
              setLocale(loc);
            }}
            onRemove={(loc) => {
              setDraft((d) => {
                if (!d) return d;
                const { [loc]: _gone, ...variants } = d.variants;
                return { ...d, variants };
              });
              setLocale(draft.default_locale);
            }}
            onDefault={(loc) => set({ default_locale: loc })}
          />
          <fieldset className="biz-bare" disabled={!editable}>
            {current && (
              <VariantEditor
                locale={currentLocale}
                variant={current}
                variables={draft.variables}
                onChange={(patch) => setVariant(currentLocale, patch)}
              />
            )}
          </fieldset>
          <FormFeedback error={error} saved={saved} />
          {editable && (
            <div className="biz-actions">
              <button type="submit" className="primary biz-submit" disabled={busy}>
                {busy ? 'Saving…' : template ? 'Save draft' : 'Create template'}
              </button>
              {template && latest?.state === 'draft' && (
                <button type="button" onClick={() => void approve()}>
                  Approve version {latest.number}
                </button>
              )}
              {template && (
                <button type="button" className="danger" onClick={() => void archive()}>
                  Archive
                </button>
              )}
            </div>
          )}
          {!can('templates:write') && <p className="hint">Owners and admins change and approve templates.</p>}
        </form>
        {template ? (
          <Preview template={template} locales={locales} />
        ) : (
          <section className="card biz-card" aria-labelledby="preview-heading">
            <h3 id="preview-heading">Preview</h3>
            <p className="hint">Create the template to preview it for a contact.</p>
          </section>
        )}
      </div>
      {confirm}
    </div>
  );
}

function Variables({ rows, onChange }: { rows: VarRow[]; onChange: (rows: VarRow[]) => void }) {
  const setRow = (key: number, patch: Partial<VarRow>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <fieldset className="biz-fieldset">
      <legend>Variables</legend>
      <p className="hint">
        Write <code>{'{{name}}'}</code> in the text; contact fields (first_name, last_name, display_name,
        handle, locale, time_zone, external_id) need no declaring. A default fills in for recipients without a
        value; the example is used in previews.
      </p>
      {rows.map((r) => (
        <fieldset key={r.key} className="biz-cap" aria-label={`Variable ${r.name || '(new)'}`}>
          <div className="field">
            <label htmlFor={`var-name-${r.key}`}>Variable name</label>
            <input
              id={`var-name-${r.key}`}
              required
              pattern="[a-z_][a-z0-9_]*"
              maxLength={64}
              spellCheck={false}
              value={r.name}
              onChange={(e) => setRow(r.key, { name: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`var-type-${r.key}`}>Format</label>
            <select
              id={`var-type-${r.key}`}
              value={r.type}
              onChange={(e) => setRow(r.key, { type: e.target.value as VarRow['type'] })}
            >
              <option value="text">Text</option>
              <option value="number">Number</option>
              <option value="date">Date</option>
              <option value="datetime">Date and time</option>
              <option value="currency">Amount</option>
            </select>
          </div>
          {r.type === 'currency' && (
            <div className="field">
              <label htmlFor={`var-cur-${r.key}`}>Currency</label>
              <input
                id={`var-cur-${r.key}`}
                required
                pattern="[A-Za-z]{3}"
                maxLength={3}
                placeholder="EUR"
                value={r.currency}
                onChange={(e) => setRow(r.key, { currency: e.target.value })}
              />
            </div>
          )}
          <div className="field">
            <label htmlFor={`var-default-${r.key}`}>Default</label>
            <input
              id={`var-default-${r.key}`}
              maxLength={200}
              value={r.default}
              onChange={(e) => setRow(r.key, { default: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`var-example-${r.key}`}>Example</label>
            <input
              id={`var-example-${r.key}`}
              maxLength={200}
              value={r.example}
              onChange={(e) => setRow(r.key, { example: e.target.value })}
            />
          </div>
          <button
            type="button"
            className="biz-remove"
            aria-label={`Remove variable ${r.name || '(new)'}`}
            onClick={() => onChange(rows.filter((x) => x.key !== r.key))}
          >
            Remove
          </button>
        </fieldset>
      ))}
      <button
        type="button"
        onClick={() =>
          onChange([
            ...rows,
            { key: nextKey(), name: '', type: 'text', currency: '', default: '', example: '' },
          ])
        }
      >
        Add a variable
      </button>
    </fieldset>
  );
}

function Locales(props: {
  editable: boolean;
  locales: string[];
  current: string;
  defaultLocale: string;
  onPick: (l: string) => void;
  onAdd: (l: string) => void;
  onRemove: (l: string) => void;
  onDefault: (l: string) => void;
}) {
  const [adding, setAdding] = useState('');
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  // Arrow keys move between locale tabs (the tablist pattern); Tab goes on to the panel.
  const onKey = (e: React.KeyboardEvent, i: number) => {
    const n = props.locales.length;
    const to = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i - 1 + n) % n : -1;
    if (to < 0) return;
    e.preventDefault();
    props.onPick(props.locales[to]!);
    tabs.current[to]?.focus();
  };
  return (
    <div className="biz-locales">
      <div role="tablist" aria-label="Locale variants" className="biz-tabs">
        {props.locales.map((l, i) => (
          <button
            key={l}
            ref={(el) => {
              tabs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`locale-tab-${l}`}
            aria-selected={l === props.current}
            aria-controls="locale-panel"
            tabIndex={l === props.current ? 0 : -1}
            onClick={() => props.onPick(l)}
            onKeyDown={(e) => onKey(e, i)}
          >
            {l}
            {l === props.defaultLocale && <span className="hint"> (default)</span>}
          </button>
        ))}
      </div>
      {props.editable && (
        <div className="biz-inline biz-inline-end">
          <div className="field">
            <label htmlFor="add-locale">Add a locale</label>
            <input
              id="add-locale"
              spellCheck={false}
              maxLength={35}
              placeholder="fr, de-CH"
              value={adding}
              onChange={(e) => setAdding(e.target.value)}
            />
          </div>
          <button
            type="button"
            onClick={() => {
              const l = adding.trim();
              if (l) props.onAdd(l);
              setAdding('');
            }}
          >
            Add locale
          </button>
          {props.current !== props.defaultLocale && (
            <>
              <button type="button" onClick={() => props.onDefault(props.current)}>
                Make {props.current} the default
              </button>
              <button type="button" className="danger" onClick={() => props.onRemove(props.current)}>
                Remove {props.current}
              </button>
            </>
          )}
        </div>
      )}
      <p className="hint">
        A contact whose locale has no variant gets the nearest one (fr-CA → fr), else the default.
      </p>
    </div>
  );
}

function VariantEditor({
  locale,
  variant,
  variables,
  onChange,
}: {
  locale: string;
  variant: VariantDraft;
  variables: VarRow[];
  onChange: (patch: Partial<VariantDraft>) => void;
}) {
  const text = useRef<HTMLTextAreaElement>(null);
  const names = ['first_name', ...variables.map((v) => v.name).filter(Boolean)];
  const insert = (name: string) => {
    const el = text.current;
    const token = `{{${name}}}`;
    if (!el) return onChange({ text: variant.text + token });
    const start = el.selectionStart ?? variant.text.length;
    const end = el.selectionEnd ?? start;
    onChange({ text: variant.text.slice(0, start) + token + variant.text.slice(end) });
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(start + token.length, start + token.length);
    });
  };
  const setButton = (key: number, patch: Partial<ButtonRow>) =>
    onChange({ buttons: variant.buttons.map((b) => (b.key === key ? { ...b, ...patch } : b)) });
  const setLayer = (key: number, patch: Partial<LayerRow>) =>
    onChange({ layers: variant.layers.map((l) => (l.key === key ? { ...l, ...patch } : l)) });
  return (
    <div id="locale-panel" role="tabpanel" aria-labelledby={`locale-tab-${locale}`} className="biz-variant">
      <div className="field">
        <label htmlFor="tpl-text">Text ({locale})</label>
        <textarea
          id="tpl-text"
          ref={text}
          rows={5}
          maxLength={8192}
          value={variant.text}
          onChange={(e) => onChange({ text: e.target.value })}
          aria-describedby="tpl-text-hint"
        />
        <p id="tpl-text-hint" className="hint">
          Formats: <code>{'{{total:currency:EUR}}'}</code>, <code>{'{{when:date}}'}</code>,{' '}
          <code>{'{{name|friend}}'}</code> (a default).
        </p>
        <fieldset className="biz-bare biz-actions">
          <legend className="visually-hidden">Insert a variable</legend>
          {names.map((n) => (
            <button
              key={n}
              type="button"
              className="biz-chip"
              aria-label={`Insert {{${n}}}`}
              onClick={() => insert(n)}
            >
              {`{{${n}}}`}
            </button>
          ))}
        </fieldset>
      </div>

      <fieldset className="biz-fieldset">
        <legend>Media header</legend>
        <div className="biz-radios">
          {(['none', 'media', 'personalised'] as const).map((k) => (
            <label key={k} className="biz-check">
              <input
                type="radio"
                name={`header-${locale}`}
                checked={variant.header === k}
                onChange={() => onChange({ header: k })}
              />
              {k === 'none'
                ? 'None'
                : k === 'media'
                  ? 'An image or video, the same for everyone'
                  : 'Personalised: layers drawn per recipient'}
            </label>
          ))}
        </div>
        {variant.header === 'media' && (
          <MediaIdField
            id="header-media"
            label="Media id"
            value={variant.media_id}
            onChange={(media_id) => onChange({ media_id })}
          />
        )}
        {variant.header === 'personalised' && (
          <>
            <MediaIdField
              id="base-media"
              label="Base image or short video (media id)"
              value={variant.base_media_id}
              onChange={(base_media_id) => onChange({ base_media_id })}
            />
            {variant.layers.map((l, i) => (
              <fieldset key={l.key} className="biz-layer" aria-label={`Layer ${i + 1}`}>
                <legend>Layer {i + 1}</legend>
                <div className="biz-inline">
                  <div className="field">
                    <label htmlFor={`layer-type-${l.key}`}>Kind</label>
                    <select
                      id={`layer-type-${l.key}`}
                      value={l.type}
                      onChange={(e) => setLayer(l.key, { type: e.target.value as 'text' | 'image' })}
                    >
                      <option value="text">Text</option>
                      <option value="image">Image</option>
                    </select>
                  </div>
                  <LayerField layer={l} name="x" field="x" label="Left (px)" type="number" required setLayer={setLayer} />
                  <LayerField layer={l} name="y" field="y" label="Top (px)" type="number" required setLayer={setLayer} />
                </div>
                {l.type === 'text' ? (
                  <>
                    <LayerField layer={l} name="text" field="text" label="Layer text" required maxLength={300} placeholder="Hi {{first_name}}!" setLayer={setLayer} />
                    <div className="biz-inline">
                      <LayerField layer={l} name="size" field="font_size" label="Font size (px)" type="number" min={6} max={400} setLayer={setLayer} />
                      <LayerField layer={l} name="color" field="color" label="Colour" type="color" setLayer={setLayer} />
                      <LayerField layer={l} name="width" field="max_width" label="Wrap at (px)" type="number" min={8} setLayer={setLayer} />
                      <div className="field">
                        <label htmlFor={`layer-align-${l.key}`}>Align</label>
                        <select
                          id={`layer-align-${l.key}`}
                          value={l.align}
                          onChange={(e) => setLayer(l.key, { align: e.target.value as LayerRow['align'] })}
                        >
                          <option value="left">Left</option>
                          <option value="center">Centre</option>
                          <option value="right">Right</option>
                        </select>
                      </div>
                    </div>
                    <label className="biz-check">
                      <input
                        type="checkbox"
                        checked={l.bold}
                        onChange={(e) => setLayer(l.key, { bold: e.target.checked })}
                      />
                      Bold
                    </label>
                  </>
                ) : (
                  <div className="biz-inline">
                    <LayerField layer={l} name="media" field="media_id" label="Image media id" spellCheck={false} setLayer={setLayer} />
                    <LayerField layer={l} name="url" field="url" label="or https URL" type="url" placeholder="https://shop.example/p/{{product_id}}.jpg" setLayer={setLayer} />
                    <LayerField layer={l} name="w" field="width" label="Width (px)" type="number" min={1} setLayer={setLayer} />
                    <LayerField layer={l} name="h" field="height" label="Height (px)" type="number" min={1} setLayer={setLayer} />
                  </div>
                )}
                <button
                  type="button"
                  className="biz-remove"
                  onClick={() => onChange({ layers: variant.layers.filter((x) => x.key !== l.key) })}
                >
                  Remove layer {i + 1}
                </button>
              </fieldset>
            ))}
            <button
              type="button"
              disabled={variant.layers.length >= 10}
              onClick={() =>
                onChange({
                  layers: [
                    ...variant.layers,
                    {
                      key: nextKey(),
                      type: 'text',
                      x: '40',
                      y: '40',
                      text: '',
                      font_size: '48',
                      color: '#ffffff',
                      max_width: '',
                      bold: true,
                      align: 'left',
                      media_id: '',
                      url: '',
                      width: '',
                      height: '',
                    },
                  ],
                })
              }
            >
              Add a layer
            </button>
          </>
        )}
      </fieldset>

      <fieldset className="biz-fieldset">
        <legend>Buttons</legend>
        {variant.buttons.length === 0 && <p className="hint">No buttons.</p>}
        {variant.buttons.map((b, i) => (
          <fieldset key={b.key} className="biz-cap" aria-label={`Button ${i + 1}`}>
            <div className="field">
              <label htmlFor={`btn-type-${b.key}`}>Button {i + 1} kind</label>
              <select
                id={`btn-type-${b.key}`}
                value={b.type}
                onChange={(e) => setButton(b.key, { type: e.target.value as ButtonRow['type'] })}
              >
                <option value="reply">Quick reply</option>
                <option value="url">Link</option>
                <option value="call">Call</option>
                <option value="callback">Callback</option>
                <option value="copy">Copy text</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor={`btn-text-${b.key}`}>Button {i + 1} label</label>
              <input
                id={`btn-text-${b.key}`}
                required
                maxLength={200}
                value={b.text}
                onChange={(e) => setButton(b.key, { text: e.target.value })}
              />
            </div>
            {b.type === 'url' && (
              <ButtonField id={`btn-url-${b.key}`} label={`Button ${i + 1} URL`} type="url" placeholder="https://shop.example/offer?c={{code}}" value={b.url} onChange={(url) => setButton(b.key, { url })} />
            )}
            {b.type === 'call' && (
              <ButtonField id={`btn-phone-${b.key}`} label={`Button ${i + 1} phone`} type="tel" placeholder="+44 20 7946 0000" value={b.phone} onChange={(phone) => setButton(b.key, { phone })} />
            )}
            {b.type === 'callback' && (
              <ButtonField id={`btn-data-${b.key}`} label={`Button ${i + 1} data`} maxLength={200} value={b.data} onChange={(data) => setButton(b.key, { data })} />
            )}
            {b.type === 'copy' && (
              <ButtonField id={`btn-copy-${b.key}`} label={`Button ${i + 1} text to copy`} maxLength={400} value={b.copy} onChange={(copy) => setButton(b.key, { copy })} />
            )}
            {b.type === 'url' && (
              <label className="biz-check">
                <input
                  type="checkbox"
                  checked={b.track}
                  onChange={(e) => setButton(b.key, { track: e.target.checked })}
                />
                Track taps
              </label>
            )}
            {i > 0 && (
              <label className="biz-check">
                <input
                  type="checkbox"
                  checked={b.sameRow}
                  onChange={(e) => setButton(b.key, { sameRow: e.target.checked })}
                />
                Beside the previous one
              </label>
            )}
            <button
              type="button"
              className="biz-remove"
              aria-label={`Remove button ${i + 1}`}
              onClick={() => onChange({ buttons: variant.buttons.filter((x) => x.key !== b.key) })}
            >
              Remove
            </button>
          </fieldset>
        ))}
        <button
          type="button"
          onClick={() =>
            onChange({
              buttons: [
                ...variant.buttons,
                {
                  key: nextKey(),
                  type: 'reply',
                  text: '',
                  url: '',
                  phone: '',
                  data: '',
                  copy: '',
                  track: true,
                  sameRow: false,
                },
              ],
            })
          }
        >
          Add a button
        </button>
      </fieldset>

      <details className="biz-disclosure" open={variant.extra !== ''}>
        <summary>Interactive part (list, cards, poll, form, quick replies)</summary>
        <div className="field">
          <label htmlFor="tpl-extra">As JSON, in the send API’s shape</label>
          <textarea
            id="tpl-extra"
            rows={6}
            spellCheck={false}
            className="biz-code"
            placeholder={'{"poll": {"question": "Which day suits you?", "options": ["Saturday", "Sunday"]}}'}
            value={variant.extra}
            onChange={(e) => onChange({ extra: e.target.value })}
          />
        </div>
      </details>
    </div>
  );
}

/** A media id, typed or uploaded here (uploads belong to whoever is signed in: sign in as the business to use them in templates). */
function MediaIdField({
  id,
  label,
  value,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
}) {
  const { client } = useBusiness();
  const [status, setStatus] = useState<string | null>(null);
  const upload = async (file: File) => {
    setStatus(`Uploading ${file.name}…`);
    try {
      const item = await client.upload(file, {
        filename: file.name,
        contentType: file.type || 'application/octet-stream',
      });
      onChange(item.id);
      setStatus(`Uploaded ${file.name}.`);
    } catch (err) {
      setStatus(errorText(err));
    }
  };
  return (
    <div className="biz-inline">
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input id={id} required spellCheck={false} value={value} onChange={(e) => onChange(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-file`}>Or upload one</label>
        <input
          id={`${id}-file`}
          type="file"
          accept="image/*,video/*"
          onChange={(e) => e.target.files?.[0] && void upload(e.target.files[0])}
        />
        <p className="hint" role="status">
          {status}
        </p>
      </div>
    </div>
  );
}

function Preview({ template, locales }: { template: MessageTemplate; locales: string[] }) {
  const { client } = useBusiness();
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 250);
  const [found, setFound] = useState<Contact[]>([]);
  const [contactId, setContactId] = useState('');
  const [firstName, setFirstName] = useState('Alex');
  const [locale, setLocale] = useState(template.latest_version.default_locale);
  const declared = template.latest_version.variables;
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(declared.map((v) => [v.name, v.example ?? ''])),
  );
  const [preview, setPreview] = useState<TemplatePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const version = template.latest_version.number;

  useEffect(() => {
    let live = true;
    client.contacts
      .list({ q: q || undefined, limit: 20 })
      .then((r) => live && setFound(r.contacts.filter((c) => !c.erased_at)))
      .catch(() => live && setFound([]));
    return () => {
      live = false;
    };
  }, [client, q]);

  const body = useMemo(() => {
    const variables = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    return contactId
      ? { version, contact_id: contactId, variables }
      : { version, first_name: firstName, locale, variables };
  }, [version, contactId, firstName, locale, values]);
  const settled = useDebounced(body, 300);

  const run = useCallback(
    async (live: () => boolean) => {
      setBusy(true);
      setError(null);
      try {
        let result = await client.previewTemplate(template.id, settled);
        // A personalised video may still be going through the media ladder: ask again shortly.
        for (
          let i = 0;
          i < 20 && live() && result.media && !result.media.url && result.media.status === 'processing';
          i++
        ) {
          await new Promise((r) => setTimeout(r, 500));
          result = await client.previewTemplate(template.id, settled);
        }
        if (live()) setPreview(result);
      } catch (err) {
        if (live()) {
          setPreview(null);
          setError(errorText(err));
        }
      } finally {
        if (live()) setBusy(false);
      }
    },
    [client, template.id, settled],
  );
  useEffect(() => {
    let live = true;
    void run(() => live);
    return () => {
      live = false;
    };
  }, [run]);

  const interactive = preview?.message.interactive as Record<string, unknown> | undefined;
  const rows = (interactive?.buttons ?? []) as { text: string; type?: string; url?: string }[][];
  return (
    <section className="card biz-card biz-preview" aria-labelledby="preview-heading">
      <h3 id="preview-heading">Preview</h3>
      <p className="hint">
        Version {version} ({template.latest_version.state}), rendered by the server as the recipient would get
        it. Save a draft to see your changes.
      </p>
      <div className="field">
        <label htmlFor="preview-search">Find a contact</label>
        <input
          id="preview-search"
          type="search"
          placeholder="Name, handle or external id"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="preview-contact">Preview for</label>
        <select id="preview-contact" value={contactId} onChange={(e) => setContactId(e.target.value)}>
          <option value="">Sample values (no contact)</option>
          {found.map((c) => (
            <option key={c.id} value={c.id}>
              {contactName(c)}
              {c.locale ? ` · ${c.locale}` : ''}
            </option>
          ))}
        </select>
      </div>
      {!contactId && (
        <div className="biz-inline">
          <div className="field">
            <label htmlFor="preview-first">Sample first name</label>
            <input id="preview-first" value={firstName} onChange={(e) => setFirstName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="preview-locale">Locale</label>
            <select id="preview-locale" value={locale} onChange={(e) => setLocale(e.target.value)}>
              {locales.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </div>
        </div>
      )}
      {declared.length > 0 && (
        <fieldset className="biz-fieldset">
          <legend>Variable values</legend>
          <div className="biz-attr-grid">
            {declared.map((v) => (
              <div className="field" key={v.name}>
                <label htmlFor={`pv-${v.name}`}>{v.name}</label>
                <input
                  id={`pv-${v.name}`}
                  value={values[v.name] ?? ''}
                  placeholder={v.default ?? ''}
                  onChange={(e) => setValues((all) => ({ ...all, [v.name]: e.target.value }))}
                />
              </div>
            ))}
          </div>
        </fieldset>
      )}
      <div className="biz-phone" aria-live="polite" aria-busy={busy} data-testid="template-preview">
        <ErrorAlert error={error} />
        {preview && (
          <div className="biz-bubble">
            {preview.media?.url &&
              (preview.media.kind === 'video' ? (
                // biome-ignore lint/a11y/useMediaCaption: a business's own promotional clip has no captions to offer here
                <video src={preview.media.url} controls className="biz-preview-media" />
              ) : (
                <img
                  src={preview.media.url}
                  alt={
                    preview.media.personalised
                      ? 'The personalised image for this recipient'
                      : 'The header image'
                  }
                  className="biz-preview-media"
                />
              ))}
            {preview.media && !preview.media.url && (
              <p className="hint">The media is {preview.media.status}…</p>
            )}
            {preview.message.text && <p className="biz-bubble-text">{preview.message.text}</p>}
            {rows.length > 0 && (
              <div className="biz-bubble-buttons">
                {rows.map((row) => (
                  <div key={row.map((b) => b.text).join('\n')} className="biz-bubble-row">
                    {row.map((b) => (
                      <span key={b.text} className="biz-bubble-button" title={b.url}>
                        {b.text}
                      </span>
                    ))}
                  </div>
                ))}
              </div>
            )}
            {interactive && Object.keys(interactive).some((k) => k !== 'buttons') && (
              <p className="hint">
                Also:{' '}
                {Object.keys(interactive)
                  .filter((k) => k !== 'buttons')
                  .join(', ')}
              </p>
            )}
            <p className="hint">
              {preview.locale} variant
              {preview.media?.personalised
                ? preview.media.cached
                  ? ' · image from the render cache'
                  : ' · image rendered for this recipient'
                : ''}
            </p>
          </div>
        )}
      </div>
    </section>
  );
}

/** One required input of a template button (its URL, phone, callback data or text to copy), labelled. */
function ButtonField(props: { id: string; label: string; value: string; onChange: (value: string) => void; type?: 'url' | 'tel'; placeholder?: string; maxLength?: number }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input id={props.id} required type={props.type} placeholder={props.placeholder} maxLength={props.maxLength} value={props.value} onChange={(e) => props.onChange(e.target.value)} />
    </div>
  );
}
