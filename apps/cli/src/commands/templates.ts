/**
 * `mmd templates`: a business's message templates — list them, show one (its versions' ids, which
 * `mmd campaign create --template-version` takes, and its text per locale), approve the newest
 * version, and preview it for a contact. Run as the business account, or as a team member with
 * --business.
 */
import type { MessageTemplate } from '@mmd/sdk';
import type { Command } from 'commander';
import { businessClient, globals } from '../context.ts';
import { UsageError } from '../errors.ts';
import { collect, parseVars } from './campaigns.ts';
import { emit, formatTime, table } from '../output.ts';

function templateLines(t: MessageTemplate): string[] {
  const lines = [`${t.id}  ${t.name}  ${t.purpose}  ${t.status}`];
  const approved = t.approved_version;
  lines.push(approved ? `approved: version ${approved.number}  ${approved.id}  (send this id)` : 'approved: none yet (mmd templates approve)');
  if (!approved || t.latest_version.id !== approved.id) lines.push(`newest:   version ${t.latest_version.number}  ${t.latest_version.id}  (${t.latest_version.state})`);
  const shown = approved ?? t.latest_version;
  if (shown.variables.length > 0) lines.push(`variables: ${shown.variables.map((v) => v.name).join(', ')}`);
  for (const [locale, content] of Object.entries(shown.variants)) lines.push(`[${locale}] ${content.text ?? '(no text)'}`);
  return lines;
}

export function registerTemplateCommands(program: Command): void {
  const templates = program.command('templates').description("a business's message templates: list, show, approve, preview (as the business, or --business as a team member)");

  templates
    .command('list')
    .description('the templates, with their newest and approved version numbers')
    .option('--archived', 'archived ones too')
    .action(async (opts: { archived?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const client = await businessClient(g);
      const list = await client.listTemplates({ archived: opts.archived === true });
      emit(g, list, () =>
        list.templates.length === 0
          ? 'no templates'
          : table([
              ['ID', 'NAME', 'PURPOSE', 'STATUS', 'NEWEST', 'APPROVED', 'LOCALES', 'UPDATED'],
              ...list.templates.map((t) => [t.id, t.name, t.purpose, t.status, String(t.latest_number), t.approved_number === null ? '-' : String(t.approved_number), t.locales.join(','), formatTime(t.updated_at)]),
            ]),
      );
    });

  templates
    .command('show <id>')
    .description("a template: its approved version's id (what a campaign sends), variables and text per locale")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const t = await (await businessClient(g)).getTemplate(id);
      emit(g, t, () => templateLines(t));
    });

  templates
    .command('approve <id>')
    .description('approve the newest version (owners and admins)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const t = await (await businessClient(g)).approveTemplate(id);
      emit(g, t, () => templateLines(t));
    });

  templates
    .command('preview <id>')
    .description('what the newest version would send to a contact (or to a sample person)')
    .option('--contact <id>', 'render for this contact')
    .option('--version <n>', 'this version instead of the newest')
    .option('--locale <tag>', 'the locale for a sample person')
    .option('--var <name=value>', 'a variable the campaign would give (repeatable)', collect)
    .action(async (id: string, opts: { contact?: string; version?: string; locale?: string; var?: string[] }, cmd: Command) => {
      const g = globals(cmd);
      const variables = parseVars(opts.var);
      const version = opts.version === undefined ? undefined : Number(opts.version);
      if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw new UsageError('--version takes a version number (1, 2, …)');
      const preview = await (await businessClient(g)).previewTemplate(id, {
        ...(opts.contact ? { contact_id: opts.contact } : {}),
        ...(version !== undefined ? { version } : {}),
        ...(opts.locale ? { locale: opts.locale } : {}),
        ...(Object.keys(variables).length > 0 ? { variables } : {}),
      });
      emit(g, preview, () => [`version ${preview.version} [${preview.locale}]`, preview.message.text ?? '(no text)', ...(preview.media ? [`media: ${preview.media.id}`] : [])]);
    });
}
