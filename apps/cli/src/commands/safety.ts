/**
 * Trust and safety for moderators: `mmd bank create|list|add|import|export`, `mmd match FILE` and
 * `mmd takedown`. Everything goes through the SDK; the server checks the moderator role.
 */
import { openAsBlob } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BankAction, BankCategory, BankFormat } from '@mmd/sdk';
import { type Command, Option } from 'commander';
import { integerIn } from '../args.ts';
import { globals, signedInClient } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { emit, printLine, table } from '../output.ts';

// The SDK carries the API's types only; these lists mirror @mmd/contracts (the server rejects anything else anyway).
const BANK_CATEGORIES: readonly BankCategory[] = ['ncii', 'child_safety', 'deepfake', 'terrorism', 'spam', 'other'];
const BANK_ACTIONS: readonly BankAction[] = ['block', 'hold', 'blur'];
const BANK_FORMATS: readonly BankFormat[] = ['hma', 'te', 'json'];

async function readable(file: string): Promise<void> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, 'not_found');
  });
  if (!info.isFile()) throw new CliError(`${file} is not a regular file`, 'unsupported_type');
}

/** The format a bank file is in when --format is not given: its extension, then its content. */
function guessFormat(file: string, text: string): BankFormat {
  if (path.extname(file).toLowerCase() !== '.json') return 'hma';
  try {
    const doc = JSON.parse(text) as { data?: unknown; signals?: unknown } | unknown[];
    if (Array.isArray(doc) || (doc && typeof doc === 'object' && 'data' in doc)) return 'te';
  } catch {
    // Not JSON after all: let the server say what is wrong with it.
  }
  return 'json';
}

export function registerSafetyCommands(program: Command): void {
  const bank = program.command('bank').description('hash banks (moderators)');

  bank
    .command('create')
    .description('create a hash bank')
    .argument('<name>', 'a name for moderators')
    .addOption(new Option('--category <category>', 'what the bank is about').choices([...BANK_CATEGORIES]).makeOptionMandatory())
    .addOption(new Option('--action <action>', 'what happens to a matching upload').choices([...BANK_ACTIONS]).makeOptionMandatory())
    .option('--source <text>', 'where the hashes come from')
    .option('--threshold <distance>', 'largest PDQ distance that matches (0-31)', integerIn(0, 31))
    .action(async (name: string, opts: { category: BankCategory; action: BankAction; source?: string; threshold?: number }, cmd: Command) => {
      const g = globals(cmd);
      const created = await signedInClient(g).createBank({ name, category: opts.category, action: opts.action, source: opts.source, pdq_threshold: opts.threshold });
      emit(g, created, () => `${created.id} ${created.name} (${created.category}, ${created.action})`);
    });

  bank
    .command('list')
    .description('list hash banks')
    .action(async (_opts: object, cmd: Command) => {
      const g = globals(cmd);
      const banks = await signedInClient(g).banks();
      emit(g, banks, () => (banks.length ? table([['ID', 'NAME', 'CATEGORY', 'ACTION', 'SIGNALS'], ...banks.map((b) => [b.id, b.name, b.category, b.action, String(b.signal_count)])]) : 'no banks'));
    });

  bank
    .command('add')
    .description('add the hashes of a file to a bank (the file is hashed by the server and not kept)')
    .argument('<bank>', 'bank id')
    .argument('<file>', 'an image, video or any file')
    .option('--label <text>', 'a label for the signals')
    .action(async (bankId: string, file: string, opts: { label?: string }, cmd: Command) => {
      const g = globals(cmd);
      await readable(file);
      const reply = await signedInClient(g).addSignalsFromFile(bankId, await openAsBlob(file), { filename: path.basename(file), label: opts.label });
      emit(g, reply, () => `added ${reply.added} signal(s) (${reply.signals.map((s) => s.type).join(', ') || 'already banked'})${reply.sweep_job_id ? `; sweep ${reply.sweep_job_id}` : ''}`);
    });

  bank
    .command('import')
    .description('import a bank file: hma (HMA/python-threatexchange lines), te (ThreatExchange JSON) or json (MMD)')
    .argument('<bank>', 'bank id')
    .argument('<file>', 'the bank file')
    .addOption(new Option('--format <format>', 'file format (default: from the extension and content)').choices([...BANK_FORMATS]))
    .action(async (bankId: string, file: string, opts: { format?: BankFormat }, cmd: Command) => {
      const g = globals(cmd);
      await readable(file);
      const text = await readFile(file, 'utf8');
      const format = opts.format ?? guessFormat(file, text);
      const reply = await signedInClient(g).importBank(bankId, text, format);
      emit(g, reply, () => `imported ${reply.added} signal(s) as ${format}; ${reply.duplicates} already there, ${reply.skipped} skipped${reply.sweep_job_id ? `; sweep ${reply.sweep_job_id}` : ''}`);
    });

  bank
    .command('export')
    .description('export a bank to stdout or a file')
    .argument('<bank>', 'bank id')
    .addOption(new Option('--format <format>', 'file format').choices([...BANK_FORMATS]).default('json'))
    .option('-o, --output <file>', 'write here instead of stdout')
    .action(async (bankId: string, opts: { format: BankFormat; output?: string }, cmd: Command) => {
      const g = globals(cmd);
      const file = await signedInClient(g).exportBank(bankId, opts.format);
      if (file.skipped > 0) process.stderr.write(`note: ${file.skipped} signal(s) cannot be written as ${opts.format}\n`);
      if (opts.output) {
        await writeFile(opts.output, file.body);
        emit(g, { written: opts.output, skipped: file.skipped }, () => `wrote ${opts.output}`);
      } else {
        process.stdout.write(file.body);
      }
    });

  program
    .command('match')
    .description('check a file against every hash bank (moderators)')
    .argument('<file>', 'an image, video or any file')
    .action(async (file: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      await readable(file);
      const reply = await signedInClient(g).matchFile(await openAsBlob(file), { filename: path.basename(file) });
      emit(g, reply, () => {
        const head = `${reply.kind} sha256 ${reply.hashes.sha256}${reply.hashes.pdq ? ` pdq ${reply.hashes.pdq} (quality ${reply.hashes.quality})` : ''}`;
        if (reply.matches.length === 0) return [head, 'no match'];
        return [head, ...table([['BANK', 'SIGNAL', 'RULE', 'DISTANCE', 'ACTION', 'LABEL'], ...reply.matches.map((m) => [m.bank_id, String(m.signal_id), m.rule, m.distance === undefined ? '-' : String(m.distance), m.action, m.label ?? ''])])];
      });
    });

  program
    .command('takedown')
    .description('take down an item, every copy and near-duplicate, from every conversation; its hashes join a bank (moderators)')
    .option('--media <id>', 'a media id')
    .option('--message <id>', 'a message id (its media and the message)')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--bank <id>', 'bank for the hashes (default: the takedown bank)')
    .action(async (opts: { media?: string; message?: string; reason: string; bank?: string }, cmd: Command) => {
      const g = globals(cmd);
      if (!opts.media && !opts.message) throw new UsageError('give --media ID or --message ID');
      const t = await signedInClient(g).takedown({ media_id: opts.media, message_id: opts.message, reason: opts.reason, bank_id: opts.bank });
      emit(g, t, () => {
        printLine(`removed ${t.media_removed} item(s) and ${t.messages_removed} message(s) in ${t.conversations} conversation(s) in ${t.duration_ms} ms`);
        return `hashes in bank ${t.bank_id} (${t.signals_added} new)`;
      });
    });
}
