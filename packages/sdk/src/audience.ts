/**
 * Contact import and export (`client.contactImports`) and segments (`client.segments`), on
 * `forBusiness(id)` as a team member or on the business account's own client.
 */
import type { ContactImport, ImportOptionsQuery, ImportRowError, Segment, SegmentCount, SegmentRule } from '@mmd/contracts';

type Request = <T>(method: string, path: string, body?: unknown) => Promise<T>;
/** A raw call: the path and init in, the Response out (MmdError on a non-2xx answer). */
type Raw = (path: string, init: RequestInit) => Promise<Response>;
const enc = encodeURIComponent;

function query(options: Record<string, string | number | boolean | undefined>) {
  const entries = Object.entries(options).filter(([, v]) => v !== undefined) as [string, string | number | boolean][];
  return entries.length ? `?${entries.map(([k, v]) => `${k}=${enc(String(v))}`).join('&')}` : '';
}

/** How to read an import file; `mapping` maps source columns to fields (handle, external_id, attr:<key>, ignore…). */
export type ImportOptions = Omit<ImportOptionsQuery, 'mapping'> & { mapping?: Record<string, string> };

const CONTENT_TYPES = { csv: 'text/csv', json: 'application/json', ndjson: 'application/x-ndjson' } as const;

/** Typed calls for `/v1/business/contacts/import…` and `/export`. */
export class ContactImportsApi {
  constructor(
    private readonly request: Request,
    private readonly raw: Raw,
  ) {}

  /**
   * Uploads a contact file (CSV, JSON array or NDJSON) as the request body — a string, bytes, a
   * Blob, or a ReadableStream (streamed, never buffered). Answers at once with the queued import.
   */
  async upload(file: string | Uint8Array | Blob | ReadableStream<Uint8Array>, options: ImportOptions = {}): Promise<ContactImport> {
    const { mapping, ...rest } = options;
    const path = `/v1/business/contacts/import${query({ ...rest, mapping: mapping ? JSON.stringify(mapping) : undefined })}`;
    const init: RequestInit & { duplex?: 'half' } = { method: 'POST', body: file as BodyInit, headers: { 'content-type': CONTENT_TYPES[options.format ?? 'csv'] } };
    if (typeof ReadableStream !== 'undefined' && file instanceof ReadableStream) init.duplex = 'half';
    const response = await this.raw(path, init);
    return (await response.json()) as ContactImport;
  }
  /** One import: status, progress (0..1), counts and a whole-file error if any. */
  get(id: string) {
    return this.request<ContactImport>('GET', `/v1/business/contacts/imports/${enc(id)}`);
  }
  /** The business's latest imports, newest first. */
  list() {
    return this.request<{ imports: ContactImport[] }>('GET', '/v1/business/contacts/imports');
  }
  /** A page of the per-row error report; pass `next_after_row` back as `afterRow`. */
  errors(id: string, options: { afterRow?: number; limit?: number } = {}) {
    return this.request<{ errors: ImportRowError[]; next_after_row: number | null }>('GET', `/v1/business/contacts/imports/${enc(id)}/errors${query({ after_row: options.afterRow, limit: options.limit })}`);
  }
  /** The whole error report as CSV text. */
  async errorsCsv(id: string): Promise<string> {
    return (await this.raw(`/v1/business/contacts/imports/${enc(id)}/errors?format=csv`, { method: 'GET' })).text();
  }
  /** Every contact as CSV (the import's own format); the Response's body streams. */
  exportCsv(options: { bom?: boolean } = {}): Promise<Response> {
    return this.raw(`/v1/business/contacts/export${query({ bom: options.bom })}`, { method: 'GET' });
  }
}

/** Typed calls for `/v1/business/segments…`. */
export class SegmentsApi {
  constructor(private readonly request: Request) {}

  list() {
    return this.request<{ segments: Segment[] }>('GET', '/v1/business/segments');
  }
  get(id: string) {
    return this.request<Segment>('GET', `/v1/business/segments/${enc(id)}`);
  }
  create(body: { name: string; description?: string | null; rule: SegmentRule }) {
    return this.request<Segment>('POST', '/v1/business/segments', body);
  }
  update(id: string, body: { name?: string; description?: string | null; rule?: SegmentRule }) {
    return this.request<Segment>('PATCH', `/v1/business/segments/${enc(id)}`, body);
  }
  async remove(id: string) {
    await this.request<void>('DELETE', `/v1/business/segments/${enc(id)}`);
  }
  /** How many contacts an unsaved rule matches now (a rule builder's live count). */
  count(rule: SegmentRule) {
    return this.request<SegmentCount>('POST', '/v1/business/segments/count', { rule });
  }
  /** How many contacts a saved segment matches now. */
  countSaved(id: string) {
    return this.request<SegmentCount>('GET', `/v1/business/segments/${enc(id)}/count`);
  }
}
