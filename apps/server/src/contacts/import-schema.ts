/** The tables of contact imports (Kysely types). Times are Unix milliseconds. */

/** One uploaded file and its progress; the counters move in the same transaction as each batch. */
export interface ContactImportsTable {
  id: string;
  business_id: string;
  /** The person (or the business itself) who uploaded it: the importer on the consent events. */
  created_by: string;
  /** queued | running | succeeded | failed */
  status: string;
  /** ImportOptions as JSON (format, charset, delimiter, mapping, date format, phone region). */
  options: string;
  /** Known once the job has read the first record. */
  format: string | null;
  charset: string;
  /** The spooled upload, under the data directory; removed once the import has finished. */
  file: string;
  file_bytes: number;
  bytes_read: number;
  /** Records read and committed: a restarted job skips this many. */
  rows_done: number;
  created: number;
  updated: number;
  unchanged: number;
  refused: number;
  consents: number;
  error_code: string | null;
  error_message: string | null;
  error_line: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** The per-row error report. */
export interface ContactImportErrorsTable {
  import_id: string;
  row: number;
  /** Several problems of one row: 0, 1, … */
  n: number;
  line: number | null;
  idx: number | null;
  column_name: string | null;
  code: string;
  reason: string;
}

export interface ContactImportTables {
  contact_imports: ContactImportsTable;
  contact_import_errors: ContactImportErrorsTable;
}
