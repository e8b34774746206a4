/**
 * `mmd account create` (online: sign up and keep the session) and `mmd account role` (offline:
 * roles are granted on the database by whoever runs the server, never over the API).
 */

import { type AccountKind, type AccountRole, PASSWORD_RULE } from '@mmd/sdk';
import { Argument, type Command, Option } from 'commander';
import { anonymousClient, globals } from '../context.ts';
import { CliError } from '../errors.ts';
import { accountsService, describeDatabase, openExistingDatabase, serverConfig } from '../offline.ts';
import { emit } from '../output.ts';
import { readPassword } from '../password.ts';
import { defaultDeviceName, rememberSession } from './session.ts';

const KINDS = ['person', 'bot', 'business'] as const satisfies readonly AccountKind[];
const ROLES = ['user', 'moderator', 'admin'] as const satisfies readonly AccountRole[];

export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('create accounts; grant roles (offline)');

  account
    .command('create')
    .description('create an account and sign in to it on this machine')
    .argument('<handle>', 'a letter, then letters, digits or underscores (3-32)')
    .option('--password <password>', `the password (otherwise prompted on a terminal, or read from stdin). ${PASSWORD_RULE}`)
    .addOption(new Option('--kind <kind>', 'kind of account').choices(KINDS).default('person'))
    .option('--device <name>', 'name for this device', defaultDeviceName())
    .action(
      async (
        handle: string,
        opts: { password?: string; kind: AccountKind; device: string },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const password = await readPassword({ given: opts.password, confirm: true, rule: PASSWORD_RULE });
        const reply = await anonymousClient(g).createAccount({
          handle: handle.replace(/^@/, ''),
          password,
          kind: opts.kind,
          device_name: opts.device,
        });
        rememberSession(g, reply, `created @${reply.account.handle} (${reply.account.id}) and signed in on ${g.server}`);
      },
    );

  account
    .command('role')
    .description('grant a role (offline: on MMD_DATA_DIR or MMD_DATABASE_URL, like `mmd serve`)')
    .argument('<handle>', 'the account')
    .addArgument(new Argument('<role>', 'the role to grant').choices(ROLES))
    .action(async (handle: string, role: AccountRole, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const config = await serverConfig();
      const db = await openExistingDatabase(config);
      try {
        const accounts = await accountsService(config, db);
        const name = handle.replace(/^@/, '');
        try {
          await accounts.setRole(name, role);
        } catch (err) {
          if ((err as { code?: string }).code === 'not_found')
            throw new CliError(`no account @${name} in ${describeDatabase(config)}`, 'not_found');
          throw err;
        }
        emit(g, { handle: name, role }, () => `@${name} is now ${role}`);
      } finally {
        await db.close();
      }
    });
}
