/**
 * `mmd contacts`: a business's contacts — list, import a CSV/JSON/NDJSON file (streamed to the
 * server, then followed with a progress bar until the import job ends, with the per-row error
 * report), and export to CSV. Run as the business account, or as a team member with --business.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContactImport } from '@mmd/sdk';
import { type Command, Option } from 'commander';
import { businessClient, globals } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { emit, formatTime, printJson, table } from '../output.ts';

const FORMATS = ['csv', 'json', 'ndjson'] as const;
type Format = (typeof FORMATS)[number];

function formatOf(file: string, given: string | undefined): Format {
  if (given) return given as Format;
  if (/\.ndjson$|\.jsonl$/i.test(file)) return 'ndjson';
  if (/\.json$/i.test(file)) return 'json';
  return 'csv';
}

function parseMapping(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')) return value as Record<string, string>;
  } catch {
    // fall through to the usage error
  }
  throw new UsageError('--mapping takes a JSON object of column → field, e.g. \'{"Phone":"attr:phone:phone"}\'');
}

/** One line of progress on stderr: a bar when it is a terminal, a plain line every 10% otherwise. */
function progressReporter() {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  return {
    update(job: ContactImport) {
      const pct = Math.floor(job.progress * 100);
      if (tty) {
        const width = 30;
        const filled = Math.round(job.progress * width);
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}%  ${job.rows.done} rows, ${job.rows.refused} refused`);
      } else if (Math.floor(pct / 10) > lastTenth) {
        lastTenth = Math.floor(pct / 10);
        process.stderr.write(`${pct}%  ${job.rows.done} rows, ${job.rows.refused} refused\n`);
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

export function registerContactCommands(program: Command): void {
  const contacts = program.command('contacts').description("a business's contacts: list, import, export (as the business, or --business as a team member)");

  contacts
    .command('list', { isDefault: true })
    .description('contacts, newest first')
    .option('--search <text>', 'handle, name or external id')
    .option('--tag <tag>', 'only contacts with this tag')
    .option('--limit <n>', 'how many', '50')
    .action(async (opts: { search?: string; tag?: string; limit: string }, cmd: Command) => {
      const g = globals(cmd);
      const client = await businessClient(g);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new UsageError('--limit takes a whole number from 1 to 200');
      const page = await client.contacts.list({ q: opts.search, tag: opts.tag, limit });
      emit(g, page, () =>
        page.contacts.length === 0
          ? 'no contacts'
          : table([
              ['ID', 'HANDLE', 'EXTERNAL ID', 'LOCALE', 'TIME ZONE', 'MARKETING', 'TAGS'],
              ...page.contacts.map((c) => [c.id, c.handle ? `@${c.handle}` : '(erased)', c.external_id ?? '', c.locale ?? '', c.time_zone ?? '', c.consent.marketing?.state ?? 'none', c.tags.join(',')]),
            ]),
      );
    });

  contacts
    .command('import')
    .description('import contacts from a CSV, JSON array or NDJSON file; follows the job until it ends and prints its error report')
    .argument('<file>', 'the file to import')
    .addOption(new Option('--format <format>', 'the file format (default: from its extension, else csv)').choices(FORMATS))
    .option('--charset <charset>', 'the file encoding when it is not UTF-8 (utf-16le, windows-1252, iso-8859-1…)')
    .option('--delimiter <char>', 'CSV separator (default: sniffed from the header)')
    .option('--mapping <json>', 'JSON object mapping source columns to fields (handle, external_id, attr:<key>[:<type>], ignore…)')
    .option('--date-format <format>', 'luxon format of non-ISO dates, e.g. dd/MM/yyyy')
    .option('--phone-region <CC>', 'country of phone numbers written without +, e.g. FR')
    .option('--errors <file>', 'write the whole per-row error report there as CSV')
    .option('--no-wait', 'queue the import and print its id without following it')
    .action(async (file: string, opts: { format?: Format; charset?: string; delimiter?: string; mapping?: string; dateFormat?: string; phoneRegion?: string; errors?: string; wait: boolean }, cmd: Command) => {
      const g = globals(cmd);
      try {
        if (!statSync(file).isFile()) throw new Error('not a file');
      } catch {
        throw new UsageError(`cannot read ${file}`);
      }
      const client = await businessClient(g);
      // Streamed from disk: a file of a million rows is never held in memory here either.
      const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
      let job = await client.contactImports.upload(body, {
        format: formatOf(file, opts.format),
        charset: opts.charset,
        delimiter: opts.delimiter,
        mapping: parseMapping(opts.mapping),
        date_format: opts.dateFormat,
        phone_region: opts.phoneRegion,
      });
      if (!opts.wait) {
        emit(g, job, () => `import ${job.id} queued`);
        return;
      }
      const progress = g.json ? null : progressReporter();
      while (job.status === 'queued' || job.status === 'running') {
        progress?.update(job);
        await new Promise((r) => setTimeout(r, 500));
        job = await client.contactImports.get(job.id);
      }
      progress?.update(job);
      progress?.done();
      if (opts.errors && job.rows.refused > 0) await pipeline(Readable.from([await client.contactImports.errorsCsv(job.id)]), createWriteStream(opts.errors));
      if (g.json) printJson(job);
      else {
        const r = job.rows;
        process.stdout.write(`import ${job.id} ${job.status}: ${r.done} rows — ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged, ${r.refused} refused, ${r.consents_recorded} consents recorded\n`);
        if (r.refused > 0 && !opts.errors) {
          const first = await client.contactImports.errors(job.id, { limit: 10 });
          for (const e of first.errors) process.stdout.write(`  ${e.line !== null ? `line ${e.line}` : `element ${e.index}`}${e.column ? `, ${e.column}` : ''}: ${e.reason} (${e.code})\n`);
          if (r.refused > first.errors.length) process.stdout.write(`  … ${r.refused - first.errors.length} more; --errors FILE writes them all\n`);
        }
      }
      if (job.status === 'failed') throw new CliError(`the file could not be imported: ${job.error?.message ?? 'unknown reason'}${job.error?.line ? ` (line ${job.error.line})` : ''}`, job.error?.code ?? 'import_failed');
    });

  contacts
    .command('export')
    .description('every contact as CSV (the import format), to stdout or --output')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--bom', 'start with a UTF-8 byte-order mark (for spreadsheet apps)')
    .action(async (opts: { output?: string; bom?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const client = await businessClient(g);
      const response = await client.contactImports.exportCsv({ bom: opts.bom });
      if (!response.body) throw new CliError('the server sent no export', 'internal_error');
      const out = opts.output ? createWriteStream(opts.output) : (process.stdout as unknown as Writable);
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), out, { end: opts.output !== undefined });
      if (opts.output) process.stderr.write(`exported to ${opts.output} at ${formatTime(Date.now())}\n`);
    });
}
