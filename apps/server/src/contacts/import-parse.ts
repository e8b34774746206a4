/**
 * The contact import parser: a file of contacts (CSV, a JSON array of objects, or NDJSON) in, one
 * checked record at a time out. Pure — no database, no clock but the one given — so it is tested
 * on its own and the import job (import-job.ts) only resolves handles and writes.
 *
 * Memory stays flat whatever the file's size: bytes are decoded chunk by chunk, CSV is tokenised
 * by a state machine that keeps only the record being read, a JSON array is read token by token
 * (stream-json) and assembled one element at a time, and the only thing that grows with the file
 * is the set of external ids already seen, kept as 64-bit hashes in typed arrays (16 bytes a row;
 * 1,000,000 rows ≈ 32 MB) rather than as strings.
 *
 * Why our own CSV tokenizer: csv-parse counts a CRLF inside a quoted field as two lines, and the
 * error report must name the physical line a record starts on. RFC 4180 with the usual leniency
 * (LF, CRLF or CR line ends, even mixed; text after a closing quote kept).
 */
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { DateTime, IANAZone } from 'luxon';
import { parser as jsonTokens } from 'stream-json';
import { unescapeCell } from './csv-cells.ts';

export type ImportFormat = 'csv' | 'json' | 'ndjson';
/** An attribute's type. 'phone' is text normalised to E.164 (libphonenumber-js). */
export type AttributeType = 'text' | 'number' | 'date' | 'boolean' | 'phone';
export type AttributeValue = string | number | boolean;

/** What a row's fields map to. */
export type ImportField =
  | 'handle'
  | 'name'
  | 'external_id'
  | 'locale'
  | 'time_zone'
  | 'tags'
  | 'consent_purpose'
  | 'consent_source'
  | 'consent_wording'
  | 'consent_at'
  | 'consent_evidence'
  | 'ignore'
  | `attr:${string}`;

export const IMPORT_FIELDS = ['handle', 'name', 'external_id', 'locale', 'time_zone', 'tags', 'consent_purpose', 'consent_source', 'consent_wording', 'consent_at', 'consent_evidence'] as const;
const CONSENT_FIELDS = ['consent_purpose', 'consent_source', 'consent_wording', 'consent_at', 'consent_evidence'] as const;
/** Header spellings accepted for the standard fields, besides the field's own name. */
const ALIASES: Record<string, ImportField> = { timezone: 'time_zone', tz: 'time_zone', language: 'locale', externalid: 'external_id', id: 'external_id', tag: 'tags' };

/** Why a row was refused. `code` is stable; `reason` is for people. */
export type ImportRowErrorCode =
  | 'bad_row'
  | 'missing_handle'
  | 'bad_handle'
  | 'unknown_handle'
  | 'not_a_person'
  | 'contact_erased'
  | 'bad_external_id'
  | 'duplicate_external_id'
  | 'external_id_conflict'
  | 'bad_locale'
  | 'bad_time_zone'
  | 'bad_date'
  | 'bad_number'
  | 'bad_boolean'
  | 'bad_phone'
  | 'bad_tag'
  | 'bad_value'
  | 'bad_attribute'
  | 'unknown_field'
  | 'missing_consent_proof'
  | 'bad_consent';

export interface ImportRowError {
  /** 1-based number of the record in the file (a CSV header is not a record). */
  row: number;
  /** CSV and NDJSON: the physical line the record starts on (1-based); null for a JSON array. */
  line: number | null;
  /** JSON array: the element's index (0-based); null for CSV and NDJSON. */
  index: number | null;
  /** The column (CSV header as written) or key path (JSON) at fault; null for the whole row. */
  column: string | null;
  code: ImportRowErrorCode;
  reason: string;
}

/** Proof of an opt-in carried by the file: every part is required. */
export interface ConsentProof {
  purpose: string;
  source: string;
  wording: string;
  /** Unix ms when the person agreed. */
  at: number;
  evidence: string;
}

export interface ImportRow {
  row: number;
  line: number | null;
  index: number | null;
  /** As written, without a leading '@'; handles match ignoring case. */
  handle: string;
  /** The name the business knows them by (at most 200 characters). */
  name: string | null;
  externalId: string | null;
  /** Canonical BCP 47 tag. */
  locale: string | null;
  /** IANA name. */
  timeZone: string | null;
  /** Tags to add (deduplicated); empty when the row names none. */
  tags: string[];
  attributes: Record<string, AttributeValue>;
  consent: ConsentProof[];
}

export type ImportRecord = { ok: true; row: ImportRow } | { ok: false; row: number; line: number | null; index: number | null; errors: ImportRowError[] };

export type ImportFileErrorCode = 'unsupported_charset' | 'invalid_encoding' | 'malformed_csv' | 'malformed_json' | 'bad_header' | 'record_too_large';

/** The file as a whole cannot be read on (bad encoding, a broken structure, an unusable header). */
export class ImportFileError extends Error {
  constructor(
    readonly code: ImportFileErrorCode,
    message: string,
    readonly line: number | null = null,
  ) {
    super(message);
    this.name = 'ImportFileError';
  }
}

export interface ImportParseOptions {
  /** Sniffed from the first character when absent: '[' JSON array, '{' NDJSON, otherwise CSV. */
  format?: ImportFormat;
  /**
   * The declared character set (utf-8 by default; utf-16le, utf-16be, windows-1252, latin1, any
   * iconv-lite knows). A byte-order mark overrides it: it cannot be mistaken.
   */
  charset?: string;
  /** CSV separator; sniffed from the header line (',', ';' or tab) when absent. */
  delimiter?: string;
  /** Source column (CSV header or JSON key, as written) → field; 'ignore' drops a column. */
  mapping?: Record<string, string>;
  /** Known attribute types (the business's attribute definitions); others are text unless the header says `attr:key:type`. */
  attributeTypes?: Record<string, AttributeType>;
  /** luxon format for dates that are not ISO 8601 (e.g. 'dd/MM/yyyy'); ISO is always accepted. */
  dateFormat?: string;
  /** Region for phone numbers written without an international prefix (e.g. 'FR'). */
  phoneRegion?: string;
  /** For "consent_at is in the future" (default Date.now). */
  clock?: () => number;
  /** Longest field, in characters (default 16,384). */
  maxFieldChars?: number;
  /** Most columns (default 512). */
  maxColumns?: number;
}

/** A parse in progress: iterate it for records; its counters are live. */
export interface ImportParse extends AsyncIterable<ImportRecord> {
  /** Bytes taken from the input so far (progress against the file's size). */
  readonly bytesRead: number;
  /** Records read so far, good or bad. */
  readonly records: number;
  /** Known once the first record has been read. */
  readonly format: ImportFormat | null;
  readonly charset: string;
  /** Attribute keys and types the file's header declares (CSV), or that the rows used (JSON). */
  readonly attributeTypes: Record<string, AttributeType>;
}

const HANDLE = /^[A-Za-z][A-Za-z0-9_]{2,31}$/;
// As contacts defines them (@mmd/contracts AttributeKey, Tag): keys are lower case, tags have no spaces or commas.
const ATTRIBUTE_KEY = /^[a-z][a-z0-9_]{0,47}$/;
const TAG = /^[^\s,]{1,48}$/;
const PURPOSE = /^[a-z][a-z0-9_]{0,31}$/;
const ATTRIBUTE_TYPES: readonly AttributeType[] = ['text', 'number', 'date', 'boolean', 'phone'];
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const MAX = { externalId: 128, tags: 50, text: 1000, proof: 2000, purposes: 10 };

/** Checks options before a file is accepted (charset known, phone region, delimiter); throws ImportFileError. */
export function checkImportOptions(options: ImportParseOptions): void {
  normaliseCharset(options.charset ?? 'utf-8');
  if (options.phoneRegion !== undefined && !/^[A-Z]{2}$/.test(options.phoneRegion)) throw new ImportFileError('bad_header', `phone region '${options.phoneRegion}' is not a two-letter country code`);
  if (options.delimiter !== undefined) delimiterProblem(options.delimiter, (m) => new ImportFileError('bad_header', `delimiter: ${m}`));
  if (options.mapping !== undefined) {
    for (const [source, target] of Object.entries(options.mapping)) {
      if (typeof target !== 'string') throw new ImportFileError('bad_header', `mapping of '${source}' must be a field name`);
      const column = resolveColumn(source, { mapping: { [source]: target } }, options.attributeTypes ?? {});
      if (column && 'error' in column) throw new ImportFileError('bad_header', column.error);
    }
  }
}

/**
 * Why a CSV delimiter cannot be used, thrown through `fail`: it is one character, and not the
 * quote or a line end (either would make every file ambiguous).
 */
export function delimiterProblem(delimiter: string, fail: (message: string) => Error): void {
  if (delimiter.length !== 1) throw fail('one character');
  if (delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw fail('not a double quote, line feed or carriage return');
}

/** Parses a contact file from `input` (bytes). Throws ImportFileError from the iteration when the file as a whole is unreadable. */
export function parseImport(input: Readable | AsyncIterable<Uint8Array | string>, options: ImportParseOptions = {}): ImportParse {
  const state = {
    bytesRead: 0,
    records: 0,
    format: (options.format ?? null) as ImportFormat | null,
    charset: normaliseCharset(options.charset ?? 'utf-8'),
    attributeTypes: {} as Record<string, AttributeType>,
  };
  if (options.phoneRegion !== undefined && !/^[A-Z]{2}$/.test(options.phoneRegion)) throw new ImportFileError('bad_header', `phone region '${options.phoneRegion}' is not a two-letter country code`);
  const checker = new RowChecker(options, state.attributeTypes);

  async function* run(): AsyncGenerator<ImportRecord> {
    const text = decode(input, state);
    const first = await sniff(text, options.format);
    if (first === null) return;
    state.format ??= first.format;
    const chunks = prepend(first.text, text);
    const records = state.format === 'csv' ? csvRecords(chunks, options, checker) : state.format === 'ndjson' ? ndjsonRecords(chunks, checker) : jsonArrayRecords(chunks, checker);
    for await (const record of records) {
      state.records += 1;
      yield record;
    }
  }

  const iterable = run();
  return {
    [Symbol.asyncIterator]: () => iterable,
    get bytesRead() {
      return state.bytesRead;
    },
    get records() {
      return state.records;
    },
    get format() {
      return state.format;
    },
    get charset() {
      return state.charset;
    },
    get attributeTypes() {
      return state.attributeTypes;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Bytes to text

function normaliseCharset(name: string): string {
  const n = name.trim().toLowerCase().replace(/_/g, '-');
  if (n === 'utf8' || n === 'utf-8') return 'utf-8';
  if (!iconv.encodingExists(n)) throw new ImportFileError('unsupported_charset', `unknown character set '${name}' (try utf-8, utf-16le, utf-16be or windows-1252)`);
  return n;
}

/** Decodes the byte stream, honouring a byte-order mark first and the declared charset otherwise. */
async function* decode(input: Readable | AsyncIterable<Uint8Array | string>, state: { bytesRead: number; charset: string }): AsyncGenerator<string> {
  let head: Buffer | null = Buffer.alloc(0);
  let decoder: { write(bytes: Buffer): string; end(): string } | null = null;
  const choose = (bytes: Buffer) => {
    let skip = 0;
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      state.charset = 'utf-8';
      skip = 3;
    } else if (bytes[0] === 0xff && bytes[1] === 0xfe) {
      state.charset = 'utf-16le';
      skip = 2;
    } else if (bytes[0] === 0xfe && bytes[1] === 0xff) {
      state.charset = 'utf-16be';
      skip = 2;
    }
    return { rest: bytes.subarray(skip), decoder: state.charset === 'utf-8' ? strictUtf8(skip) : iconvDecoder(state.charset) };
  };
  for await (const chunk of input) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    state.bytesRead += bytes.length;
    if (head !== null) {
      // A BOM is up to 3 bytes: wait for them (a first chunk may be a single byte).
      head = Buffer.concat([head, bytes]);
      if (head.length < 3) continue;
      ({ rest: bytes, decoder } = choose(head));
      head = null;
    }
    const s = decoder?.write(bytes);
    if (s) yield s;
  }
  if (head !== null) {
    let rest: Buffer;
    ({ rest, decoder } = choose(head));
    const text = decoder.write(rest);
    if (text) yield text;
  }
  const tail = decoder?.end() ?? '';
  if (tail) yield tail;
}

/** Strict UTF-8: undeclared Windows-1252 must be refused, not turned into U+FFFD replacement characters. */
function strictUtf8(skipped: number) {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let offset = skipped;
  return {
    write(bytes: Buffer) {
      try {
        const s = decoder.decode(bytes, { stream: true });
        offset += bytes.length;
        return s;
      } catch {
        throw notUtf8(offset);
      }
    },
    end() {
      try {
        return decoder.decode();
      } catch {
        throw notUtf8(offset);
      }
    },
  };
}

function iconvDecoder(charset: string) {
  const decoder = iconv.getDecoder(charset, { stripBOM: false });
  return { write: (bytes: Buffer) => decoder.write(bytes), end: () => decoder.end() ?? '' };
}

function notUtf8(offset: number) {
  return new ImportFileError('invalid_encoding', `the file is not valid UTF-8 (near byte ${offset}); if it was saved as Windows-1252 or Latin-1 (as Excel's plain "CSV" does), declare charset=windows-1252`);
}

/** Most blank text (whitespace, line ends) a file may start with before its first record. */
export const MAX_LEADING_BLANK = 64 * 1024;

/**
 * Reads text until its first non-blank character, which names the format. Only each new chunk is
 * searched (never the text kept so far), and at most MAX_LEADING_BLANK characters of blank text are
 * kept — they are passed on so that line numbers stay those of the file; past that the file is
 * refused (a file of a gigabyte of newlines is no contact list).
 */
async function sniff(text: AsyncGenerator<string>, declared: ImportFormat | undefined): Promise<{ format: ImportFormat; text: string } | null> {
  const blank: string[] = [];
  let blankChars = 0;
  for (;;) {
    const next = await text.next();
    if (next.done) return null;
    const chunk = next.value;
    const at = chunk.search(/\S/);
    if (blankChars + (at < 0 ? chunk.length : at) > MAX_LEADING_BLANK) {
      const format = declared ?? 'csv';
      throw new ImportFileError(format === 'csv' ? 'malformed_csv' : 'malformed_json', `the file starts with more than ${MAX_LEADING_BLANK} characters of blank lines or spaces before its first record`);
    }
    if (at < 0) {
      blank.push(chunk);
      blankChars += chunk.length;
      continue;
    }
    const c = chunk[at];
    blank.push(chunk);
    return { format: c === '[' ? 'json' : c === '{' ? 'ndjson' : 'csv', text: blank.join('') };
  }
}

async function* prepend(first: string, rest: AsyncGenerator<string>): AsyncGenerator<string> {
  yield first;
  yield* rest;
}

// ---------------------------------------------------------------------------------------------
// CSV

const QUOTE = 34;
const LF = 10;
const CR = 13;

interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * RFC 4180 tokenizer over text chunks; yields each record with the physical line it starts on.
 * State survives chunk boundaries: a chunk may end inside a quoted field, between a CR and its
 * LF, or between the two quotes of an escaped quote.
 */
export async function* csvTokens(chunks: AsyncIterable<string>, options: { delimiter?: string; maxFieldChars?: number; maxColumns?: number } = {}): AsyncGenerator<CsvRecord> {
  const maxField = options.maxFieldChars ?? 16_384;
  const maxColumns = options.maxColumns ?? 512;
  let delimiter = options.delimiter ? options.delimiter.charCodeAt(0) : -1;
  if (options.delimiter !== undefined) delimiterProblem(options.delimiter, (m) => new ImportFileError('bad_header', `delimiter: ${m}`));
  // 0 field start, 1 unquoted, 2 quoted, 3 a quote seen inside quotes (closing, unless another follows)
  let mode = 0;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;
  let afterCR = false;
  let out: CsvRecord[] = [];

  const endField = () => {
    if (fields.length >= maxColumns) throw new ImportFileError('record_too_large', `line ${recordLine} has more than ${maxColumns} columns`, recordLine);
    fields.push(field);
    field = '';
    mode = 0;
  };
  const endRecord = () => {
    endField();
    // An empty line is no record.
    if (!(fields.length === 1 && fields[0] === '')) out.push({ fields, line: recordLine });
    fields = [];
  };
  const tooLong = () => new ImportFileError('record_too_large', `a field starting on line ${mode >= 2 ? quoteLine : recordLine} is longer than ${maxField} characters${mode >= 2 ? ' (a quote that never closes?)' : ''}`, mode >= 2 ? quoteLine : recordLine);

  // The delimiter is sniffed from the whole first line, however the text was chunked.
  for await (const s of delimiter < 0 ? firstLineWhole(chunks) : chunks) {
    if (delimiter < 0) delimiter = sniffDelimiter(s);
    let start = 0; // start of the pending slice of `field`
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (afterCR) {
        afterCR = false;
        // The LF of a CRLF: the line was counted at the CR. Inside quotes it stays in the value.
        if (c === LF) {
          if (mode !== 2) start = i + 1;
          continue;
        }
      }
      if (mode === 2) {
        if (c === QUOTE) {
          field += s.slice(start, i);
          mode = 3;
        } else if (c === LF || c === CR) {
          line += 1;
          if (c === CR) afterCR = true;
        }
        continue;
      }
      if (mode === 3) {
        if (c === QUOTE) {
          field += '"';
          start = i + 1;
          mode = 2;
          continue;
        }
        // The quote closed the field; anything but a delimiter or line end is kept, leniently.
        mode = 1;
        start = i;
      }
      if (c === delimiter) {
        field += s.slice(start, i);
        if (field.length > maxField) throw tooLong();
        endField();
        start = i + 1;
      } else if (c === LF || c === CR) {
        field += s.slice(start, i);
        if (field.length > maxField) throw tooLong();
        endRecord();
        line += 1;
        recordLine = line;
        if (c === CR) afterCR = true;
        start = i + 1;
      } else if (mode === 0) {
        if (c === QUOTE) {
          mode = 2;
          quoteLine = line;
          start = i + 1;
        } else mode = 1;
      }
    }
    if (mode === 1 || mode === 2) field += s.slice(start);
    if (field.length > maxField) throw tooLong();
    if (out.length > 0) {
      yield* out;
      out = [];
    }
  }
  if (mode === 2) throw new ImportFileError('malformed_csv', `the quoted field opened on line ${quoteLine} never closes`, quoteLine);
  if (mode !== 0 || fields.length > 0 || field !== '') endRecord();
  yield* out;
}

async function* firstLineWhole(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let head = '';
  let whole = false;
  for await (const s of chunks) {
    if (whole) {
      yield s;
      continue;
    }
    head += s;
    if (/[\r\n]/.test(head) || head.length > 65_536) {
      whole = true;
      yield head;
    }
  }
  if (!whole && head) yield head;
}

function sniffDelimiter(s: string): number {
  const firstLine = s.split(/\r\n|\n|\r/, 1)[0] ?? '';
  const counts = [',', ';', '\t'].map((d) => ({ d, n: firstLine.split(d).length - 1 }));
  counts.sort((a, b) => b.n - a.n);
  return (counts[0]!.n > 0 ? counts[0]!.d : ',').charCodeAt(0);
}

interface Column {
  label: string;
  field: ImportField;
  key?: string;
  type?: AttributeType;
}

/** Maps a header (or JSON key) to the field it fills; null when it names nothing known. */
function resolveColumn(label: string, options: ImportParseOptions, known: Record<string, AttributeType>): Column | null | { error: string } {
  const mapped = options.mapping?.[label] ?? options.mapping?.[label.trim()];
  const name = (mapped ?? label).trim();
  const lower = name.toLowerCase();
  if (lower === 'ignore' && mapped !== undefined) return { label, field: 'ignore' };
  if ((IMPORT_FIELDS as readonly string[]).includes(lower)) return { label, field: lower as ImportField };
  const alias = ALIASES[lower.replace(/[\s-]/g, '')];
  if (alias && mapped === undefined) return { label, field: alias };
  if (alias && mapped !== undefined) return { label, field: alias };
  // The export's consent:<purpose> columns show states; an import records consent only with proof.
  if (/^consent:[a-z][a-z0-9_]{0,31}$/.test(lower) && mapped === undefined) return { label, field: 'ignore' };
  if (lower.startsWith('attr:')) {
    const [written = '', declared] = name.slice(5).split(':');
    // Keys are lower case; 'attr:Plan' and 'attr:plan' are one attribute.
    const key = written.toLowerCase();
    if (!ATTRIBUTE_KEY.test(key)) return { error: `'${label}': an attribute key is a letter then letters, digits or underscores (at most 48)` };
    if (declared !== undefined && !(ATTRIBUTE_TYPES as readonly string[]).includes(declared.toLowerCase())) return { error: `'${label}': attribute type '${declared}' is not one of ${ATTRIBUTE_TYPES.join(', ')}` };
    const declaredType = declared?.toLowerCase() as AttributeType | undefined;
    const knownType = known[key];
    if (declaredType && knownType && declaredType !== knownType && !(knownType === 'text' && declaredType === 'phone')) return { error: `'${label}': attribute '${key}' is a ${knownType}, not a ${declaredType}` };
    return { label, field: `attr:${key}`, key, type: declaredType ?? knownType ?? 'text' };
  }
  if (mapped !== undefined) return { error: `'${label}' is mapped to '${mapped}', which is not a field (${IMPORT_FIELDS.join(', ')}, attr:<key>, ignore)` };
  return null;
}

async function* csvRecords(chunks: AsyncIterable<string>, options: ImportParseOptions, checker: RowChecker): AsyncGenerator<ImportRecord> {
  let columns: Column[] | null = null;
  let rowNumber = 0;
  for await (const token of csvTokens(chunks, options)) {
    // A cell our own export escaped against spreadsheet formulas ('=…) is read as it was (csv-cells.ts).
    const record = { line: token.line, fields: token.fields.map(unescapeCell) };
    if (columns === null) {
      columns = csvHeader(record.fields, options, checker);
      continue;
    }
    rowNumber += 1;
    const at = { row: rowNumber, line: record.line, index: null };
    if (record.fields.length !== columns.length) {
      checker.seeExternalId(at, columns, record.fields);
      yield {
        ok: false,
        ...at,
        errors: [{ ...at, column: null, code: 'bad_row', reason: `this row has ${record.fields.length} field${record.fields.length === 1 ? '' : 's'}; the header has ${columns.length}` }],
      };
      continue;
    }
    const values: RawValues = [];
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      if (column.field !== 'ignore') values.push({ column, value: record.fields[i]! });
    }
    yield checker.check(at, values);
  }
}

function csvHeader(fields: string[], options: ImportParseOptions, checker: RowChecker): Column[] {
  const problems: string[] = [];
  const unknown: string[] = [];
  const columns: Column[] = [];
  const taken = new Set<string>();
  for (const raw of fields) {
    const label = raw.trim();
    const column = resolveColumn(label, options, options.attributeTypes ?? {});
    if (column === null) unknown.push(`'${label}'`);
    else if ('error' in column) problems.push(column.error);
    else {
      if (column.field !== 'ignore') {
        if (taken.has(column.field)) problems.push(`two columns fill ${column.field}`);
        taken.add(column.field);
      }
      if (column.key && column.type) checker.attributeTypes[column.key] = column.type;
      columns.push(column);
    }
  }
  if (unknown.length > 0)
    problems.push(`unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: name attributes attr:<key> (or attr:<key>:<type>), or map columns to a field or to 'ignore'`);
  if (!taken.has('handle')) problems.push("no 'handle' column: every contact is an account on this server, named by its handle");
  if (problems.length > 0) throw new ImportFileError('bad_header', `the header (line 1) cannot be used: ${problems.join('; ')}`, 1);
  return columns;
}

// ---------------------------------------------------------------------------------------------
// JSON: an array of objects, or one object per line (NDJSON)

async function* ndjsonRecords(chunks: AsyncIterable<string>, checker: RowChecker): AsyncGenerator<ImportRecord> {
  const maxLine = 1 << 20;
  let pending = '';
  let line = 0;
  let rowNumber = 0;
  const take = (text: string): ImportRecord | null => {
    line += 1;
    const trimmed = text.trim();
    if (trimmed === '') return null;
    rowNumber += 1;
    const at = { row: rowNumber, line, index: null };
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      return { ok: false, ...at, errors: [{ ...at, column: null, code: 'bad_row', reason: `this line is not JSON (${(err as Error).message})` }] };
    }
    return checker.checkObject(at, value);
  };
  for await (const s of chunks) {
    let from = 0;
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl < 0) break;
      const text = pending + s.slice(from, nl);
      pending = '';
      const record = take(text);
      if (record) yield record;
      from = nl + 1;
    }
    pending += s.slice(from);
    if (pending.length > maxLine) throw new ImportFileError('record_too_large', `line ${line + 1} is longer than ${maxLine} characters`, line + 1);
  }
  if (pending !== '') {
    const record = take(pending);
    if (record) yield record;
  }
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Reads `[ {...}, {...} ]` token by token and assembles one element at a time, within limits
 * (depth, keys), so neither a huge array nor a hostile element is ever held whole.
 */
async function* jsonArrayRecords(chunks: AsyncIterable<string>, checker: RowChecker): AsyncGenerator<ImportRecord> {
  const tokens = jsonTokens.asStream({ packValues: true, streamValues: false, maxDepth: 16, maxPackedLength: 1 << 16 });
  const source = Readable.from(chunks, { objectMode: false });
  source.on('error', (err) => tokens.destroy(err));
  source.pipe(tokens);
  const maxDepth = 4;
  const maxValues = 2000;
  let top = 0; // 0 before '[', 1 inside the array, 2 after ']'
  let index = -1;
  let stack: (Json[] | { [key: string]: Json })[] = [];
  let keys: (string | null)[] = [];
  // Containers still open in an element that broke a limit: it is skipped, keeping nothing.
  let skipping = 0;
  let broken: string | null = null;
  let values = 0;
  const finishElement = (value: Json): ImportRecord => {
    const at = { row: index + 1, line: null, index };
    if (broken) {
      const reason = broken;
      broken = null;
      return { ok: false, ...at, errors: [{ ...at, column: null, code: 'bad_row', reason }] };
    }
    return checker.checkObject(at, value);
  };
  const place = (value: Json): ImportRecord | null => {
    const parent = stack[stack.length - 1];
    if (!parent) return finishElement(value);
    if (Array.isArray(parent)) parent.push(value);
    else parent[keys[keys.length - 1]!] = value;
    return null;
  };
  const skip = (reason: string) => {
    broken = reason;
    skipping = stack.length;
    stack = [];
    keys = [];
  };
  try {
    for await (const token of tokens as AsyncIterable<{ name: string; value?: unknown }>) {
      const opens = token.name === 'startObject' || token.name === 'startArray';
      const closes = token.name === 'endObject' || token.name === 'endArray';
      if (top === 0) {
        if (token.name !== 'startArray') throw new ImportFileError('malformed_json', 'a JSON import is an array of objects: [ {"handle": …}, … ]');
        top = 1;
        continue;
      }
      if (top === 2) throw new ImportFileError('malformed_json', 'text after the closing ] of the array');
      if (skipping === 0 && stack.length === 0) {
        if (token.name === 'endArray') {
          top = 2;
          continue;
        }
        index += 1; // a new element begins
        values = 0;
      }
      if (skipping === 0 && stack.length > 0) {
        values += 1;
        if (values > maxValues) skip(`this element has more than ${maxValues} values`);
        else if (opens && stack.length >= maxDepth) skip(`this element nests deeper than ${maxDepth} levels`);
      }
      if (skipping > 0) {
        if (opens) skipping += 1;
        else if (closes) skipping -= 1;
        if (skipping === 0) yield finishElement(null);
        continue;
      }
      if (opens) {
        stack.push(token.name === 'startObject' ? {} : []);
        keys.push(null);
      } else if (closes) {
        const done = stack.pop()!;
        keys.pop();
        const record = place(done);
        if (record) yield record;
      } else if (token.name === 'keyValue') {
        keys[keys.length - 1] = String(token.value);
      } else {
        const value = token.name === 'numberValue' ? Number(token.value) : (token.value as Json);
        const record = place(value);
        if (record) yield record;
      }
    }
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    throw new ImportFileError('malformed_json', `the JSON is malformed after element ${index}: ${(err as Error).message}`);
  } finally {
    source.destroy();
    tokens.destroy();
  }
  if (top !== 2) throw new ImportFileError('malformed_json', 'the JSON array never closes (a truncated file?)');
}

// ---------------------------------------------------------------------------------------------
// Checking one row

type RawValues = { column: Column; value: unknown }[];
type ConsentParts = Partial<Record<(typeof CONSENT_FIELDS)[number], { value: string; label: string }>>;
interface ConsentGroup {
  parts: ConsentParts;
  label: string;
}
interface At {
  row: number;
  line: number | null;
  index: number | null;
}

class RowChecker {
  private readonly seen = new HashSet64();
  private readonly clock: () => number;
  private readonly zones = new BoundedCache<string | null>(10_000);
  private readonly locales = new BoundedCache<string | null>(10_000);

  constructor(
    private readonly options: ImportParseOptions,
    readonly attributeTypes: Record<string, AttributeType>,
  ) {
    this.clock = options.clock ?? Date.now;
    Object.assign(attributeTypes, options.attributeTypes);
  }

  /**
   * JSON carries types: an attribute neither known nor declared takes the type of its first value
   * (number, boolean, else text), and later rows are checked against it.
   */
  private typeFor(key: string, value: unknown): AttributeType {
    const known = this.attributeTypes[key];
    if (known) return known;
    if (value === null || value === undefined) return 'text';
    const type: AttributeType = typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'text';
    this.attributeTypes[key] = type;
    return type;
  }

  /** A row refused for its shape still claims its external id, so a later copy is reported. */
  seeExternalId(at: At, columns: Column[], fields: string[]) {
    const i = columns.findIndex((c) => c.field === 'external_id');
    const id = i >= 0 ? fields[i]?.trim() : undefined;
    if (id) this.seen.add(id, at.line ?? at.index ?? at.row);
  }

  /** A JSON element: keys map as CSV headers do; `attributes` and `consent` may be nested. */
  checkObject(at: At, value: unknown): ImportRecord {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, ...at, errors: [{ ...at, column: null, code: 'bad_row', reason: 'this element is not an object' }] };
    const values: RawValues = [];
    const errors: ImportRowError[] = [];
    const groups: ConsentGroup[] = [];
    const err = (column: string, code: ImportRowErrorCode, reason: string) => errors.push({ ...at, column, code, reason });
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'attributes' && this.options.mapping?.[key] === undefined) {
        if (v === null) continue;
        if (typeof v !== 'object' || Array.isArray(v)) {
          err(key, 'bad_value', 'attributes is an object of key → value');
          continue;
        }
        for (const [written, av] of Object.entries(v as Record<string, unknown>)) {
          const k = written.toLowerCase();
          if (!ATTRIBUTE_KEY.test(k)) err(`attributes.${written}`, 'bad_attribute', `'${clip(written)}': an attribute key is a letter then letters, digits or underscores (at most 48)`);
          else values.push({ column: { label: `attributes.${written}`, field: `attr:${k}`, key: k, type: this.typeFor(k, av) }, value: av });
        }
        continue;
      }
      if (key === 'consent' && this.options.mapping?.[key] === undefined) {
        if (v === null) continue;
        const list = Array.isArray(v) ? v : [v];
        list.forEach((c, i) => {
          const label = Array.isArray(v) ? `consent[${i}]` : 'consent';
          if (c === null || typeof c !== 'object' || Array.isArray(c)) {
            err(label, 'bad_consent', 'a consent entry is an object { purpose, source, wording, at, evidence }');
            return;
          }
          groups.push(this.consentGroup(at, c as Record<string, unknown>, label, errors));
        });
        continue;
      }
      const column = resolveColumn(key, this.options, this.options.attributeTypes ?? {});
      // attr:<key> without a declared type: typed by its values.
      if (column && !('error' in column) && column.key && key.split(':').length === 2) column.type = this.typeFor(column.key, v);
      if (column === null) err(key, 'unknown_field', `unknown field '${key}': use ${IMPORT_FIELDS.join(', ')}, attributes {…} or attr:<key>`);
      else if ('error' in column) err(key, 'bad_attribute', column.error);
      else if (column.field !== 'ignore') values.push({ column, value: v });
    }
    return this.check(at, values, errors, groups);
  }

  private consentGroup(at: At, c: Record<string, unknown>, label: string, errors: ImportRowError[]): ConsentGroup {
    const parts: ConsentParts = {};
    for (const [k, v] of Object.entries(c)) {
      const field = `consent_${k}`;
      if (!(CONSENT_FIELDS as readonly string[]).includes(field)) {
        errors.push({ ...at, column: `${label}.${k}`, code: 'unknown_field', reason: `unknown consent field '${k}' (purpose, source, wording, at, evidence)` });
        continue;
      }
      const s = this.text(v, `${label}.${k}`, at, errors);
      if (s !== null) parts[field as (typeof CONSENT_FIELDS)[number]] = { value: s, label: `${label}.${k}` };
    }
    return { parts, label };
  }

  check(at: At, values: RawValues, preErrors: ImportRowError[] = [], groups: ConsentGroup[] = []): ImportRecord {
    const errors = preErrors;
    // No closures are made per row: under tsx (keepNames) each one costs a __name call.
    // Fields written out: an object spread here cost V8 ~20 µs a row (a slow clone path).
    const row: ImportRow = { row: at.row, line: at.line, index: at.index, handle: '', name: null, externalId: null, locale: null, timeZone: null, tags: [], attributes: {}, consent: [] };
    const flatConsent: ConsentParts = {};
    let handleLabel = 'handle';
    for (const { column, value } of values) {
      const label = column.label;
      if (column.field === 'tags') {
        row.tags = this.tags(value, label, at, errors);
        continue;
      }
      if (column.key) {
        const v = this.attribute(value, column.type ?? 'text', label, at, errors);
        if (v !== null) {
          row.attributes[column.key] = v;
        }
        continue;
      }
      const s = this.text(value, label, at, errors);
      if (s === null) continue;
      switch (column.field) {
        case 'handle':
          handleLabel = label;
          row.handle = s.startsWith('@') ? s.slice(1) : s;
          if (!HANDLE.test(row.handle)) errors.push(rowError(at, label, 'bad_handle', `bad handle: '${clip(s)}' is not a handle (a letter, then 2 to 31 letters, digits or underscores)`));
          break;
        case 'name':
          if (s.length > 200 || CONTROL.test(s)) errors.push(rowError(at, label, 'bad_value', 'a name is at most 200 characters, without control characters'));
          else row.name = s;
          break;
        case 'external_id':
          if (s.length > MAX.externalId || CONTROL.test(s)) errors.push(rowError(at, label, 'bad_external_id', `bad external id: at most ${MAX.externalId} characters, no control characters`));
          else row.externalId = s;
          break;
        case 'locale': {
          const locale = this.locale(s);
          if (locale === null) errors.push(rowError(at, label, 'bad_locale', `bad locale: '${clip(s)}' is not a BCP 47 language tag (e.g. fr-FR)`));
          else row.locale = locale;
          break;
        }
        case 'time_zone': {
          const zone = this.zone(s);
          if (zone === null) errors.push(rowError(at, label, 'bad_time_zone', `bad time zone: '${clip(s)}' is not an IANA time zone (e.g. Europe/Paris)`));
          else row.timeZone = zone;
          break;
        }
        case 'consent_purpose':
        case 'consent_source':
        case 'consent_wording':
        case 'consent_at':
        case 'consent_evidence':
          flatConsent[column.field] = { value: s, label };
          break;
        default:
          break;
      }
    }
    if (!row.handle && !hasErrorIn(errors, handleLabel)) errors.push(rowError(at, handleLabel, 'missing_handle', 'missing handle: every contact is named by the handle of their account here'));
    if (Object.keys(flatConsent).length > 0) groups.unshift({ parts: flatConsent, label: '' });
    for (const group of groups) this.consent(group.parts, group.label, at, row, errors);
    if (row.externalId !== null) {
      const first = this.seen.add(row.externalId, at.line ?? at.index ?? at.row);
      if (first !== null) errors.push(rowError(at, labelOf(values, 'external_id'), 'duplicate_external_id', `duplicate external id '${clip(row.externalId)}': already used ${at.index !== null ? `by element ${first}` : `on line ${first}`}`));
    }
    if (errors.length > 0) return { ok: false, ...at, errors };
    return { ok: true, row };
  }

  private consent(parts: ConsentParts, prefix: string, at: At, row: ImportRow, errors: ImportRowError[]) {
    const name = (f: (typeof CONSENT_FIELDS)[number]) => parts[f]?.label ?? (prefix ? `${prefix}.${f.slice(8)}` : f);
    const purposeText = parts.consent_purpose?.value;
    if (!purposeText) {
      errors.push({ ...at, column: name('consent_purpose'), code: 'bad_consent', reason: 'consent proof without a consent_purpose: say what the person agreed to (e.g. marketing)' });
      return;
    }
    const purposes = [...new Set(purposeText.split(';').map((p) => p.trim().toLowerCase()).filter(Boolean))];
    const badPurpose = purposes.find((p) => !PURPOSE.test(p));
    if (badPurpose !== undefined || purposes.length === 0 || purposes.length > MAX.purposes) {
      errors.push({ ...at, column: name('consent_purpose'), code: 'bad_consent', reason: `bad consent purpose '${clip(badPurpose ?? purposeText)}': lower-case words like marketing, transactional, surveys (';' between several)` });
      return;
    }
    const missing = (['consent_source', 'consent_wording', 'consent_at', 'consent_evidence'] as const).filter((f) => !parts[f]?.value);
    if (missing.length > 0) {
      errors.push({
        ...at,
        column: name(missing[0]!),
        code: 'missing_consent_proof',
        reason: `missing consent proof: ${purposes.join(', ')} consent needs ${missing.map((m) => m.slice(8)).join(', ')} (where and how the person agreed, the wording they saw, when, and the evidence you keep)`,
      });
      return;
    }
    for (const f of ['consent_source', 'consent_wording', 'consent_evidence'] as const) {
      if (parts[f]!.value.length > MAX.proof) {
        errors.push({ ...at, column: name(f), code: 'bad_value', reason: `${f} is longer than ${MAX.proof} characters` });
        return;
      }
    }
    const when = this.instant(parts.consent_at!.value);
    if (when === null) {
      errors.push({ ...at, column: name('consent_at'), code: 'bad_date', reason: `bad date: consent_at '${clip(parts.consent_at!.value)}' is not an ISO 8601 date or time${this.options.dateFormat ? ` nor ${this.options.dateFormat}` : ''}` });
      return;
    }
    if (when > this.clock() + 5 * 60_000) {
      errors.push({ ...at, column: name('consent_at'), code: 'bad_date', reason: `bad date: consent_at '${clip(parts.consent_at!.value)}' is in the future` });
      return;
    }
    for (const purpose of purposes) row.consent.push({ purpose, source: parts.consent_source!.value, wording: parts.consent_wording!.value, at: when, evidence: parts.consent_evidence!.value });
  }

  /** A scalar as trimmed text; null when empty or absent (an empty cell changes nothing). */
  private text(value: unknown, label: string, at: At, errors: ImportRowError[]): string | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'boolean') return String(value);
    if (typeof value !== 'string') {
      errors.push({ ...at, column: label, code: 'bad_value', reason: `${label} must be text` });
      return null;
    }
    const s = value.trim();
    return s === '' ? null : s;
  }

  private tags(value: unknown, label: string, at: At, errors: ImportRowError[]): string[] {
    let list: unknown[];
    if (Array.isArray(value)) list = value;
    else if (typeof value === 'string') list = value.split(';');
    else if (value === null || value === undefined) return [];
    else {
      errors.push({ ...at, column: label, code: 'bad_tag', reason: "tags are text separated by ';' (or a JSON array of text)" });
      return [];
    }
    const tags: string[] = [];
    for (const t of list) {
      if (typeof t !== 'string') {
        errors.push({ ...at, column: label, code: 'bad_tag', reason: 'a tag must be text' });
        return [];
      }
      const tag = t.trim();
      if (tag === '') continue;
      if (!TAG.test(tag)) {
        errors.push({ ...at, column: label, code: 'bad_tag', reason: `bad tag '${clip(tag)}': at most 48 characters, without spaces or commas` });
        return [];
      }
      if (!tags.includes(tag)) tags.push(tag);
    }
    if (tags.length > MAX.tags) {
      errors.push({ ...at, column: label, code: 'bad_tag', reason: `more than ${MAX.tags} tags` });
      return [];
    }
    return tags;
  }

  private attribute(value: unknown, type: AttributeType, label: string, at: At, errors: ImportRowError[]): AttributeValue | null {
    if (value === null || value === undefined || value === '') return null;
    switch (type) {
      case 'number': {
        if (typeof value === 'number') return Number.isFinite(value) ? value : this.fail(errors, at, label, 'bad_number', `bad number in ${label}`);
        const s = this.text(value, label, at, errors);
        if (s === null) return null;
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) || !Number.isFinite(Number(s))) return this.fail(errors, at, label, 'bad_number', `bad number: '${clip(s)}' (write 1234.5, without thousands separators)`);
        return Number(s);
      }
      case 'boolean': {
        if (typeof value === 'boolean') return value;
        const s = this.text(value, label, at, errors)?.toLowerCase();
        if (s === undefined) return null;
        if (['true', 'yes', 'y', '1'].includes(s)) return true;
        if (['false', 'no', 'n', '0'].includes(s)) return false;
        return this.fail(errors, at, label, 'bad_boolean', `bad boolean: '${clip(s)}' (true/false, yes/no or 1/0)`);
      }
      case 'date': {
        const s = this.text(value, label, at, errors);
        if (s === null) return null;
        const date = this.date(s);
        return date ?? this.fail(errors, at, label, 'bad_date', `bad date: '${clip(s)}' is not an ISO 8601 date (YYYY-MM-DD)${this.options.dateFormat ? ` nor ${this.options.dateFormat}` : ''}`);
      }
      case 'phone': {
        const s = this.text(value, label, at, errors);
        if (s === null) return null;
        const phone = parsePhoneNumberFromString(s, this.options.phoneRegion as CountryCode | undefined);
        if (!phone?.isValid()) return this.fail(errors, at, label, 'bad_phone', `bad phone number: '${clip(s)}'${this.options.phoneRegion ? '' : ' (write it with its +country code, or declare a phone region)'}`);
        return phone.number;
      }
      case 'text': {
        const s = this.text(value, label, at, errors);
        if (s === null) return null;
        if (s.length > MAX.text) return this.fail(errors, at, label, 'bad_value', `${label} is longer than ${MAX.text} characters`);
        return s;
      }
    }
  }

  private fail(errors: ImportRowError[], at: At, column: string, code: ImportRowErrorCode, reason: string): null {
    errors.push(rowError(at, column, code, reason));
    return null;
  }

  /** A calendar date as YYYY-MM-DD, from ISO 8601 or the declared format. */
  private date(s: string): string | null {
    let d = /^\d{4}-\d{2}-\d{2}$/.test(s) ? DateTime.fromISO(s, { zone: 'utc' }) : null;
    if (!d?.isValid && this.options.dateFormat) d = DateTime.fromFormat(s, this.options.dateFormat, { zone: 'utc' });
    return d?.isValid ? d.toISODate() : null;
  }

  /** An instant: an ISO 8601 date-time (UTC unless it says otherwise), a date (midnight UTC), or the declared format. */
  private instant(s: string): number | null {
    let d = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/.test(s) ? DateTime.fromISO(s.replace(' ', 'T'), { zone: 'utc' }) : null;
    if (!d?.isValid && this.options.dateFormat) d = DateTime.fromFormat(s, this.options.dateFormat, { zone: 'utc' });
    return d?.isValid ? d.toMillis() : null;
  }

  private locale(s: string): string | null {
    const known = this.locales.get(s);
    if (known !== undefined) return known;
    let locale: string | null = null;
    try {
      const list = Intl.getCanonicalLocales(s.replace(/_/g, '-'));
      if (list.length === 1) locale = list[0]!;
    } catch {}
    return this.locales.set(s, locale);
  }

  private zone(s: string): string | null {
    const known = this.zones.get(s);
    if (known !== undefined) return known;
    let zone: string | null = null;
    // Offsets (+02:00) are no IANA zone: they know nothing of summer time.
    if (/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(s) && IANAZone.isValidZone(s)) {
      // Keep the name as written (Intl would turn EST into America/Panama), fixing only its case.
      const resolved = new Intl.DateTimeFormat('en', { timeZone: s }).resolvedOptions().timeZone;
      zone = resolved.toLowerCase() === s.toLowerCase() ? resolved : s;
    }
    return this.zones.set(s, zone);
  }
}

function rowError(at: At, column: string | null, code: ImportRowErrorCode, reason: string): ImportRowError {
  return { row: at.row, line: at.line, index: at.index, column, code, reason };
}

function hasErrorIn(errors: ImportRowError[], column: string): boolean {
  for (const e of errors) if (e.column === column) return true;
  return false;
}

function labelOf(values: RawValues, field: ImportField): string {
  return values.find((v) => v.column.field === field)?.column.label ?? field;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

/** Remembers answers for the few distinct zones and locales a file holds; cleared when full. */
class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): V {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
    return value;
  }
}

/**
 * A set of strings kept as 64-bit hashes (two 32-bit halves) in open-addressed typed arrays, with
 * the line each was first seen on. Two different ids collide with probability ~n²/2⁶⁵ — about
 * 1 in 37 million for a million-row file — and a collision only reports a false duplicate.
 */
export class HashSet64 {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private at = new Uint32Array(1024); // line + 1; 0 = empty slot
  private size = 0;

  /** Adds `s`; returns null when new, or the line it was first added with. */
  add(s: string, line: number): number | null {
    const [h, l] = hash64(s);
    const mask = this.hi.length - 1;
    let i = l & mask;
    while (this.at[i] !== 0) {
      if (this.hi[i] === h && this.lo[i] === l) return this.at[i]! - 1;
      i = (i + 1) & mask;
    }
    this.hi[i] = h;
    this.lo[i] = l;
    this.at[i] = line + 1;
    this.size += 1;
    if (this.size * 2 > this.hi.length) this.grow();
    return null;
  }

  private grow() {
    const { hi, lo, at } = this;
    const cap = hi.length * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.at = new Uint32Array(cap);
    const mask = cap - 1;
    for (let j = 0; j < hi.length; j++) {
      if (at[j] === 0) continue;
      let i = lo[j]! & mask;
      while (this.at[i] !== 0) i = (i + 1) & mask;
      this.hi[i] = hi[j]!;
      this.lo[i] = lo[j]!;
      this.at[i] = at[j]!;
    }
  }
}

/** cyrb53's two 32-bit lanes (public domain, bryc): fast and well mixed for short strings. */
function hash64(s: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}
