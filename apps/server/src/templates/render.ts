/**
 * A template version's content, checked once at save (`checkVersion`) and rendered per recipient
 * (`renderTemplate`). Both are pure: no database, no clock, no network; a campaign calls
 * `renderTemplate` for each recipient, a million times, so a version is compiled once (parsed
 * strings kept in a WeakMap keyed by the version object) and each render only substitutes.
 */
import type { FormInput, ListInput, PollInput, QuickRepliesInput } from '@mmd/contracts';
import { MAX_MESSAGE_TEXT } from '@mmd/contracts';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { AppError } from '../errors.ts';
import { type InteractiveInput, prepareInteractive } from '../interactive/index.ts';
import {
  CONTACT_FIELDS,
  type Parsed,
  RenderProblem,
  type RenderScope,
  type TemplateContact,
  type VariableDecl,
  type VariableValue,
  canonicalLocale,
  isTimeZone,
  namesIn,
  parseTemplateString,
  substitute,
} from './variables.ts';

/** What a template is for; campaigns check consent per purpose. */
export const TEMPLATE_PURPOSES = ['marketing', 'transactional', 'surveys', 'service', 'events'] as const;
export type TemplatePurpose = (typeof TEMPLATE_PURPOSES)[number];

/** A button of a template: url buttons get tracked links; call buttons open the phone's dialler. */
export type TemplateButton =
  | { type: 'url'; text: string; url: string; id?: string; track?: boolean }
  | { type: 'call'; text: string; phone: string; id?: string }
  | { type: 'reply'; text: string; id?: string }
  | { type: 'callback'; text: string; data: string; id?: string }
  | { type: 'copy'; text: string; copy_text: string; id?: string };

/** A text layer of a personalised image or video. Coordinates are pixels of the base media. */
export interface TextLayer {
  type: 'text';
  text: string;
  x: number;
  y: number;
  font_size: number;
  /** `#rrggbb` (default white). */
  color?: string;
  /** Lines wrap at this width; a word still too long shrinks the font (down to half). */
  max_width?: number;
  align?: 'left' | 'center' | 'right';
  /** Wrapped text taking more lines than this shrinks too. */
  max_lines?: number;
  bold?: boolean;
}

/** An image layer: a product photo by MMD media id (the business's own) or by https URL (fetched SSRF-safely). */
export interface ImageLayer {
  type: 'image';
  media_id?: string;
  url?: string;
  x: number;
  y: number;
  width: number;
  height: number;
  fit?: 'cover' | 'contain';
}

export type Layer = TextLayer | ImageLayer;

/** A personalised image or short video: a base media item (the business's own) and layers over it. */
export interface PersonalisedMedia {
  base_media_id: string;
  layers: Layer[];
}

export interface TemplateContent {
  text?: string;
  /** One of the two: a media item sent as it is, or a personalised render. */
  header?: { media_id?: string; personalised?: PersonalisedMedia };
  buttons?: TemplateButton[][];
  quick_replies?: QuickRepliesInput;
  list?: ListInput;
  cards?: { media_id?: string; title: string; description?: string; buttons?: TemplateButton[] }[];
  poll?: PollInput;
  form?: FormInput;
}

/** One version of a template as renderTemplate needs it. */
export interface TemplateVersion {
  id: string;
  template_id: string;
  number: number;
  state: 'draft' | 'approved';
  purpose: TemplatePurpose;
  default_locale: string;
  variables: VariableDecl[];
  /** Content by canonical BCP 47 locale; the default locale always has one. */
  variants: Record<string, TemplateContent>;
}

/** Where a tracked link points: the redirect verifies this, records the click and redirects. */
export interface LinkRef {
  versionId: string;
  locale: string;
  /** The button's place: `b{row}.{col}` or `c{card}.{button}`. */
  button: string;
  kind: 'url' | 'call';
  /** The rendered URL, only when the template's URL has variables (the redirect checks it fits). */
  target: string | null;
  contactId: string | null;
}

/** Makes a tracked link (an https URL to MMD's redirect) for one button of one recipient. */
export type LinkMaker = (ref: LinkRef) => string;

/** A personalised media spec with every variable substituted: what the media renderer draws. */
export interface ResolvedMedia {
  base_media_id: string;
  layers: Layer[];
}

/** What messaging.send takes (its `input` argument), minus the idempotency key the caller adds. */
export interface RenderedMessage {
  text?: string;
  media?: string[];
  interactive?: InteractiveInput;
}

export type RenderResult =
  | {
      ok: true;
      message: RenderedMessage;
      /** The variant used (after fallback). */
      locale: string;
      /** Set when the header is personalised: render it (templates.personalise) and put its media id in message.media. */
      media_spec?: ResolvedMedia;
    }
  | { ok: false; code: RenderProblem['code']; reason: string };

export interface RenderInput {
  version: TemplateVersion;
  /** The recipient's locale (BCP 47); the contact's own wins when it has one. */
  locale?: string | null;
  /** The recipient's IANA time zone; the contact's own wins when it has one. Default UTC. */
  timeZone?: string | null;
  variables?: Record<string, VariableValue>;
  contact?: TemplateContact;
  /** Tracked links; without it url buttons carry their URL as is and call buttons copy the number. */
  links?: LinkMaker;
  /** Previews render drafts; sends render approved versions only. */
  allowDraft?: boolean;
  /**
   * A text layer longer than MAX_LAYER_TEXT characters once filled in: `truncate` (campaigns: the
   * recipient still gets the picture, the text cut with an ellipsis) or `refuse` (previews: the
   * person designing the template is told, so they fix the layout before sending). Default truncate.
   */
  overlongLayerText?: 'truncate' | 'refuse';
}

/** Most characters a personalised text layer draws once filled in (as many as it may have as written). */
export const MAX_LAYER_TEXT = 300;

/** A filled-in text layer held to MAX_LAYER_TEXT characters: cut with an ellipsis, or refused. */
function boundLayerText(text: string, index: number, mode: 'truncate' | 'refuse'): string {
  const chars = [...text];
  if (chars.length <= MAX_LAYER_TEXT) return text;
  if (mode === 'refuse') throw new RenderProblem('too_long', `text layer ${index} is ${chars.length} characters once filled in (at most ${MAX_LAYER_TEXT})`);
  return `${chars.slice(0, MAX_LAYER_TEXT - 1).join('').trimEnd()}…`;
}

/** The variant for `locale`: fr-CA, then fr, then another fr-… variant, then the default locale. */
export function chooseVariant(variants: Record<string, unknown>, locale: string | null, defaultLocale: string): string {
  const available = Object.keys(variants).sort();
  if (locale) {
    const lower = new Map(available.map((l) => [l.toLowerCase(), l]));
    const parts = locale.split('-');
    for (let n = parts.length; n > 0; n--) {
      const hit = lower.get(parts.slice(0, n).join('-').toLowerCase());
      if (hit) return hit;
    }
    const language = parts[0]!.toLowerCase();
    const sibling = available.find((l) => l.split('-')[0]!.toLowerCase() === language);
    if (sibling) return sibling;
  }
  return defaultLocale;
}

interface Compiled {
  declared: Map<string, VariableDecl>;
  strings: Map<string, Parsed>;
}
const compiledVersions = new WeakMap<TemplateVersion, Compiled>();

function compiled(version: TemplateVersion): Compiled {
  let c = compiledVersions.get(version);
  if (!c) {
    c = { declared: new Map(version.variables.map((v) => [v.name, v])), strings: new Map() };
    compiledVersions.set(version, c);
  }
  return c;
}

function parsedOf(c: Compiled, s: string): Parsed {
  let p = c.strings.get(s);
  if (!p) {
    const problems: { path: string; message: string }[] = [];
    p = parseTemplateString(s, '', problems);
    // Checked at save; a stored version that no longer parses is refused per recipient, never sent half-rendered.
    if (problems.length > 0) throw new RenderProblem('invalid_content', problems.map((x) => x.message).join('; '));
    c.strings.set(s, p);
  }
  return p;
}

/** Percent-encodes a value put into a URL, so a value can never change the URL's host or path. */
const encodeUrlValue = (v: string) => encodeURIComponent(v);

/** Substitutes every string in a JSON value (lists, polls, forms, quick replies). */
function deep<T>(value: T, c: Compiled, scope: RenderScope): T {
  if (typeof value === 'string') return (value.includes('{{') ? substitute(parsedOf(c, value), scope) : value) as T;
  if (Array.isArray(value)) return value.map((v) => deep(v, c, scope)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === 'id' ? v : deep(v, c, scope);
    return out as T;
  }
  return value;
}

type ButtonOut = NonNullable<InteractiveInput['buttons']>[number][number];

function renderButton(b: TemplateButton, key: string, ctx: { c: Compiled; scope: RenderScope; input: RenderInput; locale: string }): ButtonOut {
  const text = substitute(parsedOf(ctx.c, b.text), ctx.scope);
  const id = b.id ? { id: b.id } : {};
  switch (b.type) {
    case 'url': {
      const parsed = parsedOf(ctx.c, b.url);
      const hasVariables = parsed.some((p) => typeof p !== 'string');
      const url = substitute(parsed, ctx.scope, encodeUrlValue);
      if (b.track === false || !ctx.input.links) return { type: 'url', text, url, ...id };
      const link = ctx.input.links({ versionId: ctx.input.version.id, locale: ctx.locale, button: key, kind: 'url', target: hasVariables ? url : null, contactId: ctx.input.contact?.id ?? null });
      return { type: 'url', text, url: link, ...id };
    }
    case 'call':
      if (!ctx.input.links) return { type: 'copy', text, copy_text: b.phone, ...id };
      return { type: 'url', text, url: ctx.input.links({ versionId: ctx.input.version.id, locale: ctx.locale, button: key, kind: 'call', target: null, contactId: ctx.input.contact?.id ?? null }), ...id };
    case 'reply':
      return { type: 'reply', text, ...id };
    case 'callback':
      return { type: 'callback', text, data: substitute(parsedOf(ctx.c, b.data), ctx.scope), ...id };
    case 'copy':
      return { type: 'copy', text, copy_text: substitute(parsedOf(ctx.c, b.copy_text), ctx.scope), ...id };
  }
}

/**
 * Renders one version for one recipient into what messaging.send takes. Never throws for a
 * recipient's data: a missing variable, a bad value or content that breaks a limit once filled in
 * comes back as `{ ok: false, code, reason }` ('missing variable first_name').
 */
export function renderTemplate(input: RenderInput): RenderResult {
  const { version } = input;
  try {
    if (version.state !== 'approved' && !input.allowDraft) throw new RenderProblem('not_approved', `template version ${version.number} is a draft: only approved versions are sent`);
    const contact = input.contact ?? {};
    const wanted = canonicalLocale(contact.locale) ?? canonicalLocale(input.locale) ?? null;
    const locale = chooseVariant(version.variants, wanted, version.default_locale);
    const content = version.variants[locale];
    if (!content) throw new RenderProblem('invalid_content', `no content for ${locale}`);
    const timeZone = contact.time_zone || input.timeZone || 'UTC';
    if (!isTimeZone(timeZone)) throw new RenderProblem('invalid_time_zone', `unknown time zone ${timeZone}`);
    const c = compiled(version);
    const scope: RenderScope = { locale: wanted ?? locale, timeZone, variables: input.variables ?? {}, contact, declared: c.declared };
    const ctx = { c, scope, input, locale };
    const message: RenderedMessage = {};
    if (content.text !== undefined) {
      const text = substitute(parsedOf(c, content.text), scope);
      if ([...text].length > MAX_MESSAGE_TEXT) throw new RenderProblem('too_long', `the text is ${[...text].length} characters once filled in (at most ${MAX_MESSAGE_TEXT})`);
      if (text.trim() !== '') message.text = text;
    }
    let mediaSpec: ResolvedMedia | undefined;
    if (content.header?.media_id) message.media = [content.header.media_id];
    else if (content.header?.personalised) {
      const spec = content.header.personalised;
      mediaSpec = {
        base_media_id: spec.base_media_id,
        layers: spec.layers.map((l, i) =>
          l.type === 'text' ? { ...l, text: boundLayerText(substitute(parsedOf(c, l.text), scope), i, input.overlongLayerText ?? 'truncate') } : l.url !== undefined ? { ...l, url: substitute(parsedOf(c, l.url), scope, encodeUrlValue) } : { ...l },
        ),
      };
    }
    const interactive: InteractiveInput = {};
    if (content.buttons) interactive.buttons = content.buttons.map((row, r) => row.map((b, i) => renderButton(b, `b${r}.${i}`, ctx)));
    if (content.cards) {
      interactive.cards = content.cards.map((card, k) => ({
        ...(card.media_id ? { media_id: card.media_id } : {}),
        title: substitute(parsedOf(c, card.title), scope),
        ...(card.description !== undefined ? { description: substitute(parsedOf(c, card.description), scope) } : {}),
        ...(card.buttons ? { buttons: card.buttons.map((b, i) => renderButton(b, `c${k}.${i}`, ctx)) } : {}),
      }));
    }
    if (content.quick_replies) interactive.quick_replies = deep(content.quick_replies, c, scope);
    if (content.list) interactive.list = deep(content.list, c, scope);
    if (content.poll) interactive.poll = deep(content.poll, c, scope);
    if (content.form) interactive.form = deep(content.form, c, scope);
    if (Object.keys(interactive).length > 0) {
      // The interactive capability's own checks, so a value that pushes a button past its limit
      // fails this recipient with a reason instead of failing at send.
      try {
        prepareInteractive(interactive, { kind: 'business', now: 0 });
      } catch (err) {
        if (err instanceof AppError) throw new RenderProblem('invalid_content', err.message);
        throw err;
      }
      message.interactive = interactive;
    }
    if (message.text === undefined && !message.media && !mediaSpec && !['list', 'cards', 'poll', 'form'].some((k) => k in interactive)) {
      throw new RenderProblem('invalid_content', 'the message is empty once filled in');
    }
    return { ok: true, message, locale, ...(mediaSpec ? { media_spec: mediaSpec } : {}) };
  } catch (err) {
    if (err instanceof RenderProblem) return { ok: false, code: err.code, reason: err.message };
    throw err;
  }
}

/**
 * The declared variables a version needs from each recipient: used somewhere with no default (in
 * the placeholder or the declaration). Contact fields are left out (every contact brings them);
 * a contact's attributes may still provide the rest, recipient by recipient.
 */
export function variablesNeeded(version: TemplateVersion): string[] {
  const c = compiled(version);
  const needed = new Set<string>();
  for (const content of Object.values(version.variants)) {
    for (const s of stringsOf(content, '')) {
      for (const p of parsedOf(c, s.value)) {
        if (typeof p === 'string' || p.fallback !== null) continue;
        const decl = c.declared.get(p.name);
        if (decl && (decl.default === undefined || decl.default === '')) needed.add(p.name);
      }
    }
  }
  return [...needed].sort();
}

type Problem = { path: string; message: string };

/** Every string of a variant that may hold variables, with its path (for errors). */
function stringsOf(content: TemplateContent, base: string): { path: string; value: string; url?: boolean }[] {
  const out: { path: string; value: string; url?: boolean }[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'string') out.push({ path, value: v });
    else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}/${i}`);
    }
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (k !== 'id') walk(x, `${path}/${k}`);
  };
  if (content.text !== undefined) out.push({ path: `${base}/text`, value: content.text });
  const buttons = [...(content.buttons ?? []).flatMap((row, r) => row.map((b, i) => ({ b, path: `${base}/buttons/${r}/${i}` }))), ...(content.cards ?? []).flatMap((card, k) => (card.buttons ?? []).map((b, i) => ({ b, path: `${base}/cards/${k}/buttons/${i}` })))];
  for (const { b, path } of buttons) {
    out.push({ path: `${path}/text`, value: b.text });
    if (b.type === 'url') out.push({ path: `${path}/url`, value: b.url, url: true });
    if (b.type === 'callback') out.push({ path: `${path}/data`, value: b.data });
    if (b.type === 'copy') out.push({ path: `${path}/copy_text`, value: b.copy_text });
  }
  (content.cards ?? []).forEach((card, k) => {
    out.push({ path: `${base}/cards/${k}/title`, value: card.title });
    if (card.description !== undefined) out.push({ path: `${base}/cards/${k}/description`, value: card.description });
  });
  if (content.quick_replies) walk(content.quick_replies, `${base}/quick_replies`);
  if (content.list) walk(content.list, `${base}/list`);
  if (content.poll) walk(content.poll, `${base}/poll`);
  if (content.form) walk(content.form, `${base}/form`);
  if (content.header?.personalised) {
    content.header.personalised.layers.forEach((l, i) => {
      if (l.type === 'text') out.push({ path: `${base}/header/personalised/layers/${i}/text`, value: l.text });
      else if (l.url !== undefined) out.push({ path: `${base}/header/personalised/layers/${i}/url`, value: l.url, url: true });
    });
  }
  return out;
}

/** A sample value of a variable's type, for checking lengths and limits at save. */
function sample(decl: VariableDecl | undefined, name: string): VariableValue {
  if (decl?.example) return decl.example;
  switch (decl?.type) {
    case 'number':
    case 'currency':
      return 1234.5;
    case 'date':
      return '2026-12-31';
    case 'datetime':
      return '2026-12-31T18:30:00Z';
    default:
      return name === 'locale' ? 'en' : name === 'time_zone' ? 'UTC' : name.replace(/_/g, ' ');
  }
}

/** A URL whose scheme and host are fixed: variables may only fill its path, query or fragment. */
function checkUrl(value: string, path: string, problems: Problem[], what: string) {
  const fixed = /^https:\/\/([^/?#{}]+)(?:[/?#]|$)/i.exec(value);
  if (!fixed) {
    problems.push({ path, message: `${what} must be an https URL whose host has no variables` });
    return;
  }
  try {
    const u = new URL(value.replace(/\{\{[^}]*\}\}/g, 'x'));
    if (u.protocol !== 'https:' || u.username || u.password) problems.push({ path, message: `${what} must be https, with no user name or password` });
  } catch {
    problems.push({ path, message: `${what} is not a URL` });
  }
}

const COLOR = /^#[0-9a-fA-F]{6}$/;

/**
 * Checks a version before it is stored and normalises it (locales canonical, phone numbers E.164).
 * Refuses, listing every problem: unknown variables (named), placeholders that do not parse, URLs
 * that are not https or put a variable in the host, phone numbers that are not numbers, and
 * content that breaks the interactive capability's limits once filled with sample values.
 */
export function checkVersion(input: { default_locale: string; variables: VariableDecl[]; variants: Record<string, TemplateContent> }): { default_locale: string; variables: VariableDecl[]; variants: Record<string, TemplateContent> } {
  const problems: Problem[] = [];
  const defaultLocale = canonicalLocale(input.default_locale);
  if (!defaultLocale) problems.push({ path: '/default_locale', message: `${input.default_locale} is not a BCP 47 locale` });
  const declared = new Map<string, VariableDecl>();
  input.variables.forEach((v, i) => {
    if (!/^[a-z_][a-z0-9_]{0,63}$/.test(v.name)) problems.push({ path: `/variables/${i}/name`, message: 'a-z, 0-9 and _ (starting with a letter or _)' });
    if (declared.has(v.name)) problems.push({ path: `/variables/${i}/name`, message: `${v.name} is declared twice` });
    if ((CONTACT_FIELDS as readonly string[]).includes(v.name)) problems.push({ path: `/variables/${i}/name`, message: `${v.name} is a contact field: use it without declaring it` });
    if (v.type === 'currency' && v.currency !== undefined && !/^[A-Z]{3}$/.test(v.currency)) problems.push({ path: `/variables/${i}/currency`, message: 'an ISO 4217 code' });
    declared.set(v.name, v);
  });
  const variants: Record<string, TemplateContent> = {};
  let unknownFound = false;
  for (const [tag, raw] of Object.entries(input.variants)) {
    const locale = canonicalLocale(tag);
    if (!locale) {
      problems.push({ path: `/variants/${tag}`, message: `${tag} is not a BCP 47 locale` });
      continue;
    }
    if (variants[locale]) problems.push({ path: `/variants/${tag}`, message: `${locale} is given twice` });
    const content: TemplateContent = structuredClone(raw);
    const base = `/variants/${tag}`;
    const unknown = new Set<string>();
    for (const s of stringsOf(content, base)) {
      const parsed = parseTemplateString(s.value, s.path, problems);
      for (const name of namesIn(parsed)) if (!declared.has(name) && !(CONTACT_FIELDS as readonly string[]).includes(name)) unknown.add(name);
      if (s.url) checkUrl(s.value, s.path, problems, 'a URL');
    }
    if (unknown.size > 0) unknownFound = true;
    if (unknown.size > 0) problems.push({ path: base, message: `unknown variables: ${[...unknown].join(', ')} (declare them in variables, or use a contact field: ${CONTACT_FIELDS.join(', ')})` });
    const allButtons = [...(content.buttons ?? []).flatMap((row, r) => row.map((b, i) => ({ b, path: `${base}/buttons/${r}/${i}` }))), ...(content.cards ?? []).flatMap((card, k) => (card.buttons ?? []).map((b, i) => ({ b, path: `${base}/cards/${k}/buttons/${i}` })))];
    for (const { b, path } of allButtons) {
      if (b.type === 'call') {
        const phone = parsePhoneNumberFromString(b.phone);
        if (!phone?.isValid()) problems.push({ path: `${path}/phone`, message: `${b.phone} is not a phone number in international form (+…)` });
        else b.phone = phone.number;
      }
    }
    if (content.header?.personalised) {
      const layers = content.header.personalised.layers;
      if (layers.length === 0 || layers.length > 10) problems.push({ path: `${base}/header/personalised/layers`, message: '1–10 layers' });
      layers.forEach((l, i) => {
        const path = `${base}/header/personalised/layers/${i}`;
        if (l.type === 'text') {
          if (l.color !== undefined && !COLOR.test(l.color)) problems.push({ path: `${path}/color`, message: 'a colour is #rrggbb' });
        } else if ((l.media_id === undefined) === (l.url === undefined)) problems.push({ path, message: 'an image layer has a media_id or a url (one of them)' });
      });
    }
    variants[locale] = content;
  }
  if (defaultLocale && !variants[defaultLocale]) problems.push({ path: '/variants', message: `the default locale ${defaultLocale} needs a variant` });
  if (problems.length === 0) {
    // Fill every variable with a sample of its type and render each variant as a draft: what would
    // break at send (a limit, an empty message) breaks here, at save.
    const variables: Record<string, VariableValue> = {};
    for (const name of [...declared.keys(), ...CONTACT_FIELDS]) variables[name] = sample(declared.get(name), name);
    const version: TemplateVersion = { id: 'check', template_id: 'check', number: 0, state: 'draft', purpose: 'marketing', default_locale: defaultLocale!, variables: input.variables, variants };
    for (const locale of Object.keys(variants)) {
      const result = renderTemplate({ version, locale, variables, allowDraft: true, links: () => 'https://mmd.invalid/r/check' });
      if (!result.ok) problems.push({ path: `/variants/${locale}`, message: result.reason });
    }
  }
  if (problems.length > 0) throw new AppError(unknownFound ? 'unknown_variables' : 'validation_failed', problems.map((p) => `${p.path} ${p.message}`).join('; '), { errors: problems });
  return { default_locale: defaultLocale!, variables: input.variables, variants };
}
