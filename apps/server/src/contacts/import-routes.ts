/**
 * Import and export routes. POST /v1/business/contacts/import takes the file as multipart/form-data
 * (field "file"; option fields before it) or as the raw body (text/csv, application/json,
 * application/x-ndjson…; options in the query string), streams it to disk and answers 202 with
 * the import to poll. Every content type is read as a stream here: the app's JSON parser would
 * buffer a JSON file whole.
 */
import { ContactImport, ContactImportList, ImportErrorPage, ImportErrorsQuery, ImportOptionsQuery } from '@mmd/contracts';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Business, BusinessPermission } from '../business/index.ts';
import { AppError } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import { type ContactImports, importOptions } from './import.ts';
import { delimiterProblem } from './import-parse.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['contacts'];
const OPTION_FIELDS = ['format', 'charset', 'delimiter', 'mapping', 'date_format', 'phone_region'] as const;

export function contactImportRoutes(deps: { imports: ContactImports; business: Pick<Business, 'actor'>; authenticate: Authenticate; maxBytes: number }): FastifyPluginAsyncTypebox {
  const { imports, business, authenticate } = deps;
  return async (app) => {
    const actor = async (request: Parameters<Authenticate>[0], permission: BusinessPermission) => business.actor(request, await authenticate(request), permission);

    await app.register(async (upload) => {
      upload.removeAllContentTypeParsers();
      // One byte past the limit, so the spool (not a silent truncation) refuses a file that is too large.
      await upload.register(multipart, { limits: { files: 1, fields: OPTION_FIELDS.length, fieldSize: 20_000, fileSize: deps.maxBytes + 1 } });
      upload.addContentTypeParser('*', (_request, _payload, done) => done(null));
      upload.post(
        '/v1/business/contacts/import',
        {
          schema: {
            'x-mmd-scope': 'contacts:write',
            tags,
            summary: 'Import contacts from CSV, a JSON array or NDJSON: multipart (field "file") or the raw body. Answers 202 with the import; poll it for progress and the error report',
            querystring: ImportOptionsQuery,
            response: { 202: ContactImport },
          },
        },
        async (request, reply) => {
          const who = await actor(request, 'contacts:write');
          const query: Record<string, unknown> = { ...(request.query as Record<string, unknown>) };
          let source: NodeJS.ReadableStream;
          if (request.isMultipart()) {
            const part = await request.file().catch((err: Error & { statusCode?: number }) => {
              if (err.statusCode && err.statusCode < 500) throw err;
              throw new AppError('validation_failed', `the multipart body is malformed: ${err.message}`, { errors: [{ path: 'body', message: 'not valid multipart/form-data' }] });
            });
            if (!part) throw new AppError('validation_failed', 'the multipart body has no file part', { errors: [{ path: 'body/file', message: 'required' }] });
            // Option fields sent before the file (multipart is read in order).
            for (const name of OPTION_FIELDS) {
              const field = part.fields[name] as { value?: unknown } | undefined;
              if (field && typeof field.value === 'string' && field.value !== '') query[name] = field.value;
            }
            source = part.file;
          } else {
            source = request.raw;
          }
          const options = importOptions(checkQuery(query));
          const started = await imports.start(who, source as never, options);
          return reply.status(202).send(started);
        },
      );
    });

    app.get('/v1/business/contacts/imports', { schema: { 'x-mmd-scope': 'business:read', tags, summary: "The business's latest imports (50), newest first", response: { 200: ContactImportList } } }, async (request) => ({
      imports: await imports.list(await actor(request, 'read')),
    }));

    app.get('/v1/business/contacts/imports/:id', { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'One import: status, progress (bytes read of the file) and counts', params: IdParams, response: { 200: ContactImport } } }, async (request) =>
      imports.get(await actor(request, 'read'), request.params.id),
    );

    app.get(
      '/v1/business/contacts/imports/:id/errors',
      {
        schema: {
          'x-mmd-scope': 'business:read',
          tags,
          summary: "An import's per-row error report (line or element index, column, code, reason): JSON pages, or ?format=csv for the whole report",
          params: IdParams,
          querystring: ImportErrorsQuery,
          response: { 200: ImportErrorPage },
        },
      },
      async (request, reply) => {
        const who = await actor(request, 'read');
        if (request.query.format === 'csv') {
          const csv = await imports.errorsCsv(who, request.params.id);
          return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="import-${request.params.id}-errors.csv"`).send(csv as never);
        }
        return imports.errors(who, request.params.id, { afterRow: request.query.after_row, limit: request.query.limit });
      },
    );

    app.get(
      '/v1/business/contacts/export',
      {
        schema: {
          'x-mmd-scope': 'contacts:export',
          tags,
          summary: "Every contact as CSV (streamed), in the import's format: handle, external_id, locale, time_zone, tags, attr:<key>:<type>…, consent:<purpose>… (owners and admins; agents where the business allows)",
          querystring: Type.Object({ bom: Type.Optional(Type.Boolean({ description: 'start with a UTF-8 byte-order mark (for Excel)' })) }, { additionalProperties: false }),
        },
      },
      async (request, reply) => {
        const who = await actor(request, 'contacts:export');
        const csv = await imports.exportCsv(who, { bom: request.query.bom });
        const day = new Date().toISOString().slice(0, 10);
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="contacts-${who.businessHandle}-${day}.csv"`).header('cache-control', 'no-store').send(csv);
      },
    );
  };
}

/** Multipart option fields are checked as the query string is. */
function checkQuery(query: Record<string, unknown>) {
  const problems: { path: string; message: string }[] = [];
  const formats = ['csv', 'json', 'ndjson'];
  if (query.format !== undefined && !formats.includes(String(query.format))) problems.push({ path: '/format', message: `one of ${formats.join(', ')}` });
  if (query.phone_region !== undefined && !/^[A-Z]{2}$/.test(String(query.phone_region))) problems.push({ path: '/phone_region', message: 'a two-letter country code, e.g. FR' });
  if (query.delimiter !== undefined) {
    try {
      delimiterProblem(String(query.delimiter), (message) => new Error(message));
    } catch (err) {
      problems.push({ path: '/delimiter', message: (err as Error).message });
    }
  }
  if (problems.length > 0) throw new AppError('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { errors: problems });
  return query as Parameters<typeof importOptions>[0];
}
