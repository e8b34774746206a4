/**
 * Template variables: `{{first_name}}`, `{{first_name|there}}` (a default when the value is
 * missing), `{{order_date:date}}` / `{{order_date:date:long}}`, `{{paid_at:datetime}}`,
 * `{{total:currency:EUR}}`, `{{count:number}}` / `{{ratio:percent}}`. Values are formatted with
 * Intl in the contact's locale and time zone.
 *
 * Pure: no database, no clock. Parsing happens once per template version at save (errors name
 * every problem); substitution happens once per recipient and never yields a blank: a value that
 * is missing (absent, null or empty) with no default makes the whole render fail with
 * `missing variable NAME`, so a campaign skips that recipient with a reason instead of sending
 * "Hello ,".
 */

/** What a declared variable holds; it picks the format when a placeholder names none. */
export type VariableType = 'text' | 'number' | 'date' | 'datetime' | 'currency';
export const VARIABLE_TYPES: readonly VariableType[] = ['text', 'number', 'date', 'datetime', 'currency'];

/** A variable a template declares (contact fields need no declaration). */
export interface VariableDecl {
  name: string;
  type?: VariableType;
  /** ISO 4217 code, for `currency` variables whose placeholders name none. */
  currency?: string;
  /** Used when a recipient has no value and the placeholder gives no default. */
  default?: string;
  /** Shown in previews and used to check lengths at save. */
  example?: string;
  description?: string;
}

/** Contact fields every template may use without declaring them. */
export const CONTACT_FIELDS = ['first_name', 'last_name', 'display_name', 'handle', 'locale', 'time_zone', 'external_id'] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

/** What a render knows of its recipient (from the contacts capability, or given for a preview). */
export interface TemplateContact {
  id?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  display_name?: string | null;
  handle?: string | null;
  locale?: string | null;
  time_zone?: string | null;
  external_id?: string | null;
  /** The contact's typed attributes; a declared variable with no given value is looked up here. */
  attributes?: Record<string, VariableValue> | null;
}

export type VariableValue = string | number | boolean | null | undefined;

export type PlaceholderFormat = 'text' | 'number' | 'percent' | 'currency' | 'date' | 'datetime' | 'time';
const FORMATS: readonly PlaceholderFormat[] = ['text', 'number', 'percent', 'currency', 'date', 'datetime', 'time'];
const DATE_STYLES = ['short', 'medium', 'long', 'full'] as const;
type DateStyle = (typeof DATE_STYLES)[number];

export interface Placeholder {
  name: string;
  format: PlaceholderFormat | null;
  /** currency: the ISO 4217 code; date/datetime/time: a style; number: maximum fraction digits. */
  arg: string | null;
  /** The text after `|`, used as it is (never formatted) when the value is missing. */
  fallback: string | null;
  raw: string;
}

/** A parsed string: literal pieces and placeholders, in order. */
export type Parsed = (string | Placeholder)[];

const NAME = /^[a-z_][a-z0-9_]{0,63}$/;
const MAX_DEFAULT = 200;

/** A known ISO 4217 code (Intl accepts any three letters; this list keeps typos out). */
export function isCurrency(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  const known = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('currency');
  return known ? known.includes(code) : true;
}

/**
 * Splits `text` into literals and placeholders. Problems (an unclosed `{{`, a bad name, an unknown
 * format, a currency that is not ISO 4217) are pushed to `problems` with `path`.
 */
export function parseTemplateString(text: string, path: string, problems: { path: string; message: string }[]): Parsed {
  const out: Parsed = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open === -1) {
      out.push(text.slice(i));
      break;
    }
    if (open > i) out.push(text.slice(i, open));
    const close = text.indexOf('}}', open + 2);
    if (close === -1) {
      problems.push({ path, message: `unclosed {{ at character ${open + 1}` });
      out.push(text.slice(open));
      break;
    }
    const raw = text.slice(open, close + 2);
    const inner = text.slice(open + 2, close);
    const bar = inner.indexOf('|');
    const spec = (bar === -1 ? inner : inner.slice(0, bar)).trim();
    const fallback = bar === -1 ? null : inner.slice(bar + 1);
    const [name = '', format = null, arg = null, ...extra] = spec.split(':').map((s) => s.trim());
    const before = problems.length;
    if (!NAME.test(name)) problems.push({ path, message: `${raw}: a variable name is a-z, 0-9 and _ (starting with a letter or _)` });
    if (format !== null && !FORMATS.includes(format as PlaceholderFormat)) {
      problems.push({ path, message: `${raw}: unknown format "${format}" (one of ${FORMATS.join(', ')})` });
    }
    if (extra.length > 0) problems.push({ path, message: `${raw}: too many ":" parts` });
    if (format === 'currency' && (arg === null || !isCurrency(arg))) problems.push({ path, message: `${raw}: currency needs an ISO 4217 code, as in {{total:currency:EUR}}` });
    if ((format === 'date' || format === 'datetime' || format === 'time') && arg !== null && !DATE_STYLES.includes(arg as DateStyle)) {
      problems.push({ path, message: `${raw}: date style is one of ${DATE_STYLES.join(', ')}` });
    }
    if ((format === 'number' || format === 'percent') && arg !== null && !/^(?:[0-9]|1[0-9]|20)$/.test(arg)) {
      problems.push({ path, message: `${raw}: number takes the most fraction digits, 0–20` });
    }
    if ((format === 'text' || format === null) && arg !== null) problems.push({ path, message: `${raw}: text takes no argument` });
    if (fallback !== null && fallback.length > MAX_DEFAULT) problems.push({ path, message: `${raw}: a default is at most ${MAX_DEFAULT} characters` });
    if (fallback !== null && /[{}]/.test(fallback)) problems.push({ path, message: `${raw}: a default cannot contain { or }` });
    if (problems.length === before) out.push({ name, format: format as PlaceholderFormat | null, arg, fallback, raw });
    else out.push(raw);
    i = close + 2;
  }
  return out;
}

/** The variable names a parsed string uses. */
export function namesIn(parsed: Parsed): string[] {
  return parsed.flatMap((p) => (typeof p === 'string' ? [] : [p.name]));
}

/** Why one value could not be rendered; `missing` ones name the variable as 'missing variable NAME'. */
export class RenderProblem extends Error {
  constructor(
    readonly code: 'missing_variable' | 'invalid_value' | 'invalid_locale' | 'invalid_time_zone' | 'not_approved' | 'too_long' | 'invalid_content',
    message: string,
  ) {
    super(message);
    this.name = 'RenderProblem';
  }
}

/** Everything substitution needs for one recipient. */
export interface RenderScope {
  /** BCP 47, for Intl (the contact's own locale, even when a parent variant's text is used). */
  locale: string;
  /** IANA time zone, for dates with a time. */
  timeZone: string;
  variables: Record<string, VariableValue>;
  contact: TemplateContact;
  declared: ReadonlyMap<string, VariableDecl>;
}

function isBlank(v: VariableValue): v is null | undefined | '' {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** A variable's value: given variables first, then the contact's fields, then its attributes. */
export function lookup(scope: RenderScope, name: string): VariableValue {
  const given = Object.hasOwn(scope.variables, name) ? scope.variables[name] : undefined;
  if (!isBlank(given)) return given;
  if ((CONTACT_FIELDS as readonly string[]).includes(name)) {
    const field = scope.contact[name as ContactField];
    if (!isBlank(field)) return field;
  }
  const attributes = scope.contact.attributes;
  if (attributes && Object.hasOwn(attributes, name)) return attributes[name];
  return undefined;
}

// Intl formatters are costly to build (tens of microseconds) and a campaign renders the same few
// formats for every recipient: keep them, bounded.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let f = formatters.get(key);
  if (!f) {
    if (formatters.size > 2000) formatters.clear();
    f = make();
    formatters.set(key, f);
  }
  return f as T;
}

function toNumber(name: string, value: VariableValue): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new RenderProblem('invalid_value', `variable ${name} is not a number`);
  return n;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A date value: ms since the epoch, `YYYY-MM-DD` (a calendar date, shown as is in every zone) or ISO 8601 with a time. */
function toDate(name: string, value: VariableValue): { at: Date; calendarDay: boolean } {
  if (typeof value === 'number' && Number.isFinite(value)) return { at: new Date(value), calendarDay: false };
  if (typeof value === 'string') {
    const s = value.trim();
    if (DATE_ONLY.test(s)) {
      const at = new Date(`${s}T00:00:00Z`);
      if (!Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === s) return { at, calendarDay: true };
    } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/.test(s)) {
      const at = new Date(s);
      if (!Number.isNaN(at.getTime())) return { at, calendarDay: false };
    }
  }
  throw new RenderProblem('invalid_value', `variable ${name} is not a date (YYYY-MM-DD, ISO 8601 with a zone, or milliseconds)`);
}

/** One placeholder's text for this recipient; throws RenderProblem when it cannot be given. */
export function formatPlaceholder(p: Placeholder, scope: RenderScope): string {
  const decl = scope.declared.get(p.name);
  const value = lookup(scope, p.name);
  if (isBlank(value)) {
    if (p.fallback !== null) return p.fallback;
    if (decl?.default !== undefined && decl.default !== '') return decl.default;
    throw new RenderProblem('missing_variable', `missing variable ${p.name}`);
  }
  const format: PlaceholderFormat = p.format ?? (decl?.type === 'currency' ? 'currency' : decl?.type === 'number' ? 'number' : decl?.type === 'date' ? 'date' : decl?.type === 'datetime' ? 'datetime' : 'text');
  const { locale, timeZone } = scope;
  switch (format) {
    case 'text':
      return String(value);
    case 'number':
    case 'percent': {
      const n = toNumber(p.name, value);
      const digits = p.arg === null ? undefined : Number(p.arg);
      const key = `n|${locale}|${format}|${p.arg ?? ''}`;
      return cached(key, () => new Intl.NumberFormat(locale, { style: format === 'percent' ? 'percent' : 'decimal', ...(digits === undefined ? {} : { maximumFractionDigits: digits }) })).format(n);
    }
    case 'currency': {
      const n = toNumber(p.name, value);
      const currency = p.arg ?? decl?.currency;
      if (!currency) throw new RenderProblem('invalid_value', `variable ${p.name} has no currency`);
      return cached(`c|${locale}|${currency}`, () => new Intl.NumberFormat(locale, { style: 'currency', currency })).format(n);
    }
    case 'date':
    case 'datetime':
    case 'time': {
      const { at, calendarDay } = toDate(p.name, value);
      const style = (p.arg ?? (format === 'time' ? 'short' : 'medium')) as DateStyle;
      // A calendar date has no instant: it is shown as the same day everywhere (formatted in UTC).
      const zone = calendarDay ? 'UTC' : timeZone;
      const options: Intl.DateTimeFormatOptions =
        format === 'date' ? { dateStyle: style, timeZone: zone } : format === 'time' ? { timeStyle: style, timeZone: zone } : { dateStyle: style, timeStyle: 'short', timeZone: zone };
      return cached(`d|${locale}|${format}|${style}|${zone}`, () => new Intl.DateTimeFormat(locale, options)).format(at);
    }
  }
}

/** The parsed string with every placeholder replaced; `encode` applies to values only (URLs). */
export function substitute(parsed: Parsed, scope: RenderScope, encode?: (value: string) => string): string {
  let out = '';
  for (const piece of parsed) {
    if (typeof piece === 'string') out += piece;
    else {
      const text = formatPlaceholder(piece, scope);
      out += encode ? encode(text) : text;
    }
  }
  return out;
}

// A campaign asks about the same few locales and zones a million times; Intl's checks build
// objects each time, so answers are kept (bounded).
const localeAnswers = new Map<string, string | null>();
const zoneAnswers = new Map<string, boolean>();
function remember<V>(map: Map<string, V>, key: string, value: V): V {
  if (map.size > 5000) map.clear();
  map.set(key, value);
  return value;
}

/** A canonical BCP 47 tag, or null when `tag` is not one. */
export function canonicalLocale(tag: string | null | undefined): string | null {
  if (!tag) return null;
  const known = localeAnswers.get(tag);
  if (known !== undefined) return known;
  let canonical: string | null = null;
  try {
    canonical = Intl.getCanonicalLocales(tag.replace(/_/g, '-'))[0] ?? null;
  } catch {
    canonical = null;
  }
  return remember(localeAnswers, tag, canonical);
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  const known = zoneAnswers.get(zone);
  if (known !== undefined) return known;
  let ok = true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    ok = false;
  }
  return remember(zoneAnswers, zone, ok);
}
