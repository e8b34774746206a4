/**
 * `mmd bot`: bots you own (create, list, rotate the token, commands, delete) and webhooks (set,
 * list, delete, the delivery log, replay). Secrets (a bot's token, a webhook's whsec_ secret) are
 * printed once, alone on stdout, so `TOKEN=$(mmd bot create …)` works; the note goes to stderr.
 */
import type { BotCommand, MmdClient } from '@mmd/sdk';
import type { Command } from 'commander';
import { globals, signedInClient } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { emit, formatTime, printJson, printLine, table } from '../output.ts';

/** A bot by id (acc_…) or @handle, among the bots you own. */
async function botId(client: MmdClient, ref: string): Promise<string> {
  if (ref.startsWith('acc_')) return ref;
  const handle = ref.replace(/^@/, '').toLowerCase();
  const bot = (await client.bots()).find((b) => b.handle.toLowerCase() === handle);
  if (!bot) throw new CliError(`you own no bot @${handle}`, 'not_found');
  return bot.id;
}

/** Prints a secret alone on stdout (or the whole reply with --json) and a note on stderr. */
function secret(json: boolean, reply: unknown, value: string, note: string) {
  if (json) printJson(reply);
  else printLine(value);
  process.stderr.write(`${note}; store it now, it is not shown again\n`);
}

function parseCommand(spec: string): BotCommand {
  const at = spec.indexOf('=');
  if (at < 1) throw new UsageError(`--set takes command=description, got "${spec}"`);
  return { command: spec.slice(0, at).replace(/^\//, ''), description: spec.slice(at + 1) };
}

export function registerBotCommands(program: Command): void {
  const bot = program.command('bot').description('bots you own and their webhooks');

  bot
    .command('create')
    .description('create a bot you own; prints its token once')
    .argument('<handle>', "the bot's handle")
    .option('--name <name>', 'display name (default: the handle)')
    .action(async (handle: string, opts: { name?: string }, cmd: Command) => {
      const g = globals(cmd);
      const clean = handle.replace(/^@/, '');
      const reply = await signedInClient(g).createBot({ handle: clean, name: opts.name ?? clean });
      secret(g.json, reply, reply.token, `created bot @${reply.bot.handle} (${reply.bot.id}); the line above is its token`);
    });

  bot
    .command('list', { isDefault: true })
    .description('the bots you own')
    .action(async (_opts: object, cmd: Command) => {
      const g = globals(cmd);
      const list = await signedInClient(g).bots();
      emit(g, list, () =>
        list.length === 0 ? 'no bots' : table([['ID', 'HANDLE', 'NAME', 'CREATED'], ...list.map((b) => [b.id, `@${b.handle}`, b.name, formatTime(b.created_at)])]),
      );
    });

  bot
    .command('token')
    .description("rotate a bot's token: the old one stops at once (its connections close); prints the new one once")
    .argument('<bot>', 'bot id or @handle')
    .action(async (ref: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const reply = await client.rotateBotToken(await botId(client, ref));
      secret(g.json, reply, reply.token, `new token for @${reply.bot.handle}; the old one no longer works`);
    });

  bot
    .command('commands')
    .description("show a bot's commands, or replace them with --set")
    .argument('<bot>', 'bot id or @handle')
    .option('--set <command=description...>', 'the new list (repeatable); --set "" clears it')
    .action(async (ref: string, opts: { set?: string[] }, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const id = await botId(client, ref);
      const list = opts.set ? await client.setBotCommands(id, opts.set.filter((s) => s !== '').map(parseCommand)) : await client.botCommands(id);
      emit(g, list, () => (list.length === 0 ? 'no commands' : list.map((c) => `/${c.command}  ${c.description}`)));
    });

  bot
    .command('delete')
    .description('delete a bot: its token stops working and its webhooks stop')
    .argument('<bot>', 'bot id or @handle')
    .action(async (ref: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const id = await botId(client, ref);
      await client.deleteBot(id);
      emit(g, { deleted: id }, () => `deleted bot ${id}`);
    });

  const webhook = bot.command('webhook').description("webhooks: your account's, or a bot's with --bot");
  webhook
    .command('set')
    .description('register a webhook; prints its whsec_ signing secret once')
    .argument('<url>', 'https URL that receives the signed POSTs')
    .option('--bot <bot>', 'for this bot you own (id or @handle); without it, for your own account (MMD_TOKEN may be a bot token)')
    .option('--events <types...>', 'event types to send (default: all)')
    .action(async (url: string, opts: { bot?: string; events?: string[] }, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const reply = await client.createWebhook({ url, events: opts.events, bot: opts.bot ? await botId(client, opts.bot) : undefined });
      secret(g.json, reply, reply.secret, `created webhook ${reply.id} → ${reply.url}; the line above is its signing secret`);
    });
  webhook
    .command('list', { isDefault: true })
    .description('list webhooks')
    .option('--bot <bot>', 'of this bot you own (id or @handle)')
    .action(async (opts: { bot?: string }, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const list = await client.webhooks({ bot: opts.bot ? await botId(client, opts.bot) : undefined });
      emit(g, list, () =>
        list.length === 0 ? 'no webhooks' : table([['ID', 'STATUS', 'EVENTS', 'URL'], ...list.map((w) => [w.id, w.status, w.events ? w.events.join(',') : 'all', w.url])]),
      );
    });
  webhook
    .command('delete')
    .description('delete a webhook')
    .argument('<id>', 'webhook id')
    .action(async (id: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      await signedInClient(g).deleteWebhook(id);
      emit(g, { deleted: id }, () => `deleted webhook ${id}`);
    });
  webhook
    .command('enable')
    .description('re-enable a disabled webhook (deliveries still being retried resume)')
    .argument('<id>', 'webhook id')
    .action(async (id: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const w = await signedInClient(g).updateWebhook(id, { enabled: true });
      emit(g, w, () => `webhook ${id} is ${w.status}`);
    });

  bot
    .command('deliveries')
    .description("a webhook's delivery log, newest first")
    .argument('<webhook>', 'webhook id')
    .option('--status <status>', 'pending, succeeded, failed or dropped (withdrawn unsent)')
    .option('--limit <n>', 'how many', (v) => Number(v), 20)
    .action(async (id: string, opts: { status?: 'pending' | 'succeeded' | 'failed' | 'dropped'; limit: number }, cmd: Command) => {
      const g = globals(cmd);
      const log = await signedInClient(g).webhookDeliveries(id, { status: opts.status, limit: opts.limit });
      emit(g, log, () =>
        log.deliveries.length === 0
          ? 'no deliveries'
          : table([
              ['ID', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST', 'MS', 'CREATED'],
              ...log.deliveries.map((d) => [d.id, d.event_type, d.status, String(d.attempts), d.last_status === null ? (d.last_error ? 'error' : '-') : String(d.last_status), d.last_latency_ms === null ? '-' : String(d.last_latency_ms), formatTime(d.created_at)]),
            ]),
      );
    });

  bot
    .command('replay')
    .description('send a delivery again (same webhook-id)')
    .argument('<webhook>', 'webhook id')
    .argument('<delivery>', 'delivery id (from `mmd bot deliveries`)')
    .action(async (webhookId: string, deliveryId: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const d = await signedInClient(g).replayDelivery(webhookId, deliveryId);
      emit(g, d, () => `delivery ${d.id} queued again`);
    });
}
