/** `mmd devices` and `mmd api-key`: the credentials that can act for your account. */

import type { ApiScope } from '@mmd/sdk';
import { type Command, Option } from 'commander';
import { globals, signedInClient } from '../context.ts';
import { loadSession, removeSession } from '../credentials.ts';
import { emit, formatTime, printJson, printLine, table } from '../output.ts';

// Spelled out rather than imported from @mmd/contracts, whose runtime schemas (typebox) would
// double the CLI's start-up time. The type check below fails if the contracts gain a scope.
const SCOPES = [
  'messages:read',
  'messages:write',
  'conversations:write',
  'updates:read',
  'business:read',
  'contacts:write',
  'contacts:export',
  'templates:write',
  'campaigns:write',
  'notifications:write',
  'inbox:write',
] as const satisfies readonly ApiScope[];
const everyScopeListed: [Exclude<ApiScope, (typeof SCOPES)[number]>] extends [never] ? true : never = true;
void everyScopeListed;

export function registerDeviceCommands(program: Command): void {
  const devices = program
    .command('devices')
    .description('list or revoke the devices signed in to your account');
  devices
    .command('list', { isDefault: true })
    .description('list signed-in devices (* marks this one)')
    .action(async (_opts: object, cmd: Command) => {
      const g = globals(cmd);
      const list = await signedInClient(g).devices();
      emit(g, list, () =>
        table([
          ['', 'ID', 'NAME', 'LAST SEEN'],
          ...list.map((d) => [d.current ? '*' : '', d.id, d.name, formatTime(d.last_seen_at)]),
        ]),
      );
    });
  devices
    .command('revoke')
    .description('sign a device out (its live connections close at once)')
    .argument('<id>', 'device id, from `mmd devices`')
    .action(async (id: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      await signedInClient(g).revokeDevice(id);
      // Revoking this very device kills the saved token: forget it rather than keep a dead one.
      const forgotten = loadSession(g.server)?.device_id === id && removeSession(g.server);
      emit(g, { revoked: id }, () => `revoked device ${id}${forgotten ? ' (this one; signed out)' : ''}`);
    });

  const apiKey = program.command('api-key').description('API keys for bots and scripts');
  apiKey
    .command('create')
    .description('create an API key; the key is printed once and cannot be shown again')
    .argument('<name>', 'what the key is for')
    .addOption(
      new Option('--scope <scopes...>', 'what the key may do (repeatable)')
        .choices(SCOPES)
        .makeOptionMandatory(),
    )
    .action(async (name: string, opts: { scope: ApiScope[] }, cmd: Command) => {
      const g = globals(cmd);
      const reply = await signedInClient(g).createApiKey({ name, scopes: [...new Set(opts.scope)] });
      // The only command that prints a secret: the server keeps just its hash.
      if (g.json) {
        printJson(reply);
        return;
      }
      printLine(reply.key);
      process.stderr.write(
        `created API key ${reply.api_key.id} "${name}" (${reply.api_key.scopes.join(', ')}); store the key above now, it is not shown again\n`,
      );
    });
  apiKey
    .command('list', { isDefault: true })
    .description('list API keys (never the keys themselves)')
    .action(async (_opts: object, cmd: Command) => {
      const g = globals(cmd);
      const keys = await signedInClient(g).apiKeys();
      emit(g, keys, () =>
        keys.length === 0
          ? 'no API keys'
          : table([
              ['ID', 'NAME', 'CREATED', 'SCOPES'],
              ...keys.map((k) => [k.id, k.name, formatTime(k.created_at), k.scopes.join(',')]),
            ]),
      );
    });
  apiKey
    .command('revoke')
    .description('revoke an API key')
    .argument('<id>', 'API key id, from `mmd api-key list`')
    .action(async (id: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      await signedInClient(g).revokeApiKey(id);
      emit(g, { revoked: id }, () => `revoked API key ${id}`);
    });
}
