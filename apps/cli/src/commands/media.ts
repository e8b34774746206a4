/** `mmd upload` and `mmd media`: hand a file to the server's media engine and look at the result. */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { type AiDisclosure, type MediaItem, MmdError } from '@mmd/sdk';
import { type Command, Option } from 'commander';
import { integerIn } from '../args.ts';
import { type Globals, globals, signedInClient } from '../context.ts';
import { CliError } from '../errors.ts';
import { emit, table } from '../output.ts';

export function registerMediaCommands(program: Command): void {
  program
    .command('upload')
    .description('upload an image, video, audio file or document; prints its media id and status')
    .argument('<file>', 'the file (its type is read from its content by the server)')
    .option('--wait', 'wait until processing is done, then print the item (exit 1 if it failed)')
    .option('--timeout <seconds>', 'with --wait: give up after this long', integerIn(1), 600)
    .addOption(new Option('--ai <disclosure>', 'disclose that it was made with AI (generated) or contains AI-generated parts (partial); shown as a label').choices(['generated', 'partial']))
    .action(async (file: string, opts: { wait?: boolean; timeout: number; ai?: AiDisclosure }, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      // A file-backed Blob: fetch streams it from disk, so big videos are never read into memory.
      // No content type is sent: the server identifies the file from its bytes anyway.
      const body = await openFile(file);
      const uploaded = await client.upload(body, { filename: path.basename(file), ...(opts.ai ? { ai: opts.ai } : {}) });
      if (!opts.wait) {
        emit(g, uploaded, () => `${uploaded.id} ${uploaded.status}`);
        if (uploaded.status === 'failed') failWith(await client.media(uploaded.id));
        return;
      }
      const started = Date.now();
      const timeoutMs = opts.timeout * 1000;
      const item = await client.waitForMedia(uploaded.id, { timeoutMs, intervalMs: 300 }).catch((err) => {
        // The SDK reports its own deadline like a network failure; say what actually happened.
        if (err instanceof MmdError && err.status === 0 && Date.now() - started >= timeoutMs) {
          throw new CliError(
            `media ${uploaded.id} is still processing after ${opts.timeout} s (see \`mmd media ${uploaded.id}\`)`,
            'timeout',
          );
        }
        throw err;
      });
      printItem(g, item);
      failWith(item);
    });

  program
    .command('media')
    .description('show a media item: status, kind, size, dimensions or duration, rendition URLs')
    .argument('<id>', 'media id (from `mmd upload`)')
    .action(async (id: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      printItem(g, await signedInClient(g).media(id));
    });
}

async function openFile(file: string): Promise<Blob> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(
      `cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
      'not_found',
    );
  });
  if (!info.isFile()) throw new CliError(`${file} is not a regular file`, 'unsupported_type');
  return openAsBlob(file);
}

/** A failed item is a failed command: exit 1 with the server's reason. */
function failWith(item: MediaItem): void {
  if (item.status !== 'failed') return;
  throw new CliError(
    `media ${item.id} failed: ${item.reason ?? 'no reason given'}`,
    item.reason_code ?? 'media_failed',
  );
}

/**
 * Rendition URLs come back relative to the server; printed absolute so they can be opened or
 * fetched directly. Joined like the SDK's API paths, so a server under a path prefix works too.
 */
function absolute(g: Globals, url: string): string {
  return url.startsWith('/') ? `${g.server}${url}` : new URL(url, `${g.server}/`).toString();
}

function printItem(g: Globals, item: MediaItem): void {
  const renditions = Object.fromEntries(
    Object.entries(item.renditions).map(([name, r]) => [name, { ...r, url: absolute(g, r.url) }]),
  );
  emit(g, { ...item, renditions }, () => {
    const rows: string[][] = [
      ['id', item.id],
      ['status', item.status + (item.reason ? ` (${item.reason})` : '')],
      ['kind', `${item.kind ?? 'unknown'}${item.mime ? ` (${item.mime})` : ''}`],
      ['size', `${item.size} bytes`],
    ];
    if (item.filename) rows.push(['filename', item.filename]);
    if (item.width && item.height) rows.push(['dimensions', `${item.width}x${item.height}`]);
    if (item.duration !== undefined) rows.push(['duration', `${item.duration.toFixed(1)} s`]);
    if (item.provenance) {
      const p = item.provenance;
      rows.push(['provenance', p.labels.length > 0 ? p.labels.join('; ') : p.status]);
    }
    for (const [name, r] of Object.entries(renditions)) rows.push([`rendition ${name}`, r.url]);
    return table(rows);
  });
}
