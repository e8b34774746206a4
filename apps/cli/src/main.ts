/**
 * `mmd`: wires the commands together. Online commands talk to a server only through @mmd/sdk;
 * `serve`, `migrate` and `account role` work on the local data directory or database.
 * Exit codes: 0 success, 1 a refused or failed operation, 2 a usage error.
 */
import { Command, CommanderError, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { registerAccountCommands } from './commands/account.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerBotCommands } from './commands/bots.ts';
import { registerCampaignCommands } from './commands/campaigns.ts';
import { registerTemplateCommands } from './commands/templates.ts';
import { registerContactCommands } from './commands/contacts.ts';
import { registerConversationCommands } from './commands/conversations.ts';
import { registerDeviceCommands } from './commands/devices.ts';
import { registerHashCommands } from './commands/hash.ts';
import { registerMediaCommands } from './commands/media.ts';
import { registerMessageCommands } from './commands/messages.ts';
import { registerPollCommands } from './commands/poll.ts';
import { registerSafetyCommands } from './commands/safety.ts';
import { registerServerCommands } from './commands/server.ts';
import { registerSessionCommands } from './commands/session.ts';
import { registerTailCommand } from './commands/tail.ts';
import { report } from './errors.ts';

const program = new Command('mmd')
  .description('MMD messaging from the command line')
  .version(pkg.version)
  .addOption(
    new Option('--server <url>', 'MMD server URL').env('MMD_SERVER').default('http://localhost:8080'),
  )
  .option('--json', 'machine-readable output: one JSON value per line')
  .addOption(new Option('--business <id|@handle>', 'act for this business as a member of its team (business commands)').env('MMD_BUSINESS'))
  .addHelpText(
    'after',
    '\nEnvironment: MMD_TOKEN (use this token instead of the saved session), MMD_BUSINESS (as --business), MMD_CONFIG_DIR (default ~/.config/mmd).',
  )
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(add --help for usage)')
  // Throw instead of exiting, so every usage error can exit 2 below (commander would exit 1).
  // Set before the commands are added: subcommands inherit it.
  .exitOverride();

registerServerCommands(program);
registerBackupCommands(program);
registerAccountCommands(program);
registerSessionCommands(program);
registerDeviceCommands(program);
registerConversationCommands(program);
registerMessageCommands(program);
registerPollCommands(program);
registerTailCommand(program);
registerMediaCommands(program);
registerHashCommands(program);
registerSafetyCommands(program);
registerBotCommands(program);
registerContactCommands(program);
registerCampaignCommands(program);
registerTemplateCommands(program);

// `mmd … | head` closes stdout early; that is the reader's choice, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has already printed its message (or the help / version asked for).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.exit(report(err));
}
