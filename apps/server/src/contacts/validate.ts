/**
 * Checks on what a business says about a contact: locales (BCP 47), IANA time zones, phone
 * numbers (E.164 through libphonenumber-js) and typed attribute values. Each returns the stored
 * form or throws a `validation_failed` naming the field; the import helper calls the same
 * functions so an import row and an API call are judged alike.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { IANAZone } from 'luxon';
import { AppError } from '../errors.ts';

function invalid(path: string, message: string, code: 'validation_failed' | 'invalid_locale' | 'invalid_time_zone' | 'invalid_phone' = 'validation_failed'): AppError {
  return new AppError(code, `${path.replace(/^\//, '')}: ${message}`, { errors: [{ path, message }] });
}

/** The canonical BCP 47 form (`en-us` → `en-US`); throws `invalid_locale`. */
export function canonicalLocale(value: string, path = '/locale'): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(value);
    if (!canonical) throw new RangeError('empty');
    return canonical;
  } catch {
    throw invalid(path, `"${value}" is not a BCP 47 locale (e.g. fr-CA)`, 'invalid_locale');
  }
}

/** An IANA zone name as given (`Europe/Paris`); throws `invalid_time_zone`. Offsets like "+02:00" are refused: they ignore summer time. */
export function checkTimeZone(value: string, path = '/time_zone'): string {
  if (!/^[A-Za-z]/.test(value) || !IANAZone.isValidZone(value)) throw invalid(path, `"${value}" is not an IANA time zone (e.g. Europe/Paris)`, 'invalid_time_zone');
  return value;
}

/** E.164 (`+33612345678`); national numbers need `defaultCountry`. Throws `invalid_phone`. */
export function normalisePhone(value: string, options: { path?: string; defaultCountry?: string } = {}): string {
  const path = options.path ?? '/phone';
  const parsed = parsePhoneNumberFromString(value, options.defaultCountry as Parameters<typeof parsePhoneNumberFromString>[1]);
  if (!parsed?.isValid()) throw invalid(path, `"${value}" is not a valid phone number (give it in international form, +…)`, 'invalid_phone');
  return parsed.number;
}

export type AttributeTypeName = 'text' | 'number' | 'date' | 'boolean' | 'phone';
/** How one attribute value is stored (schema.ts: contact_attributes). */
export interface StoredAttribute {
  text_value: string | null;
  num_value: number | null;
}

/** Parses a value for an attribute of `type`; throws `validation_failed` (or `invalid_phone`) naming `path`. */
export function storeAttribute(type: AttributeTypeName, value: unknown, path: string): StoredAttribute {
  switch (type) {
    case 'text':
      if (typeof value !== 'string') throw invalid(path, 'a text attribute takes a string');
      if (value.length > 1000) throw invalid(path, 'at most 1000 characters');
      return { text_value: value, num_value: null };
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(path, 'a number attribute takes a finite number');
      return { text_value: null, num_value: n };
    }
    case 'boolean':
      if (value === true || value === 'true') return { text_value: null, num_value: 1 };
      if (value === false || value === 'false') return { text_value: null, num_value: 0 };
      throw invalid(path, 'a boolean attribute takes true or false');
    case 'date': {
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw invalid(path, 'a date attribute takes YYYY-MM-DD');
      const ms = Date.UTC(Number(value.slice(0, 4)), Number(value.slice(5, 7)) - 1, Number(value.slice(8, 10)));
      // Date.UTC rolls 2026-02-31 over to March: a date that does not round-trip does not exist.
      if (new Date(ms).toISOString().slice(0, 10) !== value) throw invalid(path, `${value} is not a calendar date`);
      return { text_value: value, num_value: ms };
    }
    case 'phone':
      if (typeof value !== 'string') throw invalid(path, 'a phone attribute takes a string');
      return { text_value: normalisePhone(value, { path }), num_value: null };
    default: {
      const never: never = type;
      throw new Error(`unknown attribute type ${String(never)}`);
    }
  }
}

/** The API value of a stored attribute. */
export function readAttribute(type: string, row: StoredAttribute): string | number | boolean | null {
  switch (type) {
    case 'number':
      return row.num_value === null ? null : Number(row.num_value);
    case 'boolean':
      return row.num_value === null ? null : Number(row.num_value) === 1;
    default:
      return row.text_value;
  }
}

/** A proof's time: ISO 8601, not in the future (a minute's clock skew allowed). */
export function proofTime(value: string, now: number, path = '/proof/at'): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw invalid(path, 'an ISO 8601 date-time, e.g. 2026-03-01T10:00:00Z');
  if (ms > now + 60_000) throw invalid(path, 'consent cannot have been given in the future');
  return ms;
}
