/**
 * Contact imports and export. An upload is spooled to a file under the data directory (size-
 * limited, never in memory) and becomes a durable job on its own queue. The job parses the file as
 * a stream (import-parse.ts) and writes it in batches of `batchRows` rows, each batch in one
 * transaction together with the import's progress counters — so a crash or kill -9 resumes after
 * the last committed batch: the restarted job re-reads the file and skips the records already
 * committed. Handles, contacts, tags, attributes and earlier imported opt-ins are read once per
 * batch (one query each), never per row.
 *
 * Idempotent by external id (and by person: a contact is one account with one business): running
 * the same file again changes nothing and records no second opt-in. An erased contact is never
 * brought back by an import, and an import's opt-in must carry its proof (import-parse.ts).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContactImport, ImportOptionsQuery, ImportRowError } from '@mmd/contracts';
import { stringify } from 'csv-stringify';
import { accountsByHandles, accountsByIds, handlesOf } from '../accounts/index.ts';
import type { BusinessActor } from '../business/index.ts';
import { AppError, notFound } from '../errors.ts';
import { type Database, type Tx, lockScope } from '../platform/db/index.ts';
import { makePrivateDir } from '../platform/private-files.ts';
import { spoolToFile } from '../platform/blobs/spool.ts';
import { BlobError } from '../platform/blobs/errors.ts';
import {
  attributesOfContacts,
  contactsOfAccountsOrExternalIds,
  contactsPage,
  defineMissingAttributes,
  importedOptIns,
  insertContactRows,
  insertTagRows,
  optInKey,
  tagsOfContacts,
  updateContactFields,
  upsertAttributeRows,
} from './batch.ts';
import { contactIdFor } from '../lib/ids.ts';
import { appendConsentBatch, statesOf } from './consent.ts';
import { escapeCell } from './csv-cells.ts';
import type { ContactImportsTable } from './import-schema.ts';
import { type AttributeType, type ImportParseOptions, type ImportRecord, type ImportRow, ImportFileError, checkImportOptions, parseImport } from './import-parse.ts';
import type { ContactsTable } from './schema.ts';
import { attributeDefs, purposesOf } from './service.ts';
import { type AttributeTypeName, readAttribute, storeAttribute } from './validate.ts';

/** Most tags on one contact and most attribute keys per business (as contacts' own API enforces). */
import { MAX_ATTRIBUTE_DEFINITIONS, MAX_CONTACT_TAGS } from '@mmd/contracts';

export interface ContactImportsDeps {
  db: Database;
  clock: () => number;
  dataDir: string;
  maxBytes: number;
  batchRows: number;
  /**
   * Bytes every business's import files may take on disk together (spooled uploads and files
   * waiting for their job). An upload still streaming counts at `maxBytes`, its most.
   */
  spoolBudgetBytes?: number;
  /** Days a finished import's per-row error report is kept (it quotes handles and values from the file); 30 unless given. */
  reportDays?: number;
  /** Pause between batches (ms), leaving the database to live traffic; 0 for none. */
  batchPauseMs?: number;
  maxPending: number;
  /** Enqueues the import's job in the transaction that creates it. */
  enqueue: (tx: Tx, importId: string) => Promise<unknown>;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** What the queue gives a running import (the part of a Job it uses). */
export interface ImportJobContext {
  signal: AbortSignal;
  attempt: number;
  maxAttempts: number;
}

const EXPORT_PAGE = 1000;
/** An 'uploading' import row older than this was left by a crash mid-upload and no longer counts as pending. */
const UPLOAD_STALE_MS = 6 * 60 * 60 * 1000;

function view(row: ContactImportsTable): ContactImport {
  const fileBytes = Number(row.file_bytes);
  const bytesRead = Math.min(Number(row.bytes_read), fileBytes);
  return {
    id: row.id,
    status: row.status as ContactImport['status'],
    format: row.format as ContactImport['format'],
    charset: row.charset,
    file_bytes: fileBytes,
    bytes_read: bytesRead,
    progress: row.status === 'succeeded' ? 1 : fileBytes === 0 ? 0 : Math.min(1, bytesRead / fileBytes),
    rows: { done: Number(row.rows_done), created: Number(row.created), updated: Number(row.updated), unchanged: Number(row.unchanged), refused: Number(row.refused), consents_recorded: Number(row.consents) },
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '', line: row.error_line === null ? null : Number(row.error_line) } : null,
    created_by: row.created_by,
    created_at: Number(row.created_at),
    started_at: row.started_at === null ? null : Number(row.started_at),
    finished_at: row.finished_at === null ? null : Number(row.finished_at),
  };
}

/** The query string / multipart fields of an upload, as parser options; refuses bad ones up front. */
export function importOptions(query: ImportOptionsQuery): ImportParseOptions {
  let mapping: Record<string, string> | undefined;
  if (query.mapping !== undefined) {
    try {
      const parsed: unknown = JSON.parse(query.mapping);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) throw new Error('not an object of strings');
      mapping = parsed as Record<string, string>;
    } catch (err) {
      throw new AppError('invalid_import', `mapping: a JSON object of column → field (${(err as Error).message})`, { errors: [{ path: '/mapping', message: 'a JSON object of column → field' }] });
    }
  }
  const options: ImportParseOptions = { format: query.format, charset: query.charset, delimiter: query.delimiter, mapping, dateFormat: query.date_format, phoneRegion: query.phone_region };
  try {
    checkImportOptions(options);
  } catch (err) {
    if (err instanceof ImportFileError) throw new AppError('invalid_import', err.message, { errors: [{ path: '/', message: err.message }] });
    throw err;
  }
  return options;
}

export function createContactImports(deps: ContactImportsDeps) {
  const { db, clock } = deps;
  const directory = path.join(deps.dataDir, 'imports');
  makePrivateDir(directory);

  async function row(businessId: string, id: string): Promise<ContactImportsTable> {
    const found = await db.db.selectFrom('contact_imports').selectAll().where('business_id', '=', businessId).where('id', '=', id).where('status', '!=', 'uploading').executeTakeFirst();
    if (!found) throw notFound('import');
    return found;
  }

  const reportMs = (deps.reportDays ?? 30) * 24 * 60 * 60 * 1000;

  /** A finished import whose report's retention has ended: its rows are gone (or going), say so. */
  function assertReportKept(imp: ContactImportsTable) {
    if (imp.finished_at !== null && Number(imp.finished_at) < clock() - reportMs) {
      throw new AppError('report_expired', `this import's error report was deleted ${deps.reportDays ?? 30} days after the import ended; its counts remain`);
    }
  }

  /**
   * Deletes the error reports of imports that ended more than the retention ago (every business's),
   * a bounded number of rows per call; each import run calls it first, so reports go without a
   * timer of their own.
   */
  async function pruneReports(): Promise<number> {
    const cutoff = clock() - reportMs;
    const old = db.db.selectFrom('contact_imports').select('id').where('finished_at', '<', cutoff);
    const result = await db.db.deleteFrom('contact_import_errors').where('import_id', 'in', old).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async function finish(id: string, fields: Partial<ContactImportsTable>, file: string) {
    await db.db.updateTable('contact_imports').set({ ...fields, finished_at: clock() }).where('id', '=', id).execute();
    await rm(file, { force: true });
  }

  /**
   * Writes one batch and the import's progress in one transaction. `expectedDone` guards against a
   * second run of the same job (a worker that lost its lease): if another run moved the import on,
   * this batch is rolled back and this run stops.
   */
  async function commitBatch(imp: ContactImportsTable, state: RunState, batch: ImportRecord[], bytesRead: number, format: string | null, charset: string, final: boolean) {
    const now = clock();
    const good = batch.filter((r): r is { ok: true; row: ImportRow } => r.ok).map((r) => r.row);
    const accounts = await accountsByHandles(db.db, good.map((r) => r.handle));
    const counts = { created: 0, updated: 0, unchanged: 0, refused: 0, consents: 0 };
    const errors: ImportRowError[] = [];
    // Attribute keys this batch uses that the business has not defined yet: defined as the file says.
    const missing = new Map<string, AttributeTypeName>();
    for (const r of good) for (const key of Object.keys(r.attributes)) if (!state.defs.has(key)) missing.set(key, (state.types()[key] ?? 'text') as AttributeTypeName);
    await db.db.transaction().execute(async (tx) => {
      const current = await tx.selectFrom('contact_imports').select(['rows_done', 'status']).where('id', '=', imp.id).executeTakeFirstOrThrow();
      if (Number(current.rows_done) !== state.done || current.status !== 'running') throw new SupersededRun();

      if (missing.size > 0) {
        const total = await defineMissingAttributes(tx, imp.business_id, missing, now);
        if (total > MAX_ATTRIBUTE_DEFINITIONS) throw new ImportFileError('bad_header', `the file adds attributes ${[...missing.keys()].join(', ')}, past the ${MAX_ATTRIBUTE_DEFINITIONS} a business may define`);
      }

      const accountIds = [...new Set([...accounts.values()].map((a) => a.id))];
      const externalIds = good.map((r) => r.externalId).filter((x): x is string => x !== null);
      const existing = await contactsOfAccountsOrExternalIds(tx, imp.business_id, accountIds, externalIds);
      const byAccount = new Map(existing.map((c) => [c.account_id, c]));
      const byExternal = new Map(existing.filter((c) => c.external_id !== null).map((c) => [c.external_id!, c]));
      const contactIds = [...new Set(existing.map((c) => c.id))];
      const tags = await tagsOfContacts(tx, contactIds);
      const attributes = await attributesOfContacts(tx, contactIds);
      const optIns = good.some((r) => r.consent.length > 0) ? await importedOptIns(tx, imp.business_id, accountIds) : new Set<string>();

      const newContacts: ContactsTable[] = [];
      const consents: { accountId: string; proof: ImportRow['consent'][number] }[] = [];
      const tagRows: { business_id: string; contact_id: string; tag: string; created_at: number }[] = [];
      const attributeRows: { business_id: string; contact_id: string; key: string; text_value: string | null; num_value: number | null }[] = [];
      const refuse = (at: { row: number; line: number | null; index: number | null }, column: string | null, code: ImportRowError['code'], reason: string) => {
        errors.push({ row: at.row, line: at.line, index: at.index, column, code, reason });
        counts.refused += 1;
      };

      for (const record of batch) {
        if (!record.ok) {
          errors.push(...record.errors);
          counts.refused += 1;
          continue;
        }
        const r = record.row;
        const account = accounts.get(r.handle.toLowerCase());
        if (!account) {
          refuse(r, 'handle', 'unknown_handle', `unknown handle: no account @${r.handle} on this server`);
          continue;
        }
        if (account.kind !== 'person') {
          refuse(r, 'handle', 'not_a_person', `@${account.handle} is a ${account.kind} account; contacts are people`);
          continue;
        }
        let contact = byAccount.get(account.id);
        if (contact?.erased_at != null) {
          refuse(r, 'handle', 'contact_erased', `@${account.handle} had their data erased at their request; only they can become a contact again (by writing to you or subscribing)`);
          continue;
        }
        if (r.externalId !== null) {
          const owner = byExternal.get(r.externalId);
          if (owner && owner.account_id !== account.id) {
            refuse(r, 'external_id', 'external_id_conflict', `external id '${r.externalId}' already belongs to another contact`);
            continue;
          }
          if (contact?.external_id && contact.external_id !== r.externalId) {
            refuse(r, 'external_id', 'external_id_conflict', `@${account.handle} is already a contact with external id '${contact.external_id}'`);
            continue;
          }
        }
        const unknownPurpose = r.consent.find((p) => !state.purposes.has(p.purpose));
        if (unknownPurpose) {
          refuse(r, 'consent_purpose', 'bad_consent', `unknown consent purpose '${unknownPurpose.purpose}' (this business has ${[...state.purposes].join(', ')})`);
          continue;
        }
        const had = contact ? (tags.get(contact.id) ?? new Set<string>()) : new Set<string>();
        const addTags = r.tags.filter((t) => !had.has(t));
        if (had.size + addTags.length > MAX_CONTACT_TAGS) {
          refuse(r, 'tags', 'bad_tag', `a contact has at most ${MAX_CONTACT_TAGS} tags`);
          continue;
        }
        let stored: { key: string; text_value: string | null; num_value: number | null }[];
        try {
          stored = Object.entries(r.attributes).map(([key, value]) => ({ key, ...storeAttribute(state.defs.get(key) ?? missing.get(key) ?? 'text', value, `attr:${key}`) }));
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          refuse(r, err.extra.errors?.[0]?.path ?? null, 'bad_value', err.message);
          continue;
        }

        let changed = false;
        if (!contact) {
          contact = {
            id: contactIdFor(account.id),
            business_id: imp.business_id,
            account_id: account.id,
            external_id: r.externalId,
            name: r.name,
            locale: r.locale,
            time_zone: r.timeZone,
            source: 'import',
            created_at: now,
            updated_at: now,
            erased_at: null,
            last_inbound_at: null,
          };
          newContacts.push(contact);
          byAccount.set(account.id, contact);
          counts.created += 1;
        } else {
          const fields: Partial<Pick<ContactsTable, 'external_id' | 'name' | 'locale' | 'time_zone' | 'updated_at'>> = {};
          if (r.externalId !== null && contact.external_id === null) fields.external_id = r.externalId;
          if (r.name !== null && r.name !== contact.name) fields.name = r.name;
          if (r.locale !== null && r.locale !== contact.locale) fields.locale = r.locale;
          if (r.timeZone !== null && r.timeZone !== contact.time_zone) fields.time_zone = r.timeZone;
          if (Object.keys(fields).length > 0) {
            fields.updated_at = now;
            Object.assign(contact, fields);
            if (!newContacts.includes(contact)) await updateContactFields(tx, contact.id, fields);
            changed = true;
          }
        }
        if (r.externalId !== null) byExternal.set(r.externalId, contact);
        for (const tag of addTags) {
          tagRows.push({ business_id: imp.business_id, contact_id: contact.id, tag, created_at: now });
          had.add(tag);
          changed = true;
        }
        tags.set(contact.id, had);
        const current = attributes.get(contact.id) ?? new Map();
        for (const a of stored) {
          const before = current.get(a.key);
          if (before && before.text_value === a.text_value && before.num_value === a.num_value) continue;
          attributeRows.push({ business_id: imp.business_id, contact_id: contact.id, key: a.key, text_value: a.text_value, num_value: a.num_value });
          current.set(a.key, { text_value: a.text_value, num_value: a.num_value });
          changed = true;
        }
        attributes.set(contact.id, current);
        for (const proof of r.consent) {
          const key = optInKey({ accountId: account.id, purpose: proof.purpose, at: proof.at, evidence: proof.evidence });
          if (optIns.has(key)) continue;
          optIns.add(key);
          consents.push({ accountId: account.id, proof });
          counts.consents += 1;
          changed = true;
        }
        if (!newContacts.includes(contact)) {
          if (changed) counts.updated += 1;
          else counts.unchanged += 1;
        }
      }

      await insertContactRows(tx, newContacts);
      await insertTagRows(tx, tagRows);
      await upsertAttributeRows(tx, attributeRows);
      // The ledger's own writer: it orders and derives each purpose's state (consent.ts).
      await appendConsentBatch(
        tx,
        consents.map(({ accountId, proof }) => ({
          businessId: imp.business_id,
          accountId,
          purpose: proof.purpose,
          action: 'opt_in' as const,
          source: 'import' as const,
          at: proof.at,
          recordedAt: now,
          wording: proof.wording,
          evidence: proof.evidence,
          collectedVia: proof.source,
          actorId: imp.created_by,
          importer: imp.id,
        })),
      );
      let n = 0;
      let lastRow = -1;
      const errorRows = errors.map((e) => {
        n = e.row === lastRow ? n + 1 : 0;
        lastRow = e.row;
        return { import_id: imp.id, row: e.row, n, line: e.line, idx: e.index, column_name: e.column, code: e.code, reason: e.reason };
      });
      for (let i = 0; i < errorRows.length; i += 2000) await tx.insertInto('contact_import_errors').values(errorRows.slice(i, i + 2000)).execute();
      await tx
        .updateTable('contact_imports')
        .set((eb) => ({
          rows_done: state.done + batch.length,
          bytes_read: bytesRead,
          format,
          charset,
          created: eb('created', '+', counts.created),
          updated: eb('updated', '+', counts.updated),
          unchanged: eb('unchanged', '+', counts.unchanged),
          refused: eb('refused', '+', counts.refused),
          consents: eb('consents', '+', counts.consents),
          ...(final ? { status: 'succeeded', finished_at: now } : {}),
        }))
        .where('id', '=', imp.id)
        .execute();
    });
    for (const [key, type] of missing) state.defs.set(key, type);
    state.done += batch.length;
  }

  /** Runs (or resumes) one import; returns when it has finished, throws to be retried. */
  async function run(importId: string, job: ImportJobContext): Promise<{ status: string }> {
    await pruneReports();
    const imp = await db.db.selectFrom('contact_imports').selectAll().where('id', '=', importId).executeTakeFirst();
    if (!imp || imp.status === 'succeeded' || imp.status === 'failed') return { status: imp?.status ?? 'gone' };
    const file = path.join(directory, imp.file);
    if (imp.status === 'queued') await db.db.updateTable('contact_imports').set({ status: 'running', started_at: clock() }).where('id', '=', imp.id).where('status', '=', 'queued').execute();
    const options = JSON.parse(imp.options) as ImportParseOptions;
    const defs = await attributeDefs(db.db, imp.business_id);
    const business = (await accountsByIds(db.db, [imp.business_id])).get(imp.business_id);
    const purposes = new Set((await purposesOf(db.db, { id: imp.business_id, handle: business?.handle ?? '' })).map((p) => p.key));
    const parser = parseImport(createReadStream(file, { highWaterMark: 256 * 1024 }), { ...options, attributeTypes: Object.fromEntries(defs) as Record<string, AttributeType>, clock });
    const state: RunState = {
      done: Number(imp.rows_done),
      defs: new Map(defs),
      purposes,
      types: () => parser.attributeTypes,
    };
    let skip = state.done;
    const batch: ImportRecord[] = [];
    try {
      for await (const record of parser) {
        // Records a previous run committed: re-read (the duplicate-id check needs them), not re-written.
        if (skip > 0) {
          skip -= 1;
          continue;
        }
        batch.push(record);
        if (batch.length >= deps.batchRows) {
          await commitBatch(imp, state, batch, parser.bytesRead, parser.format, parser.charset, false);
          batch.length = 0;
          if (deps.batchPauseMs) await sleep(deps.batchPauseMs);
          if (job.signal.aborted) throw new Error('the import job was stopped; it resumes from its last batch');
        }
      }
      await commitBatch(imp, state, batch, Number(imp.file_bytes), parser.format, parser.charset, true);
      await rm(file, { force: true });
      deps.log.info({ importId, rows: state.done }, 'contact import finished');
      return { status: 'succeeded' };
    } catch (err) {
      if (err instanceof SupersededRun) return { status: 'superseded' };
      if (err instanceof ImportFileError) {
        await finish(imp.id, { status: 'failed', error_code: err.code, error_message: err.message, error_line: err.line, format: parser.format, charset: parser.charset }, file);
        return { status: 'failed' };
      }
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        await finish(imp.id, { status: 'failed', error_code: 'file_missing', error_message: 'the uploaded file is gone from the server; upload it again' }, file);
        return { status: 'failed' };
      }
      if (job.attempt >= job.maxAttempts) {
        deps.log.warn({ err, importId }, 'contact import kept failing');
        await finish(imp.id, { status: 'failed', error_code: 'internal_error', error_message: 'the import kept failing; the rows before its last batch are in' }, file);
        return { status: 'failed' };
      }
      throw err;
    }
  }

  return {
    /** Spools an upload and queues its import. */
    async start(actor: BusinessActor, source: Readable, options: ImportParseOptions): Promise<ContactImport> {
      const id = `imp_${randomBytes(12).toString('base64url')}`;
      const name = `${id}.upload`;
      const file = path.join(directory, name);
      const now = clock();
      const record: ContactImportsTable = {
        id,
        business_id: actor.businessId,
        created_by: actor.accountId,
        status: 'uploading',
        options: JSON.stringify(options),
        format: options.format ?? null,
        charset: options.charset ?? 'utf-8',
        file: name,
        file_bytes: 0,
        bytes_read: 0,
        rows_done: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        refused: 0,
        consents: 0,
        error_code: null,
        error_message: null,
        error_line: null,
        created_at: now,
        started_at: null,
        finished_at: null,
      };
      // The row is written before the file is read, in the transaction that counts the business's
      // pending imports under a lock of the business (lockScope: SQLite's one writer, a
      // PostgreSQL advisory lock), so
      // uploads still streaming count too. An 'uploading' row older than UPLOAD_STALE_MS is one a
      // crash left behind: it no longer counts.
      await db.writeTransaction(async (tx) => {
        await lockScope(tx, `contact-imports:${actor.businessId}`);
        const pending = await tx
          .selectFrom('contact_imports')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('business_id', '=', actor.businessId)
          .where((eb) => eb.or([eb('status', 'in', ['queued', 'running']), eb.and([eb('status', '=', 'uploading'), eb('created_at', '>', now - UPLOAD_STALE_MS)])]))
          .executeTakeFirstOrThrow();
        if (Number(pending.n) >= deps.maxPending) throw new AppError('limit_reached', `${deps.maxPending} imports are already uploading, waiting or running for this business; wait for one to finish`);
        if (deps.spoolBudgetBytes !== undefined) {
          // Every business together: many businesses each within their own limit must not fill the disk.
          const spooled = await tx
            .selectFrom('contact_imports')
            .select(['status', 'file_bytes'])
            .where((eb) => eb.or([eb('status', 'in', ['queued', 'running']), eb.and([eb('status', '=', 'uploading'), eb('created_at', '>', now - UPLOAD_STALE_MS)])]))
            .execute();
          const used = spooled.reduce((sum, r) => sum + (r.status === 'uploading' ? deps.maxBytes : Number(r.file_bytes)), 0);
          if (used + deps.maxBytes > deps.spoolBudgetBytes) {
            throw new AppError('unavailable', 'the server is holding as many import files as it may right now; try again in a few minutes', { headers: { 'retry-after': '60' } });
          }
        }
        await tx.insertInto('contact_imports').values(record).execute();
      });
      let bytes: number;
      try {
        bytes = await spoolToFile(source, file, { maxBytes: deps.maxBytes, durable: true });
      } catch (err) {
        // A broken or refused upload leaves nothing behind: no row, no file.
        await db.db.deleteFrom('contact_imports').where('id', '=', id).execute();
        await rm(file, { force: true });
        if (err instanceof BlobError && err.code === 'upload_too_large') throw new AppError('upload_too_large', `an import file is at most ${deps.maxBytes} bytes`);
        throw err;
      }
      record.status = 'queued';
      record.file_bytes = bytes;
      try {
        await db.writeTransaction(async (tx) => {
          await tx.updateTable('contact_imports').set({ status: 'queued', file_bytes: bytes }).where('id', '=', id).execute();
          await deps.enqueue(tx, id);
        });
      } catch (err) {
        await db.db.deleteFrom('contact_imports').where('id', '=', id).execute();
        await rm(file, { force: true });
        throw err;
      }
      return view(record);
    },

    async get(actor: BusinessActor, id: string): Promise<ContactImport> {
      return view(await row(actor.businessId, id));
    },

    async list(actor: BusinessActor): Promise<ContactImport[]> {
      const rows = await db.db.selectFrom('contact_imports').selectAll().where('business_id', '=', actor.businessId).where('status', '!=', 'uploading').orderBy('created_at', 'desc').orderBy('id', 'desc').limit(50).execute();
      return rows.map(view);
    },

    /** A page of an import's error report, by row. */
    async errors(actor: BusinessActor, id: string, options: { afterRow?: number; limit?: number }): Promise<{ errors: ImportRowError[]; next_after_row: number | null }> {
      assertReportKept(await row(actor.businessId, id));
      const limit = options.limit ?? 200;
      const rows = await db.db
        .selectFrom('contact_import_errors')
        .selectAll()
        .where('import_id', '=', id)
        .where('row', '>', options.afterRow ?? 0)
        .orderBy('row')
        .orderBy('n')
        .limit(limit + 1)
        .execute();
      // A page ends on a whole row: all of a row's problems come together.
      let page = rows.slice(0, limit);
      let next: number | null = null;
      if (rows.length > limit) {
        const lastRow = rows[limit]!.row;
        const cut = page.filter((r) => r.row !== lastRow);
        page = cut.length > 0 ? cut : page;
        next = Number(page[page.length - 1]!.row);
      }
      return { errors: page.map((r) => ({ row: Number(r.row), line: r.line === null ? null : Number(r.line), index: r.idx === null ? null : Number(r.idx), column: r.column_name, code: r.code as ImportRowError['code'], reason: r.reason })), next_after_row: next };
    },

    /** The whole error report as CSV, streamed a page at a time. */
    async errorsCsv(actor: BusinessActor, id: string): Promise<Readable> {
      assertReportKept(await row(actor.businessId, id));
      async function* rows() {
        yield ['row', 'line', 'index', 'column', 'code', 'reason'];
        let after = -1;
        let n = -1;
        for (;;) {
          const page = await db.db
            .selectFrom('contact_import_errors')
            .selectAll()
            .where('import_id', '=', id)
            .where((eb) => eb.or([eb('row', '>', after), eb.and([eb('row', '=', after), eb('n', '>', n)])]))
            .orderBy('row')
            .orderBy('n')
            .limit(EXPORT_PAGE)
            .execute();
          for (const r of page) yield [r.row, r.line ?? '', r.idx ?? '', escapeCell(r.column_name ?? ''), r.code, escapeCell(r.reason)];
          if (page.length < EXPORT_PAGE) return;
          after = Number(page[page.length - 1]!.row);
          n = Number(page[page.length - 1]!.n);
        }
      }
      return Readable.from(rows()).pipe(stringify());
    },

    run,
    pruneReports,

    /**
     * The business's contacts as CSV in the import's own format (so an export imports back):
     * handle, name, external_id, locale, time_zone, tags, one attr:<key>:<type> column per attribute,
     * and consent:<purpose> states (read-only: an import records consent only with proof).
     * Streamed a page of contacts at a time; never built in memory.
     */
    async exportCsv(actor: BusinessActor, options: { bom?: boolean } = {}): Promise<Readable> {
      const businessId = actor.businessId;
      const defs = [...(await attributeDefs(db.db, businessId))].sort(([a], [b]) => a.localeCompare(b));
      const purposes = (await purposesOf(db.db, { id: businessId, handle: actor.businessHandle })).map((p) => p.key);
      async function* rows() {
        yield ['handle', 'name', 'external_id', 'locale', 'time_zone', 'tags', ...defs.map(([k, t]) => `attr:${k}:${t}`), ...purposes.map((p) => `consent:${p}`)];
        let after: string | null = null;
        for (;;) {
          const page = await contactsPage(db.db, businessId, after, EXPORT_PAGE);
          if (page.length === 0) return;
          const ids = page.map((c) => c.id);
          const accountIds = page.map((c) => c.account_id);
          const [handles, tags, attributes, states] = await Promise.all([handlesOf(db.db, accountIds), tagsOfContacts(db.db, ids), attributesOfContacts(db.db, ids), statesOf(db.db, businessId, accountIds)]);
          for (const c of page) {
            const attrs = attributes.get(c.id);
            const state = states.get(c.account_id) ?? {};
            yield [
              handles.get(c.account_id) ?? '',
              c.name ?? '',
              c.external_id ?? '',
              c.locale ?? '',
              c.time_zone ?? '',
              [...(tags.get(c.id) ?? [])].sort().join(';'),
              ...defs.map(([k, t]) => {
                const stored = attrs?.get(k);
                const value = stored ? readAttribute(t, stored) : null;
                return value === null ? '' : String(value);
              }),
              ...purposes.map((p) => state[p]?.state ?? ''),
            ];
          }
          if (page.length < EXPORT_PAGE) return;
          after = page[page.length - 1]!.id;
        }
      }
      async function* escaped() {
        for await (const cells of rows()) yield cells.map(escapeCell);
      }
      const csv = Readable.from(escaped()).pipe(stringify());
      if (!options.bom) return csv;
      return Readable.from(
        (async function* () {
          yield Buffer.from([0xef, 0xbb, 0xbf]);
          yield* csv;
        })(),
      );
    },
  };
}

export type ContactImports = ReturnType<typeof createContactImports>;

interface RunState {
  /** Records committed so far. */
  done: number;
  defs: Map<string, AttributeTypeName>;
  purposes: Set<string>;
  /** Attribute types as the file declares or its values show (the parser's). */
  types: () => Record<string, AttributeType>;
}

/** Another run of the same import committed first (this one lost its lease); this run stops. */
class SupersededRun extends Error {}
