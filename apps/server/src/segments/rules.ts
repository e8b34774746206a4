/**
 * The segment rule language: checking a rule as a business wrote it (JSON) against the business's
 * attribute definitions, and turning it into a normalised tree the compiler (compile.ts) makes SQL
 * of. Pure: no database. Every problem is reported at once, each at its JSON-pointer path.
 */
import {
  ACTIVITIES,
  ACTIVITY_OPS,
  ATTRIBUTE_OPS,
  type Activity,
  type ActivityOp,
  type AttributeOp,
  CONSENT_STATES,
  type ConsentStateFilter,
  MAX_SEGMENT_CONDITIONS,
  MAX_SEGMENT_DEPTH,
  MAX_SEGMENT_LIST,
} from '@mmd/contracts';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { IANAZone } from 'luxon';
import { AppError } from '../errors.ts';

export type AttributeTypeName = 'text' | 'number' | 'date' | 'boolean' | 'phone';

/** The checked, normalised rule. */
export type RuleNode =
  | { kind: 'all' | 'any'; children: RuleNode[] }
  | { kind: 'not'; child: RuleNode }
  | { kind: 'tag'; tags: string[] }
  | { kind: 'attribute'; key: string; column: 'num_value' | 'text_value'; op: AttributeOp; values: (string | number)[] }
  | { kind: 'consent'; purpose: string; state: ConsentStateFilter }
  | { kind: 'locale'; exact: string[]; languages: string[] }
  | { kind: 'time_zone'; zones: string[] }
  | { kind: 'activity'; activity: Activity; op: ActivityOp; days: number };

export interface RuleContext {
  /** The business's attribute definitions. */
  attributes: ReadonlyMap<string, AttributeTypeName>;
}

/** Which comparisons each attribute type allows. */
const OPS_BY_TYPE: Record<AttributeTypeName, readonly AttributeOp[]> = {
  text: ['eq', 'ne', 'in', 'contains', 'starts_with', 'exists'],
  phone: ['eq', 'ne', 'in', 'starts_with', 'exists'],
  number: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'between', 'in', 'exists'],
  date: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'between', 'exists'],
  boolean: ['eq', 'ne', 'exists'],
};

const CONDITION_KEYS = ['tag', 'attribute', 'consent', 'locale', 'time_zone', 'activity'] as const;
const COMBINATORS = ['all', 'any', 'not'] as const;
const PURPOSE = /^[a-z][a-z0-9_]{0,31}$/;
const TAG = /^[^\s,]{1,48}$/;

type Problem = { path: string; message: string };

/** Checks `rule`; throws `invalid_segment` listing every problem, or returns the normalised tree. */
export function checkRule(rule: unknown, context: RuleContext): RuleNode {
  const problems: Problem[] = [];
  let conditions = 0;

  const visit = (value: unknown, path: string, depth: number): RuleNode | null => {
    const at = path || '/';
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ path: at, message: 'a rule is an object: {"all": […]}, {"any": […]}, {"not": …} or a condition' });
      return null;
    }
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 0) {
      problems.push({ path: at, message: 'empty rule: give a condition, or all / any / not of conditions' });
      return null;
    }
    const combinator = COMBINATORS.find((c) => c in obj);
    if (combinator) {
      if (keys.length > 1) {
        problems.push({ path: at, message: `"${combinator}" stands alone; put other conditions inside it` });
        return null;
      }
      if (depth >= MAX_SEGMENT_DEPTH) {
        problems.push({ path: at, message: `rules nest at most ${MAX_SEGMENT_DEPTH} deep` });
        return null;
      }
      if (combinator === 'not') {
        const child = visit(obj.not, `${path}/not`, depth + 1);
        return child && { kind: 'not', child };
      }
      const list = obj[combinator];
      if (!Array.isArray(list)) {
        problems.push({ path: `${path}/${combinator}`, message: `"${combinator}" takes a list of rules` });
        return null;
      }
      if (list.length === 0) {
        problems.push({ path: `${path}/${combinator}`, message: `empty rule: "${combinator}" of nothing` });
        return null;
      }
      const children = list.map((c, i) => visit(c, `${path}/${combinator}/${i}`, depth + 1));
      if (children.some((c) => c === null)) return null;
      return { kind: combinator, children: children as RuleNode[] };
    }
    conditions += 1;
    const kind = CONDITION_KEYS.find((c) => c in obj);
    if (!kind) {
      problems.push({ path: at, message: `unknown condition ${keys.map((k) => `"${k}"`).join(', ')}: use all, any, not, ${CONDITION_KEYS.join(', ')}` });
      return null;
    }
    const allowed: Record<(typeof CONDITION_KEYS)[number], string[]> = {
      tag: ['tag'],
      attribute: ['attribute', 'op', 'value'],
      consent: ['consent', 'state'],
      locale: ['locale'],
      time_zone: ['time_zone'],
      activity: ['activity', 'op', 'days'],
    };
    const extra = keys.filter((k) => !allowed[kind].includes(k));
    if (extra.length > 0) {
      problems.push({ path: at, message: `a ${kind} condition takes ${allowed[kind].join(', ')}; not ${extra.join(', ')}` });
      return null;
    }
    const build: Record<(typeof CONDITION_KEYS)[number], () => RuleNode | null> = {
      tag: () => tagCondition(obj.tag, `${path}/tag`, problems),
      attribute: () => attributeCondition(obj, path, context, problems),
      consent: () => consentCondition(obj, path, problems),
      locale: () => localeCondition(obj.locale, `${path}/locale`, problems),
      time_zone: () => zoneCondition(obj.time_zone, `${path}/time_zone`, problems),
      activity: () => activityCondition(obj, path, problems),
    };
    return build[kind]();
  };

  const node = visit(rule, '', 0);
  if (conditions > MAX_SEGMENT_CONDITIONS) problems.push({ path: '/', message: `at most ${MAX_SEGMENT_CONDITIONS} conditions in one rule (this one has ${conditions})` });
  if (problems.length > 0 || node === null) {
    throw new AppError('invalid_segment', problems.map((p) => `${p.path}: ${p.message}`).join('; ') || 'invalid rule', { errors: problems });
  }
  return node;
}

/** A string or a non-empty list of strings, each passing `check`. */
function stringList(value: unknown, path: string, problems: Problem[], what: string): string[] | null {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string')) {
    problems.push({ path, message: `${what}: a string or a non-empty list of strings` });
    return null;
  }
  if (list.length > MAX_SEGMENT_LIST) {
    problems.push({ path, message: `at most ${MAX_SEGMENT_LIST} values` });
    return null;
  }
  return [...new Set(list as string[])];
}

function tagCondition(value: unknown, path: string, problems: Problem[]): RuleNode | null {
  const tags = stringList(value, path, problems, 'tag');
  if (!tags) return null;
  const bad = tags.filter((t) => !TAG.test(t));
  if (bad.length > 0) {
    problems.push({ path, message: `not a tag: ${bad.map((t) => `"${t}"`).join(', ')} (1 to 48 characters, no spaces or commas)` });
    return null;
  }
  return { kind: 'tag', tags };
}

function attributeCondition(obj: Record<string, unknown>, path: string, context: RuleContext, problems: Problem[]): RuleNode | null {
  const key = obj.attribute;
  if (typeof key !== 'string') {
    problems.push({ path: `${path}/attribute`, message: 'the attribute key, as a string' });
    return null;
  }
  const type = context.attributes.get(key);
  if (!type) {
    const known = [...context.attributes.keys()].sort();
    problems.push({ path: `${path}/attribute`, message: `unknown attribute "${key}"${known.length ? ` (this business has ${known.join(', ')})` : ' (this business defines none)'}` });
    return null;
  }
  const op = obj.op as AttributeOp;
  if (!(ATTRIBUTE_OPS as readonly unknown[]).includes(op)) {
    problems.push({ path: `${path}/op`, message: `op is one of ${OPS_BY_TYPE[type].join(', ')}` });
    return null;
  }
  if (!OPS_BY_TYPE[type].includes(op)) {
    problems.push({ path: `${path}/op`, message: `"${op}" does not apply to ${type} attribute "${key}" (use ${OPS_BY_TYPE[type].join(', ')})` });
    return null;
  }
  const column = type === 'number' || type === 'date' || type === 'boolean' ? 'num_value' : 'text_value';
  if (op === 'exists') {
    if (obj.value !== undefined) problems.push({ path: `${path}/value`, message: '"exists" takes no value' });
    return { kind: 'attribute', key, column, op, values: [] };
  }
  const valuePath = `${path}/value`;
  let raw: unknown[];
  if (op === 'in' || op === 'between') {
    if (!Array.isArray(obj.value) || obj.value.length === 0 || (op === 'between' && obj.value.length !== 2) || obj.value.length > MAX_SEGMENT_LIST) {
      problems.push({ path: valuePath, message: op === 'between' ? '"between" takes [low, high]' : `"in" takes a list of 1 to ${MAX_SEGMENT_LIST} values` });
      return null;
    }
    raw = obj.value;
  } else {
    if (obj.value === undefined || Array.isArray(obj.value)) {
      problems.push({ path: valuePath, message: `"${op}" takes one value` });
      return null;
    }
    raw = [obj.value];
  }
  const values: (string | number)[] = [];
  for (const v of raw) {
    const converted = convert(type, v);
    if (converted === null) {
      problems.push({ path: valuePath, message: `wrong type for ${type} attribute "${key}": ${JSON.stringify(v)} is not ${EXPECTED[type]}` });
      return null;
    }
    values.push(converted);
  }
  if (op === 'between' && (values[0] as number) > (values[1] as number)) {
    problems.push({ path: valuePath, message: '"between" takes [low, high], low first' });
    return null;
  }
  if ((op === 'contains' || op === 'starts_with') && (values[0] as string).length === 0) {
    problems.push({ path: valuePath, message: `"${op}" needs some text` });
    return null;
  }
  return { kind: 'attribute', key, column, op, values };
}

const EXPECTED: Record<AttributeTypeName, string> = {
  text: 'text',
  phone: 'text (a phone number, or the start of one)',
  number: 'a number',
  date: 'a date (YYYY-MM-DD)',
  boolean: 'true or false',
};

/** A rule value in the attribute's stored form (schema: dates as that day's UTC ms, booleans 0/1). */
function convert(type: AttributeTypeName, v: unknown): string | number | null {
  switch (type) {
    case 'text':
      return typeof v === 'string' && v.length <= 1000 ? v : null;
    case 'phone': {
      if (typeof v !== 'string' || v.length > 64) return null;
      // A whole number compares in E.164, as stored; a prefix ('+33') stays as written.
      const parsed = parsePhoneNumberFromString(v);
      return parsed?.isValid() ? parsed.number : v;
    }
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? (v ? 1 : 0) : null;
    case 'date': {
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return null;
      const ms = Date.UTC(Number(v.slice(0, 4)), Number(v.slice(5, 7)) - 1, Number(v.slice(8, 10)));
      return new Date(ms).toISOString().slice(0, 10) === v ? ms : null;
    }
  }
}

function consentCondition(obj: Record<string, unknown>, path: string, problems: Problem[]): RuleNode | null {
  const purpose = obj.consent;
  const state = obj.state ?? 'opted_in';
  if (typeof purpose !== 'string' || !PURPOSE.test(purpose)) {
    problems.push({ path: `${path}/consent`, message: 'a purpose: marketing, transactional, surveys, support, or one the business defined' });
    return null;
  }
  if (!(CONSENT_STATES as readonly unknown[]).includes(state)) {
    problems.push({ path: `${path}/state`, message: `state is one of ${CONSENT_STATES.join(', ')}` });
    return null;
  }
  return { kind: 'consent', purpose, state: state as ConsentStateFilter };
}

function localeCondition(value: unknown, path: string, problems: Problem[]): RuleNode | null {
  const list = stringList(value, path, problems, 'locale');
  if (!list) return null;
  const exact: string[] = [];
  const languages: string[] = [];
  for (const l of list) {
    let canonical: string | undefined;
    try {
      canonical = Intl.getCanonicalLocales(l.replace(/_/g, '-'))[0];
    } catch {}
    if (!canonical) {
      problems.push({ path, message: `bad locale: "${l}" is not a BCP 47 language tag (e.g. fr or fr-CA)` });
      return null;
    }
    (canonical.includes('-') ? exact : languages).push(canonical);
  }
  return { kind: 'locale', exact, languages };
}

function zoneCondition(value: unknown, path: string, problems: Problem[]): RuleNode | null {
  const list = stringList(value, path, problems, 'time_zone');
  if (!list) return null;
  const bad = list.filter((z) => !/^[A-Za-z]/.test(z) || !IANAZone.isValidZone(z));
  if (bad.length > 0) {
    problems.push({ path, message: `bad time zone: ${bad.map((z) => `"${z}"`).join(', ')} (IANA names, e.g. Europe/Paris)` });
    return null;
  }
  return { kind: 'time_zone', zones: list };
}

function activityCondition(obj: Record<string, unknown>, path: string, problems: Problem[]): RuleNode | null {
  const activity = obj.activity as Activity;
  const op = obj.op as ActivityOp;
  if (!(ACTIVITIES as readonly unknown[]).includes(activity)) {
    problems.push({ path: `${path}/activity`, message: `activity is one of ${ACTIVITIES.join(', ')}` });
    return null;
  }
  if (!(ACTIVITY_OPS as readonly unknown[]).includes(op)) {
    problems.push({ path: `${path}/op`, message: `op is one of ${ACTIVITY_OPS.join(', ')}` });
    return null;
  }
  if (op === 'ever' || op === 'never') {
    if (obj.days !== undefined) problems.push({ path: `${path}/days`, message: `"${op}" takes no days` });
    return { kind: 'activity', activity, op, days: 0 };
  }
  const days = obj.days;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650) {
    problems.push({ path: `${path}/days`, message: `"${op}" takes days, a whole number from 1 to 3650` });
    return null;
  }
  return { kind: 'activity', activity, op, days };
}

/** Attribute keys a rule reads (to re-check a saved segment after definitions change). */
export function attributesOf(node: RuleNode): string[] {
  switch (node.kind) {
    case 'all':
    case 'any':
      return [...new Set(node.children.flatMap(attributesOf))];
    case 'not':
      return attributesOf(node.child);
    case 'attribute':
      return [node.key];
    default:
      return [];
  }
}
