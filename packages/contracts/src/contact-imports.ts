/**
 * Contact import and export. An import uploads a CSV, JSON array or NDJSON file (streamed to disk,
 * never held in memory) and becomes a durable job that writes it in batches, idempotent by
 * external id; its progress, counts and per-row error report are read while it runs. Export
 * streams the business's contacts as CSV in the import's own format.
 */
import { type Static, Type } from 'typebox';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([Type.Null(), t]);

export const IMPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export const ImportFormat = Type.Enum([...IMPORT_FORMATS], { description: 'csv; json (an array of objects); ndjson (one object per line). Sniffed from the first character when not given.' });
export type ImportFormat = Static<typeof ImportFormat>;

/** How to read an import (query string of a raw-body upload, or multipart fields before the file). */
export const ImportOptionsQuery = Type.Object(
  {
    format: Type.Optional(ImportFormat),
    charset: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'utf-8 (default), utf-16le, utf-16be, windows-1252, iso-8859-1…; a byte-order mark wins' })),
    delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1, description: "CSV separator; sniffed from the header (',', ';' or tab) when not given" })),
    mapping: Type.Optional(Type.String({ maxLength: 20_000, description: 'JSON object: source column → handle, external_id, locale, time_zone, tags, consent_*, attr:<key>[:<type>] or ignore' })),
    date_format: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: "luxon format for non-ISO dates, e.g. dd/MM/yyyy" })),
    phone_region: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'country for phone numbers written without +, e.g. FR' })),
  },
  { additionalProperties: false },
);
export type ImportOptionsQuery = Static<typeof ImportOptionsQuery>;

export const ImportStatus = Type.Enum(['queued', 'running', 'succeeded', 'failed']);
export type ImportStatus = Static<typeof ImportStatus>;

export const ContactImport = Type.Object({
  id: Type.String(),
  status: ImportStatus,
  format: Type.Union([Type.Null(), ImportFormat]),
  charset: Type.String(),
  file_bytes: Type.Integer({ minimum: 0 }),
  bytes_read: Type.Integer({ minimum: 0 }),
  /** bytes_read / file_bytes (0..1): the progress bar. */
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  rows: Type.Object({
    /** Records read and committed (good or refused). */
    done: Type.Integer({ minimum: 0 }),
    created: Type.Integer({ minimum: 0 }),
    updated: Type.Integer({ minimum: 0 }),
    unchanged: Type.Integer({ minimum: 0 }),
    refused: Type.Integer({ minimum: 0 }),
    consents_recorded: Type.Integer({ minimum: 0 }),
  }),
  /** Why the file as a whole could not be read (encoding, header, structure); null otherwise. */
  error: Type.Union([Type.Null(), Type.Object({ code: Type.String(), message: Type.String(), line: Nullable(Type.Integer()) })]),
  created_by: Type.String(),
  created_at: Millis,
  started_at: Nullable(Millis),
  finished_at: Nullable(Millis),
});
export type ContactImport = Static<typeof ContactImport>;
export const ContactImportList = Type.Object({ imports: Type.Array(ContactImport) });

export const ImportRowError = Type.Object({
  row: Type.Integer({ minimum: 1, description: '1-based record number (a CSV header is not a record)' }),
  line: Nullable(Type.Integer({ minimum: 1, description: 'CSV/NDJSON: the physical line the record starts on' })),
  index: Nullable(Type.Integer({ minimum: 0, description: "JSON array: the element's index" })),
  column: Nullable(Type.String()),
  code: Type.String({ description: 'bad_row, missing_handle, bad_handle, unknown_handle, not_a_person, contact_erased, bad_external_id, duplicate_external_id, external_id_conflict, bad_locale, bad_time_zone, bad_date, bad_number, bad_boolean, bad_phone, bad_tag, bad_value, bad_attribute, unknown_field, missing_consent_proof, bad_consent' }),
  reason: Type.String(),
});
export type ImportRowError = Static<typeof ImportRowError>;
export const ImportErrorPage = Type.Object({ errors: Type.Array(ImportRowError), next_after_row: Nullable(Type.Integer()) });
export const ImportErrorsQuery = Type.Object(
  {
    format: Type.Optional(Type.Enum(['json', 'csv'], { description: 'json pages (default), or the whole report as a CSV download' })),
    after_row: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  },
  { additionalProperties: false },
);
