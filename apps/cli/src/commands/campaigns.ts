/**
 * `mmd campaign`: a business's campaigns — create (a draft, checked by the server), start, pause,
 * resume, cancel, and status (the funnel overall and per variant). Run as the business account,
 * or as a team member with --business.
 */
import type { CampaignDetail, CreateCampaignBody } from '@mmd/sdk';
import type { Command } from 'commander';
import { businessClient, globals } from '../context.ts';
import { UsageError } from '../errors.ts';
import { emit, formatTime, table } from '../output.ts';

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--var name=value` options (repeatable) as template variables. */
export function parseVars(pairs: readonly string[] | undefined): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--var takes name=value (got "${pair}")`);
    variables[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return variables;
}
const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

function funnelLines(c: CampaignDetail): string[] {
  const stages = ['planned', 'sent', 'delivered', 'read', 'clicked', 'replied', 'voted', 'opted_out', 'failed', 'skipped'] as const;
  const rows = [['', ...stages.map((s) => s.toUpperCase())], ['total', ...stages.map((s) => String(c.funnel[s]))]];
  if (c.variant_funnels.length > 1) for (const v of c.variant_funnels) rows.push([v.name, ...stages.map((s) => String(v.funnel[s]))]);
  const next = c.next_run_at ? `, next run ${formatTime(c.next_run_at)}` : '';
  return [`${c.id}  ${c.name}  ${c.status}${next}  (${c.runs.length} run${c.runs.length === 1 ? '' : 's'}, ${c.throttle_per_second}/s)`, ...table(rows)];
}

export function registerCampaignCommands(program: Command): void {
  const campaign = program.command('campaign').description("a business's campaigns: create, start, status, pause, resume, cancel (as the business, or --business as a team member)");

  campaign
    .command('create')
    .description('create a campaign (a draft; `mmd campaign start` sends it)')
    .requiredOption('--name <name>', 'what the team calls it')
    .option('--segment <id>', 'audience: a saved segment')
    .option('--contacts <ids>', 'audience: contact ids, comma-separated')
    .option('--external-ids <ids>', 'audience: external ids, comma-separated')
    .option('--template-version <id>', 'an approved template version (repeat for an A/B test)', collect)
    .option('--weights <list>', 'A/B shares, e.g. 50,50 (default equal)')
    .option('--var <name=value>', 'a template variable the same for everyone (repeatable)', collect)
    .option('--at <date-time>', 'send at this instant (ISO 8601)')
    .option('--local <YYYY-MM-DDTHH:mm>', "send at this wall-clock time in each recipient's own time zone")
    .option('--cron <expression>', 'send on a recurring schedule (each occurrence a run)')
    .option('--time-zone <zone>', "the zone --cron is read in (default the business's)")
    .option('--throttle <n>', 'messages per second (at least 1; default 50)')
    .option('--purpose <purpose>', 'consent purpose (default marketing)')
    .option('--send-until <date-time>', 'the send window ends here')
    .action(
      async (
        opts: {
          name: string;
          segment?: string;
          contacts?: string;
          externalIds?: string;
          templateVersion?: string[];
          weights?: string;
          var?: string[];
          at?: string;
          local?: string;
          cron?: string;
          timeZone?: string;
          throttle?: string;
          purpose?: string;
          sendUntil?: string;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const audiences = [opts.segment, opts.contacts, opts.externalIds].filter((a) => a !== undefined);
        if (audiences.length !== 1) throw new UsageError('give one audience: --segment, --contacts or --external-ids');
        const audience: CreateCampaignBody['audience'] = opts.segment ? { segment_id: opts.segment } : opts.contacts ? { contact_ids: list(opts.contacts) } : { external_ids: list(opts.externalIds!) };
        const versions = opts.templateVersion ?? [];
        if (versions.length === 0) throw new UsageError('--template-version is required (repeat it for an A/B test)');
        const weights = opts.weights ? list(opts.weights).map(Number) : undefined;
        if (weights && (weights.length !== versions.length || weights.some((w) => !Number.isInteger(w) || w < 1))) throw new UsageError('--weights takes one whole number per --template-version, e.g. 50,50');
        const schedules = [opts.at, opts.local, opts.cron].filter((s) => s !== undefined);
        if (schedules.length > 1) throw new UsageError('give at most one of --at, --local and --cron');
        const schedule: CreateCampaignBody['schedule'] = opts.at
          ? { kind: 'at', at: opts.at }
          : opts.local
            ? { kind: 'local', local_time: opts.local }
            : opts.cron
              ? { kind: 'recurring', cron: opts.cron, ...(opts.timeZone ? { time_zone: opts.timeZone } : {}) }
              : { kind: 'now' };
        const variables = parseVars(opts.var);
        const throttle = opts.throttle === undefined ? undefined : Number(opts.throttle);
        if (throttle !== undefined && !Number.isInteger(throttle)) throw new UsageError('--throttle takes a whole number of messages per second');
        const client = await businessClient(g);
        const created = await client.createCampaign({
          name: opts.name,
          audience,
          variants: versions.map((v, i) => ({ template_version_id: v, ...(weights ? { weight: weights[i]! } : {}) })),
          schedule,
          ...(Object.keys(variables).length > 0 ? { variables } : {}),
          ...(throttle !== undefined ? { throttle_per_second: throttle } : {}),
          ...(opts.purpose ? { purpose: opts.purpose } : {}),
          ...(opts.sendUntil ? { send_until: opts.sendUntil } : {}),
        });
        emit(g, created, () => `created ${created.id} (${created.status}); send it with: mmd campaign start ${created.id}`);
      },
    );

  for (const action of ['start', 'pause', 'resume', 'cancel'] as const) {
    campaign
      .command(`${action} <id>`)
      .description(`${action} a campaign`)
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const g = globals(cmd);
        const client = await businessClient(g);
        const method = { start: 'startCampaign', pause: 'pauseCampaign', resume: 'resumeCampaign', cancel: 'cancelCampaign' } as const;
        const c = await client[method[action]](id);
        emit(g, c, () => funnelLines(c));
      });
  }

  campaign
    .command('status [id]')
    .description('a campaign and its funnel (overall and per variant); without an id, the list')
    .action(async (id: string | undefined, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const client = await businessClient(g);
      if (id) {
        const c = await client.campaign(id);
        emit(g, c, () => funnelLines(c));
        return;
      }
      const page = await client.campaigns({ limit: 100 });
      emit(g, page, () =>
        page.campaigns.length === 0 ? 'no campaigns' : table([['ID', 'NAME', 'STATUS', 'CREATED'], ...page.campaigns.map((c) => [c.id, c.name, c.status, formatTime(c.created_at)])]),
      );
    });
}
